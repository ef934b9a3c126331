from __future__ import annotations

import pytest

from handbill.core.codes import modifiers
from handbill.core.codes.modifiers import (
    ANATOMIC,
    MODIFIERS,
    NCCI_BYPASS,
    X_MODIFIERS,
    ModifierKind,
    UnknownModifierError,
    validate_modifiers,
)

REFERENCE_MODIFIERS = ["59", "XE", "XS", "XP", "XU", "GP", "GO", "GN", "KX", "CQ", "CO", "52",
                       "25", "AT", "GA", "GY", "GZ", "51"]


@pytest.mark.parametrize("code", REFERENCE_MODIFIERS)
def test_reference_modifiers_have_a_meaning(code: str) -> None:
    entry = modifiers.get(code)
    assert entry.code == code
    assert entry.meaning and "\n" not in entry.meaning and len(entry.meaning) <= 70


def test_ncci_bypass_set() -> None:
    assert {"59", "XE", "XS", "XP", "XU"} <= NCCI_BYPASS
    assert {"RT", "LT", "FA", "TA", "E1", "E4", "LC", "RI"} <= NCCI_BYPASS
    assert {f"F{n}" for n in range(1, 10)} <= ANATOMIC
    assert {f"T{n}" for n in range(1, 10)} <= ANATOMIC
    assert len(ANATOMIC) == 31  # E1-E4, FA, F1-F9, TA, T1-T9, RT, LT, LC, LD, LM, RC, RI
    assert ANATOMIC <= NCCI_BYPASS
    assert X_MODIFIERS == {"XE", "XS", "XP", "XU"}
    for code in ("GP", "GO", "GN", "KX", "CQ", "CO", "52", "AT", "GA", "GY", "GZ", "51"):
        assert code not in NCCI_BYPASS
    assert all(MODIFIERS[c].ncci_bypass for c in NCCI_BYPASS)


def test_digit_modifiers_name_the_right_hand_and_foot() -> None:
    assert modifiers.get("F1").meaning == "Left hand, second finger"
    assert modifiers.get("F5").meaning == "Right thumb"
    assert modifiers.get("F9").meaning == "Right hand, fifth finger"
    assert modifiers.get("T4").meaning == "Left foot, fifth toe"
    assert modifiers.get("T6").meaning == "Right foot, second toe"


def test_kinds() -> None:
    assert modifiers.get("gp").kind is ModifierKind.THERAPY_PLAN
    assert modifiers.get("XS").kind is ModifierKind.DISTINCT_SERVICE
    assert modifiers.get("rt").kind is ModifierKind.ANATOMIC
    assert modifiers.get("CQ").kind is ModifierKind.ASSISTANT


def test_get_unknown_and_malformed() -> None:
    with pytest.raises(UnknownModifierError, match="QQ is not a modifier Handbill knows"):
        modifiers.get("qq")
    with pytest.raises(UnknownModifierError, match="modifiers are two letters or digits"):
        modifiers.get("GP1")
    assert modifiers.is_known(" gp ") and not modifiers.is_known("QQ")


@pytest.mark.parametrize(
    "line", [[], ["GP"], ["gp", "59"], ["GP", "XS", "KX", "CQ"], ["RT", "GP"], [" xu "]]
)
def test_clean_lines(line: list[str]) -> None:
    assert validate_modifiers(line) == []


def test_unknown_modifier() -> None:
    problems = validate_modifiers(["GP", "qq"])
    assert len(problems) == 1
    assert problems[0].startswith("QQ is not a modifier Handbill knows (known: 59, XE")
    assert "two letters or digits" in validate_modifiers(["", "GP"])[0]


def test_more_than_four() -> None:
    problems = validate_modifiers(["GP", "XS", "KX", "CQ", "AT"])
    assert problems == [
        "5 modifiers on one line; a claim line holds at most 4: keep the ones the payer "
        "needs (pricing and NCCI modifiers first)"
    ]


@pytest.mark.parametrize("x", sorted(X_MODIFIERS))
def test_59_never_with_an_x_modifier(x: str) -> None:
    problems = validate_modifiers(["GP", "59", x.lower()])
    assert problems == [
        f"59 and {x} on the same line; use the X modifier alone, or 59 alone if the payer "
        "does not take X modifiers, never both"
    ]


def test_duplicates_reported_once_each() -> None:
    assert validate_modifiers(["GP", "gp", "GP", "59", "59"]) == [
        "GP appears 3 times; list each modifier once",
        "59 appears 2 times; list each modifier once",
        "5 modifiers on one line; a claim line holds at most 4: keep the ones the payer "
        "needs (pricing and NCCI modifiers first)",
    ]


def test_a_single_string_is_refused() -> None:
    with pytest.raises(TypeError, match="as a list"):
        validate_modifiers("GP")
