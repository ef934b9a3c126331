"""Provider taxonomy codes (NUCC) for the providers around a massage practice, our labels.

The taxonomy goes in PRV03 of the 837P (billing 2000A, rendering 2310B) and in box 33b/24J of
the CMS-1500 with qualifier ZZ. Payers use it to decide whether a provider type may bill a
service, which is where CARC 170 denials come from (reference §9.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Ten characters: nine letters or digits, then the letter X.
_SHAPE = re.compile(r"^[0-9A-Z]{9}X$")


@dataclass(frozen=True, slots=True)
class Taxonomy:
    code: str
    label: str
    known: bool = True  # False: well-formed but not in Handbill's table


_TAXONOMIES: tuple[Taxonomy, ...] = (
    Taxonomy("225700000X", "Massage therapist"),
    Taxonomy("225100000X", "Physical therapist"),
    Taxonomy("225200000X", "Physical therapy assistant"),
    Taxonomy("225X00000X", "Occupational therapist"),
    Taxonomy("111N00000X", "Chiropractor"),
    Taxonomy("171100000X", "Acupuncturist"),
    Taxonomy("208100000X", "Physician, physical medicine and rehabilitation"),
    Taxonomy("207Q00000X", "Physician, family medicine"),
    Taxonomy("207R00000X", "Physician, internal medicine"),
    Taxonomy("208D00000X", "Physician, general practice"),
    Taxonomy("363L00000X", "Nurse practitioner"),
    Taxonomy("363A00000X", "Physician assistant"),
)

TAXONOMIES: dict[str, Taxonomy] = {entry.code: entry for entry in _TAXONOMIES}


class TaxonomyFormatError(ValueError):
    """Text that is not shaped like a provider taxonomy code."""


def shape_problem(code: str) -> str | None:
    """Why ``code`` is not shaped like a taxonomy code, or None when it is."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if _SHAPE.match(text):
        return None
    if len(text) != 10:
        return (
            f"{code!r} is not a taxonomy code: these have 10 characters ending in X, "
            "e.g. 225700000X (massage therapist)"
        )
    if not text.endswith("X"):
        return f"{code!r} is not a taxonomy code: the 10th character is always X"
    return f"{code!r} is not a taxonomy code: only letters and digits, ending in X"


def normalize(code: str) -> str:
    problem = shape_problem(code)
    if problem is not None:
        raise TaxonomyFormatError(problem)
    return code.strip().upper()


def get(code: str) -> Taxonomy:
    """The entry for ``code``; a well-formed code we do not list gets a generic entry.
    Raises :class:`TaxonomyFormatError` when the text is not shaped like a taxonomy code."""
    normalized = normalize(code)
    return TAXONOMIES.get(normalized) or Taxonomy(
        normalized, "Not in Handbill's taxonomy table (check the NUCC list)", known=False
    )
