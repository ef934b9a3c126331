"""Referrals, prescriptions and authorizations: on file when the payer needs them, in date,
covering the billed codes, and with visits, units and dollars left (reference §10).

What earlier claims used is counted by the database and handed in on each
:class:`Authorization`; this claim is not included there, so it adds one visit, its units and
its charge.
"""

from __future__ import annotations

from datetime import date

from handbill.core.claimdata import Authorization, AuthorizationKind, Claim, Finding, Severity
from handbill.core.policy import ReferralKind
from handbill.core.scrub._common import billed_codes, plural, units_by_code

_KIND_WORDS = {
    AuthorizationKind.AUTHORIZATION: "authorization",
    AuthorizationKind.PRESCRIPTION: "prescription",
    AuthorizationKind.REFERRAL: "referral",
}


def _describe(auth: Authorization) -> str:
    number = f" {auth.number}" if auth.number else ""
    return f"{_KIND_WORDS[auth.kind]}{number}"


def _capitalized(text: str) -> str:
    # str.capitalize() would also lower-case the number ("RX-1" → "rx-1").
    return text[:1].upper() + text[1:]


def _period(auth: Authorization) -> str:
    end = f" to {auth.end_date.isoformat()}" if auth.end_date else ""
    return f"from {auth.start_date.isoformat()}{end}"


def _covers_any(auth: Authorization, codes: list[str]) -> bool:
    return not auth.codes or any(code in auth.codes for code in codes)


def _authorization_needed(claim: Claim) -> bool:
    policy = claim.policy
    if claim.coverage is None or policy is None or policy.authorization_after_visits is None:
        return False
    return claim.history.visits_this_year >= policy.authorization_after_visits


def _active(claim: Claim, kind: AuthorizationKind) -> list[Authorization]:
    return [
        auth for auth in claim.authorizations
        if auth.kind is kind and auth.active_on(claim.date_of_service)
    ]


def referral_on_file(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if claim.coverage is None or policy is None or policy.referral is ReferralKind.NONE:
        return []
    kind = AuthorizationKind(policy.referral.value)
    word = _KIND_WORDS[kind]
    if _active(claim, kind):
        return []
    on_file = [auth for auth in claim.authorizations if auth.kind is kind]
    if on_file:
        shown = "; ".join(f"{_describe(a)} runs {_period(a)}" for a in on_file)
        message = (
            f"{policy.name} needs a {word}; none on file covers "
            f"{claim.date_of_service.isoformat()} ({shown})."
        )
        fix = f"Get a new {word} from the patient's provider covering this date and record it."
    else:
        message = f"{policy.name} needs a {word} and none is on file."
        fix = (
            f"Get a {word} from the patient's physician (with the diagnoses and visit count) "
            "and record it with its dates before billing."
        )
    return [Finding(rule="referral.on_file", severity=Severity.BLOCKING, message=message,
                    fix=fix)]


def authorization_required(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if policy is None or not _authorization_needed(claim):
        return []
    if _active(claim, AuthorizationKind.AUTHORIZATION):
        return []
    visit = claim.history.visits_this_year + 1
    after = policy.authorization_after_visits
    when = "from the first visit" if after == 0 else f"after {plural(after or 0, 'visit')}"
    return [
        Finding(
            rule="authorization.required",
            severity=Severity.BLOCKING,
            message=(
                f"{policy.name} needs an authorization {when}; this is visit {visit} this "
                f"year and no authorization is active on {claim.date_of_service.isoformat()}."
            ),
            fix="Request the authorization from the payer and record its number, dates, "
            "visits and codes; bill once it is approved.",
        )
    ]


def _use_problems(claim: Claim, auth: Authorization) -> tuple[list[str], list[str]]:
    """(over the limit, this claim uses up the last of it) for one authorization."""
    over: list[str] = []
    last: list[str] = []
    if auth.visits_allowed is not None:
        after = auth.visits_used + 1
        if after > auth.visits_allowed:
            over.append(
                f"all {plural(auth.visits_allowed, 'visit')} are used "
                f"({auth.visits_used} billed before)"
            )
        elif after == auth.visits_allowed:
            last.append(f"this is the last of {plural(auth.visits_allowed, 'visit')}")
    billed = units_by_code(claim.lines)
    for code, allowed in sorted(auth.units_allowed.items()):
        units = billed.get(code, 0)
        if not units:
            continue
        after = auth.units_used.get(code, 0) + units
        if after > allowed:
            left = max(allowed - auth.units_used.get(code, 0), 0)
            over.append(f"{code}: {units} billed but only {left} of {allowed} units left")
        elif after == allowed:
            last.append(f"{code}: this claim uses the last of its {allowed} units")
    if auth.dollars_allowed is not None:
        charge = claim.total_charge
        remaining = auth.dollars_allowed - auth.dollars_used
        if charge > remaining:
            over.append(
                f"this claim's {charge.display()} is more than the {remaining.display()} left of "
                f"{auth.dollars_allowed.display()}"
            )
        elif remaining - charge < charge:
            last.append(
                f"after this claim {(remaining - charge).display()} is left, less than another "
                "visit like this one"
            )
    return over, last


def authorization_remaining(claim: Claim, as_of: date) -> list[Finding]:
    if claim.coverage is None:
        return []
    codes = billed_codes(claim)
    findings: list[Finding] = []
    for kind in AuthorizationKind:
        applicable = [a for a in _active(claim, kind) if _covers_any(a, codes)]
        if not applicable:
            continue
        results = [(auth, *_use_problems(claim, auth)) for auth in applicable]
        usable = [(auth, last) for auth, over, last in results if not over]
        if usable:
            # The claim can draw on one with room left; say so when it is the last of it.
            auth, last = usable[0]
            if last:
                findings.append(
                    Finding(
                        rule="authorization.remaining",
                        severity=Severity.WARNING,
                        message=f"{_capitalized(_describe(auth))}: {'; '.join(last)}.",
                        fix=f"Ask for a renewal of the {_KIND_WORDS[kind]} now so the next "
                        "visit is covered.",
                    )
                )
            continue
        for auth, over, _last in results:
            findings.append(
                Finding(
                    rule="authorization.remaining",
                    severity=Severity.BLOCKING,
                    message=f"{_capitalized(_describe(auth))}: {'; '.join(over)}.",
                    fix=f"Get the {_KIND_WORDS[kind]} extended before billing this visit, or "
                    "bill only what it still covers.",
                )
            )
    return findings


def authorization_codes(claim: Claim, as_of: date) -> list[Finding]:
    if not _authorization_needed(claim):
        return []
    active = _active(claim, AuthorizationKind.AUTHORIZATION)
    if not active:
        return []  # authorization.required reports it
    findings: list[Finding] = []
    for line in claim.lines:
        code = line.code.strip().upper()
        if any(not auth.codes or code in auth.codes for auth in active):
            continue
        listed = sorted({c for auth in active for c in auth.codes})
        findings.append(
            Finding(
                rule="authorization.codes",
                severity=Severity.BLOCKING,
                message=f"{code} is not among the authorized codes ({', '.join(listed)}).",
                fix=f"Ask the payer to add {code} to the authorization, or drop the line.",
                line=line.number,
                code=code,
            )
        )
    return findings
