from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handbill.core.codes import cpt
from handbill.core.codes.cpt import UnknownCodeError
from handbill.core.units import (
    MAX_MINUTES,
    LineUnits,
    ServiceMinutes,
    UnitMethod,
    UnitResult,
    compute_units,
)

CMS, CPT = UnitMethod.CMS, UnitMethod.CPT
TIMED_CODES = sorted(code for code, entry in cpt.CATALOGUE.items() if entry.timed)
UNTIMED_CODES = sorted(code for code, entry in cpt.CATALOGUE.items() if not entry.timed)


def units(method: UnitMethod, *pairs: tuple[str, int]) -> UnitResult:
    return compute_units([ServiceMinutes(code, minutes) for code, minutes in pairs], method)


def by_code(result: UnitResult) -> dict[str, int]:
    return {line.code: line.units for line in result.lines}


# --- CMS total time (reference §1.2) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(1, 0), (7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (52, 3), (53, 4), (67, 4),
     (68, 5), (82, 5), (83, 6), (97, 6), (98, 7), (112, 7), (113, 8), (127, 8), (128, 9)],
)
def test_cms_table_of_total_minutes(minutes: int, expected: int) -> None:
    result = units(CMS, ("97124", minutes))
    assert result.timed_minutes == minutes
    assert result.total_units == expected
    assert by_code(result) == {"97124": expected}


def test_cms_example_1_larger_leftover_wins() -> None:
    result = units(CMS, ("97112", 24), ("97110", 23))
    assert (result.timed_minutes, result.total_units) == (47, 3)
    assert by_code(result) == {"97112": 2, "97110": 1}
    assert "The leftover unit goes to 97112 (9 min left beats 8 on 97110)." in result.rationale


def test_cms_example_2_tie_splits_never_three_on_one_code() -> None:
    result = units(CMS, ("97112", 20), ("97110", 20))
    assert (result.timed_minutes, result.total_units) == (40, 3)
    assert sorted(by_code(result).values()) == [1, 2]
    # Documented tie-break: same minutes, so the lower code number takes the unit.
    assert by_code(result) == {"97112": 1, "97110": 2}
    assert "Tie at 5 min left between 97110 and 97112: either code may take the unit" in (
        result.rationale
    )
    assert "(lower code number)" in result.rationale


def test_cms_example_3_short_code_takes_the_leftover() -> None:
    result = units(CMS, ("97110", 33), ("97140", 7))
    assert (result.timed_minutes, result.total_units) == (40, 3)
    assert by_code(result) == {"97110": 2, "97140": 1}
    assert "7 min left beats 3 on 97110" in result.rationale


def test_cms_example_4_smallest_leftover_not_billed() -> None:
    result = units(CMS, ("97110", 18), ("97140", 13), ("97116", 10), ("97035", 8))
    assert (result.timed_minutes, result.total_units) == (49, 3)
    assert by_code(result) == {"97110": 1, "97140": 1, "97116": 1, "97035": 0}
    line = result.lines[3]
    assert line.code == "97035" and line.units == 0
    assert "still count" in line.rationale


def test_cms_example_5_several_short_services_bill_one_unit() -> None:
    result = units(CMS, ("97112", 7), ("97110", 7), ("97140", 7))
    assert (result.timed_minutes, result.total_units) == (21, 1)
    assert sorted(by_code(result).values()) == [0, 0, 1]
    assert by_code(result)["97110"] == 1
    assert "7 minutes or less, so the longest takes the unit" in result.rationale
    assert "any of them may take the unit" in result.rationale


def test_cms_rule_5_unit_goes_to_the_longest_short_service() -> None:
    result = units(CMS, ("97112", 6), ("97110", 4), ("97140", 7))
    assert result.total_units == 1
    assert by_code(result) == {"97112": 0, "97110": 0, "97140": 1}
    assert "Tie" not in result.rationale


def test_our_example_with_an_untimed_code() -> None:
    result = units(CMS, ("97124", 30), ("97140", 10), ("97010", 15))
    assert (result.timed_minutes, result.total_units) == (40, 3)
    assert by_code(result) == {"97124": 2, "97140": 1, "97010": 1}
    untimed = result.lines[2]
    assert untimed == LineUnits("97010", 15, 1, False, untimed.rationale)
    assert "Supervised modality: 1 unit per day" in untimed.rationale
    assert "97010 is untimed" in result.rationale


