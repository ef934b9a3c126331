"""Place-of-service codes (CMS POS set) that a hands-on practice uses, with our own names.

The 837P carries the place in CLM05-1 (and SV105 on a line that differs); the CMS-1500 in box
24B. Telehealth has two codes since 1 January 2022: 02 when the patient is somewhere other
than home, 10 when the patient is at home (reference §9.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHAPE = re.compile(r"^[0-9]{2}$")


class PosFormatError(ValueError):
    """Text that is not shaped like a place-of-service code."""


@dataclass(frozen=True, slots=True)
class PlaceOfService:
    code: str
    name: str
    note: str = ""
    known: bool = True  # False: not in Handbill's table (the code may still be a real one)


_PLACES: tuple[PlaceOfService, ...] = (
    PlaceOfService("02", "Telehealth, patient not at home",
                   "Patient at a clinic, workplace or other site other than home"),
    PlaceOfService("03", "School"),
    PlaceOfService("04", "Homeless shelter"),
    PlaceOfService("10", "Telehealth, patient at home",
                   "In use since 1 January 2022 (Medicare from 4 April 2022)"),
    PlaceOfService("11", "Office", "The practice's own treatment room or clinic"),
    PlaceOfService("12", "Home", "The patient's own home (a house call)"),
    PlaceOfService("13", "Assisted living facility"),
    PlaceOfService("15", "Mobile unit", "A van or trailer fitted out for treatment"),
    PlaceOfService("19", "Outpatient hospital, off campus"),
    PlaceOfService("22", "Outpatient hospital, on campus"),
    PlaceOfService("31", "Skilled nursing facility"),
    PlaceOfService("32", "Nursing facility"),
    PlaceOfService("49", "Independent clinic"),
    PlaceOfService("99", "Other place of service", "Use only when no other code fits"),
)

PLACES: dict[str, PlaceOfService] = {place.code: place for place in _PLACES}


def normalize(code: str) -> str:
    """Two digits: "2" → "02", " 11 " → "11". Raises :class:`PosFormatError` with the fix."""
    text = code.strip() if isinstance(code, str) else ""
    if text.isascii() and text.isdigit() and len(text) == 1:
        text = "0" + text
    if not _SHAPE.match(text):
        raise PosFormatError(
            f"{code!r} is not a place-of-service code: use two digits, e.g. 11 (office)"
        )
    return text


def get(code: str) -> PlaceOfService:
    """The table entry for ``code``; a code we do not list gets a generic entry, not an error
    (a remittance or an imported claim may carry any of the CMS codes)."""
    normalized = normalize(code)
    place = PLACES.get(normalized)
    if place is not None:
        return place
    return PlaceOfService(
        normalized,
        "Not in Handbill's place-of-service table",
        "Check the CMS place-of-service code set; massage claims are usually 11, 12, 02 or 10",
        known=False,
    )
