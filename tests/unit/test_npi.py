"""NPI shape and check digit (reference §9.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handbill.core.codes.npi import NpiProblem, check_digit, check_npi, is_valid_npi


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", " 1234567893 "])
def test_valid_npis(npi: str) -> None:
    result = check_npi(npi)
    assert result.valid and result.reason is None and result.problem is None
    assert result.npi == npi.strip()


def test_the_cms_example_check_digit() -> None:
    assert check_digit("123456789") == 3


def test_9876543213_passes_luhn_but_starts_with_9() -> None:
    assert check_digit("987654321") == 3  # the Luhn check alone would accept it
    result = check_npi("9876543213")
    assert not result.valid
    assert result.problem is NpiProblem.FIRST_DIGIT
    assert result.reason is not None
    assert "starts with 9" in result.reason and "start with 1 or 2" in result.reason
    assert "check digit passes" in result.reason


def test_a_wrong_check_digit_names_the_expected_one() -> None:
    result = check_npi("1234567890")
    assert not result.valid and result.problem is NpiProblem.CHECK_DIGIT
    assert result.reason is not None and "would be 3, not 0" in result.reason


def test_a_wrong_first_digit_without_luhn_does_not_claim_the_check_passes() -> None:
    result = check_npi("3234567893")
    assert result.problem is NpiProblem.FIRST_DIGIT
    assert result.reason is not None and "passes" not in result.reason


@pytest.mark.parametrize(
    ("text", "problem", "words"),
    [
        ("", NpiProblem.EMPTY, "no NPI given"),
        ("   ", NpiProblem.EMPTY, "no NPI given"),
        ("123456789", NpiProblem.WRONG_LENGTH, "has 9"),
        ("12345678931", NpiProblem.WRONG_LENGTH, "has 11"),
        ("12345-67893", NpiProblem.NOT_DIGITS, "'-'"),
        ("123456789O", NpiProblem.NOT_DIGITS, "'O'"),
        ("١٢٣٤٥٦٧٨٩٣", NpiProblem.NOT_DIGITS, "10 digits only"),  # Arabic-Indic digits
    ],
)
def test_text_that_is_not_an_npi(text: str, problem: NpiProblem, words: str) -> None:
    result = check_npi(text)
    assert not result.valid and result.problem is problem and problem.is_shape
    assert result.reason is not None and words in result.reason


def test_check_digit_refuses_anything_but_nine_digits() -> None:
    with pytest.raises(ValueError, match="9 digits"):
        check_digit("12345678")


@given(body=st.text(alphabet="0123456789", min_size=8, max_size=8), first=st.sampled_from("12"))
def test_numbers_with_a_computed_check_digit_pass(body: str, first: str) -> None:
    nine = first + body
    npi = nine + str(check_digit(nine))
    assert is_valid_npi(npi)
    assert check_npi(npi).to_dict() == {"npi": npi, "valid": True, "reason": None}


@given(body=st.text(alphabet="0123456789", min_size=8, max_size=8), first=st.sampled_from("12"),
       wrong=st.integers(min_value=1, max_value=9))
def test_every_other_last_digit_fails(body: str, first: str, wrong: int) -> None:
    nine = first + body
    bad = (check_digit(nine) + wrong) % 10
    result = check_npi(nine + str(bad))
    assert not result.valid and result.problem is NpiProblem.CHECK_DIGIT


@given(body=st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_a_single_mistyped_digit_is_always_caught(body: str) -> None:
    nine = "1" + body[1:]
    npi = nine + str(check_digit(nine))
    for position in range(10):
        for replacement in "0123456789":
            if replacement == npi[position]:
                continue
            typo = npi[:position] + replacement + npi[position + 1 :]
            assert not is_valid_npi(typo), typo
