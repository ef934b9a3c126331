"""The double-entry rules, without the database.

Kept free of Django so the arithmetic that every posting relies on can be tested exhaustively
on its own; :mod:`handbill.ledger.posting` calls :func:`check_entry` before writing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from handbill.core.money import Cents


class LedgerError(ValueError):
    """A posting that would break the ledger; nothing was written."""


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def opposite(self) -> Side:
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


def check_amount(amount: object, *, where: str) -> Cents:
    """One leg's amount: a positive :class:`Cents`, or a :class:`LedgerError` saying why not."""
    if not isinstance(amount, Cents):
        raise LedgerError(
            f"{where}: amount must be Cents, not {type(amount).__name__} {amount!r}; "
            "convert with Cents(<whole cents>) or Cents.parse('<dollars.cents>')"
        )
    if amount.value <= 0:
        raise LedgerError(
            f"{where}: amount must be more than zero, got {amount}; post the other side "
            "(debit instead of credit) rather than a negative amount"
        )
    return amount


def check_entry(legs: Sequence[tuple[Side, object]]) -> Cents:
    """Check that ``(side, amount)`` pairs form a balanced entry and return its total.

    A balanced entry has at least one debit and one credit, every amount positive Cents, and
    debits equal to credits to the cent.
    """
    if len(legs) < 2:
        raise LedgerError(
            f"a ledger transaction needs at least two legs (one debit, one credit), "
            f"got {len(legs)}"
        )
    debits = Cents.zero()
    credits = Cents.zero()
    for index, (side, amount) in enumerate(legs, start=1):
        if not isinstance(side, Side):
            raise LedgerError(f"leg {index}: side must be Side.DEBIT or Side.CREDIT, not {side!r}")
        cents = check_amount(amount, where=f"leg {index}")
        if side is Side.DEBIT:
            debits = debits + cents
        else:
            credits = credits + cents
    if not debits or not credits:
        missing = "credit" if not credits else "debit"
        raise LedgerError(f"a ledger transaction needs at least one {missing} leg")
    if debits != credits:
        raise LedgerError(
            f"debits {debits.display()} do not equal credits {credits.display()} "
            f"(off by {abs(debits - credits).display()}); every transaction must balance"
        )
    return debits
