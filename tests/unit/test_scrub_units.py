"""The note-to-claim unit audit: units per code against the documented minutes."""

from __future__ import annotations

from dataclasses import replace

from handbill.core.claimdata import Severity
from handbill.core.policy import UnitRule
from tests.unit.scrub_factory import (
    CLEAN_LINES,
    claim,
    entry,
    line,
    of_rule,
    only,
    run,
    self_pay,
    with_note,
    with_policy,
)


def test_units_supported_by_the_note_pass():
    assert run("units.supported", claim()) == []


def test_more_units_than_the_minutes_support_block_with_the_number_to_bill():
    lines = (replace(CLEAN_LINES[0], units=3), CLEAN_LINES[1])
    found = only(run("units.supported", replace(claim(), lines=lines)), "units.supported",
                 Severity.BLOCKING)
    assert (found.line, found.code) == (1, "97124")
    assert "3 units billed" in found.message and "supports 2" in found.message
    assert "Bill 2 of 97124" in found.fix


def test_fewer_units_than_documented_warn_money_left_on_the_table():
    lines = (replace(CLEAN_LINES[0], units=1), CLEAN_LINES[1])
    found = only(run("units.supported", replace(claim(), lines=lines)), "units.supported",
                 Severity.WARNING)
    assert "money left on the table" in found.message


def test_a_billed_code_the_note_does_not_document_blocks():
    lines = (*CLEAN_LINES, line(3, "97112", 1, minutes=15))
    found = only(run("units.supported", replace(claim(), lines=lines)), "units.supported",
                 Severity.BLOCKING)
    assert found.code == "97112" and "does not document" in found.message


def test_an_untimed_code_billed_for_more_than_one_unit_blocks():
    entries = (*claim().note.entries, entry("97010", 20, technique="Moist heat pack"))
    lines = (*CLEAN_LINES, line(3, "97010", 2, minutes=0))
    target = with_note(replace(claim(), lines=lines), entries=entries)
    found = only(run("units.supported", target), "units.supported", Severity.BLOCKING)
    assert "one unit per visit" in found.message and found.line == 3
    assert run("units.supported", replace(target, lines=(*CLEAN_LINES, line(3, "97010", 1)))) == []


def test_units_are_recounted_with_the_payers_method():
    # 97124 22 + 97140 22 min: CMS total time gives 3 units (2 + 1), CPT per code gives 1 + 1.
    entries = (entry("97124", 22), entry("97140", 22, technique="Myofascial release",
                                          body_region="right shoulder"))
    cpt_lines = (line(1, "97124", 1, modifiers=("XS", "GP"), minutes=22),
                 line(2, "97140", 1, pointers=(2,), minutes=22))
    cpt_claim = with_note(replace(claim(), lines=cpt_lines), entries=entries)
    assert run("units.supported", with_policy(cpt_claim, unit_rule=UnitRule.CPT)) == []
    cms = run("units.supported", cpt_claim)
    assert len(cms) == 1 and cms[0].severity is Severity.WARNING


def test_self_pay_counts_by_the_cpt_rule():
    entries = (entry("97124", 22), entry("97140", 22, technique="Myofascial release",
                                          body_region="right shoulder"))
    lines = (line(1, "97124", 1, minutes=22), line(2, "97140", 1, pointers=(2,), minutes=22))
    assert run("units.supported", with_note(replace(self_pay(), lines=lines),
                                            entries=entries)) == []


def test_impossible_minutes_in_the_note_block_without_crashing():
    entries = (entry("97124", 900), entry("97140", 900))
    found = only(run("units.supported", with_note(claim(), entries=entries)),
                 "units.supported", Severity.BLOCKING)
    assert "more than a day" in found.message


def test_timed_line_with_minutes_passes_and_with_zero_minutes_blocks():
    assert run("units.minutes", claim()) == []
    lines = (CLEAN_LINES[0], replace(CLEAN_LINES[1], minutes=0))
    found = only(run("units.minutes", replace(claim(), lines=lines)), "units.minutes",
                 Severity.BLOCKING)
    assert found.line == 2


def test_untimed_line_with_zero_minutes_is_fine():
    lines = (*CLEAN_LINES, line(3, "97010", 1, minutes=0))
    assert run("units.minutes", replace(claim(), lines=lines)) == []


def test_units_counted_by_the_other_method_are_named():
    # Payer counts CPT per code; the claim carries the CMS total-time answer (3 units).
    entries = (entry("97124", 22), entry("97140", 22, technique="Myofascial release",
                                          body_region="right shoulder"))
    cms_lines = (line(1, "97124", 2, modifiers=("XS", "GP"), minutes=22),
                 line(2, "97140", 1, pointers=(2,), minutes=22))
    target = with_policy(with_note(replace(claim(), lines=cms_lines), entries=entries),
                         unit_rule=UnitRule.CPT)
    found = only(run("units.method", target), "units.method", Severity.BLOCKING)
    assert found.code == "97124" and "CMS total time" in found.message


def test_fewer_units_by_the_other_method_warn():
    entries = (entry("97124", 22), entry("97140", 22, technique="Myofascial release",
                                          body_region="right shoulder"))
    cpt_lines = (line(1, "97124", 1, modifiers=("XS", "GP"), minutes=22),
                 line(2, "97140", 1, pointers=(2,), minutes=22))
    target = with_note(replace(claim(), lines=cpt_lines), entries=entries)
    found = only(run("units.method", target), "units.method", Severity.WARNING)
    assert "CPT per code" in found.message


def test_timed_line_without_rationale_warns():
    lines = (CLEAN_LINES[0], replace(CLEAN_LINES[1], rationale=" "))
    found = only(run("units.method", replace(claim(), lines=lines)), "units.method",
                 Severity.WARNING)
    assert found.line == 2


def test_units_method_is_silent_for_self_pay():
    lines = (CLEAN_LINES[0], replace(CLEAN_LINES[1], rationale=""))
    assert run("units.method", replace(self_pay(), lines=lines)) == []


def test_daily_cap_respected_passes():
    assert run("units.daily_cap", claim()) == []
    assert run("units.daily_cap", with_policy(claim(), daily_unit_cap=3)) == []
    assert run("units.daily_cap", with_policy(claim(), daily_unit_cap=None)) == []


def test_daily_cap_exceeded_blocks_with_units_to_drop():
    found = only(run("units.daily_cap", with_policy(claim(), daily_unit_cap=2)),
                 "units.daily_cap", Severity.BLOCKING)
    assert "Drop 1 unit" in found.fix and "3 timed units" in found.message


def test_daily_cap_counts_only_timed_units():
    lines = (*CLEAN_LINES, line(3, "97010", 1, minutes=0))
    assert of_rule(run("units.daily_cap", with_policy(replace(claim(), lines=lines),
                                                      daily_unit_cap=3)),
                   "units.daily_cap") == []
