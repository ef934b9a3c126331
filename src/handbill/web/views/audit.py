"""The audit trail of the current practice: filter, read, export (owner and auditor)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from handbill.audit.queries import COLUMNS, AuditFilter, csv_cells, events
from handbill.web.access import current_practice, practice_view, viewed
from handbill.web.pages import paginate, render_page


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _filter(request: HttpRequest) -> tuple[AuditFilter, list[str]]:
    """The filter from the query string, and a message for each value that was ignored."""
    get = request.GET
    problems = []
    patient = get.get("patient", "").strip()
    if patient and not patient.isdigit():
        problems.append(f"Patient must be the patient's number (from the patient page), not "
                        f"{patient!r}.")
    since, until = _day(get.get("since", "")), _day(get.get("until", ""))
    for name, text, value in (("From", get.get("since", ""), since),
                              ("To", get.get("until", ""), until)):
        if text.strip() and value is None:
            problems.append(f"{name} must be a date like 2026-11-02, not {text!r}.")
    return AuditFilter(
        patient_id=int(patient) if patient.isdigit() else None,
        username=get.get("user", "").strip()[:150],
        action=get.get("action", "").strip()[:64],
        since=since,
        until=until,
    ), problems


@practice_view("view_audit")
def audit_log(request: HttpRequest) -> HttpResponse:
    wanted, problems = _filter(request)
    page = paginate(request, events(current_practice(request), wanted))
    return render_page(
        request, "web/audit/list.html",
        {"page": page, "f": wanted, "problems": problems, "query": request.GET.urlencode()},
        partial="web/audit/_results.html",
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@practice_view("view_audit")
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered trail as CSV, streamed (a year of a clinic's rows is large). The export
    itself is an audited event."""
    wanted, _problems = _filter(request)
    practice = current_practice(request)
    rows = events(practice, wanted)
    viewed(request, practice, action="audit.export", filter=request.GET.urlencode()[:300])
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(COLUMNS)
        for event in rows.iterator(chunk_size=500):
            yield writer.writerow(csv_cells(event))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{practice.slug}.csv"'
    return response
