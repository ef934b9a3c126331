"""Each service line on its own: a code Handbill knows, one the payer pays at all, and a
charge (reference §2.4)."""

from __future__ import annotations

from datetime import date

from handbill.core.claimdata import Claim, Finding, Severity
from handbill.core.scrub._common import MEDICARE, MEDICARE_ADVANTAGE, catalogue_entry, payer_type

_MEDICARE_TYPES = (MEDICARE, MEDICARE_ADVANTAGE)


def code_known(claim: Claim, as_of: date) -> list[Finding]:
    return [
        Finding(
            rule="code.known",
            severity=Severity.BLOCKING,
            message=f"Line {line.number}: {line.code!r} is not in Handbill's service "
            "catalogue.",
            fix="Use one of the catalogue's codes (e.g. 97124, 97140), or ask an admin to add "
            "the service.",
            line=line.number,
            code=line.code,
        )
        for line in claim.lines
        if catalogue_entry(line.code) is None
    ]


def code_bundled(claim: Claim, as_of: date) -> list[Finding]:
    """97010 and other status-B codes: never paid separately by Medicare, and not by payers
    whose policy says so."""
    medicare = payer_type(claim) in _MEDICARE_TYPES
    policy = claim.policy
    findings: list[Finding] = []
    for line in claim.lines:
        entry = catalogue_entry(line.code)
        if entry is None or claim.coverage is None:
            continue
        if medicare and entry.bundled_status_b:
            findings.append(
                Finding(
                    rule="code.bundled",
                    severity=Severity.BLOCKING,
                    message=f"{entry.code} ({entry.label}) has Medicare status B: it is "
                    "bundled into the day's other services and never paid separately.",
                    fix=f"Drop the {entry.code} line. The patient may not be billed for it "
                    "either.",
                    line=line.number,
                    code=entry.code,
                )
            )
        elif entry.code == "97010" and policy is not None and not policy.bills_97010:
            findings.append(
                Finding(
                    rule="code.bundled",
                    severity=Severity.BLOCKING,
                    message=f"{policy.name} does not pay 97010 ({entry.label}).",
                    fix="Drop the 97010 line; keep hot or cold packs in the note.",
                    line=line.number,
                    code=entry.code,
                )
            )
    return findings


def code_medicare_replacement(claim: Claim, as_of: date) -> list[Finding]:
    kind = payer_type(claim)
    if kind not in _MEDICARE_TYPES:
        return []
    # Original Medicare rejects the code; Advantage plans usually, not always, copy it.
    severity = Severity.BLOCKING if kind == MEDICARE else Severity.WARNING
    findings: list[Finding] = []
    for line in claim.lines:
        entry = catalogue_entry(line.code)
        if entry is None or entry.medicare_replacement is None:
            continue
        findings.append(
            Finding(
                rule="code.medicare_replacement",
                severity=severity,
                message=f"Medicare does not accept {entry.code}; it uses "
                f"{entry.medicare_replacement} for this service"
                + ("." if kind == MEDICARE else ", and Advantage plans usually follow it."),
                fix=f"Bill {entry.medicare_replacement} instead of {entry.code} (the same "
                "service under Medicare's code).",
                line=line.number,
                code=entry.code,
            )
        )
    return findings


def charge_total(claim: Claim, as_of: date) -> list[Finding]:
    if not claim.lines:
        return [
            Finding(
                rule="charge.total",
                severity=Severity.BLOCKING,
                message="The claim has no service lines.",
                fix="Build the claim from the signed note so it carries the billed services.",
            )
        ]
    total = claim.total_charge
    if total.value > 0:
        return []
    return [
        Finding(
            rule="charge.total",
            severity=Severity.BLOCKING,
            message=f"The claim's total charge is {total.display()}.",
            fix="Set the practice's fee for each service; a claim must charge more than "
            "$0.00.",
        )
    ]


def charge_line(claim: Claim, as_of: date) -> list[Finding]:
    return [
        Finding(
            rule="charge.line",
            severity=Severity.BLOCKING,
            message=f"Line {line.number} ({line.code}) charges {line.charge.display()}.",
            fix=f"Enter the practice's usual fee for {line.code} (times the units); each "
            "line must charge more than $0.00.",
            line=line.number,
            code=line.code,
        )
        for line in claim.lines
        if line.charge.value <= 0
    ]
