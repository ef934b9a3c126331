"""The policy reader refuses every kind of malformed file with a message naming file and field."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handbill.core.codes import cpt
from handbill.core.money import Cents
from handbill.core.policy import (
    Fee,
    LineStyle,
    ModifierStyle,
    PayerPolicy,
    PolicyError,
    ReferralKind,
    UnitRule,
    policy_from_mapping,
    policy_from_rules,
    read_policy_file,
    rules_of,
)

PAYER = {
    "profile": '"test-payer"',
    "name": '"Test Payer"',
    "payer_id": '"TSTPY"',
    "payer_type": '"commercial"',
    "claim_filing_indicator": '"CI"',
}

VERSION = {
    "effective_date": "2025-01-01",
    "unit_rule": '"cms"',
    "allowed_codes": '{ "225700000X" = ["97124"] }',
    "bills_97010": "false",
    "modifier_style": '"x"',
    "therapy_modifier": '""',
    "visit_cap_per_year": "20",
    "daily_unit_cap": "4",
    "referral": '"none"',
    "timely_filing_days": "180",
    "line_style": '"one_line"',
    "expected_allowed": '{ "97124" = "27.40" }',
}


def _table(values: dict[str, str | None], overrides: dict[str, str | None]) -> str:
    merged = {**values, **overrides}
    return "\n".join(f"{key} = {value}" for key, value in merged.items() if value is not None)


def write_policy(
    folder: Path,
    *,
    payer: dict[str, str | None] | None = None,
    versions: list[dict[str, str | None]] | None = None,
    name: str = "test-payer.toml",
) -> Path:
    parts = ["[payer]", _table(PAYER, payer or {})]
    for overrides in versions if versions is not None else [{}]:
        parts += ["", "[[version]]", _table(VERSION, overrides)]
    path = folder / name
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def refused(path: Path, *fragments: str) -> str:
    with pytest.raises(PolicyError) as caught:
        read_policy_file(path)
    message = str(caught.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def test_the_base_file_reads(tmp_path: Path) -> None:
    read = read_policy_file(write_policy(tmp_path))
    assert read.profile == "test-payer"
    assert read.payer_id == "TSTPY"
    assert read.versions[0].fees["97124"].expected_allowed == Cents(2740)


# --- missing fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["effective_date", "unit_rule", "bills_97010", "modifier_style", "referral",
     "timely_filing_days", "line_style"],
)
def test_a_missing_version_field_is_named(tmp_path: Path, field: str) -> None:
    path = write_policy(tmp_path, versions=[{field: None}])
    refused(path, "version 1", field, "missing")


@pytest.mark.parametrize("field", ["profile", "name", "payer_type", "claim_filing_indicator"])
def test_a_missing_payer_field_is_named(tmp_path: Path, field: str) -> None:
    path = write_policy(tmp_path, payer={field: None})
    refused(path, "[payer]", field, "missing")


def test_a_file_without_payer_table(tmp_path: Path) -> None:
    path = tmp_path / "test-payer.toml"
    path.write_text("[[version]]\neffective_date = 2025-01-01\n", encoding="utf-8")
    refused(path, "missing 'payer'")


def test_a_file_without_versions(tmp_path: Path) -> None:
    refused(write_policy(tmp_path, versions=[]), "no [[version]]")


def test_a_single_bracket_version_table(tmp_path: Path) -> None:
    path = tmp_path / "test-payer.toml"
    text = write_policy(tmp_path).read_text(encoding="utf-8").replace("[[version]]", "[version]")
    path.write_text(text, encoding="utf-8")
    refused(path, "[[version]] (two brackets)")


# --- wrong types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("timely_filing_days", '"180"', "a whole number"),
        ("timely_filing_days", "180.0", "a whole number"),
        ("bills_97010", '"no"', "true or false"),
        ("bills_97010", "0", "true or false"),
        ("requires_claim_number", '"yes"', "true or false"),
        ("visit_cap_per_year", '"twenty"', "whole number of 1 or more"),
        ("visit_cap_per_year", "true", "whole number of 1 or more"),
        ("daily_unit_cap", "0", "whole number of 1 or more"),
        ("authorization_after_visits", "-1", "whole number of 0 or more"),
        ("effective_date", '"first of January"', "a date like 2026-01-01"),
        ("effective_date", "2025-01-01T08:00:00", "a date like 2026-01-01"),
        ("allowed_codes", '["97124"]', "map a provider taxonomy"),
        ("expected_allowed", '["27.40"]', 'code = "amount"'),
        ("notes", "42", "text in quotes"),
        ("unit_rule", "1", "text in quotes"),
        ("prior_authorization_codes", '"97112"', "list of codes"),
        ("modifier_pairs", '"97140"', "[code, partner] pairs"),
        ("modifier_pairs", '[["97140"]]', "is not a pair of codes"),
        ("modifier_pairs", '[["97140", "97140"]]', "pairs a code with itself"),
    ],
)
def test_a_wrong_type_is_named(tmp_path: Path, field: str, value: str, fragment: str) -> None:
    path = write_policy(tmp_path, versions=[{field: value}])
    refused(path, "version 1", field, fragment)


def test_a_wrong_payer_type_is_named(tmp_path: Path) -> None:
    refused(write_policy(tmp_path, payer={"name": "7"}), "[payer]", "'name'", "text in quotes")


# --- bad choices -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "choices"),
    [
        ("unit_rule", '"minutes"', "cms, cpt"),
        ("modifier_style", '"XS"', "x, 59"),
        ("line_style", '"per_unit"', "one_line, line_per_unit"),
        ("referral", '"order"', "none, prescription, referral"),
        ("therapy_modifier", '"GX"', "GP, GO, GN"),
    ],
)
def test_a_bad_choice_lists_the_choices(
    tmp_path: Path, field: str, value: str, choices: str
) -> None:
    path = write_policy(tmp_path, versions=[{field: value}])
    refused(path, "version 1", field, choices)


def test_a_bad_payer_type_lists_the_choices(tmp_path: Path) -> None:
    path = write_policy(tmp_path, payer={"payer_type": '"insurance"'})
    refused(path, "payer_type", "'insurance'", "commercial, medicare, medicare_advantage")


def test_a_bad_filing_indicator_lists_the_codes(tmp_path: Path) -> None:
    path = write_policy(tmp_path, payer={"claim_filing_indicator": '"XX"'})
    refused(path, "claim_filing_indicator", "'XX'", "CI", "MB", "WC")


@pytest.mark.parametrize(
    ("payer_type", "indicator", "wanted"),
    [('"workers_comp"', '"CI"', "WC"), ('"medicare"', '"MA"', "MB"), ('"auto"', '"CI"', "AM")],
)
def test_a_filing_indicator_must_fit_the_payer_type(
    tmp_path: Path, payer_type: str, indicator: str, wanted: str
) -> None:
    path = write_policy(
        tmp_path, payer={"payer_type": payer_type, "claim_filing_indicator": indicator}
    )
    refused(path, "claim_filing_indicator", wanted)


# --- versions that overlap ---------------------------------------------------------------------


def test_an_earlier_version_without_end_overlaps(tmp_path: Path) -> None:
    path = write_policy(tmp_path, versions=[{}, {"effective_date": "2026-01-01"}])
    refused(path, "overlap", "2025-01-01", "2026-01-01", "end_date")


def test_an_end_after_the_next_start_overlaps(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        versions=[{"end_date": "2026-03-01"}, {"effective_date": "2026-01-01"}],
    )
    refused(path, "overlap", "set end_date = 2026-01-01")


def test_two_versions_on_the_same_day_overlap(tmp_path: Path) -> None:
    path = write_policy(tmp_path, versions=[{"end_date": "2025-06-01"}, {}])
    refused(path, "overlap")


def test_versions_out_of_order_in_the_file_still_read(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        versions=[{"effective_date": "2026-01-01"}, {"end_date": "2026-01-01"}],
    )
    read = read_policy_file(path)
    assert [v.effective_date for v in read.versions] == [date(2025, 1, 1), date(2026, 1, 1)]


def test_an_end_before_the_start_is_refused(tmp_path: Path) -> None:
    path = write_policy(tmp_path, versions=[{"end_date": "2024-12-31"}])
    refused(path, "version 1", "end_date 2024-12-31 must come after effective_date")


# --- codes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("allowed_codes", '{ "225700000X" = ["97999"] }', "97999 is not in Handbill's"),
        ("allowed_codes", '{ "225700000X" = ["9712"] }', "not a procedure code"),
        ("allowed_codes", '{ "225700000X" = [97124] }', "in quotes"),
        ("allowed_codes", '{ "massage" = ["97124"] }', "not a provider taxonomy"),
        ("expected_allowed", '{ "97999" = "10.00" }', "97999 is not in Handbill's"),
        ("prior_authorization_codes", '["97999"]', "97999 is not in Handbill's"),
        ("modifier_pairs", '[["97140", "97999"]]', "97999 is not in Handbill's"),
    ],
)
def test_an_unknown_code_is_named(tmp_path: Path, field: str, value: str, fragment: str) -> None:
    path = write_policy(tmp_path, versions=[{field: value}])
    refused(path, "version 1", field, fragment)


def test_97010_listed_when_the_payer_does_not_pay_it(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path, versions=[{"allowed_codes": '{ "225700000X" = ["97010", "97124"] }'}]
    )
    refused(path, "bills_97010 is false", "97010")


def test_a_fee_for_97010_when_the_payer_does_not_pay_it(tmp_path: Path) -> None:
    path = write_policy(tmp_path, versions=[{"expected_allowed": '{ "97010" = "5.00" }'}])
    refused(path, "bills_97010 is false", "expected_allowed")


# --- amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ('{ "97124" = 27.40 }', 'quoted amount like "45.00"'),
        ('{ "97124" = 27 }', 'quoted amount like "45.00"'),
        ('{ "97124" = "27.405" }', "at most two decimals"),
        ('{ "97124" = "$27" }', "at most two decimals"),
        ('{ "97124" = "-1.00" }', "cannot be negative"),
    ],
)
def test_a_bad_amount_is_named(tmp_path: Path, value: str, fragment: str) -> None:
    path = write_policy(tmp_path, versions=[{"expected_allowed": value}])
    refused(path, "version 1", "expected_allowed.97124", fragment)


# --- other mistakes ----------------------------------------------------------------------------


def test_a_misspelt_field_suggests_the_right_one(tmp_path: Path) -> None:
    path = write_policy(tmp_path, versions=[{"visit_cap_per_yr": "20"}])
    refused(path, "version 1", "unknown field 'visit_cap_per_yr'", "'visit_cap_per_year'")


def test_a_misspelt_payer_field_is_named(tmp_path: Path) -> None:
    path = write_policy(tmp_path, payer={"payer_kind": '"auto"'})
    refused(path, "[payer]", "unknown field 'payer_kind'")


def test_the_profile_must_match_the_file_name(tmp_path: Path) -> None:
    path = write_policy(tmp_path, name="other-name.toml")
    refused(path, "profile 'test-payer' must match the file name", "other-name.toml")


def test_the_profile_must_be_a_slug(tmp_path: Path) -> None:
    path = write_policy(tmp_path, payer={"profile": '"Test Payer"'}, name="Test Payer.toml")
    refused(path, "lower-case letters")


def test_timely_filing_must_be_a_sensible_number_of_days(tmp_path: Path) -> None:
    path = write_policy(tmp_path, versions=[{"timely_filing_days": "0"}])
    refused(path, "timely_filing_days", "between 1 and 3650")


def test_a_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "test-payer.toml"
    path.write_text("[payer\nname = ", encoding="utf-8")
    refused(path, "cannot read policy file")


def test_a_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "nowhere.toml", "cannot read policy file")


# --- stored rules (JSON shape) -----------------------------------------------------------------


def _rules() -> dict[str, object]:
    return {
        "unit_rule": "cpt",
        "allowed_codes": {"225700000X": ["97124"]},
        "bills_97010": False,
        "modifier_style": "x",
        "referral": "none",
        "timely_filing_days": 180,
        "line_style": "one_line",
        "expected_allowed": {"97124": "28.10"},
    }


def test_stored_rules_read_with_their_period() -> None:
    policy = policy_from_rules(
        profile="p", name="P", rules=_rules(), effective_date=date(2026, 1, 1), end_date=None
    )
    assert policy.in_force(date(2026, 1, 1))
    assert policy.expected_allowed("97124") == Cents(2810)
    assert policy.expected_allowed("97140") is None


def test_iso_text_dates_read_like_toml_dates() -> None:
    table = {**_rules(), "effective_date": "2026-01-01", "end_date": "2027-01-01"}
    policy = policy_from_mapping("p", "P", table, "stored")
    assert (policy.effective_date, policy.end_date) == (date(2026, 1, 1), date(2027, 1, 1))


def test_stored_rules_that_disagree_with_their_period_are_refused() -> None:
    rules = {**_rules(), "effective_date": "2025-01-01"}
    with pytest.raises(PolicyError, match="effective_date in the rules .2025-01-01. differs"):
        policy_from_rules(
            profile="p", name="P", rules=rules, effective_date=date(2026, 1, 1), end_date=None
        )


def test_stored_rules_that_are_not_a_table_are_refused() -> None:
    with pytest.raises(PolicyError, match="rules must be a table"):
        policy_from_rules(
            profile="p", name="P", rules=["cms"],  # type: ignore[arg-type]
            effective_date=date(2026, 1, 1), end_date=None,
        )


def test_rules_of_leaves_out_rules_that_do_not_apply() -> None:
    policy = policy_from_rules(
        profile="p", name="P", rules=_rules(), effective_date=date(2026, 1, 1), end_date=None
    )
    rules = rules_of(policy)
    assert "visit_cap_per_year" not in rules
    assert "effective_date" not in rules
    assert rules["expected_allowed"] == {"97124": "28.10"}


# Any policy the value type can hold survives the trip to stored JSON and back.
_codes = st.frozensets(st.sampled_from(sorted(cpt.CATALOGUE)), max_size=4)
_not_97010 = _codes.map(lambda codes: codes - {"97010"})


@st.composite
def policies(draw: st.DrawFn) -> PayerPolicy:
    bills_97010 = draw(st.booleans())
    codes = _codes if bills_97010 else _not_97010
    allowed = draw(st.dictionaries(st.sampled_from(["225700000X", "225100000X"]), codes))
    fee_codes = draw(codes)
    effective = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
    return PayerPolicy(
        profile="p",
        name="P",
        effective_date=effective,
        end_date=None,
        unit_rule=draw(st.sampled_from(UnitRule)),
        allowed_codes=allowed,
        bills_97010=bills_97010,
        modifier_style=draw(st.sampled_from(ModifierStyle)),
        therapy_modifier=draw(st.sampled_from([None, "GP", "GO", "GN"])),
        visit_cap_per_year=draw(st.none() | st.integers(1, 60)),
        daily_unit_cap=draw(st.none() | st.integers(1, 12)),
        referral=draw(st.sampled_from(ReferralKind)),
        authorization_after_visits=draw(st.none() | st.integers(0, 30)),
        timely_filing_days=draw(st.integers(1, 3650)),
        line_style=draw(st.sampled_from(LineStyle)),
        fees={
            code: Fee(code=code, expected_allowed=Cents(draw(st.integers(0, 50_000))))
            for code in sorted(fee_codes)
        },
        requires_claim_number=draw(st.booleans()),
        notes=draw(st.text(max_size=20)),
        prior_authorization_codes=draw(codes),
        modifier_pairs=frozenset(
            (a, b) for a, b in draw(st.lists(st.tuples(st.sampled_from(["97124", "97140"]),
                                                       st.sampled_from(["97112", "97530"]))))
        ),
    )


@given(policies())
def test_rules_round_trip(policy: PayerPolicy) -> None:
    again = policy_from_rules(
        profile="p",
        name="P",
        rules=rules_of(policy),
        effective_date=policy.effective_date,
        end_date=None,
    )
    assert again == policy


def test_authorization_needed_counts_visits_and_codes() -> None:
    base = policy_from_rules(
        profile="p",
        name="P",
        rules={**_rules(), "authorization_after_visits": 6, "prior_authorization_codes": ["97112"]},
        effective_date=date(2026, 1, 1),
        end_date=None,
    )
    assert not base.authorization_needed("97124", 6)
    assert base.authorization_needed("97124", 7)
    assert base.authorization_needed("97112", 1)


def test_messages_never_show_python_type_names(tmp_path: Path) -> None:
    message = refused(write_policy(tmp_path, versions=[{"timely_filing_days": '"x"'}]))
    assert not re.search(r"\b(int|str|dict|bool)\b", message)


def test_modifier_pairs_read_and_stay_out_of_rules_when_empty() -> None:
    policy = policy_from_rules(
        profile="p", name="P",
        rules={**_rules(), "modifier_pairs": [["97140", "97124"]]},
        effective_date=date(2026, 1, 1), end_date=None,
    )
    assert policy.modifier_pairs == frozenset({("97140", "97124")})
    assert rules_of(policy)["modifier_pairs"] == [["97140", "97124"]]
    plain = policy_from_rules(profile="p", name="P", rules=_rules(),
                              effective_date=date(2026, 1, 1), end_date=None)
    assert "modifier_pairs" not in rules_of(plain)
