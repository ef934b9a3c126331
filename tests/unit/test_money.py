from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handbill.core.money import Cents, MoneyError, total


@pytest.mark.parametrize(
    ("text", "cents"),
    [("190", 19000), ("75.5", 7550), ("-1.50", -150), (".5", 50), ("0", 0), ("190.", 19000),
     ("1234.56", 123456), ("-0.01", -1), (" 12 ", 1200)],
)
def test_parse_x12_decimals(text: str, cents: int) -> None:
    assert Cents.parse(text) == Cents(cents)


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1,000", "--1", "1e3", ".", "-", "$5"])
def test_parse_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(MoneyError, match="not an amount"):
        Cents.parse(text)


@pytest.mark.parametrize(("cents", "x12"), [(19000, "190"), (7550, "75.5"), (-150, "-1.5"),
                                            (1, "0.01"), (0, "0"), (123456, "1234.56")])
def test_format_x12(cents: int, x12: str) -> None:
    assert Cents(cents).to_x12() == x12


def test_floats_are_refused() -> None:
    with pytest.raises(MoneyError, match="whole number of cents"):
        Cents(1.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Cents.parse(1.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Cents(100) * 1.5  # type: ignore[operator]
    with pytest.raises(MoneyError):
        Cents(True)


def test_arithmetic_and_order() -> None:
    assert Cents(100) + Cents(50) == Cents(150)
    assert Cents(100) - Cents(150) == Cents(-50)
    assert Cents(2500) * 3 == Cents(7500) == 3 * Cents(2500)
    assert Cents(1) < Cents(2)
    assert total([Cents(1), Cents(2), Cents(3)]) == Cents(6)
    assert total([]) == Cents(0)
    assert Cents(123456).display() == "$1,234.56"
    assert Cents(-150).display() == "-$1.50"
    with pytest.raises(MoneyError):
        Cents(1) + 1  # type: ignore[operator]


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_round_trip_through_x12(value: int) -> None:
    amount = Cents(value)
    assert Cents.parse(amount.to_x12()) == amount
    assert Cents.parse(amount.to_decimal_string()) == amount
