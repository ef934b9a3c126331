"""Remittance advice remark codes (RARC), in our own words (reference §6.4).

RARCs explain an adjustment further: at line level in LQ*HE, at claim level in MOA03-07. A
CARC 16, 96 or 234 usually needs one to make sense. Codes we do not list get a generic entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rarc:
    code: str
    meaning: str
    next_step: str
    known: bool = True


_RARCS: tuple[Rarc, ...] = (
    Rarc("N130", "The plan's benefit documents restrict this service",
         "Read the plan's coverage for massage/therapy (visit limits, provider types, "
         "prescription rules) before rebilling or billing the patient"),
    Rarc("M15", "Services billed separately were bundled into another; no separate payment",
         "Typical for 97010 with other therapy codes: stop billing it separately to this payer, "
         "or add 59/XS only where the note documents a separate service"),
    Rarc("N20", "Not paid when performed with another service on the same date",
         "Check the NCCI pair and the documentation; a modifier applies only for a truly "
         "separate region or time block"),
    Rarc("MA130", "The claim is incomplete or invalid, so it was not processed and has no "
                  "appeal rights",
         "Do not appeal: fix what the other remark codes name and send a new claim (not a "
         "corrected one)"),
)

RARCS: dict[str, Rarc] = {entry.code: entry for entry in _RARCS}

_SHAPE = re.compile(r"^(?:M|N|MA)[0-9]{1,3}$")


def rarc(code: str) -> Rarc:
    """The entry for a remark code; unlisted or malformed codes get a generic entry."""
    text = code.strip().upper() if isinstance(code, str) else ""
    entry = RARCS.get(text)
    if entry is not None:
        return entry
    if not _SHAPE.match(text):
        return Rarc(
            text, f"{code!r} is not shaped like a remark code",
            "RARCs are M, N or MA followed by digits (N130, M15, MA130); check the 835",
            known=False,
        )
    return Rarc(
        text, f"RARC {text} is not in Handbill's table",
        "Look the code up in the current X12 RARC list; it explains the adjustment reason "
        "(CARC) on the same line or claim", known=False,
    )
