"""Small helpers the rule modules share: who pays, what was billed, how text is compared."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from handbill.core.claimdata import Claim, ClaimLine, Finding
from handbill.core.codes import cpt
from handbill.core.policy import PayerType

# Every rule has this shape; the registry in ``__init__`` lists them.
RuleCheck = Callable[[Claim, date], list[Finding]]

MEDICARE = PayerType.MEDICARE.value
MEDICARE_ADVANTAGE = PayerType.MEDICARE_ADVANTAGE.value
AUTO = PayerType.AUTO.value
WORKERS_COMP = PayerType.WORKERS_COMP.value

# Placeholders people type into a required box; an auditor reads them as "not documented".
_PLACEHOLDERS = frozenset(
    {"n/a", "na", "tbd", "see above", "same", "same as above", "same as last visit",
     "as above", "x", "-", "--", "."}
)
_SPACES = re.compile(r"\s+")


def insured(claim: Claim) -> bool:
    """A payer will read this claim (anything but self-pay)."""
    return claim.coverage is not None


def payer_type(claim: Claim) -> str:
    return claim.coverage.payer_type if claim.coverage is not None else ""


def catalogue_entry(code: str) -> cpt.ServiceCode | None:
    """The catalogue entry, or None for a code another rule reports as unknown."""
    try:
        return cpt.get(code)
    except cpt.UnknownCodeError:
        return None


def is_timed(code: str) -> bool:
    entry = catalogue_entry(code)
    return entry is not None and entry.timed


def units_by_code(lines: tuple[ClaimLine, ...]) -> dict[str, int]:
    """Billed units per code, adding up a code's lines (one line per unit, or one line)."""
    totals: dict[str, int] = {}
    for line in lines:
        code = line.code.strip().upper()
        totals[code] = totals.get(code, 0) + line.units
    return totals


def billed_codes(claim: Claim) -> list[str]:
    """The claim's codes, each once, in line order."""
    return list(units_by_code(claim.lines))


def documented(text: str) -> bool:
    """True when a note field holds something an auditor would accept as written content."""
    cleaned = _SPACES.sub(" ", text).strip().lower()
    if not cleaned or cleaned in _PLACEHOLDERS:
        return False
    return any(ch.isalnum() for ch in cleaned)


def normalize_diagnosis(code: str) -> str:
    return code.replace(".", "").strip().upper()


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def first_line(claim: Claim, code: str) -> ClaimLine | None:
    wanted = code.strip().upper()
    for line in claim.lines:
        if line.code.strip().upper() == wanted:
            return line
    return None


def line_number(claim: Claim, code: str) -> int | None:
    line = first_line(claim, code)
    return line.number if line is not None else None
