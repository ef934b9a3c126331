"""What the payer said before the visit: the latest eligibility answer for the claim's coverage
(``Claim.eligibility``, a 271 summary) against the claim.

The answer speaks for the date it asked about and the plan year it falls in. Coverage that
ended, a plan without a massage benefit, a used-up visit cap and an authorization the payer
needs but the practice does not have are all denials known before the claim is sent.
Nothing fires when the coverage was never checked.
"""

from __future__ import annotations

from datetime import date

from handbill.core.claimdata import AuthorizationKind, Claim, Finding, Severity
from handbill.core.codes import eligibility as codes
from handbill.core.eligibility import (
    FEW_VISITS_LEFT,
    CoverageStatus,
    EligibilitySummary,
    sentence_case,
)
from handbill.core.scrub._common import billed_codes, plural


def _summary(claim: Claim) -> EligibilitySummary | None:
    return claim.eligibility if claim.coverage is not None else None


def _source(claim: Claim, summary: EligibilitySummary) -> str:
    # The payer as the practice names it (the 271 spells it in capitals).
    payer = claim.coverage.payer_name if claim.coverage is not None else summary.payer_name
    return (f"{payer} (eligibility check of {summary.checked_on.isoformat()} for "
            f"{summary.service_date.isoformat()})")


def _notes(summary: EligibilitySummary) -> str:
    if not summary.messages:
        return ""
    notes = "; ".join(sentence_case(m).rstrip(".") for m in summary.messages)
    return f" Payer's note: {notes[:1].upper()}{notes[1:]}."


def _same_plan_year(claim: Claim, summary: EligibilitySummary) -> bool:
    # Benefits (caps, exclusions, authorization rules) are answered per plan year.
    return claim.date_of_service.year == summary.service_date.year


def eligibility_inactive(claim: Claim, as_of: date) -> list[Finding]:
    summary = _summary(claim)
    if summary is None:
        return []
    day = claim.date_of_service
    end = summary.coverage_end
    if summary.status is CoverageStatus.INACTIVE:
        # Without an end date the answer is about its own date and the days after it.
        ended = day > end if end is not None else day >= summary.service_date
    elif summary.status is CoverageStatus.ACTIVE:
        ended = end is not None and day > end
    else:
        ended = False
    if not ended:
        return []
    when = f"ended on {end.isoformat()}" if end is not None else "is inactive"
    return [
        Finding(
            rule="eligibility.inactive",
            severity=Severity.BLOCKING,
            message=f"{_source(claim, summary)} says the coverage {when}; the date of service is "
            f"{day.isoformat()}.",
            fix="Ask the patient for their current insurance and bill that plan, or bill the "
            "patient; check eligibility again if the plan was renewed.",
        )
    ]


def eligibility_rejected(claim: Claim, as_of: date) -> list[Finding]:
    summary = _summary(claim)
    if summary is None or summary.status is not CoverageStatus.REJECTED:
        return []
    reasons = [codes.rejection_reason(r.code) for r in summary.rejections]
    words = "; ".join(f"{r.words} (AAA {r.code})" for r in reasons) or "no reason given"
    fixes = " ".join(dict.fromkeys(r.fix for r in reasons)) or "Check eligibility again."
    # A payer that cannot find the patient will reject the claim the same way.
    severity = Severity.BLOCKING if summary.identity_rejected else Severity.WARNING
    return [
        Finding(
            rule="eligibility.rejected",
            severity=severity,
            message=f"{_source(claim, summary)} rejected the eligibility check: {words}.",
            fix=fixes,
        )
    ]


