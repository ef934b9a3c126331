"""Pages that need no practice: the health check and the minutes-to-units calculator."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

import handbill
from handbill.core.codes import cpt
from handbill.core.units import ServiceMinutes, UnitMethod, compute_units
from handbill.web.queries.preview import UNIT_METHOD_LABELS


def health(request: HttpRequest) -> JsonResponse:
    """Load balancers and the README's smoke check read this; it touches the database once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse(
        {"status": "ok", "version": handbill.__version__, "database": connection.vendor}
    )


ROWS = 4


def units(request: HttpRequest) -> HttpResponse:
    """The coding engine on one page: documented minutes in, units and the reasons out."""
    method = request.GET.get("method", UnitMethod.CMS.value)
    rows = []
    services: list[ServiceMinutes] = []
    errors: list[str] = []
    for index in range(ROWS):
        code = request.GET.get(f"code{index}", "").strip()
        minutes = request.GET.get(f"minutes{index}", "").strip()
        rows.append({"index": index, "code": code, "minutes": minutes})
        if not code and not minutes:
            continue
        if not minutes.isdigit():
            errors.append(f"Row {index + 1}: minutes must be a whole number (e.g. 38).")
            continue
        try:
            services.append(ServiceMinutes(code, int(minutes)))
        except ValueError as exc:
            errors.append(f"Row {index + 1}: {exc}")
    if method not in {m.value for m in UnitMethod}:
        errors.append(f"Unknown unit method {method!r}; choose cms or cpt.")
        method = UnitMethod.CMS.value
    result = None
    if services and not errors:
        try:
            result = compute_units(services, UnitMethod(method))
        except ValueError as exc:
            errors.append(str(exc))
    context = {
        "version": handbill.__version__,
        "rows": rows,
        "method": method,
        "methods": [(m.value, UNIT_METHOD_LABELS[m]) for m in UnitMethod],
        "catalogue": sorted(cpt.CATALOGUE.values(), key=lambda entry: entry.code),
        "errors": errors,
        "result": result,
    }
    return render(request, "web/tools/units.html", context, status=400 if errors else 200)
