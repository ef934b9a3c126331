"""The rendering therapist: licensed where and when they treated, credentialed with the
payer, and a provider type the payer pays for the billed codes (reference §9.2, §10)."""

from __future__ import annotations

from datetime import date

from handbill.core.claimdata import Claim, Finding, Severity
from handbill.core.codes import taxonomy
from handbill.core.policy import MASSAGE_THERAPIST
from handbill.core.scrub._common import MEDICARE

IN_NETWORK = "in_network"
OUT_OF_NETWORK = "out_of_network"
_NOT_CREDENTIALED = {
    None: "has no enrollment on file with",
    "not_enrolled": "is not enrolled with",
    "pending": "is still being credentialed with",
}


def _provider_type(code: str) -> str:
    known = taxonomy.TAXONOMIES.get(code.strip().upper())
    return f"a {known.label.lower()} ({known.code})" if known else f"taxonomy {code}"


def provider_enrollment(claim: Claim, as_of: date) -> list[Finding]:
    coverage = claim.coverage
    if coverage is None:
        return []
    status = claim.provider.enrollment_status
    name = claim.provider.name
    if status == IN_NETWORK:
        return []
    if status == OUT_OF_NETWORK:
        return [
            Finding(
                rule="provider.enrollment",
                severity=Severity.WARNING,
                message=f"{name} is out of network with {coverage.payer_name}.",
                fix="Expect out-of-network benefits (higher patient share, or none); tell "
                "the patient before the visit and collect their share.",
            )
        ]
    what = _NOT_CREDENTIALED.get(status, f"has enrollment status {status!r} with")
    return [
        Finding(
            rule="provider.enrollment",
            severity=Severity.BLOCKING,
            message=f"{name} {what} {coverage.payer_name} on "
            f"{claim.date_of_service.isoformat()}.",
            fix="Hold the claim until credentialing is approved (record the enrollment with "
            "its effective date), or bill the patient if the plan allows.",
        )
    ]


def provider_code_allowed(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if policy is None:
        return []
    rendering = claim.provider.taxonomy
    return [
        Finding(
            rule="provider.code_allowed",
            severity=Severity.BLOCKING,
            message=f"{policy.name} does not pay {_provider_type(rendering)} for {line.code}.",
            fix=f"This payer does not pay {rendering} for {line.code}; do not swap codes — "
            "bill the patient if the plan allows, or drop the line.",
            line=line.number,
            code=line.code,
        )
        for line in claim.lines
        if not policy.code_allowed(line.code.strip().upper(), rendering)
    ]


def provider_license(claim: Claim, as_of: date) -> list[Finding]:
    provider = claim.provider
    when = claim.date_of_service
    problem: str | None = None
    fix = ""
    if not provider.license_state.strip():
        problem = f"{provider.name} has no licence state on file"
        fix = "Record the therapist's licence (state and expiry date) in setup."
    elif provider.license_expires_date is None:
        problem = f"{provider.name}'s licence has no expiry date on file"
        fix = "Record the licence expiry date from the state board in setup."
    elif provider.license_state.strip().upper() != claim.practice_state.strip().upper():
        problem = (
            f"{provider.name} is licensed in {provider.license_state.upper()} but treated in "
            f"{claim.practice_state.upper()}"
        )
        fix = "Bill only services given under a licence of the state where the patient was "
        fix += "treated; record that licence if the therapist holds one."
    elif when > provider.license_expires_date:
        problem = (
            f"{provider.name}'s licence expired on "
            f"{provider.license_expires_date.isoformat()}, before the date of service "
            f"{when.isoformat()}"
        )
        fix = "If the licence was renewed, record the new expiry date; a service given "
        fix += "without a valid licence cannot be billed."
    if problem is None:
        return []
    return [
        Finding(
            rule="provider.license",
            severity=Severity.BLOCKING,
            message=problem + ".",
            fix=fix,
        )
    ]


def provider_medicare_lmt(claim: Claim, as_of: date) -> list[Finding]:
    coverage = claim.coverage
    if coverage is None or coverage.payer_type != MEDICARE:
        return []
    if claim.provider.taxonomy != MASSAGE_THERAPIST:
        return []
    return [
        Finding(
            rule="provider.medicare_lmt",
            severity=Severity.BLOCKING,
            message="Original Medicare does not enrol or pay massage therapists "
            f"({MASSAGE_THERAPIST}).",
            fix="Do not send this claim to Medicare. Bill the patient as self-pay, or check "
            "whether they have a Medicare Advantage plan with a massage benefit.",
        )
    ]

