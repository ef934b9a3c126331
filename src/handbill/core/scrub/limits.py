"""Limits in time and number: the visit cap, the filing deadline, and dates that cannot be
billed yet (reference §9.2, §10)."""

from __future__ import annotations

from datetime import date

from handbill.core.claimdata import Claim, Finding, Severity
from handbill.core.scrub._common import plural

# Warn this many days before the filing deadline: two weeks leaves time for one rejection
# and resubmission through a clearinghouse.
FILING_WARNING_DAYS = 14
# Warn while this many visits or fewer remain under the yearly cap after this one.
VISIT_CAP_WARNING = 2


def claim_date_of_service(claim: Claim, as_of: date) -> list[Finding]:
    if claim.date_of_service <= as_of:
        return []
    return [
        Finding(
            rule="claim.date_of_service",
            severity=Severity.BLOCKING,
            message=f"The date of service {claim.date_of_service.isoformat()} is in the "
            "future.",
            fix="Bill a visit only after it happened; correct the date if it was mistyped.",
        )
    ]


def limits_visit_cap(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if claim.coverage is None or policy is None or policy.visit_cap_per_year is None:
        return []
    cap = policy.visit_cap_per_year
    visit = claim.history.visits_this_year + 1
    if visit > cap:
        return [
            Finding(
                rule="limits.visit_cap",
                severity=Severity.BLOCKING,
                message=f"This would be visit {visit} this year; {policy.name} pays "
                f"{plural(cap, 'visit')} a year.",
                fix="The payer will deny it (CARC 119, benefit maximum). Bill the patient if "
                "they agreed in writing to pay for visits over the limit.",
            )
        ]
    left = cap - visit
    if left <= VISIT_CAP_WARNING:
        return [
            Finding(
                rule="limits.visit_cap",
                severity=Severity.WARNING,
                message=f"Visit {visit} of {cap} this year: {plural(left, 'visit')} left "
                "after this one.",
                fix="Tell the patient before the cap is reached and agree how later visits "
                "will be paid.",
            )
        ]
    return []


def limits_timely_filing(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if claim.coverage is None or policy is None:
        return []
    elapsed = (as_of - claim.date_of_service).days
    limit = policy.timely_filing_days
    if elapsed > limit:
        return [
            Finding(
                rule="limits.timely_filing",
                severity=Severity.BLOCKING,
                message=f"{elapsed} days since the date of service; {policy.name} accepts "
                f"claims for {limit} days.",
                fix="The payer will deny it (CARC 29). Send it only with proof of an earlier "
                "timely submission; otherwise write the charge off (do not bill the patient "
                "for an in-network late claim).",
            )
        ]
    left = limit - elapsed
    if left <= FILING_WARNING_DAYS:
        return [
            Finding(
                rule="limits.timely_filing",
                severity=Severity.WARNING,
                message=f"{plural(left, 'day')} left to file with {policy.name} "
                f"({limit}-day limit).",
                fix="Send the claim now and watch for a rejection so there is time to fix "
                "and resend it.",
            )
        ]
    return []
