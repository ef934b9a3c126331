"""Procedure modifiers a hands-on practice meets (reference §2.5 and §3).

Meanings are our own one-line summaries. Which modifiers a payer wants is payer policy
(handbill.core.policy); this module only knows what each modifier means, which ones can
bypass an NCCI pair edit, and what makes a line's list of modifiers malformed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# A claim line holds at most four: CMS-1500 box 24D and 837P SV101-3 to SV101-6.
MAX_PER_LINE = 4


class ModifierKind(StrEnum):
    DISTINCT_SERVICE = "distinct_service"  # 59 and X{EPSU}: bypass an NCCI pair edit
    ANATOMIC = "anatomic"  # side, digit or artery; also an NCCI bypass
    THERAPY_PLAN = "therapy_plan"  # GP/GO/GN: under a PT/OT/SLP plan of care
    ASSISTANT = "assistant"  # CQ/CO: an assistant furnished part of the service
    THRESHOLD = "threshold"  # KX: medically necessary above the yearly therapy threshold
    LIABILITY = "liability"  # GA/GY/GZ: who pays if Medicare denies
    PROCEDURE = "procedure"  # 25, 51, 52, AT: how the service itself was done or billed


class UnknownModifierError(ValueError):
    """A modifier that is not in Handbill's table."""


@dataclass(frozen=True, slots=True)
class Modifier:
    code: str
    meaning: str
    kind: ModifierKind
    # Can this modifier, when the note supports it, bypass an NCCI PTP edit on column 2?
    ncci_bypass: bool


_D, _A = ModifierKind.DISTINCT_SERVICE, ModifierKind.ANATOMIC
_P, _T = ModifierKind.PROCEDURE, ModifierKind.THERAPY_PLAN

_MAIN: tuple[Modifier, ...] = (
    Modifier("59", "Distinct service: another session, site or organ system", _D, True),
    Modifier("XE", "Separate encounter on the same day", _D, True),
    Modifier("XS", "Separate structure: a different body site", _D, True),
    Modifier("XP", "Done by a different practitioner", _D, True),
    Modifier("XU", "Unusual service that does not overlap the main one", _D, True),
    Modifier("GP", "Part of a physical therapy plan of care", _T, False),
    Modifier("GO", "Part of an occupational therapy plan of care", _T, False),
    Modifier("GN", "Part of a speech-language pathology plan of care", _T, False),
    Modifier("KX", "Medically necessary above the yearly therapy threshold",
             ModifierKind.THRESHOLD, False),
    Modifier("CQ", "PT assistant did more than 10% of the service",
             ModifierKind.ASSISTANT, False),
    Modifier("CO", "OT assistant did more than 10% of the service",
             ModifierKind.ASSISTANT, False),
    Modifier("52", "Service reduced from what the code describes", _P, False),
    # CMS lists 25 among the NCCI-associated modifiers; it belongs on an E/M line only.
    Modifier("25", "Separate, significant E/M visit on the day of a procedure", _P, True),
    Modifier("AT", "Active treatment, not maintenance (Medicare CMT)", _P, False),
    Modifier("GA", "Waiver of liability (ABN) on file", ModifierKind.LIABILITY, False),
    Modifier("GY", "Excluded by statute or not a benefit", ModifierKind.LIABILITY, False),
    Modifier("GZ", "Expected denial, no ABN on file", ModifierKind.LIABILITY, False),
    Modifier("51", "Multiple procedures (not for 97xxx codes)", _P, False),
)


def _anatomic() -> tuple[Modifier, ...]:
    # CMS's NCCI-associated anatomic modifiers: a different side, digit, eyelid or artery
    # shows the second service was not on the same site.
    rows = [
        ("RT", "Right side of the body"),
        ("LT", "Left side of the body"),
        ("E1", "Upper left eyelid"),
        ("E2", "Lower left eyelid"),
        ("E3", "Upper right eyelid"),
        ("E4", "Lower right eyelid"),
        ("FA", "Left thumb"),
        ("F5", "Right thumb"),
        ("TA", "Left great toe"),
        ("T5", "Right great toe"),
        ("LC", "Left circumflex coronary artery"),
        ("LD", "Left anterior descending coronary artery"),
        ("LM", "Left main coronary artery"),
        ("RC", "Right coronary artery"),
        ("RI", "Ramus intermedius coronary artery"),
    ]
    ordinal = {1: "second", 2: "third", 3: "fourth", 4: "fifth"}
    for offset, side in ((0, "left"), (5, "right")):
        for n, which in ordinal.items():
            rows.append((f"F{n + offset}", f"{side.capitalize()} hand, {which} finger"))
            rows.append((f"T{n + offset}", f"{side.capitalize()} foot, {which} toe"))
    return tuple(Modifier(code, meaning, _A, True) for code, meaning in sorted(rows))


MODIFIERS: dict[str, Modifier] = {m.code: m for m in (*_MAIN, *_anatomic())}

DISTINCT_SERVICE: frozenset[str] = frozenset(
    m.code for m in MODIFIERS.values() if m.kind is ModifierKind.DISTINCT_SERVICE
)
X_MODIFIERS: frozenset[str] = DISTINCT_SERVICE - {"59"}
ANATOMIC: frozenset[str] = frozenset(
    m.code for m in MODIFIERS.values() if m.kind is ModifierKind.ANATOMIC
)
NCCI_BYPASS: frozenset[str] = frozenset(m.code for m in MODIFIERS.values() if m.ncci_bypass)

_SHAPE = re.compile(r"^[0-9A-Z]{2}$")


def _known_summary() -> str:
    main = ", ".join(m.code for m in _MAIN)
    return f"{main}, and the anatomic ones ({', '.join(sorted(ANATOMIC))})"


def _normalize(modifier: str) -> str:
    return modifier.strip().upper()


def get(modifier: str) -> Modifier:
    """The table entry for ``modifier``; raises :class:`UnknownModifierError` with the fix."""
    code = _normalize(modifier)
    entry = MODIFIERS.get(code)
    if entry is not None:
        return entry
    if not _SHAPE.match(code):
        raise UnknownModifierError(
            f"{modifier!r} is not a modifier: modifiers are two letters or digits, e.g. GP or 59"
        )
    raise UnknownModifierError(
        f"{code} is not a modifier Handbill knows (known: {_known_summary()})"
    )


def is_known(modifier: str) -> bool:
    return _normalize(modifier) in MODIFIERS


def validate_modifiers(modifiers: Sequence[str]) -> list[str]:
    """Problems with one claim line's modifiers, each with its fix; empty when all is well."""
    if isinstance(modifiers, str):
        raise TypeError("pass the modifiers as a list, e.g. ['GP', '59'], not one string")
    problems: list[str] = []
    codes = [_normalize(m) for m in modifiers]
    for raw in modifiers:
        try:
            get(raw)
        except UnknownModifierError as exc:
            problems.append(str(exc))
    for code, count in Counter(codes).items():
        if count > 1:
            problems.append(f"{code} appears {count} times; list each modifier once")
    distinct = set(codes)
    if len(codes) > MAX_PER_LINE:
        problems.append(
            f"{len(codes)} modifiers on one line; a claim line holds at most {MAX_PER_LINE}: "
            "keep the ones the payer needs (pricing and NCCI modifiers first)"
        )
    x_used = sorted(distinct & X_MODIFIERS)
    if "59" in distinct and x_used:
        problems.append(
            f"59 and {', '.join(x_used)} on the same line; use the X modifier alone, or 59 "
            "alone if the payer does not take X modifiers, never both"
        )
    return problems
