"""The scrubber as a whole: the registry, the order of findings, and a clean claim."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbill.core.claim_builder import build_lines
from handbill.core.claimdata import ClaimLine, Finding, ServiceEntry, Severity
from handbill.core.money import Cents
from handbill.core.scrub import RULES, rule_ids, scrub
from tests.unit.scrub_factory import AS_OF, EDITS, claim, line, self_pay, with_note

FEES = {"97124": Cents(6000), "97140": Cents(6500), "97010": Cents(1500)}


def test_rule_ids_are_unique_and_shaped():
    ids = rule_ids()
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert re.fullmatch(r"[a-z0-9]+\.[a-z0-9_]+", rule.id), rule.id
        assert rule.description.endswith(".") and len(rule.description) < 100


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_rule_passes_the_clean_claim(rule):
    assert rule.check(claim(), AS_OF) == []


def test_clean_claim_has_no_blocking_or_warning_findings():
    findings = scrub(claim(), as_of=AS_OF, edits=EDITS)
    # Only the note-backed NCCI bypass is reported, as information.
    assert [(f.rule, f.severity) for f in findings] == [("ncci.ptp", Severity.INFO)]


def test_clean_self_pay_claim_is_a_superbill():
    findings = scrub(self_pay(), as_of=AS_OF)
    assert [(f.rule, f.severity) for f in findings] == [("coverage.self_pay", Severity.INFO)]


def test_findings_come_blocking_first_then_warnings_then_information():
    messy = with_note(
        replace(self_pay(), lines=(line(1, "97124", 3, minutes=30),)),
        signed_at=None, plan="",
    )
    findings = scrub(messy, as_of=AS_OF)
    severities = [finding.severity for finding in findings]
    assert Severity.BLOCKING in severities and Severity.WARNING in severities
    rank = {Severity.BLOCKING: 0, Severity.WARNING: 1, Severity.INFO: 2}
    assert severities == sorted(severities, key=rank.__getitem__)
    assert severities[-1] is Severity.INFO


def test_every_finding_names_a_registered_rule():
    messy = with_note(
        replace(claim(), lines=(line(1, "97124", 9, modifiers=("59", "XS", "ZZ")),
                                line(2, "99999", 1, charge=Cents(0), pointers=(7,)))),
        signed_at=None, plan="", assessment="", entries=(),
    )
    findings = scrub(messy, as_of=AS_OF, edits=EDITS)
    assert findings
    registered = set(rule_ids())
    assert {finding.rule for finding in findings} <= registered
    for finding in findings:
        assert isinstance(finding, Finding)
        assert finding.message and finding.fix


def test_without_edit_tables_the_ncci_rules_stay_silent():
    findings = scrub(claim(), as_of=AS_OF)
    assert not [f for f in findings if f.rule.startswith("ncci.")]


def test_a_claim_built_from_the_clean_note_scrubs_clean():
    base = claim()
    built = build_lines(note=base.note, policy=base.policy, taxonomy=base.provider.taxonomy,
                        fee_schedule=FEES, edits=EDITS, payer_type="commercial")
    rebuilt = replace(base, lines=built.lines, diagnoses=built.diagnoses)
    findings = scrub(rebuilt, as_of=AS_OF, edits=EDITS)
    assert [f for f in findings if f.severity is not Severity.INFO] == []


def test_every_rule_has_tests_in_the_scrub_test_files():
    here = Path(__file__).parent
    text = "\n".join(path.read_text() for path in here.glob("test_scrub_*.py")
                     if path.name != Path(__file__).name)
    untested = [rule.id for rule in RULES if f'"{rule.id}"' not in text]
    assert untested == []


_codes = st.sampled_from(["97124", "97140", "97112", "97010", "97014", "98940", "99999", ""])
_modifiers = st.lists(st.sampled_from(["GP", "GO", "59", "XS", "XU", "XE", "KX", "Q1", ""]),
                      max_size=6).map(tuple)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(
        st.builds(
            ClaimLine,
            number=st.integers(min_value=1, max_value=30),
            code=_codes,
            units=st.integers(min_value=-1, max_value=12),
            modifiers=_modifiers,
            pointers=st.lists(st.integers(min_value=-1, max_value=14), max_size=6).map(tuple),
            charge=st.integers(min_value=-500, max_value=50_000).map(Cents),
            minutes=st.integers(min_value=-5, max_value=200),
            rationale=st.text(max_size=5),
        ),
        max_size=6,
    ).map(tuple),
    entries=st.lists(
        st.builds(
            ServiceEntry,
            code=_codes,
            minutes=st.integers(min_value=-10, max_value=2000),
            technique=st.text(max_size=5),
            body_region=st.sampled_from(["", "low back", "neck", "left shoulder", "??"]),
            start_time=st.one_of(st.none(), st.times()),
        ),
        max_size=6,
    ).map(tuple),
    diagnoses=st.lists(st.sampled_from(["M62.830", "M54.5", "S13.4", "", "x", "M25.519"]),
                       max_size=14).map(tuple),
)
def test_scrub_reports_odd_claims_instead_of_crashing(lines, entries, diagnoses):
    odd = with_note(replace(claim(), lines=lines, diagnoses=diagnoses), entries=entries)
    for findings in (scrub(odd, as_of=AS_OF, edits=EDITS), scrub(self_pay(odd), as_of=AS_OF)):
        assert all(finding.rule in set(rule_ids()) for finding in findings)


def test_every_rule_is_documented():
    page = (Path(__file__).parents[2] / "docs" / "scrub-rules.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", page, flags=re.MULTILINE))
    assert documented == set(rule_ids())
