"""Money as integer cents.

Amounts live inside Handbill as whole cents; decimal strings exist only at the X12 and PDF
edge. Floats are refused everywhere because 0.1 + 0.2 is not 0.3 and an EOB must balance to
the cent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# X12 R (decimal) elements: optional sign, digits, optional point and up to two decimals.
# "190", "75.5", "-1.50", ".5" and "190." all occur in real files.
_X12_DECIMAL = re.compile(r"^(-)?(\d*)(?:\.(\d{0,2}))?$")


class MoneyError(ValueError):
    """An amount that cannot be represented exactly in cents."""


@dataclass(frozen=True, order=True, slots=True)
class Cents:
    """An exact amount of money in US cents. Immutable, hashable and ordered."""

    value: int

    def __post_init__(self) -> None:
        # bool is an int subclass; True cents is a bug, not an amount.
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            raise MoneyError(
                f"Cents takes a whole number of cents, not {type(self.value).__name__} "
                f"{self.value!r}; parse decimal text with Cents.parse()"
            )

    @classmethod
    def zero(cls) -> Cents:
        return cls(0)

    @classmethod
    def parse(cls, text: str) -> Cents:
        """Read an X12/decimal amount such as ``190``, ``75.5`` or ``-1.50``."""
        if not isinstance(text, str):
            raise MoneyError(f"amounts are parsed from text, not {type(text).__name__}")
        stripped = text.strip()
        match = _X12_DECIMAL.match(stripped)
        if not match or not (match.group(2) or match.group(3)):
            raise MoneyError(
                f"{text!r} is not an amount: use digits with at most two decimals, e.g. 75.50"
            )
        sign, whole, fraction = match.group(1), match.group(2) or "0", match.group(3) or ""
        cents = int(whole) * 100 + int((fraction + "00")[:2])
        return cls(-cents if sign else cents)

    def to_x12(self) -> str:
        """The shortest X12 decimal: ``190``, ``75.5``, ``-1.5``, ``0``."""
        sign = "-" if self.value < 0 else ""
        whole, fraction = divmod(abs(self.value), 100)
        if fraction == 0:
            return f"{sign}{whole}"
        text = f"{fraction:02d}".rstrip("0")
        return f"{sign}{whole}.{text}"

    def to_decimal_string(self) -> str:
        """Two fixed decimals, for printed forms and reports: ``190.00``, ``-1.50``."""
        sign = "-" if self.value < 0 else ""
        whole, fraction = divmod(abs(self.value), 100)
        return f"{sign}{whole}.{fraction:02d}"

    def display(self) -> str:
        """Dollars for people: ``$1,234.50``, ``-$1.50``."""
        sign = "-" if self.value < 0 else ""
        whole, fraction = divmod(abs(self.value), 100)
        return f"{sign}${whole:,}.{fraction:02d}"

    def _other(self, other: Any) -> int:
        if isinstance(other, Cents):
            return other.value
        raise MoneyError(f"cannot combine Cents with {type(other).__name__}")

    def __add__(self, other: Cents) -> Cents:
        return Cents(self.value + self._other(other))

    def __sub__(self, other: Cents) -> Cents:
        return Cents(self.value - self._other(other))

    def __neg__(self) -> Cents:
        return Cents(-self.value)

    def __abs__(self) -> Cents:
        return Cents(abs(self.value))

    def __mul__(self, count: int) -> Cents:
        # Only whole multiples (units × fee); a rate would need explicit rounding.
        if not isinstance(count, int) or isinstance(count, bool):
            raise MoneyError("Cents can only be multiplied by a whole number")
        return Cents(self.value * count)

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return self.value != 0

    def __str__(self) -> str:
        return self.to_decimal_string()


def total(amounts: Any) -> Cents:
    """Sum an iterable of Cents (``sum()`` would start from the int 0)."""
    result = Cents(0)
    for amount in amounts:
        result = result + amount
    return result
