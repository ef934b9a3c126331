"""Modifiers: well formed, in the payer's style, and backed by the note (reference §2.3,
§2.5, §3)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date

# The builder's own tests of distinctness, so a modifier the builder adds on the note's
# evidence is one this rule accepts (same body-region sites and sides, same time blocks).
from handbill.core.claim_builder import _distinct_regions as builder_distinct_regions
from handbill.core.claim_builder import _separate_time as builder_separate_time
from handbill.core.claimdata import Claim, ClaimLine, Finding, ServiceEntry, Severity
from handbill.core.codes import modifiers as mods
from handbill.core.policy import ModifierStyle
from handbill.core.scrub._common import catalogue_entry

THERAPY_MODIFIERS = frozenset({"GP", "GO", "GN"})


def _line_modifiers(line: ClaimLine) -> list[str]:
    return [m.strip().upper() for m in line.modifiers]


def modifier_valid(claim: Claim, as_of: date) -> list[Finding]:
    findings: list[Finding] = []
    for line in claim.lines:
        codes = _line_modifiers(line)
        problems: list[str] = []
        unknown = [m for m in codes if not mods.is_known(m)]
        if unknown:
            shown = ", ".join(m or "(blank)" for m in unknown)
            problems.append(f"unknown modifier {shown}")
        repeated = [m for m, n in Counter(codes).items() if n > 1]
        if repeated:
            problems.append(f"{', '.join(repeated)} listed twice")
        if len(codes) > mods.MAX_PER_LINE:
            problems.append(f"{len(codes)} modifiers, a line holds {mods.MAX_PER_LINE}")
        if problems:
            findings.append(
                Finding(
                    rule="modifier.valid",
                    severity=Severity.BLOCKING,
                    message=f"Line {line.number} ({line.code}): {'; '.join(problems)}.",
                    fix="Keep each modifier once, at most four per line, and only modifiers "
                    "the payer knows (pricing and NCCI modifiers first).",
                    line=line.number,
                    code=line.code,
                )
            )
    return findings


def modifier_59_with_x(claim: Claim, as_of: date) -> list[Finding]:
    findings: list[Finding] = []
    for line in claim.lines:
        codes = set(_line_modifiers(line))
        x_used = sorted(codes & mods.X_MODIFIERS)
        if "59" in codes and x_used:
            findings.append(
                Finding(
                    rule="modifier.59_with_x",
                    severity=Severity.BLOCKING,
                    message=f"Line {line.number} ({line.code}) has 59 and {', '.join(x_used)}.",
                    fix=f"Keep {', '.join(x_used)} and remove 59 (or keep 59 alone if the "
                    "payer takes only 59); never both on one line.",
                    line=line.number,
                    code=line.code,
                )
            )
    return findings


def modifier_payer_style(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if policy is None or policy.modifier_style is not ModifierStyle.MODIFIER_59:
        return []
    findings: list[Finding] = []
    for line in claim.lines:
        x_used = sorted(set(_line_modifiers(line)) & mods.X_MODIFIERS)
        if x_used:
            findings.append(
                Finding(
                    rule="modifier.payer_style",
                    severity=Severity.BLOCKING,
                    message=(
                        f"Line {line.number} ({line.code}) has {', '.join(x_used)}; "
                        f"{policy.name} accepts only 59."
                    ),
                    fix=f"Replace {', '.join(x_used)} with 59: this payer accepts only 59.",
                    line=line.number,
                    code=line.code,
                )
            )
    return findings


def _therapy_present(line: ClaimLine) -> list[str]:
    return sorted(set(_line_modifiers(line)) & THERAPY_MODIFIERS)


def modifier_therapy_missing(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if policy is None or policy.therapy_modifier is None:
        return []
    wanted = policy.therapy_modifier
    findings: list[Finding] = []
    for line in claim.lines:
        entry = catalogue_entry(line.code)
        present = _therapy_present(line)
        if entry is None or not entry.always_therapy or wanted in present:
            continue
        instead = f" instead of {', '.join(present)}" if present else ""
        remove = f" and remove {', '.join(present)}" if present else ""
        findings.append(
            Finding(
                rule="modifier.therapy_missing",
                severity=Severity.BLOCKING,
                message=(
                    f"Line {line.number} ({entry.code}) needs {wanted}{instead}: "
                    f"{policy.name} wants it on therapy codes."
                ),
                fix=f"Add {wanted} to {entry.code}{remove}.",
                line=line.number,
                code=entry.code,
            )
        )
    return findings


def modifier_therapy_unexpected(claim: Claim, as_of: date) -> list[Finding]:
    policy = claim.policy
    if policy is None or policy.therapy_modifier is not None:
        return []
    findings: list[Finding] = []
    for line in claim.lines:
        present = _therapy_present(line)
        if not present:
            continue
        findings.append(
            Finding(
                rule="modifier.therapy_unexpected",
                severity=Severity.WARNING,
                message=(
                    f"Line {line.number} ({line.code}) has {', '.join(present)}, but "
                    f"{policy.name} asks for no therapy modifier."
                ),
                fix=f"Remove {', '.join(present)} unless the payer asked for it: it says the "
                "service is part of a therapist's plan of care.",
                line=line.number,
                code=line.code,
            )
        )
    return findings


def modifier_payer_pairs(claim: Claim, as_of: date) -> list[Finding]:
    """A pair the payer's policy bundles (``modifier_pairs``, often learned from its denials)
    needs a bypass modifier the payer takes on the first code, as an NCCI pair would."""
    policy = claim.policy
    if policy is None or not policy.modifier_pairs:
        return []
    only_59 = policy.modifier_style is ModifierStyle.MODIFIER_59
    accepted = frozenset({"59"}) if only_59 else frozenset({"59"}) | mods.X_MODIFIERS
    wanted = "59" if only_59 else "XS (or XU, XE, XP, 59)"
    billed = {line.code.strip().upper() for line in claim.lines}
    findings: list[Finding] = []
    for line in claim.lines:
        code = line.code.strip().upper()
        partners = sorted(p for c, p in policy.modifier_pairs if c == code and p in billed)
        if not partners or set(_line_modifiers(line)) & accepted:
            continue
        findings.append(
            Finding(
                rule="modifier.payer_pair",
                severity=Severity.BLOCKING,
                message=(
                    f"Line {line.number} ({code}) is billed with {', '.join(partners)}; "
                    f"{policy.name} bundles them unless {code} carries {wanted}."
                ),
                fix=f"Add {wanted.split(' ')[0]} to {code} only if the note documents a separate "
                "body region or time block; otherwise remove the line or expect a denial.",
                line=line.number,
                code=line.code,
            )
        )
    return findings


def _entries_by_code(claim: Claim) -> dict[str, list[ServiceEntry]]:
    billed = {line.code.strip().upper() for line in claim.lines}
    grouped: dict[str, list[ServiceEntry]] = {}
    for entry in claim.note.entries:
        code = entry.code.strip().upper()
        if code in billed:
            grouped.setdefault(code, []).append(entry)
    return grouped


def _distinct_from_some_service(
    claim: Claim, code: str, distinct: Callable[[list[ServiceEntry], list[ServiceEntry]], bool]
) -> bool:
    """Whether the note shows ``code`` apart from at least one other billed service.

    Without the edit tables the rule cannot tell which code is the pair's column 1, so one
    documented partner is enough; the builder adds the modifier on exactly that evidence.
    """
    grouped = _entries_by_code(claim)
    own = grouped.get(code, [])
    return bool(own) and any(
        distinct(own, other) for other_code, other in grouped.items() if other_code != code
    )


def _regions_distinct(claim: Claim, code: str) -> bool:
    return _distinct_from_some_service(claim, code, builder_distinct_regions)


def _time_blocks_separate(claim: Claim, code: str) -> bool:
    return _distinct_from_some_service(claim, code, builder_separate_time)


def modifier_documented(claim: Claim, as_of: date) -> list[Finding]:
    findings: list[Finding] = []
    for line in claim.lines:
        code = line.code.strip().upper()
        present = set(_line_modifiers(line))
        problem: tuple[str, str] | None = None
        if "XS" in present and not _regions_distinct(claim, code):
            problem = (
                "XS says a separate body site, but the note does not show {code} on a region "
                "different from the other services",
                "Record the body region of each service in the note (e.g. 97140 right "
                "shoulder, 97124 low back), or remove XS if they were on the same region.",
            )
        elif "XU" in present and not _time_blocks_separate(claim, code):
            problem = (
                "XU says a separate service, but the note does not show {code} in a time "
                "block apart from the other services",
                "Record start times and minutes for each service so the blocks do not "
                "overlap, or remove XU if the services were done together.",
            )
        elif "59" in present and not (
            _regions_distinct(claim, code) or _time_blocks_separate(claim, code)
        ):
            problem = (
                "59 says a distinct service, but the note shows neither a separate body "
                "region nor a separate time block for {code}",
                "Document the separate region (body region per service) or the separate "
                "time block (start times), or remove 59. A different diagnosis alone does "
                "not justify 59.",
            )
        if problem is not None:
            findings.append(
                Finding(
                    rule="modifier.documented",
                    severity=Severity.BLOCKING,
                    message=f"Line {line.number}: " + problem[0].format(code=code) + ".",
                    fix=problem[1],
                    line=line.number,
                    code=code,
                )
            )
    return findings
