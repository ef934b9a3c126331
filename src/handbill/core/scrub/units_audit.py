"""The note-to-claim unit audit: every billed unit must be backed by documented minutes,
counted the way this payer counts them (reference §1)."""

from __future__ import annotations

from datetime import date

from handbill.core.claimdata import Claim, Finding, Severity
from handbill.core.policy import PayerPolicy, UnitRule
from handbill.core.scrub._common import (
    catalogue_entry,
    is_timed,
    line_number,
    plural,
    units_by_code,
)
from handbill.core.units import MAX_MINUTES, ServiceMinutes, UnitMethod, compute_units

_METHOD_NAMES = {
    UnitMethod.CMS: "CMS total time, the 8-minute rule",
    UnitMethod.CPT: "CPT per code, the midpoint rule",
}


def payer_method(policy: PayerPolicy | None) -> UnitMethod:
    # A superbill has no payer to ask; the AMA per-code rule is the one CPT itself states
    # and the usual commercial default (reference §1.3-1.4).
    if policy is None:
        return UnitMethod.CPT
    return UnitMethod.CMS if policy.unit_rule is UnitRule.CMS else UnitMethod.CPT


def documented_units(claim: Claim, method: UnitMethod) -> dict[str, int] | None:
    """Units per code that the note's entries support under ``method``.

    Entries with codes outside the catalogue or impossible minutes are left out here; the
    catalogue rule and the note reports name them. None when the note's minutes cannot be
    counted at all (more than a day of treatment).
    """
    services = [
        ServiceMinutes(entry.code.strip().upper(), entry.minutes)
        for entry in claim.note.entries
        if catalogue_entry(entry.code) is not None and 0 <= entry.minutes <= MAX_MINUTES
    ]
    try:
        result = compute_units(services, method)
    except ValueError:
        return None
    return {line.code: line.units for line in result.lines}


def units_supported(claim: Claim, as_of: date) -> list[Finding]:
    method = payer_method(claim.policy)
    supported = documented_units(claim, method)
    if supported is None:
        return [
            Finding(
                rule="units.supported",
                severity=Severity.BLOCKING,
                message="The note's minutes add up to more than a day; units cannot be "
                "checked.",
                fix="Correct the minutes in the note (by addendum if it is signed).",
            )
        ]
    documented_codes = {entry.code.strip().upper() for entry in claim.note.entries}
    findings: list[Finding] = []
    for code, billed in units_by_code(claim.lines).items():
        service = catalogue_entry(code)
        if service is None:
            continue
        backed = supported.get(code, 0)
        if billed > backed:
            if code not in documented_codes:
                message = f"{code} is billed but the note does not document it."
                fix = (f"Remove {code}, or document the service (minutes, technique, region) "
                       "in the note by addendum if it was done.")
            elif not service.timed:
                message = f"{code}: {plural(billed, 'unit')} billed; it is one unit per visit."
                fix = f"Bill 1 unit of {code}; its minutes do not add units."
            else:
                message = (f"{code}: {plural(billed, 'unit')} billed but the note supports "
                           f"{backed} ({_METHOD_NAMES[method]}).")
                fix = (f"Bill {backed} of {code}, or add the missing minutes to the note by "
                       "addendum if the treatment really took longer.")
            findings.append(
                Finding(
                    rule="units.supported",
                    severity=Severity.BLOCKING,
                    message=message,
                    fix=fix,
                    line=line_number(claim, code),
                    code=code,
                )
            )
        elif billed < backed:
            findings.append(
                Finding(
                    rule="units.supported",
                    severity=Severity.WARNING,
                    message=(
                        f"{code}: the note supports {plural(backed, 'unit')} but only "
                        f"{billed} billed: money left on the table."
                    ),
                    fix=f"Bill {backed} of {code} unless you are leaving units off on "
                    "purpose (e.g. a payer limit).",
                    line=line_number(claim, code),
                    code=code,
                )
            )
    return findings


def units_minutes(claim: Claim, as_of: date) -> list[Finding]:
    return [
        Finding(
            rule="units.minutes",
            severity=Severity.BLOCKING,
            message=f"{line.code} is a timed code but line {line.number} has no minutes.",
            fix="Timed codes are billed from documented minutes: record the minutes of "
            f"direct treatment for {line.code}, or drop the line.",
            line=line.number,
            code=line.code,
        )
        for line in claim.lines
        if is_timed(line.code) and line.minutes <= 0
    ]


def units_method(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if policy is None:
        return []
    method = payer_method(policy)
    other = UnitMethod.CPT if method is UnitMethod.CMS else UnitMethod.CMS
    wanted = documented_units(claim, method)
    alternative = documented_units(claim, other)
    findings: list[Finding] = []
    if wanted is not None and alternative is not None:
        for code, billed in units_by_code(claim.lines).items():
            expected = wanted.get(code, 0)
            if billed == expected or billed != alternative.get(code, 0):
                continue
            findings.append(
                Finding(
                    rule="units.method",
                    severity=Severity.BLOCKING if billed > expected else Severity.WARNING,
                    message=(
                        f"{code}: {plural(billed, 'unit')} is what {_METHOD_NAMES[other]} "
                        f"gives, but {policy.name} counts by {_METHOD_NAMES[method]}: "
                        f"{expected}."
                    ),
                    fix=f"Recount the units with this payer's rule and bill {expected} of "
                    f"{code}.",
                    line=line_number(claim, code),
                    code=code,
                )
            )
    for line in claim.lines:
        if is_timed(line.code) and not line.rationale.strip():
            findings.append(
                Finding(
                    rule="units.method",
                    severity=Severity.WARNING,
                    message=f"Line {line.number} ({line.code}) has no unit rationale.",
                    fix="Rebuild the claim from the note so each timed line stores how its "
                    "units were counted; you will need it for an appeal.",
                    line=line.number,
                    code=line.code,
                )
            )
    return findings


def units_daily_cap(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if policy is None or policy.daily_unit_cap is None:
        return []
    timed = {code: units for code, units in units_by_code(claim.lines).items() if is_timed(code)}
    total = sum(timed.values())
    cap = policy.daily_unit_cap
    if total <= cap:
        return []
    drop = total - cap
    return [
        Finding(
            rule="units.daily_cap",
            severity=Severity.BLOCKING,
            message=(
                f"{plural(total, 'timed unit')} billed; {policy.name} pays at most {cap} "
                "per day."
            ),
            fix=f"Drop {plural(drop, 'unit')} so the day totals {cap}; keep the units of "
            "the codes that pay best or matter most to the plan of care.",
        )
    ]