def test_brief_example_rationale_reads_for_a_biller() -> None:
    result = units(CMS, ("97124", 38), ("97140", 15), ("97010", 10))
    assert by_code(result) == {"97124": 3, "97140": 1, "97010": 1}
    assert result.total_units == 4
    assert result.rationale.startswith(
        "53 timed minutes → 4 units (CMS total time). 97124: 38 min → 2 full units + 8 min "
        "left; 97140: 15 min → 1 full unit. The leftover unit goes to 97124 (8 min left "
        "beats 0 on 97140)."
    )
    assert result.lines[0].rationale == (
        "38 min = 2 full units + 8 min left; takes a leftover unit (largest leftover minutes) "
        "→ 3 units."
    )
    assert result.lines[1].rationale == "15 min = 1 full unit → 1 unit."


def test_cms_tie_goes_to_more_total_minutes_first() -> None:
    result = units(CMS, ("97140", 5), ("97110", 35))
    assert by_code(result) == {"97140": 0, "97110": 3}
    assert "(more total minutes)" in result.rationale


def test_cms_several_leftover_units_listed_in_order() -> None:
    result = units(CMS, ("97110", 18), ("97140", 13), ("97116", 10), ("97035", 8))
    assert ("The 2 leftover units go to the largest leftovers: 97140 (13 min left) and 97116 "
            "(10 min left), ahead of 97035 (8) and 97110 (3).") in result.rationale


# --- CPT per code (reference §1.3) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "cms_total", "cpt_units"),
    [
        ((("97110", 10), ("97140", 10)), 1, {"97110": 1, "97140": 1}),
        ((("97112", 7), ("97110", 7), ("97140", 7)), 1, {"97112": 0, "97110": 0, "97140": 0}),
        ((("97110", 33), ("97140", 7)), 3, {"97110": 2, "97140": 0}),
        ((("97124", 22), ("97140", 22)), 3, {"97124": 1, "97140": 1}),
    ],
)
def test_cms_and_cpt_table(
    pairs: tuple[tuple[str, int], ...], cms_total: int, cpt_units: dict[str, int]
) -> None:
    assert units(CMS, *pairs).total_units == cms_total
    result = units(CPT, *pairs)
    assert by_code(result) == cpt_units
    assert result.total_units == sum(cpt_units.values())
    assert result.method is CPT


def test_cpt_rationale_explains_the_midpoint() -> None:
    result = units(CPT, ("97124", 38), ("97140", 7))
    assert result.lines[0].rationale == (
        "38 min on its own = 2 full units + 8 min left, 8 or more, so one more unit → 3 units."
    )
    assert result.lines[1].rationale == (
        "7 min on its own = 0 full units + 7 min left, under 8, so no extra unit → 0 units."
    )
    assert "no pooling" in result.rationale


# --- edges -----------------------------------------------------------------------------------


def test_seven_minutes_split_bill_nothing_eight_bill_one() -> None:
    assert units(CMS, ("97110", 4), ("97140", 3)).total_units == 0
    eight = units(CMS, ("97110", 4), ("97140", 4))
    assert eight.total_units == 1
    assert by_code(eight) == {"97110": 1, "97140": 0}
    assert "fewer than 8 timed minutes bill nothing" in units(CMS, ("97124", 7)).rationale


@pytest.mark.parametrize("method", list(UnitMethod))
def test_zero_minutes(method: UnitMethod) -> None:
    result = units(method, ("97124", 0), ("97010", 0))
    assert by_code(result) == {"97124": 0, "97010": 1}
    assert result.total_units == 0
    assert result.lines[0].rationale.endswith("0 units.")


@pytest.mark.parametrize("method", list(UnitMethod))
def test_all_untimed(method: UnitMethod) -> None:
    result = units(method, ("97010", 20), ("97161", 45), ("98940", 10))
    assert by_code(result) == {"97010": 1, "97161": 1, "98940": 1}
    assert result.timed_minutes == 0 and result.total_units == 0
    assert all(not line.timed for line in result.lines)
    assert "No timed services." in result.rationale
    assert "Untimed service: 1 unit" in result.lines[1].rationale


