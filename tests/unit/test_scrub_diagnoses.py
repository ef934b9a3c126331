"""Diagnoses and diagnosis pointers (checked against the installed ICD-10-CM code set)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from handbill.core.claimdata import Severity
from handbill.core.codes import icd10
from handbill.core.scrub import diagnoses as diagnosis_rules
from tests.unit.scrub_factory import CLEAN_LINES, claim, only, run, self_pay, with_note


def with_diagnoses(*codes: str, base=None):
    target = base or claim()
    return with_note(replace(target, diagnoses=codes), diagnoses=codes)


def test_claim_with_diagnoses_passes_and_without_blocks():
    assert run("diagnosis.present", claim()) == []
    only(run("diagnosis.present", with_diagnoses()), "diagnosis.present", Severity.BLOCKING)
    only(run("diagnosis.present", with_diagnoses(base=self_pay())), "diagnosis.present",
         Severity.WARNING)


def test_twelve_diagnoses_pass_thirteen_block():
    codes = ("M62.830", "M25.511", "M54.2", "M54.6", "M79.7", "G44.209", "M54.12", "M54.16",
             "M53.82", "M53.1", "M62.81", "M60.9", "G89.29")
    assert run("diagnosis.count", with_diagnoses(*codes[:12])) == []
    found = only(run("diagnosis.count", with_diagnoses(*codes)), "diagnosis.count",
                 Severity.BLOCKING)
    assert "13 diagnoses" in found.message


def test_a_diagnosis_listed_twice_blocks():
    found = only(run("diagnosis.count", with_diagnoses("M62.830", "M62830")),
                 "diagnosis.count", Severity.BLOCKING)
    assert "M62830" in found.message


def test_billable_codes_pass():
    assert run("diagnosis.valid", claim()) == []
    assert run("diagnosis.valid", with_diagnoses("S13.4XXD", "m5450")) == []


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("M54.5", "header since FY2022"),  # billable until 1 Oct 2021
        ("Z99.99", "not in ICD-10-CM"),
        ("S13.4XXB", "7th character"),
        ("97124", "not an ICD-10-CM code"),
    ],
)
def test_codes_that_cannot_go_on_a_claim_block(code, words):
    found = only(run("diagnosis.valid", with_diagnoses("M62.830", code)), "diagnosis.valid",
                 Severity.BLOCKING)
    assert found.code == code and words in found.message


def test_header_code_names_the_billable_codes_under_it():
    found = only(run("diagnosis.valid", with_diagnoses("M54.5")), "diagnosis.valid",
                 Severity.BLOCKING)
    assert "M54.50" in found.fix


def test_missing_seventh_character_is_its_own_rule():
    for code in ("S13.4", "S13.4XX", "S16.1"):
        target = with_diagnoses(code)
        assert run("diagnosis.valid", target) == []
        found = only(run("diagnosis.seventh_character", target), "diagnosis.seventh_character",
                     Severity.BLOCKING)
        assert found.code == code and "XXD" in found.fix
    assert run("diagnosis.seventh_character", with_diagnoses("S13.4XXA", "M54.2")) == []


def test_code_set_missing_is_a_warning_not_a_crash(monkeypatch):
    def unavailable(code, *, date_of_service=None, index=None):
        raise icd10.Icd10DataUnavailable("no ICD-10-CM index installed")

    monkeypatch.setattr(diagnosis_rules.icd10, "lookup", unavailable)
    only(run("diagnosis.valid", claim()), "diagnosis.valid", Severity.WARNING)
    assert run("diagnosis.seventh_character", claim()) == []
    assert run("diagnosis.unspecified", claim()) == []
    assert run("note.necessity_tied", claim()) == []  # the statement names M62.830


def test_date_outside_the_code_set_release_is_noted():
    target = replace(claim(), date_of_service=date(2019, 5, 1))
    findings = run("diagnosis.valid", target)
    assert [f.severity for f in findings] == [Severity.INFO]
    assert "2019-05-01" in findings[0].message


def test_unspecified_side_warns_as_laterality_not_twice():
    target = with_diagnoses("M62.830", "M25.519")
    assert run("diagnosis.laterality", claim()) == []
    found = only(run("diagnosis.laterality", target), "diagnosis.laterality",
                 Severity.WARNING)
    assert found.code == "M25.519"
    assert run("diagnosis.unspecified", target) == []


def test_unspecified_code_warns():
    assert run("diagnosis.unspecified", claim()) == []
    found = only(run("diagnosis.unspecified", with_diagnoses("M54.50")),
                 "diagnosis.unspecified", Severity.WARNING)
    assert "unspecified" in found.message


def test_claim_diagnosis_missing_from_the_note_blocks():
    assert run("diagnosis.in_note", claim()) == []
    # Dots and case do not matter.
    assert run("diagnosis.in_note", with_note(claim(), diagnoses=("m62830", "M25.511"))) == []
    target = replace(claim(), diagnoses=("M62.830", "M25.511", "M54.2"))
    found = only(run("diagnosis.in_note", target), "diagnosis.in_note", Severity.BLOCKING)
    assert found.code == "M54.2"
    only(run("diagnosis.in_note", replace(self_pay(), diagnoses=("M54.2",))),
         "diagnosis.in_note", Severity.WARNING)


@pytest.mark.parametrize(
    ("pointers", "words"),
    [
        ((), "no diagnosis pointer"),
        ((1, 2, 1), "pointer 1 repeated"),
        ((1, 3), "pointer 3 points past the 2 diagnoses"),
        ((0,), "pointer 0"),
        ((1, 2, 1, 2, 1), "5 pointers"),
    ],
)
def test_bad_pointers_block(pointers, words):
    lines = (replace(CLEAN_LINES[0], pointers=pointers), CLEAN_LINES[1])
    found = only(run("diagnosis.pointers", replace(claim(), lines=lines)),
                 "diagnosis.pointers", Severity.BLOCKING)
    assert words in found.message and found.line == 1


def test_good_pointers_pass():
    lines = (replace(CLEAN_LINES[0], pointers=(2, 1)), CLEAN_LINES[1])
    assert run("diagnosis.pointers", replace(claim(), lines=lines)) == []
