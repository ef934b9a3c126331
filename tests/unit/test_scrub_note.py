"""Scrub rules about the note behind the claim."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from handbill.core.claimdata import History, Severity
from tests.unit.scrub_factory import (
    CLEAN_ENTRIES,
    claim,
    entry,
    only,
    run,
    self_pay,
    with_history,
    with_note,
)


def test_signed_note_passes():
    assert run("note.signed", claim()) == []


def test_unsigned_note_blocks_even_for_self_pay():
    for base in (claim(), self_pay()):
        found = only(run("note.signed", with_note(base, signed_at=None)), "note.signed",
                     Severity.BLOCKING)
        assert "sign" in found.fix


def test_note_of_another_date_blocks():
    assert run("note.date", claim()) == []
    found = only(run("note.date", with_note(claim(), date_of_service=date(2026, 5, 3))),
                 "note.date", Severity.BLOCKING)
    assert "2026-05-03" in found.message and "2026-05-04" in found.message


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ("note.assessment", "assessment"),
        ("note.medical_necessity", "medical_necessity"),
    ],
)
def test_missing_assessment_or_necessity_blocks_insurance_and_warns_self_pay(rule, field):
    assert run(rule, claim()) == []
    only(run(rule, with_note(claim(), **{field: "  "})), rule, Severity.BLOCKING)
    only(run(rule, with_note(self_pay(), **{field: ""})), rule, Severity.WARNING)


@pytest.mark.parametrize("placeholder", ["n/a", "N/A", "see above", "-", "TBD", " . "])
def test_placeholders_do_not_count_as_documentation(placeholder):
    only(run("note.assessment", with_note(claim(), assessment=placeholder)),
         "note.assessment", Severity.BLOCKING)


@pytest.mark.parametrize(("rule", "field"), [("note.response", "response_to_treatment"),
                                             ("note.plan", "plan")])
def test_missing_response_or_plan_warns(rule, field):
    assert run(rule, claim()) == []
    only(run(rule, with_note(claim(), **{field: ""})), rule, Severity.WARNING)


def test_technique_missing_for_a_billed_code_blocks_on_its_line():
    assert run("note.technique", claim()) == []
    entries = (CLEAN_ENTRIES[0], replace(CLEAN_ENTRIES[1], technique=""))
    found = only(run("note.technique", with_note(claim(), entries=entries)),
                 "note.technique", Severity.BLOCKING)
    assert (found.line, found.code) == (2, "97140")


def test_technique_missing_only_on_an_unbilled_entry_is_fine():
    entries = (*CLEAN_ENTRIES, entry("97010", 10, technique=""))
    assert run("note.technique", with_note(claim(), entries=entries)) == []


def test_technique_missing_on_self_pay_warns():
    entries = (replace(CLEAN_ENTRIES[0], technique=""), CLEAN_ENTRIES[1])
    only(run("note.technique", with_note(self_pay(), entries=entries)),
         "note.technique", Severity.WARNING)


def test_necessity_tied_passes_when_the_statement_names_a_condition_without_codes():
    statement = "Needed to relieve the back spasm that stops her from sitting through work."
    assert run("note.necessity_tied", with_note(claim(), medical_necessity=statement)) == []


def test_necessity_tied_passes_when_the_statement_names_a_code_without_its_dot():
    statement = "Treatment for M25511 so she can lift her child."
    assert run("note.necessity_tied", with_note(claim(), medical_necessity=statement)) == []


def test_necessity_statement_unrelated_to_the_diagnoses_warns():
    statement = "Patient enjoys massage and wants to relax after a stressful week."
    only(run("note.necessity_tied", with_note(claim(), medical_necessity=statement)),
         "note.necessity_tied", Severity.WARNING)


def test_necessity_tied_leaves_empty_statements_to_the_necessity_rule():
    assert run("note.necessity_tied", with_note(claim(), medical_necessity="")) == []


def _cloned_note_text(base_text: str) -> str:
    return base_text.replace("6/10", "5/10")


def test_copy_forward_passes_for_a_rewritten_note():
    earlier = (
        "Reports low back much better, 2/10, slept through the night. Mild tone in lumbar "
        "paraspinals only; shoulder flexion full. Spasm resolving; reaching no longer "
        "limited. Reduce to every other week, then discharge. Massage to finish resolving "
        "the spasm. No soreness after treatment."
    )
    assert run("note.copy_forward", with_history(claim(), earlier_notes=(earlier,))) == []


def test_copy_forward_warns_for_a_note_cloned_with_one_number_changed():
    base = claim()
    cloned = _cloned_note_text(base.note.text)
    found = only(run("note.copy_forward", with_history(base, earlier_notes=("", cloned))),
                 "note.copy_forward", Severity.WARNING)
    assert "%" in found.message


def test_copy_forward_without_earlier_notes_passes():
    assert run("note.copy_forward", replace(claim(), history=History())) == []
