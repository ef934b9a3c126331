"""The double-entry arithmetic, without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handbill.core.money import Cents
from handbill.ledger.rules import LedgerError, Side, check_amount, check_entry

D, C = Side.DEBIT, Side.CREDIT


def test_a_simple_entry_returns_its_total() -> None:
    assert check_entry([(D, Cents(19000)), (C, Cents(19000))]) == Cents(19000)


def test_split_legs_balance_on_the_sums() -> None:
    legs = [(D, Cents(7500)), (D, Cents(2000)), (C, Cents(9000)), (C, Cents(500))]
    assert check_entry(legs) == Cents(9500)


@pytest.mark.parametrize(
    ("legs", "message"),
    [
        ([], "at least two legs"),
        ([(D, Cents(100))], "at least two legs"),
        ([(D, Cents(100)), (D, Cents(100))], "at least one credit"),
        ([(C, Cents(100)), (C, Cents(100))], "at least one debit"),
        ([(D, Cents(100)), (C, Cents(99))], "off by $0.01"),
        ([(D, Cents(0)), (C, Cents(0))], "more than zero"),
        ([(D, Cents(-100)), (C, Cents(-100))], "more than zero"),
        ([(D, 1.5), (C, 1.5)], "must be Cents, not float"),
        ([(D, 150), (C, 150)], "must be Cents, not int"),
        ([(D, Decimal("1.50")), (C, Decimal("1.50"))], "must be Cents, not Decimal"),
        ([("debit", Cents(1)), (C, Cents(1))], "side must be"),
    ],
)
def test_bad_entries_are_refused_with_the_reason(legs: list[tuple[Side, object]],
                                                 message: str) -> None:
    with pytest.raises(LedgerError, match=message.replace("$", r"\$")):
        check_entry(legs)


def test_the_error_names_the_leg() -> None:
    with pytest.raises(LedgerError, match="leg 2"):
        check_entry([(D, Cents(100)), (C, Cents(0)), (C, Cents(100))])


def test_check_amount_accepts_positive_cents_only() -> None:
    assert check_amount(Cents(1), where="x") == Cents(1)
    with pytest.raises(LedgerError, match="x: amount must be more than zero"):
        check_amount(Cents(0), where="x")


def test_opposite_side() -> None:
    assert D.opposite is C and C.opposite is D


positive = st.integers(min_value=1, max_value=10**12).map(Cents)


@given(st.lists(positive, min_size=1, max_size=6), st.lists(positive, min_size=1, max_size=6))
def test_an_entry_balances_exactly_when_the_sides_sum_equal(
    debits: list[Cents], credits: list[Cents]
) -> None:
    legs = [(D, a) for a in debits] + [(C, a) for a in credits]
    debit_total = sum(a.value for a in debits)
    if debit_total == sum(a.value for a in credits):
        assert check_entry(legs) == Cents(debit_total)
    else:
        with pytest.raises(LedgerError, match="do not equal"):
            check_entry(legs)


@given(st.lists(positive, min_size=1, max_size=6))
def test_mirroring_an_entry_keeps_it_balanced(amounts: list[Cents]) -> None:
    legs = [(D, a) for a in amounts] + [(C, Cents(sum(a.value for a in amounts)))]
    mirrored = [(side.opposite, amount) for side, amount in legs]
    assert check_entry(legs) == check_entry(mirrored)