def test_nothing_entered() -> None:
    result = compute_units([], CMS)
    assert (result.total_units, result.timed_minutes, result.lines) == (0, 0, ())


def test_same_code_twice_adds_minutes_and_says_so() -> None:
    split = units(CMS, ("97124", 20), ("97140", 15), ("97124", 10))
    whole = units(CMS, ("97124", 30), ("97140", 15))
    assert by_code(split) == by_code(whole) == {"97124": 2, "97140": 1}
    assert [line.code for line in split.lines] == ["97124", "97140"]
    assert split.lines[0].minutes == 30
    assert "97124 entered 2 times; minutes added (20 + 10 = 30)." in split.lines[0].rationale
    assert "97124 entered 2 times" in split.rationale


def test_codes_are_normalized() -> None:
    result = units(CMS, (" g0283 ", 10), ("97124 ", 20))
    assert [line.code for line in result.lines] == ["G0283", "97124"]
    assert result.units_for("g0283") == 1
    with pytest.raises(KeyError, match="97140"):
        result.units_for("97140")


def test_method_may_be_given_as_text() -> None:
    result = compute_units([ServiceMinutes("97124", 38)], "cpt")  # type: ignore[arg-type]
    assert result.method is CPT and result.total_units == 3
    with pytest.raises(ValueError, match="not a valid UnitMethod"):
        compute_units([], "medicare")  # type: ignore[arg-type]


def test_as_dict_is_plain_json() -> None:
    result = units(CMS, ("97124", 38), ("97010", 10))
    data = result.as_dict()
    assert data["method"] == "cms"
    assert data["lines"][1] == {"code": "97010", "minutes": 10, "units": 1, "timed": False,
                                "rationale": result.lines[1].rationale}


def test_negative_minutes_refused() -> None:
    with pytest.raises(ValueError, match="97124: minutes cannot be negative"):
        ServiceMinutes("97124", -5)


@pytest.mark.parametrize("bad", [1.5, "10", True, None])
def test_minutes_must_be_whole_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="minutes must be a whole number"):
        ServiceMinutes("97124", bad)  # type: ignore[arg-type]


def test_unknown_code_refused() -> None:
    with pytest.raises(UnknownCodeError, match="99999 is not in Handbill's service catalogue"):
        ServiceMinutes("99999", 10)
    with pytest.raises(TypeError, match="procedure code is text"):
        ServiceMinutes(97124, 10)  # type: ignore[arg-type]


def test_more_than_a_day_refused() -> None:
    ServiceMinutes("97124", MAX_MINUTES)
    with pytest.raises(ValueError, match="more than a day"):
        ServiceMinutes("97124", MAX_MINUTES + 1)
    with pytest.raises(ValueError, match="97124: the entries add up to 1500 minutes"):
        units(CMS, ("97124", 1000), ("97124", 500))
    with pytest.raises(ValueError, match="timed services add up to 1500 minutes"):
        units(CMS, ("97124", 1000), ("97140", 500))


def test_only_service_minutes_accepted() -> None:
    with pytest.raises(TypeError, match="expected ServiceMinutes"):
        compute_units([("97124", 10)], CMS)  # type: ignore[list-item]


# --- properties ------------------------------------------------------------------------------

timed_visits = st.dictionaries(
    st.sampled_from(TIMED_CODES), st.integers(min_value=0, max_value=120), max_size=6
)
untimed_visits = st.dictionaries(
    st.sampled_from(UNTIMED_CODES), st.integers(min_value=0, max_value=60), max_size=3
)


def services(minutes: dict[str, int]) -> list[ServiceMinutes]:
    return [ServiceMinutes(code, m) for code, m in minutes.items()]


@given(timed_visits)
def test_cms_total_follows_the_table(visit: dict[str, int]) -> None:
    result = compute_units(services(visit), CMS)
    total_minutes = sum(visit.values())
    assert result.timed_minutes == total_minutes
    assert result.total_units == (total_minutes + 7) // 15
    assert sum(line.units for line in result.lines) == result.total_units
    if total_minutes < 8:
        assert result.total_units == 0


