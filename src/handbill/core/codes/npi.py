"""National Provider Identifier: shape and check digit (reference §9.1).

An NPI is ten digits. The tenth is a Luhn check digit computed over the first nine with the
health-industry card prefix 80840 in front; NPIs issued so far start with 1 or 2. The number
does not say whether it is an individual (type 1) or an organisation (type 2): only the NPPES
registry knows, and checking it there is a network call this module does not make.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The Luhn sum of the prefix 80840 when it stands before the nine NPI digits (reference §9.1:
# "add 24"), so the check digit needs only the nine digits themselves.
_PREFIX_SUM = 24


class NpiProblem(StrEnum):
    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    FIRST_DIGIT = "first_digit"
    CHECK_DIGIT = "check_digit"

    @property
    def is_shape(self) -> bool:
        """The text is not an NPI at all (as opposed to a ten-digit number that fails)."""
        return self in (NpiProblem.EMPTY, NpiProblem.NOT_DIGITS, NpiProblem.WRONG_LENGTH)


@dataclass(frozen=True, slots=True)
class NpiCheck:
    npi: str  # the text as checked (surrounding spaces removed)
    valid: bool
    reason: str | None  # what is wrong and how to fix it; None when valid
    problem: NpiProblem | None = None

    def to_dict(self) -> dict[str, str | bool | None]:
        return {"npi": self.npi, "valid": self.valid, "reason": self.reason}


def check_digit(first_nine: str) -> int:
    """The check digit for nine NPI digits: ``check_digit("123456789") == 3``."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError(f"an NPI check digit is computed from 9 digits, not {first_nine!r}")
    total = _PREFIX_SUM
    # Luhn doubles every second digit counting from the right of the full number; the check
    # digit is the rightmost, so the doubling starts at the ninth digit.
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def check_npi(text: str) -> NpiCheck:
    """Whether ``text`` is a well-formed NPI, and if not, why (never raises)."""
    if not isinstance(text, str):
        kind = type(text).__name__
        return NpiCheck(repr(text), False, f"an NPI is text of 10 digits, not {kind}",
                        NpiProblem.NOT_DIGITS)
    npi = text.strip()
    if not npi:
        return NpiCheck(npi, False, "no NPI given: enter the 10-digit NPI, e.g. 1234567893",
                        NpiProblem.EMPTY)
    if not (npi.isascii() and npi.isdigit()):
        bad = sorted({c for c in npi if not (c.isascii() and c.isdigit())})
        shown = ", ".join(repr(c) for c in bad)
        return NpiCheck(
            npi, False,
            f"an NPI is 10 digits only; {npi!r} contains {shown}: remove anything that is not "
            "a digit (spaces, dashes, letters)",
            NpiProblem.NOT_DIGITS,
        )
    if len(npi) != 10:
        return NpiCheck(
            npi, False,
            f"an NPI has 10 digits; {npi} has {len(npi)}: check for a missing or extra digit",
            NpiProblem.WRONG_LENGTH,
        )
    expected = check_digit(npi[:9])
    if npi[0] not in "12":
        passes = ""
        if npi[9] == str(expected):
            passes = " (its check digit passes, which is not enough)"
        return NpiCheck(
            npi, False,
            f"{npi} starts with {npi[0]}, but NPIs start with 1 or 2{passes}: check the number "
            "against the provider's record in the NPPES registry",
            NpiProblem.FIRST_DIGIT,
        )
    if int(npi[9]) != expected:
        return NpiCheck(
            npi, False,
            f"{npi} fails the NPI check digit: with these first nine digits the last digit "
            f"would be {expected}, not {npi[9]}; a digit was probably mistyped",
            NpiProblem.CHECK_DIGIT,
        )
    return NpiCheck(npi, True, None)


def is_valid_npi(text: str) -> bool:
    return check_npi(text).valid