def eligibility_not_covered(claim: Claim, as_of: date) -> list[Finding]:
    summary = _summary(claim)
    if (summary is None or summary.status is not CoverageStatus.ACTIVE
            or not _same_plan_year(claim, summary)):
        return []
    therapy = summary.therapy
    if therapy is None or therapy.covered:
        return []
    return [
        Finding(
            rule="eligibility.not_covered",
            severity=Severity.BLOCKING,
            message=f"{_source(claim, summary)} says {therapy.label.lower()} is not covered under "
            f"this plan.{_notes(summary)}",
            fix="The payer will deny it as non-covered (CARC 96 or 204). Bill the patient if "
            "they agreed in writing to pay, or ask the payer how massage is covered.",
        )
    ]


def eligibility_visits(claim: Claim, as_of: date) -> list[Finding]:
    summary = _summary(claim)
    if (summary is None or summary.status is not CoverageStatus.ACTIVE
            or not _same_plan_year(claim, summary)
            or claim.date_of_service < summary.service_date):
        return []
    therapy = summary.therapy
    if therapy is None or therapy.visits_remaining is None or not therapy.covered:
        return []
    left = therapy.visits_remaining
    limit = (f" of {plural(therapy.visit_limit, 'visit')}"
             if therapy.visit_limit is not None else "")
    if left <= 0:
        return [
            Finding(
                rule="eligibility.visits",
                severity=Severity.BLOCKING,
                message=f"{_source(claim, summary)} reported no {therapy.label.lower()} visits "
                f"left{limit} this year.",
                fix="The payer will deny it (CARC 119, benefit maximum). Bill the patient if "
                "they agreed in writing to pay for visits over the limit.",
            )
        ]
    if left <= FEW_VISITS_LEFT:
        return [
            Finding(
                rule="eligibility.visits",
                severity=Severity.WARNING,
                message=f"{_source(claim, summary)} reported {plural(left, 'visit')} left{limit} "
                "this year.",
                fix="Tell the patient before the cap is reached and agree how later visits "
                "will be paid.",
            )
        ]
    return []


def _authorization_on_file(claim: Claim, code: str | None = None) -> bool:
    return any(
        auth.kind is AuthorizationKind.AUTHORIZATION
        and auth.active_on(claim.date_of_service)
        and (code is None or not auth.codes or code in auth.codes)
        for auth in claim.authorizations
    )


def _policy_reports_it(claim: Claim) -> bool:
    # authorization.required already stops this claim from the payer profile's own rule.
    policy = claim.policy
    return (policy is not None and policy.authorization_after_visits is not None
            and claim.history.visits_this_year >= policy.authorization_after_visits)


def eligibility_authorization(claim: Claim, as_of: date) -> list[Finding]:
    summary = _summary(claim)
    if (summary is None or summary.status is not CoverageStatus.ACTIVE
            or not _same_plan_year(claim, summary)):
        return []
    therapy = summary.therapy
    if therapy is None or not therapy.covered:
        return []
    findings: list[Finding] = []
    after = therapy.authorization_after_visits
    needed = therapy.authorization_required and (
        after is None or claim.history.visits_this_year >= after)
    if needed and not _authorization_on_file(claim) and not _policy_reports_it(claim):
        when = ("" if after is None else " from the first visit" if after == 0
                else f" after {plural(after, 'visit')}")
        findings.append(
            Finding(
                rule="eligibility.authorization",
                severity=Severity.BLOCKING,
                message=f"{_source(claim, summary)} requires an authorization{when} for "
                f"{therapy.label.lower()}; this is visit {claim.history.visits_this_year + 1} "
                "this year and none is on file.",
                fix="Request the authorization from the payer and record it (number, dates, "
                "visits, codes); bill once it is approved.",
            )
        )
    billed = set(billed_codes(claim))
    for code in therapy.authorization_codes:
        if code in billed and not _authorization_on_file(claim, code):
            findings.append(
                Finding(
                    rule="eligibility.authorization",
                    severity=Severity.BLOCKING,
                    message=f"{_source(claim, summary)} requires an authorization for {code}; none "
                    "on file covers it.",
                    fix=f"Request an authorization for {code}, or leave it off the claim.",
                    code=code,
                )
            )
    return findings