@given(timed_visits)
def test_cms_units_per_code_stay_within_full_and_one_more(visit: dict[str, int]) -> None:
    # Each code keeps its full 15-minute units (so >=15 min never gets 0, >=30 never < 2)
    # and gets at most one leftover unit, only if it has minutes left over: ceil(m / 15).
    result = compute_units(services(visit), CMS)
    for line in result.lines:
        assert line.minutes // 15 <= line.units <= math.ceil(line.minutes / 15)
        if line.minutes >= 15:
            assert line.units >= 1


@given(timed_visits)
def test_cms_leftover_units_go_to_the_largest_leftovers(visit: dict[str, int]) -> None:
    result = compute_units(services(visit), CMS)
    extra = [line for line in result.lines if line.units > line.minutes // 15]
    passed = [line for line in result.lines if line.units == line.minutes // 15]
    for got in extra:
        for other in passed:
            # Larger leftover first; on equal leftovers more minutes, then the lower code.
            assert _leftover_rank(got) < _leftover_rank(other)


def _leftover_rank(line: LineUnits) -> tuple[int, int, str]:
    return (-(line.minutes % 15), -line.minutes, line.code)


@given(timed_visits, untimed_visits, st.sampled_from(list(UnitMethod)))
def test_untimed_codes_are_one_unit_and_change_nothing_else(
    timed: dict[str, int], untimed: dict[str, int], method: UnitMethod
) -> None:
    alone = compute_units(services(timed), method)
    mixed = compute_units(services(timed) + services(untimed), method)
    assert mixed.total_units == alone.total_units
    assert mixed.timed_minutes == alone.timed_minutes
    for line in mixed.lines:
        if line.code in untimed:
            assert (line.units, line.timed) == (1, False)
        else:
            assert line.timed and line.units == alone.units_for(line.code)


@given(timed_visits)
def test_cpt_units_per_code_never_depend_on_other_codes(visit: dict[str, int]) -> None:
    together = compute_units(services(visit), CPT)
    for code, minutes in visit.items():
        alone = compute_units([ServiceMinutes(code, minutes)], CPT)
        assert together.units_for(code) == alone.total_units == (minutes + 7) // 15


@given(st.sampled_from(TIMED_CODES), st.integers(min_value=0, max_value=MAX_MINUTES))
def test_one_code_alone_gives_the_same_units_under_both_methods(code: str, minutes: int) -> None:
    service = [ServiceMinutes(code, minutes)]
    assert compute_units(service, CMS).total_units == compute_units(service, CPT).total_units


@given(st.data(), timed_visits, untimed_visits, st.sampled_from(list(UnitMethod)))
def test_units_do_not_depend_on_input_order(
    data: st.DataObject, timed: dict[str, int], untimed: dict[str, int], method: UnitMethod
) -> None:
    entered = services(timed) + services(untimed)
    shuffled = data.draw(st.permutations(entered))
    first = compute_units(entered, method)
    second = compute_units(shuffled, method)
    assert by_code(first) == by_code(second)
    assert first.total_units == second.total_units
    # Lines follow the order of entry; a code's own explanation does not move with it.
    assert [line.code for line in second.lines] == [s.code for s in shuffled]
    assert {line.code: line.rationale for line in first.lines} == {
        line.code: line.rationale for line in second.lines
    }


@given(timed_visits, st.sampled_from(list(UnitMethod)), st.data())
def test_splitting_a_code_into_two_entries_changes_no_units(
    visit: dict[str, int], method: UnitMethod, data: st.DataObject
) -> None:
    if not visit:
        return
    code = data.draw(st.sampled_from(sorted(visit)))
    first_part = data.draw(st.integers(min_value=0, max_value=visit[code]))
    split = [s for s in services(visit) if s.code != code] + [
        ServiceMinutes(code, first_part), ServiceMinutes(code, visit[code] - first_part)
    ]
    assert by_code(compute_units(split, method)) == by_code(compute_units(services(visit), method))


@given(timed_visits, untimed_visits, st.sampled_from(list(UnitMethod)))
def test_same_input_same_rationale(
    timed: dict[str, int], untimed: dict[str, int], method: UnitMethod
) -> None:
    entered = services(timed) + services(untimed)
    assert compute_units(entered, method) == compute_units(entered, method)
