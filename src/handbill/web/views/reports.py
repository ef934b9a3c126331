"""``/reports/``: A/R aging by payer, denials by payer and reason, payments by period, units
by code and provider — on one page with a date range, each also as a CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from handbill.core.money import Cents
from handbill.practice.models import Practice
from handbill.web import charts
from handbill.web.access import current_practice, practice_view, viewed
from handbill.web.forms.reports import ReportFilterForm, ReportRange
from handbill.web.pages import INVALID, now, render_page
from handbill.web.queries import money


def _filters(request: HttpRequest, practice: Practice) -> tuple[ReportFilterForm, ReportRange]:
    form = ReportFilterForm(request.GET or None, today=practice.local_date(now()))
    form.is_valid()
    return form, form.range()


@practice_view("bill")
def reports(request: HttpRequest) -> HttpResponse:
    practice = current_practice(request)
    form, span = _filters(request, practice)
    aging = money.ar_aging(practice, as_of=span.last)
    denials = money.denials_by_payer(practice, start=span.start, end=span.end)
    payments = money.payments_by_period(practice, start=span.start, end=span.end,
                                        period=span.period)
    units = money.units_by_code_and_provider(practice, start=span.start, end=span.end)
    context = {
        "form": form, "span": span, "aging": aging, "denials": denials, "payments": payments,
        "units": units, "query": request.GET.urlencode(),
        "aging_chart": charts.aging_chart(aging),
        "denial_chart": charts.denial_chart(
            money.denials_by_reason(practice, start=span.start, end=span.end)),
        "payments_total": sum(p.total for p in payments),
        "units_total": sum(u.units for u in units),
    }
    return render_page(request, "web/reports/index.html", context,
                       status=INVALID if form.errors else 200)


def _dollars(cents: int) -> str:
    return Cents(cents).to_decimal_string()


def _aging_rows(practice: Practice, span: ReportRange) -> Iterable[list[Any]]:
    aging = money.ar_aging(practice, as_of=span.last)
    yield ["payer", *[f"{label} days" for label in aging.labels], "total"]
    for row in aging.rows:
        yield [row.label, *[_dollars(c) for c in row.buckets], _dollars(row.total)]
    yield ["Total", *[_dollars(c) for c in aging.buckets], _dollars(aging.total)]


def _denial_rows(practice: Practice, span: ReportRange) -> Iterable[list[Any]]:
    yield ["payer", "group", "reason", "meaning", "claims", "amount"]
    for row in money.denials_by_payer(practice, start=span.start, end=span.end):
        yield [row.payer, row.group, row.reason, charts.carc_words(row.reason), row.claims,
               _dollars(row.cents)]


def _payment_rows(practice: Practice, span: ReportRange) -> Iterable[list[Any]]:
    yield [span.period + " starting", "insurance", "patients", "total"]
    for row in money.payments_by_period(practice, start=span.start, end=span.end,
                                        period=span.period):
        yield [row.start.isoformat(), _dollars(row.insurance), _dollars(row.patient),
               _dollars(row.total)]


def _unit_rows(practice: Practice, span: ReportRange) -> Iterable[list[Any]]:
    yield ["code", "provider", "lines", "units", "charges"]
    for row in money.units_by_code_and_provider(practice, start=span.start, end=span.end):
        yield [row.code, row.provider, row.lines, row.units, _dollars(row.charge)]


CSV_REPORTS: dict[str, Callable[[Practice, ReportRange], Iterable[list[Any]]]] = {
    "ar-aging": _aging_rows,
    "denials": _denial_rows,
    "payments": _payment_rows,
    "units": _unit_rows,
}


@practice_view("bill")
def report_csv(request: HttpRequest, name: str) -> HttpResponse:
    rows = CSV_REPORTS.get(name)
    if rows is None:
        raise Http404("no such report")
    practice = current_practice(request)
    form, span = _filters(request, practice)
    viewed(request, practice, action="report.export", report=name)
    if form.errors:
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in
                             form.errors.items())
        return HttpResponse(f"The dates are not usable ({problems}).", status=400,
                            content_type="text/plain; charset=utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows(practice, span))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"{practice.slug}-{name}-{span.start.isoformat()}-{span.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
