"""Codes, NCCI edits and modifiers."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from handbill.core.claimdata import Severity
from handbill.core.edits import EditTables
from handbill.core.money import Cents
from handbill.core.policy import ModifierStyle
from tests.unit.scrub_factory import (
    CLEAN_ENTRIES,
    CLEAN_LINES,
    EDITS,
    claim,
    entry,
    line,
    mue,
    only,
    ptp_edit,
    run,
    self_pay,
    with_coverage,
    with_note,
    with_policy,
)

HOT_PACK = line(3, "97010", 1, modifiers=(), minutes=0, charge=Cents(1500))


def with_lines(*lines):
    return replace(claim(), lines=lines)


# --- codes ------------------------------------------------------------------------------


def test_catalogue_codes_pass_and_unknown_codes_block():
    assert run("code.known", claim()) == []
    found = only(run("code.known", with_lines(*CLEAN_LINES, line(3, "99213", 1))),
                 "code.known", Severity.BLOCKING)
    assert (found.line, found.code) == (3, "99213")


def test_97010_blocks_for_a_payer_that_does_not_pay_it():
    found = only(run("code.bundled", with_lines(*CLEAN_LINES, HOT_PACK)), "code.bundled",
                 Severity.BLOCKING)
    assert found.line == 3 and "does not pay 97010" in found.message


def test_97010_passes_for_a_payer_that_pays_it():
    target = with_policy(with_lines(*CLEAN_LINES, HOT_PACK), bills_97010=True)
    assert run("code.bundled", target) == []


@pytest.mark.parametrize("payer_type", ["medicare", "medicare_advantage"])
def test_97010_is_status_b_for_medicare_whatever_the_policy_says(payer_type):
    target = with_coverage(with_policy(with_lines(*CLEAN_LINES, HOT_PACK), bills_97010=True),
                           payer_type=payer_type)
    found = only(run("code.bundled", target), "code.bundled", Severity.BLOCKING)
    assert "status B" in found.message and "may not be billed" in found.fix


def test_97010_on_a_self_pay_visit_is_fine():
    assert run("code.bundled", replace(self_pay(), lines=(*CLEAN_LINES, HOT_PACK))) == []


def test_97014_for_medicare_must_be_g0283():
    estim = line(3, "97014", 1, minutes=0)
    assert run("code.medicare_replacement", with_lines(*CLEAN_LINES, estim)) == []
    medicare = with_coverage(with_lines(*CLEAN_LINES, estim), payer_type="medicare")
    found = only(run("code.medicare_replacement", medicare), "code.medicare_replacement",
                 Severity.BLOCKING)
    assert "G0283" in found.fix
    advantage = with_coverage(with_lines(*CLEAN_LINES, estim), payer_type="medicare_advantage")
    only(run("code.medicare_replacement", advantage), "code.medicare_replacement",
         Severity.WARNING)


# --- NCCI ---------------------------------------------------------------------------------


def test_ncci_pair_bypassed_with_a_documented_modifier_is_information_only():
    found = only(run("ncci.ptp", claim(), EDITS), "ncci.ptp", Severity.INFO)
    assert (found.line, found.code) == (1, "97124")


def test_ncci_pair_without_a_modifier_blocks_on_the_column_2_line():
    lines = (replace(CLEAN_LINES[0], modifiers=("GP",)), CLEAN_LINES[1])
    found = only(run("ncci.ptp", with_lines(*lines), EDITS), "ncci.ptp", Severity.BLOCKING)
    assert (found.line, found.code) == (1, "97124")
    assert found.message.endswith(".") and found.fix.endswith(".")


def test_ncci_uses_the_claims_line_numbers():
    lines = (replace(CLEAN_LINES[1], number=7), replace(CLEAN_LINES[0], number=9,
                                                        modifiers=("GP",)))
    found = only(run("ncci.ptp", with_lines(*lines), EDITS), "ncci.ptp", Severity.BLOCKING)
    assert found.line == 9


def test_ncci_without_tables_or_without_a_pair_passes():
    assert run("ncci.ptp", claim(), None) == []
    assert run("ncci.ptp", claim(), EditTables([ptp_edit("97112", "97110")])) == []


def test_mue_within_and_over_the_limit():
    assert run("ncci.mue", with_lines(*CLEAN_LINES, HOT_PACK), EDITS) == []
    over = replace(HOT_PACK, units=2)
    found = only(run("ncci.mue", with_lines(*CLEAN_LINES, over), EDITS), "ncci.mue",
                 Severity.BLOCKING)
    assert (found.line, found.code) == (3, "97010")


def test_ncci_rules_split_pair_and_unit_findings():
    tables = EditTables([ptp_edit("97140", "97124")], [mue("97124", 1)])
    lines = (replace(CLEAN_LINES[0], modifiers=("GP",)), CLEAN_LINES[1])
    assert {f.rule for f in run("ncci.ptp", with_lines(*lines), tables)} == {"ncci.ptp"}
    assert {f.rule for f in run("ncci.mue", with_lines(*lines), tables)} == {"ncci.mue"}


# --- modifiers --------------------------------------------------------------------------


def test_well_formed_modifiers_pass():
    assert run("modifier.valid", claim()) == []


@pytest.mark.parametrize(
    ("modifiers", "words"),
    [
        (("GP", "ZZ"), "unknown modifier ZZ"),
        (("GP", "GP"), "GP listed twice"),
        (("XS", "GP", "KX", "GA", "52"), "5 modifiers"),
    ],
)
def test_malformed_modifiers_block(modifiers, words):
    lines = (replace(CLEAN_LINES[0], modifiers=modifiers), CLEAN_LINES[1])
    found = only(run("modifier.valid", with_lines(*lines)), "modifier.valid",
                 Severity.BLOCKING)
    assert words in found.message and found.line == 1


def test_59_with_an_x_modifier_blocks():
    assert run("modifier.59_with_x", claim()) == []
    lines = (replace(CLEAN_LINES[0], modifiers=("59", "XS", "GP")), CLEAN_LINES[1])
    found = only(run("modifier.59_with_x", with_lines(*lines)), "modifier.59_with_x",
                 Severity.BLOCKING)
    assert "remove 59" in found.fix


def test_x_modifier_for_a_payer_that_takes_only_59_blocks():
    target = with_policy(claim(), modifier_style=ModifierStyle.MODIFIER_59)
    found = only(run("modifier.payer_style", target), "modifier.payer_style",
                 Severity.BLOCKING)
    assert "this payer accepts only 59" in found.fix
    lines = (replace(CLEAN_LINES[0], modifiers=("59", "GP")), CLEAN_LINES[1])
    assert run("modifier.payer_style", replace(target, lines=lines)) == []


def test_a_pair_the_payer_bundles_needs_its_bypass_modifier():
    # The clean claim's 97124 carries XS: a pair rule on it is met.
    pairs = frozenset({("97124", "97140")})
    assert run("modifier.payer_pair", with_policy(claim(), modifier_pairs=pairs)) == []
    assert run("modifier.payer_pair", claim()) == []
    # 97140 with 97124 and no modifier: blocked, on the 97140 line.
    target = with_policy(claim(), modifier_pairs=frozenset({("97140", "97124")}))
    found = only(run("modifier.payer_pair", target), "modifier.payer_pair",
                 Severity.BLOCKING)
    assert found.line == 2 and found.code == "97140"
    assert "billed with 97124" in found.message and "XS" in found.message
    assert "separate body region" in found.fix
    # A 59-only payer wants 59, and an X modifier does not satisfy it.
    strict = with_policy(target, modifier_style=ModifierStyle.MODIFIER_59)
    lines = (CLEAN_LINES[0], replace(CLEAN_LINES[1], modifiers=("XS", "GP")))
    found = only(run("modifier.payer_pair", replace(strict, lines=lines)),
                 "modifier.payer_pair", Severity.BLOCKING)
    assert "carries 59" in found.message
    lines = (CLEAN_LINES[0], replace(CLEAN_LINES[1], modifiers=("59", "GP")))
    assert run("modifier.payer_pair", replace(strict, lines=lines)) == []
    # The partner not billed: nothing to bundle.
    assert run("modifier.payer_pair", replace(target, lines=(CLEAN_LINES[1],))) == []


def test_therapy_modifier_missing_on_an_always_therapy_code_blocks():
    lines = (CLEAN_LINES[0], replace(CLEAN_LINES[1], modifiers=()))
    found = only(run("modifier.therapy_missing", with_lines(*lines)),
                 "modifier.therapy_missing", Severity.BLOCKING)
    assert (found.line, found.code) == (2, "97140") and "Add GP" in found.fix


def test_wrong_therapy_modifier_blocks_and_says_which_to_remove():
    lines = (CLEAN_LINES[0], replace(CLEAN_LINES[1], modifiers=("GO",)))
    found = only(run("modifier.therapy_missing", with_lines(*lines)),
                 "modifier.therapy_missing", Severity.BLOCKING)
    assert "remove GO" in found.fix


def test_therapy_modifier_is_not_required_on_97010_or_by_a_payer_without_one():
    assert run("modifier.therapy_missing", with_lines(*CLEAN_LINES, HOT_PACK)) == []
    bare = tuple(replace(item, modifiers=()) for item in CLEAN_LINES)
    assert run("modifier.therapy_missing",
               with_policy(with_lines(*bare), therapy_modifier=None)) == []


def test_therapy_modifier_for_a_payer_that_wants_none_warns():
    assert run("modifier.therapy_unexpected", claim()) == []
    target = with_policy(claim(), therapy_modifier=None)
    findings = run("modifier.therapy_unexpected", target)
    assert [(f.rule, f.severity, f.line) for f in findings] == [
        ("modifier.therapy_unexpected", Severity.WARNING, 1),
        ("modifier.therapy_unexpected", Severity.WARNING, 2),
    ]


def test_xs_backed_by_different_regions_passes():
    assert run("modifier.documented", claim()) == []


def test_xs_on_the_same_region_blocks():
    entries = (CLEAN_ENTRIES[0], replace(CLEAN_ENTRIES[1], body_region="lumbar"))
    found = only(run("modifier.documented", with_note(claim(), entries=entries)),
                 "modifier.documented", Severity.BLOCKING)
    assert found.line == 1 and "XS" in found.message


def test_xs_without_a_region_blocks():
    entries = (replace(CLEAN_ENTRIES[0], body_region=""), CLEAN_ENTRIES[1])
    only(run("modifier.documented", with_note(claim(), entries=entries)),
         "modifier.documented", Severity.BLOCKING)


def test_xs_on_left_and_right_shoulder_is_a_separate_site():
    entries = (entry("97124", 30, body_region="left shoulder", start_time=time(10, 0)),
               entry("97140", 10, body_region="right shoulder", start_time=time(10, 30)))
    assert run("modifier.documented", with_note(claim(), entries=entries)) == []


def _xu_claim(second_start: time):
    lines = (replace(CLEAN_LINES[0], modifiers=("XU", "GP")), CLEAN_LINES[1])
    entries = (replace(CLEAN_ENTRIES[0], body_region="low back"),
               replace(CLEAN_ENTRIES[1], body_region="low back", start_time=second_start))
    return with_note(with_lines(*lines), entries=entries)


def test_xu_with_separate_time_blocks_passes():
    # 97124 10:00-10:30, 97140 from 10:30: touching ends do not overlap.
    assert run("modifier.documented", _xu_claim(time(10, 30))) == []


def test_xu_with_overlapping_time_blocks_blocks():
    found = only(run("modifier.documented", _xu_claim(time(10, 20))), "modifier.documented",
                 Severity.BLOCKING)
    assert "XU" in found.message and "start times" in found.fix


def test_xu_without_start_times_blocks():
    lines = (replace(CLEAN_LINES[0], modifiers=("XU", "GP")), CLEAN_LINES[1])
    entries = tuple(replace(item, start_time=None) for item in CLEAN_ENTRIES)
    only(run("modifier.documented", with_note(with_lines(*lines), entries=entries)),
         "modifier.documented", Severity.BLOCKING)


def test_59_is_backed_by_either_a_region_or_a_time_block():
    region = (replace(CLEAN_LINES[0], modifiers=("59", "GP")), CLEAN_LINES[1])
    assert run("modifier.documented", with_lines(*region)) == []
    same_region = (replace(CLEAN_ENTRIES[0]), replace(CLEAN_ENTRIES[1], body_region="low back"))
    assert run("modifier.documented",
               with_note(with_lines(*region), entries=same_region)) == []  # separate time
    neither = tuple(replace(item, body_region="low back", start_time=None)
                    for item in CLEAN_ENTRIES)
    found = only(run("modifier.documented", with_note(with_lines(*region), entries=neither)),
                 "modifier.documented", Severity.BLOCKING)
    assert "59" in found.message and "different diagnosis alone" in found.fix


def test_modifier_on_a_code_the_note_does_not_document_blocks():
    lines = (*CLEAN_LINES, line(3, "97112", 1, modifiers=("XS", "GP")))
    found = only(run("modifier.documented", with_lines(*lines)), "modifier.documented",
                 Severity.BLOCKING)
    assert found.code == "97112"
