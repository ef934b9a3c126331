"""Reading stored checks back: the summary of the latest answer, for the scrubber, the
patient page and the command line."""

from __future__ import annotations

from typing import Any

from handbill.core.eligibility import EligibilitySummary, describe, summarize
from handbill.core.eligibility_values import EligibilityAnswer, EligibilityValueError
from handbill.eligibility.models import ANSWERED, CheckStatus, EligibilityCheck
from handbill.patients.models import Coverage, Patient
from handbill.practice.models import Practice


def latest_answered(coverage: Coverage) -> EligibilityCheck | None:
    return (
        EligibilityCheck.objects.filter(coverage=coverage, status__in=[s.value for s in ANSWERED])
        .order_by("-answered_at", "-pk")
        .first()
    )


def summary_of(check: EligibilityCheck) -> EligibilitySummary | None:
    """The answer of an answered check as a summary (None: not answered, or unreadable)."""
    if not check.answered or check.answered_at is None:
        return None
    try:
        answer = EligibilityAnswer.from_json(check.benefits)
    except EligibilityValueError:
        return None
    return summarize(answer, service_date=check.service_date,
                     checked_on=check.practice.local_date(check.answered_at))


def latest_summary(coverage: Coverage | None) -> EligibilitySummary | None:
    """What the scrubber reads: the latest answered check of ``coverage``."""
    if coverage is None:
        return None
    check = latest_answered(coverage)
    return summary_of(check) if check is not None else None


_BADGE = {
    CheckStatus.ACTIVE: "ok",
    CheckStatus.INACTIVE: "blocking",
    CheckStatus.REJECTED: "blocking",
    CheckStatus.UNKNOWN: "warning",
    CheckStatus.SENT: "",
    CheckStatus.BUILT: "",
    CheckStatus.FAILED: "warning",
}


def eligibility_context(patient: Patient) -> dict[str, Any]:
    """The patient page's eligibility panel (template ``web/patients/_eligibility.html``):
    for each coverage, the latest answer in plain words, its alerts, and any check still
    waiting for its answer."""
    rows = []
    coverages = patient.coverages.select_related("payer").order_by("order", "-start_date")
    for coverage in coverages:
        latest = coverage.eligibility_checks.order_by("-created_at", "-pk").first()
        answered = latest_answered(coverage)
        summary = summary_of(answered) if answered is not None else None
        waiting = latest if latest is not None and not latest.answered else None
        rows.append({
            "coverage": coverage,
            "check": answered,
            "status": answered.get_status_display() if answered else "",
            "badge": _BADGE[CheckStatus(answered.status)] if answered else "",
            "words": describe(summary) if summary else (answered.summary if answered else ""),
            "alerts": summary.alerts() if summary else [],
            "checked_on": summary.checked_on if summary else None,
            "service_date": answered.service_date if answered else None,
            "waiting": waiting,
            "sandbox": bool(answered and answered.sandbox),
        })
    return {"rows": rows, "checked_any": any(row["check"] for row in rows)}


def check_json(check: EligibilityCheck) -> dict[str, Any]:
    summary = summary_of(check)
    patient, coverage = check.patient, check.coverage
    return {
        "id": check.pk,
        "patient": patient.account_number,
        "name": f"{patient.first_name} {patient.last_name}",
        "payer": coverage.payer.name,
        "member_id": coverage.member_id,
        "service_date": check.service_date.isoformat(),
        "status": check.status,
        "trace_number": check.trace_number,
        "file": check.file_name,
        "answer_file": check.response_file or None,
        "sandbox": check.sandbox,
        "error": check.error or None,
        "plain_words": describe(summary) if summary else (check.summary or None),
        "alerts": summary.alerts() if summary else [],
        "answer": summary.as_dict() if summary else None,
    }


def needing_attention(practice: Practice) -> list[dict[str, Any]]:
    """For the work queue: each coverage whose latest answer asks for something before the
    visit (inactive, not covered, few or no visits left, an authorization, a rejection)."""
    latest: dict[int, EligibilityCheck] = {}
    answered = (EligibilityCheck.objects.filter(practice=practice,
                                                status__in=[s.value for s in ANSWERED])
                .select_related("patient", "coverage__payer", "practice")
                .order_by("coverage_id", "-answered_at", "-pk"))
    for check in answered:
        latest.setdefault(check.coverage_id, check)
    rows = []
    for check in latest.values():
        summary = summary_of(check)
        alerts = summary.alerts() if summary else []
        if alerts:
            rows.append({"check": check, "patient": check.patient, "coverage": check.coverage,
                         "alerts": alerts, "words": describe(summary) if summary else ""})
    rows.sort(key=lambda row: (row["patient"].last_name, row["patient"].first_name))
    return rows
