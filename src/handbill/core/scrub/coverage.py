"""Who pays: active coverage, a payer policy to check against, and the property & casualty
fields auto and workers' comp carriers need (reference §10)."""

from __future__ import annotations

from datetime import date

from handbill.core.claimdata import Claim, Coverage, Finding, Severity
from handbill.core.scrub._common import AUTO, WORKERS_COMP


def coverage_self_pay(claim: Claim, as_of: date) -> list[Finding]:
    if claim.coverage is not None:
        return []
    return [
        Finding(
            rule="coverage.self_pay",
            severity=Severity.INFO,
            message="No coverage on this visit: it is self-pay.",
            fix="Give the patient a superbill to send to their plan; no claim goes to a "
            "payer.",
        )
    ]


def coverage_active(claim: Claim, as_of: date) -> list[Finding]:
    coverage = claim.coverage
    if coverage is None or coverage.active_on(claim.date_of_service):
        return []
    if claim.date_of_service < coverage.start_date or coverage.end_date is None:
        when = f"starts on {coverage.start_date.isoformat()}"
    else:
        # end_date is exclusive ([start, end)): the end date itself is no longer covered.
        when = f"ended on {coverage.end_date.isoformat()}"
    return [
        Finding(
            rule="coverage.active",
            severity=Severity.BLOCKING,
            message=(
                f"{coverage.payer_name} coverage (member {coverage.member_id}) {when}; the "
                f"date of service is {claim.date_of_service.isoformat()}."
            ),
            fix="Check eligibility and bill the coverage active on the date of service, or "
            "bill the patient if none was.",
        )
    ]


def policy_on_file(claim: Claim, as_of: date) -> list[Finding]:
    coverage = claim.coverage
    if coverage is None:
        return []
    policy = claim.policy
    if policy is None:
        return [
            Finding(
                rule="policy.on_file",
                severity=Severity.WARNING,
                message=f"No payer policy for {coverage.payer_name}: the payer's own rules "
                "(units, codes, caps, referral, filing limit) were not checked.",
                fix="Choose a payer profile for this payer in setup, then scrub again.",
            )
        ]
    if policy.in_force(claim.date_of_service):
        return []
    return [
        Finding(
            rule="policy.on_file",
            severity=Severity.WARNING,
            message=(
                f"The {policy.name} policy used runs from {policy.effective_date.isoformat()}"
                + (f" to {policy.end_date.isoformat()}" if policy.end_date else "")
                + f"; it does not cover {claim.date_of_service.isoformat()}."
            ),
            fix="Add or pick the policy version in force on the date of service.",
        )
    ]


def _property_casualty(claim: Claim, coverage: Coverage) -> bool:
    needs = claim.policy is not None and claim.policy.requires_claim_number
    return needs or coverage.payer_type in (AUTO, WORKERS_COMP)


def pc_claim_fields(claim: Claim, as_of: date) -> list[Finding]:
    coverage = claim.coverage
    if coverage is None or not _property_casualty(claim, coverage):
        return []
    missing: list[str] = []
    if not coverage.claim_number.strip():
        missing.append("the carrier's claim number")
    if coverage.accident_date is None:
        missing.append("the date of the accident or injury")
    if not missing:
        return []
    return [
        Finding(
            rule="pc.claim_fields",
            severity=Severity.BLOCKING,
            message=f"{coverage.payer_name} is an auto/workers' comp claim without "
            f"{' and '.join(missing)}.",
            fix="Get the claim number and accident date from the adjuster (or the "
            "patient's paperwork) and add them to the coverage.",
        )
    ]


def pc_accident_date(claim: Claim, as_of: date) -> list[Finding]:
    coverage = claim.coverage
    if coverage is None or coverage.accident_date is None:
        return []
    if coverage.accident_date <= claim.date_of_service:
        return []
    return [
        Finding(
            rule="pc.accident_date",
            severity=Severity.BLOCKING,
            message=(
                f"The accident date {coverage.accident_date.isoformat()} is after the date "
                f"of service {claim.date_of_service.isoformat()}."
            ),
            fix="Correct the accident date on the coverage; treatment for an injury cannot "
            "come before it.",
        )
    ]
