"""The claim builder: from a signed note, a payer policy and NCCI tables to claim lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbill.core.claim_builder import BuildError, BuiltClaim, build_lines
from handbill.core.claimdata import Note, ServiceEntry, Severity
from handbill.core.edits import Confidence, EditTables, ModifierIndicator, PtpEdit, check
from handbill.core.money import Cents
from handbill.core.policy import (
    MASSAGE_THERAPIST,
    LineStyle,
    ModifierStyle,
    PayerPolicy,
    ReferralKind,
    UnitRule,
)
from handbill.core.units import ServiceMinutes, UnitMethod, compute_units

DOS = date(2026, 1, 10)
FEES = {
    "97124": Cents(6000),
    "97140": Cents(7000),
    "97010": Cents(1500),
    "97112": Cents(6500),
    "97110": Cents(6200),
    "97530": Cents(6600),
    "98940": Cents(5500),
    "97014": Cents(2000),
}


def ptp(
    column1: str,
    column2: str,
    indicator: str = "1",
    start: date = date(2020, 1, 1),
    end: date | None = None,
    confidence: Confidence = Confidence.VERIFIED,
) -> PtpEdit:
    return PtpEdit(
        column1=column1,
        column2=column2,
        effective_date=start,
        deletion_date=end,
        modifier_indicator=ModifierIndicator(indicator),
        rationale="Mutually exclusive procedures",
        source="hand-made test table",
        confidence=confidence,
    )


# A hand-made table, so the tests do not move when the shipped starter data changes.
EDITS = EditTables(
    [
        ptp("97140", "97124"),
        ptp("97140", "97530"),
        ptp("98940", "97140"),
        ptp("97112", "97110", indicator="0"),
        # Deleted before the date of service: must not bind.
        ptp("97124", "97112", start=date(2015, 1, 1), end=date(2019, 1, 1)),
        ptp("97530", "97110", indicator="9"),
    ]
)


def policy(**changes: object) -> PayerPolicy:
    base = PayerPolicy(
        profile="example-commercial",
        name="Example Health Plan",
        effective_date=date(2025, 1, 1),
        end_date=None,
        unit_rule=UnitRule.CPT,
        allowed_codes={},
        bills_97010=False,
        modifier_style=ModifierStyle.X_MODIFIERS,
        therapy_modifier=None,
        visit_cap_per_year=None,
        daily_unit_cap=None,
        referral=ReferralKind.NONE,
        authorization_after_visits=None,
        timely_filing_days=90,
        line_style=LineStyle.ONE_LINE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def note(*entries: ServiceEntry, diagnoses: tuple[str, ...] = ("M62.830", "M54.2")) -> Note:
    return Note(
        date_of_service=DOS,
        signed_at=datetime(2026, 1, 10, 17, 0, tzinfo=UTC),
        subjective="Synthetic patient reports tight back and neck.",
        objective="Hypertonic paraspinals.",
        assessment="Muscle spasm of back; cervicalgia.",
        plan="Weekly massage and manual therapy.",
        medical_necessity="Spasm limits lifting at work.",
        response_to_treatment="Range of motion improved.",
        diagnoses=diagnoses,
        entries=entries,
    )


def build(
    the_note: Note,
    the_policy: PayerPolicy | None = None,
    *,
    edits: EditTables | None = EDITS,
    taxonomy: str = MASSAGE_THERAPIST,
    fees: dict[str, Cents] | None = None,
    payer_type: str = "commercial",
) -> BuiltClaim:
    return build_lines(
        note=the_note,
        policy=the_policy if the_policy is not None else policy(),
        taxonomy=taxonomy,
        fee_schedule=FEES if fees is None else fees,
        edits=edits,
        payer_type=payer_type,
    )


def rules(built: BuiltClaim) -> list[str]:
    return [flag.rule for flag in built.flags]


def test_reference_example_massage_back_manual_therapy_neck() -> None:
    # reference §5.3: SV1*HC:97124:XS*120*UN*2***1 and SV1*HC:97140*70*UN*1***2
    built = build(
        note(
            ServiceEntry("97124", 30, "Swedish", "back"),
            ServiceEntry("97140", 15, "myofascial release", "neck"),
        )
    )
    assert built.diagnoses == ("M62.830", "M54.2")
    first, second = built.lines
    assert (first.number, first.code, first.units, first.modifiers, first.pointers) == (
        1, "97124", 2, ("XS",), (1,)
    )
    assert first.charge == Cents(12000)
    assert first.minutes == 30
    assert first.body_region == "back"
    assert (second.number, second.code, second.units, second.modifiers, second.pointers) == (
        2, "97140", 1, (), (2,)
    )
    assert second.charge == Cents(7000)
    assert all(line.control_number == "" for line in built.lines)
    assert "XS" in first.rationale and "separate body region" in first.rationale
    assert "points to that region's diagnosis" in first.rationale
    assert "30 min" in first.rationale  # the units engine's own words come first
    assert built.flags == ()
    assert "97140 (column 1) with 97124 (column 2)" in built.rationale


def test_modifier_goes_on_whichever_code_the_table_makes_column_2() -> None:
    reversed_table = EditTables([ptp("97124", "97140")])
    built = build(
        note(ServiceEntry("97124", 30, body_region="back"),
             ServiceEntry("97140", 15, body_region="neck")),
        edits=reversed_table,
    )
    assert [line.modifiers for line in built.lines] == [(), ("XS",)]


def test_units_follow_the_policy_unit_rule() -> None:
    entries = (ServiceEntry("97124", 22, body_region="back"),
               ServiceEntry("97140", 22, body_region="neck"))
    cms = build(note(*entries), policy(unit_rule=UnitRule.CMS))
    cpt = build(note(*entries), policy(unit_rule=UnitRule.CPT))
    assert sum(line.units for line in cms.lines) == 3  # 44 min pooled → 3
    assert sum(line.units for line in cpt.lines) == 2  # 22 → 1 on each code
    assert "CMS total time" in cms.rationale
    assert "CPT per code" in cpt.rationale


def test_self_pay_counts_units_per_code_and_says_so() -> None:
    built = build_lines(
        note=note(ServiceEntry("97124", 22, body_region="back"),
                  ServiceEntry("97140", 22, body_region="neck")),
        policy=None,
        taxonomy=MASSAGE_THERAPIST,
        fee_schedule=FEES,
        edits=EDITS,
    )
    assert [line.units for line in built.lines] == [1, 1]
    assert "self-pay" in built.rationale and "CPT per-code" in built.rationale


def test_line_per_unit_splits_units_and_minutes() -> None:
    built = build(
        note(ServiceEntry("97124", 38, body_region="back")),
        policy(line_style=LineStyle.LINE_PER_UNIT),
    )
    assert [line.number for line in built.lines] == [1, 2, 3]
    assert all(line.units == 1 and line.charge == Cents(6000) for line in built.lines)
    assert sum(line.minutes for line in built.lines) == 38
    assert built.lines[0].rationale.startswith("Unit 1 of 3")


def test_97010_is_left_off_when_the_payer_bundles_it() -> None:
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97010", 10, body_region="back")))
    assert [line.code for line in built.lines] == ["97124"]
    (flag,) = [f for f in built.flags if f.rule == "build.bundled_not_billed"]
    assert flag.code == "97010" and flag.line is None
    assert "status B" in flag.message
    assert "97010 (bundled, status B)" in built.rationale


def test_97010_is_billed_when_the_payer_pays_it() -> None:
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97010", 10, body_region="back")),
                  policy(bills_97010=True, therapy_modifier="GP"))
    hot_pack = built.lines[1]
    assert (hot_pack.code, hot_pack.units, hot_pack.charge) == ("97010", 1, Cents(1500))
    assert hot_pack.minutes == 0  # supervised modality: minutes never count
    assert hot_pack.modifiers == ()  # not an always-therapy code
    assert "build.bundled_not_billed" not in rules(built)


def test_therapy_modifier_only_on_always_therapy_codes() -> None:
    built = build(
        note(ServiceEntry("98940", 10, body_region="low back"),
             ServiceEntry("97124", 30, body_region="low back")),
        policy(therapy_modifier="GP"),
    )
    assert {line.code: line.modifiers for line in built.lines} == {
        "98940": (),
        "97124": ("GP",),
    }
    assert "GP: Example Health Plan wants it" in built.lines[1].rationale


def test_ncci_modifier_comes_before_the_therapy_modifier() -> None:
    built = build(
        note(ServiceEntry("97124", 30, body_region="back"),
             ServiceEntry("97140", 15, body_region="neck")),
        policy(therapy_modifier="GP"),
    )
    assert [line.modifiers for line in built.lines] == [("XS", "GP"), ("GP",)]


def test_payer_that_takes_only_59() -> None:
    built = build(
        note(ServiceEntry("97124", 30, body_region="back"),
             ServiceEntry("97140", 15, body_region="neck")),
        policy(modifier_style=ModifierStyle.MODIFIER_59, therapy_modifier="GP"),
    )
    assert built.lines[0].modifiers == ("59", "GP")
    assert "only 59" in built.lines[0].rationale
    # 59 for a separate region still points at that region's diagnosis.
    assert built.lines[0].pointers == (1,)


def test_separate_time_blocks_get_xu() -> None:
    built = build(
        note(
            ServiceEntry("97140", 15, body_region="neck", start_time=time(10, 0)),
            ServiceEntry("97124", 30, body_region="neck", start_time=time(10, 15)),
        )
    )
    assert {line.code: line.modifiers for line in built.lines} == {
        "97140": (),
        "97124": ("XU",),
    }
    assert "separate time blocks" in built.lines[1].rationale


def test_time_blocks_with_the_59_payer() -> None:
    built = build(
        note(
            ServiceEntry("97140", 15, start_time=time(9, 0)),
            ServiceEntry("97530", 15, start_time=time(9, 30)),
        ),
        policy(modifier_style=ModifierStyle.MODIFIER_59),
    )
    assert {line.code: line.modifiers for line in built.lines} == {
        "97140": (),
        "97530": ("59",),
    }


def test_manual_therapy_with_cmt_needs_a_separate_region_not_a_time_block() -> None:
    built = build(
        note(
            ServiceEntry("98940", 10, body_region="lumbar", start_time=time(9, 0)),
            ServiceEntry("97140", 15, body_region="low back", start_time=time(9, 15)),
        )
    )
    assert all(line.modifiers == () for line in built.lines)
    (flag,) = built.flags
    assert flag.rule == "ncci.ptp_not_distinct"
    assert "without a separate region" in flag.message
    other_region = build(
        note(ServiceEntry("98940", 10, body_region="lumbar"),
             ServiceEntry("97140", 15, body_region="right shoulder"),
             diagnoses=("M99.03", "M25.511")),
    )
    assert [line.modifiers for line in other_region.lines] == [(), ("XS",)]
    assert other_region.lines[1].pointers == (2,)


def test_manual_therapy_with_activities_needs_separate_time_not_a_region() -> None:
    built = build(note(ServiceEntry("97140", 15, body_region="neck"),
                       ServiceEntry("97530", 15, body_region="knee")))
    assert all(line.modifiers == () for line in built.lines)
    (flag,) = built.flags
    assert "without separate time blocks" in flag.message and flag.code == "97530"


def test_unverified_edit_rows_are_named_in_the_rationale() -> None:
    guessed = EditTables([ptp("97140", "97124", confidence=Confidence.UNVERIFIED)])
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97140", 15, body_region="neck")), edits=guessed)
    assert built.lines[0].modifiers == ("XS",)
    assert "[unverified edit row]" in built.lines[0].rationale


def test_built_lines_pass_the_edit_check_they_were_built_for() -> None:
    built = build(
        note(ServiceEntry("97124", 30, body_region="back"),
             ServiceEntry("97140", 15, body_region="neck", start_time=time(10, 0)),
             ServiceEntry("97530", 15, start_time=time(11, 0)),
             ServiceEntry("98940", 10, body_region="lumbar")),
        policy(therapy_modifier="GP"),
    )
    assert built.flags == ()
    assert {line.code: line.modifiers for line in built.lines} == {
        "97124": ("XS", "GP"),
        "97140": ("XS", "GP"),
        "97530": ("XU", "GP"),
        "98940": (),
    }
    findings = check(built.lines, DOS, EDITS)
    assert len(findings) == 3
    assert all(f.severity is Severity.INFO for f in findings)


def test_overlapping_times_on_the_same_region_get_no_modifier_and_a_warning() -> None:
    built = build(
        note(
            ServiceEntry("97140", 20, body_region="neck", start_time=time(10, 0)),
            ServiceEntry("97124", 30, body_region="neck", start_time=time(10, 15)),
        )
    )
    assert all(line.modifiers == () for line in built.lines)
    assert rules(built) == ["ncci.ptp_not_distinct"]


def test_no_distinct_region_or_time_is_flagged_not_fixed() -> None:
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97140", 15, body_region="back")))
    assert all(line.modifiers == () for line in built.lines)
    (flag,) = built.flags
    assert flag.rule == "ncci.ptp_not_distinct"
    assert flag.severity is Severity.WARNING
    assert flag.message == (
        "97140 and 97124 billed together without distinct region or time — column 2 (97124) "
        "will be denied; document the region/time or drop the line."
    )
    assert (flag.code, flag.line) == ("97124", 1)


def test_missing_region_on_one_side_is_not_distinct() -> None:
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97140", 15)))
    assert rules(built) == ["ncci.ptp_not_distinct"]


def test_synonyms_name_the_same_region_and_sides_make_different_sites() -> None:
    same = build(note(ServiceEntry("97124", 30, body_region="cervical"),
                      ServiceEntry("97140", 15, body_region="Neck")))
    assert rules(same) == ["ncci.ptp_not_distinct"]
    sides = build(
        note(ServiceEntry("97124", 30, body_region="left shoulder"),
             ServiceEntry("97140", 15, body_region="right shoulder"),
             diagnoses=("M25.512", "M25.511")),
    )
    assert sides.lines[0].modifiers == ("XS",)
    unknown_words = build(note(ServiceEntry("97124", 30, body_region="forearm"),
                               ServiceEntry("97140", 15, body_region="calf")))
    assert unknown_words.lines[0].modifiers == ("XS",)


def test_indicator_0_gets_no_modifier_and_blocks() -> None:
    built = build(note(ServiceEntry("97112", 15, body_region="back"),
                       ServiceEntry("97110", 15, body_region="knee")))
    assert all(line.modifiers == () for line in built.lines)
    (flag,) = built.flags
    assert (flag.rule, flag.severity, flag.code, flag.line) == (
        "ncci.ptp_no_bypass", Severity.BLOCKING, "97110", 2
    )
    assert "Drop 97110" in flag.fix


def test_deleted_and_indicator_9_edits_do_not_bind() -> None:
    deleted = build(note(ServiceEntry("97124", 15, body_region="back"),
                         ServiceEntry("97112", 15, body_region="back")))
    not_applicable = build(note(ServiceEntry("97530", 15), ServiceEntry("97110", 15)))
    for built in (deleted, not_applicable):
        assert built.flags == ()
        assert all(line.modifiers == () for line in built.lines)
        assert "no pair edit binds" in built.rationale


def test_without_edit_tables_the_builder_says_pairs_were_not_checked() -> None:
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97140", 15, body_region="back")), edits=None)
    assert rules(built) == ["ncci.not_checked"]
    assert built.flags[0].severity is Severity.INFO


def test_code_the_payer_does_not_pay_this_provider_is_flagged_but_built() -> None:
    massage_only = policy(allowed_codes={MASSAGE_THERAPIST: frozenset({"97124"})})
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97140", 15, body_region="neck")), massage_only)
    assert [line.code for line in built.lines] == ["97124", "97140"]
    (flag,) = built.flags
    assert (flag.rule, flag.severity, flag.code, flag.line) == (
        "provider.code_allowed", Severity.BLOCKING, "97140", 2
    )
    assert "it pays: 97124" in flag.message
    # Another provider type is not limited by the massage-therapist list.
    other = build(note(ServiceEntry("97140", 15, body_region="neck")), massage_only,
                  taxonomy="225100000X")
    assert other.flags == ()


def test_missing_fee_refuses_to_build() -> None:
    fees = {"97124": Cents(6000)}
    with pytest.raises(BuildError, match=r"no fee .* for 97140; add a charge"):
        build(note(ServiceEntry("97124", 30, body_region="back"),
                   ServiceEntry("97140", 15, body_region="neck")), fees=fees)


def test_no_fee_needed_for_a_line_that_is_not_billed() -> None:
    fees = {"97124": Cents(6000)}
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97010", 10)), fees=fees)
    assert [line.code for line in built.lines] == ["97124"]


def test_timed_code_with_zero_units_is_dropped_with_a_flag() -> None:
    built = build(note(ServiceEntry("97124", 30, body_region="back"),
                       ServiceEntry("97140", 5, body_region="neck")))
    assert [line.code for line in built.lines] == ["97124"]
    (flag,) = built.flags
    assert (flag.rule, flag.code, flag.line) == ("build.zero_units", "97140", None)
    assert "5 documented minutes give 0 units" in flag.message


def test_pointers_follow_the_body_region() -> None:
    built = build(
        note(
            ServiceEntry("97140", 20, body_region="R shoulder"),
            ServiceEntry("97124", 30, body_region="neck and upper back"),
            ServiceEntry("97112", 15, body_region="forearm"),
            diagnoses=("M54.50", "M25.511", "M54.2", "M54.6", "M79.7"),
        ),
        edits=None,
    )
    pointers = {line.code: line.pointers for line in built.lines}
    assert pointers == {"97140": (2,), "97124": (3, 4), "97112": (1,)}
    assert "no diagnosis names the forearm" in built.lines[2].rationale


def test_plain_back_matches_both_levels_of_the_back_at_most_four() -> None:
    built = build(
        note(ServiceEntry("97124", 30, body_region="back"),
             diagnoses=("M54.2", "M54.50", "M54.6", "M62.830", "S33.5XXD", "M54.16")),
    )
    assert built.lines[0].pointers == (2, 3, 4, 5)
    assert "first 4 of 5" in built.lines[0].rationale


def test_separate_region_line_without_its_own_diagnosis_is_flagged() -> None:
    built = build(note(ServiceEntry("97124", 30, body_region="knee"),
                       ServiceEntry("97140", 15, body_region="neck")))
    massage = built.lines[0]
    assert massage.modifiers == ("XS",) and massage.pointers == (1,)
    assert rules(built) == ["build.region_diagnosis"]


def test_more_than_twelve_diagnoses_are_flagged_and_cut_to_twelve() -> None:
    many = ("M54.2", "M54.50", "M54.6", "M62.830", "M79.7", "M79.18", "M25.511", "M25.512",
            "M25.561", "G44.209", "R51.9", "M54.12", "M54.16")
    built = build(note(ServiceEntry("97124", 30, body_region="low back"), diagnoses=many))
    assert built.diagnoses == many[:12]
    (flag,) = built.flags
    assert flag.rule == "build.too_many_diagnoses"
    assert "Left off: M54.16" in flag.message


def test_repeated_diagnosis_is_listed_once() -> None:
    built = build(note(ServiceEntry("97124", 30, body_region="neck"),
                       diagnoses=("M54.2", "m54.2", "M62.830")))
    assert built.diagnoses == ("M54.2", "M62.830")
    assert rules(built) == ["build.diagnosis_repeated"]


def test_medicare_replacement_code_is_flagged_never_swapped() -> None:
    built = build(note(ServiceEntry("97014", 15, body_region="low back")),
                  payer_type="medicare")
    assert built.lines[0].code == "97014"
    (flag,) = built.flags
    assert (flag.rule, flag.severity) == ("code.medicare_replacement", Severity.BLOCKING)
    assert "G0283" in flag.message


@pytest.mark.parametrize(
    ("the_note", "the_policy", "message"),
    [
        (note(diagnoses=("M54.2",)), policy(), "no services"),
        (note(ServiceEntry("97124", 30), diagnoses=()), policy(), "no diagnoses"),
        (note(ServiceEntry("97999", 30)), policy(), "not in Handbill's service catalogue"),
        (note(ServiceEntry("97124", -5)), policy(), "cannot be negative"),
        (note(ServiceEntry("97124", 30)), policy(end_date=date(2026, 1, 1)), "not in force"),
    ],
)
def test_bad_input_is_refused_with_the_reason(
    the_note: Note, the_policy: PayerPolicy, message: str
) -> None:
    with pytest.raises(BuildError, match=message):
        build(the_note, the_policy)


def test_all_lines_dropped_is_a_blocking_flag() -> None:
    built = build(note(ServiceEntry("97010", 10)))
    assert built.lines == ()
    assert "build.nothing_to_bill" in rules(built)


def test_same_input_same_claim() -> None:
    the_note = note(ServiceEntry("97124", 20, body_region="back"),
                    ServiceEntry("97140", 20, body_region="neck"),
                    ServiceEntry("97124", 10, body_region="low back"))
    first = build(the_note, policy(unit_rule=UnitRule.CMS))
    second = build(the_note, policy(unit_rule=UnitRule.CMS))
    assert first == second
    assert first.lines[0].body_region == "back, low back"
    assert "entered 2 times" in first.lines[0].rationale


# --- properties -----------------------------------------------------------------------------

_CODES = ("97124", "97140", "97112", "97110", "97530", "97010", "98940")
_REGIONS = ("", "neck", "back", "low back", "left shoulder", "right shoulder", "knee", "forearm")
_DIAGNOSES = ("M54.2", "M54.50", "M54.6", "M62.830", "M25.511", "M25.561", "G44.209",
              "M79.7", "S13.4XXD", "M54.16", "R51.9", "M25.512", "M79.18", "S33.5XXD")

entry_strategy = st.builds(
    ServiceEntry,
    code=st.sampled_from(_CODES),
    minutes=st.integers(min_value=0, max_value=75),
    body_region=st.sampled_from(_REGIONS),
    start_time=st.one_of(st.none(), st.builds(time, st.integers(8, 17), st.integers(0, 59))),
)


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(entry_strategy, min_size=1, max_size=6),
    diagnoses=st.lists(st.sampled_from(_DIAGNOSES), min_size=1, max_size=14, unique=True),
    rule=st.sampled_from(list(UnitRule)),
    style=st.sampled_from(list(LineStyle)),
    modifier_style=st.sampled_from(list(ModifierStyle)),
    therapy=st.sampled_from([None, "GP"]),
    bills_97010=st.booleans(),
)
def test_claim_properties(
    entries: list[ServiceEntry],
    diagnoses: list[str],
    rule: UnitRule,
    style: LineStyle,
    modifier_style: ModifierStyle,
    therapy: str | None,
    bills_97010: bool,
) -> None:
    the_note = note(*entries, diagnoses=tuple(diagnoses))
    the_policy = policy(unit_rule=rule, line_style=style, modifier_style=modifier_style,
                        therapy_modifier=therapy, bills_97010=bills_97010)
    built = build(the_note, the_policy)

    engine = compute_units(
        [ServiceMinutes(e.code, e.minutes) for e in entries], UnitMethod(rule.value)
    )
    timed = {line.code for line in engine.lines if line.timed}
    assert sum(line.units for line in built.lines if line.code in timed) == engine.total_units

    assert [line.number for line in built.lines] == list(range(1, len(built.lines) + 1))
    assert len(built.diagnoses) == min(len(diagnoses), 12)
    for line in built.lines:
        assert 1 <= len(line.pointers) <= 4
        assert all(1 <= pointer <= len(built.diagnoses) for pointer in line.pointers)
        assert len(set(line.pointers)) == len(line.pointers)
        assert line.units >= 1
        assert line.charge == FEES[line.code] * line.units
        assert len(line.modifiers) <= 4
        assert not ("59" in line.modifiers and any(m.startswith("X") for m in line.modifiers))
        if style is LineStyle.LINE_PER_UNIT:
            assert line.units == 1
    # Minutes behind the lines add up to the note for every billed timed code.
    for code in {line.code for line in built.lines} & timed:
        documented = sum(e.minutes for e in entries if e.code == code)
        assert sum(line.minutes for line in built.lines if line.code == code) == documented
    assert build(the_note, the_policy) == built
    # Where the builder raised no pair flag, the edit check finds nothing it would deny.
    if not {"ncci.ptp_not_distinct", "ncci.ptp_no_bypass"} & set(rules(built)):
        assert all(f.severity is not Severity.BLOCKING for f in check(built.lines, DOS, EDITS))
