"""Scrub rules that read the payer's eligibility answer (Claim.eligibility)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from handbill.core.claimdata import Severity
from handbill.core.eligibility import CoverageStatus, EligibilitySummary, TherapyBenefit, summarize
from handbill.core.eligibility_values import EligibilityRequest, Member, Provider, Rejection
from handbill.core.money import Cents
from handbill.core.sandbox_eligibility import answer
from handbill.core.scrub import scrub
from tests.unit.scrub_factory import (
    AS_OF,
    DOS,
    authorization,
    claim,
    line,
    only,
    policy,
    run,
    self_pay,
    with_history,
)

ELIGIBILITY_RULES = ("eligibility.inactive", "eligibility.rejected", "eligibility.not_covered",
                     "eligibility.visits", "eligibility.authorization")


def therapy(**changes: object) -> TherapyBenefit:
    base = TherapyBenefit(service_type="AE", covered=True, copay=Cents(2500), visit_limit=20,
                          visits_remaining=12, period="23", authorization_required=False)
    return replace(base, **changes)  # type: ignore[arg-type]


def summary(**changes: object) -> EligibilitySummary:
    base = EligibilitySummary(
        service_date=DOS, checked_on=date(2026, 5, 1), status=CoverageStatus.ACTIVE,
        payer_name="Cascade Test Health", coverage_start=date(2026, 1, 1), therapy=therapy(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def checked(**changes: object):
    return replace(claim(), eligibility=summary(**changes))


@pytest.mark.parametrize("rule", ELIGIBILITY_RULES)
def test_never_checked_and_self_pay_are_silent(rule):
    assert run(rule, claim()) == []
    assert run(rule, replace(self_pay(), eligibility=summary(status=CoverageStatus.INACTIVE))) \
        == []


@pytest.mark.parametrize("rule", ELIGIBILITY_RULES)
def test_a_good_answer_is_silent(rule):
    assert run(rule, checked()) == []


def test_inactive_answer_blocks_the_visit_on_and_after_the_date_asked():
    found = only(run("eligibility.inactive", checked(status=CoverageStatus.INACTIVE,
                                                     therapy=None)),
                 "eligibility.inactive", Severity.BLOCKING)
    assert "inactive" in found.message and DOS.isoformat() in found.message
    # An answer asked for a later date says nothing about an earlier visit.
    later = checked(status=CoverageStatus.INACTIVE, service_date=date(2026, 6, 1))
    assert run("eligibility.inactive", later) == []


def test_reported_end_date_decides_when_there_is_one():
    ended = checked(status=CoverageStatus.INACTIVE, coverage_end=date(2026, 4, 30))
    found = only(run("eligibility.inactive", ended), "eligibility.inactive", Severity.BLOCKING)
    assert "ended on 2026-04-30" in found.message
    # The end date is the last day covered: a visit on it is still covered.
    assert run("eligibility.inactive", checked(status=CoverageStatus.INACTIVE,
                                               coverage_end=DOS)) == []
    active_but_ended = checked(coverage_end=date(2026, 5, 3))
    assert only(run("eligibility.inactive", active_but_ended), "eligibility.inactive",
                Severity.BLOCKING)


def test_plan_begin_after_the_visit_is_not_read_as_inactive():
    # Payers report the start of the current plan year, not of the membership.
    assert run("eligibility.inactive", checked(coverage_start=date(2026, 7, 1))) == []


def test_wrong_member_id_rejection_blocks_with_the_fix():
    rejected = checked(status=CoverageStatus.REJECTED, therapy=None,
                       rejections=(Rejection("72", "C", "subscriber"),))
    found = only(run("eligibility.rejected", rejected), "eligibility.rejected",
                 Severity.BLOCKING)
    assert "member ID is missing or not valid (AAA 72)" in found.message
    assert "Copy the member ID exactly" in found.fix


def test_payer_unable_to_respond_only_warns():
    busy = checked(status=CoverageStatus.REJECTED, therapy=None,
                   rejections=(Rejection("42", "R", "payer"),))
    found = only(run("eligibility.rejected", busy), "eligibility.rejected", Severity.WARNING)
    assert "could not answer" in found.message


def test_plan_without_massage_benefit_blocks():
    found = only(run("eligibility.not_covered", checked(therapy=therapy(covered=False))),
                 "eligibility.not_covered", Severity.BLOCKING)
    assert "physical medicine is not covered" in found.message
    noted = checked(therapy=therapy(covered=False),
                    messages=("NOT COVERED WHEN PROVIDED BY THIS PROVIDER TYPE (225700000X)",))
    assert run("eligibility.not_covered", noted)[0].message.endswith(
        "Payer's note: Not covered when provided by this provider type (225700000X).")
    assert "CARC 96" in found.fix


def test_exclusion_of_another_year_is_not_applied():
    other_year = checked(therapy=therapy(covered=False), service_date=date(2025, 12, 1))
    assert run("eligibility.not_covered", other_year) == []


def test_cap_reached_blocks_and_nearly_reached_warns():
    reached = only(run("eligibility.visits", checked(therapy=therapy(visits_remaining=0))),
                   "eligibility.visits", Severity.BLOCKING)
    assert "no physical medicine visits left of 20 visits" in reached.message
    assert "CARC 119" in reached.fix
    near = only(run("eligibility.visits", checked(therapy=therapy(visits_remaining=2))),
                "eligibility.visits", Severity.WARNING)
    assert "2 visits left of 20 visits" in near.message
    assert run("eligibility.visits", checked(therapy=therapy(visits_remaining=3))) == []


def test_visit_count_is_not_applied_before_the_date_asked():
    later_check = checked(therapy=therapy(visits_remaining=0), service_date=date(2026, 6, 1))
    assert run("eligibility.visits", later_check) == []


def test_authorization_required_after_n_visits_without_one_on_file_blocks():
    answer_says = checked(therapy=therapy(authorization_required=True,
                                          authorization_after_visits=2))
    found = only(run("eligibility.authorization", answer_says), "eligibility.authorization",
                 Severity.BLOCKING)
    assert "authorization after 2 visits" in found.message and "visit 4" in found.message
    # Not yet needed on the second visit of the year.
    early = with_history(answer_says, visits_this_year=1)
    assert run("eligibility.authorization", early) == []
    # An active authorization on file satisfies it.
    on_file = replace(answer_says, authorizations=(*answer_says.authorizations, authorization()))
    assert run("eligibility.authorization", on_file) == []


def test_authorization_from_the_first_visit():
    first = checked(therapy=therapy(authorization_required=True, authorization_after_visits=0))
    found = only(run("eligibility.authorization", with_history(first, visits_this_year=0)),
                 "eligibility.authorization", Severity.BLOCKING)
    assert "from the first visit" in found.message


def test_profile_rule_already_reporting_the_visit_is_not_repeated():
    answer_says = checked(therapy=therapy(authorization_required=True,
                                          authorization_after_visits=2))
    both = replace(answer_says, policy=policy(authorization_after_visits=3))
    assert run("eligibility.authorization", both) == []
    findings = scrub(both, as_of=AS_OF)
    assert [f.rule for f in findings if "authorization" in f.rule] == ["authorization.required"]


def test_authorization_for_a_billed_code():
    per_code = checked(therapy=therapy(authorization_codes=("97140",)))
    found = only(run("eligibility.authorization", per_code), "eligibility.authorization",
                 Severity.BLOCKING)
    assert found.code == "97140"
    without = replace(per_code, lines=(line(1, "97124", 2, modifiers=("GP",)),))
    assert run("eligibility.authorization", without) == []


# --- the sandbox's four cases, read as the scrubber reads them -----------------------------------


def _sandbox_summary(member_id: str, visits_used: int = 3) -> EligibilitySummary:
    request = EligibilityRequest(
        trace_number="E1", originator_id="1123456789", payer_name="CASCADE TEST HEALTH",
        payer_id="CTH01", provider=Provider("1234567893", organization_name="CLINIC",
                                            taxonomy="225700000X"),
        subscriber=Member("SAMPLE", "JORDAN", member_id=member_id), service_date=DOS,
        service_types=("30", "AE", "PT", "BE"),
    )
    reply = answer(request, policy=policy(authorization_after_visits=2), payer_type="commercial",
                   visits_used=visits_used)
    return summarize(reply, service_date=DOS, checked_on=date(2026, 5, 1))


@pytest.mark.parametrize(("member_id", "rule"), [
    ("CTH000120", "eligibility.inactive"),
    ("CTH000121", "eligibility.not_covered"),
    ("CTH000123", "eligibility.rejected"),
])
def test_sandbox_cases_become_blocking_findings(member_id, rule):
    target = replace(claim(), policy=policy(), eligibility=_sandbox_summary(member_id))
    findings = [f for f in scrub(target, as_of=AS_OF) if f.rule.startswith("eligibility.")]
    assert [(f.rule, f.severity) for f in findings] == [(rule, Severity.BLOCKING)]


def test_sandbox_cap_nearly_used_warns_and_authorization_blocks():
    target = replace(claim(), eligibility=_sandbox_summary("CTH000122"))
    findings = [f for f in scrub(target, as_of=AS_OF) if f.rule.startswith("eligibility.")]
    assert sorted((f.rule, f.severity) for f in findings) == [
        ("eligibility.authorization", Severity.BLOCKING),
        ("eligibility.visits", Severity.WARNING),
    ]
