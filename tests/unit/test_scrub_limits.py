"""Visit caps, filing deadlines, dates, duplicates, earlier denials and charges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from handbill.core.claimdata import PriorClaimLine, PriorDenial, Severity
from handbill.core.money import Cents
from tests.unit.scrub_factory import (
    AS_OF,
    CLEAN_LINES,
    DOS,
    claim,
    only,
    run,
    self_pay,
    with_history,
    with_policy,
)

# --- dates and deadlines --------------------------------------------------------------------


def test_visit_in_the_past_passes_and_in_the_future_blocks():
    assert run("claim.date_of_service", claim()) == []
    assert run("claim.date_of_service", replace(claim(), date_of_service=AS_OF)) == []
    found = only(run("claim.date_of_service",
                     replace(claim(), date_of_service=AS_OF + timedelta(days=1))),
                 "claim.date_of_service", Severity.BLOCKING)
    assert "future" in found.message


def _filed_after(days: int):
    return replace(claim(), date_of_service=AS_OF - timedelta(days=days))


def test_timely_filing_well_inside_the_limit_passes():
    assert run("limits.timely_filing", _filed_after(75)) == []
    assert run("limits.timely_filing", replace(self_pay(), date_of_service=date(2020, 1, 1))) == []


@pytest.mark.parametrize("days", [76, 90])
def test_timely_filing_within_14_days_of_the_limit_warns(days):
    found = only(run("limits.timely_filing", _filed_after(days)), "limits.timely_filing",
                 Severity.WARNING)
    assert f"{90 - days} day" in found.message


def test_timely_filing_past_the_limit_blocks():
    found = only(run("limits.timely_filing", _filed_after(91)), "limits.timely_filing",
                 Severity.BLOCKING)
    assert "91 days" in found.message and "CARC 29" in found.fix


# --- visit cap ------------------------------------------------------------------------------


def test_visit_cap_far_away_passes():
    assert run("limits.visit_cap", with_history(claim(), visits_this_year=16)) == []
    assert run("limits.visit_cap", with_policy(claim(), visit_cap_per_year=None)) == []


@pytest.mark.parametrize(("before", "left"), [(17, 2), (19, 0)])
def test_visit_cap_close_warns(before, left):
    found = only(run("limits.visit_cap", with_history(claim(), visits_this_year=before)),
                 "limits.visit_cap", Severity.WARNING)
    assert f"Visit {before + 1} of 20" in found.message and f"{left} visit" in found.message


def test_visit_cap_reached_blocks():
    found = only(run("limits.visit_cap", with_history(claim(), visits_this_year=20)),
                 "limits.visit_cap", Severity.BLOCKING)
    assert "visit 21" in found.message and "CARC 119" in found.fix


# --- duplicates -----------------------------------------------------------------------------


def prior(code: str = "97124", status: str = "submitted", **changes):
    defaults = {"claim_id": "HB-2026-000077", "date_of_service": DOS, "code": code,
                "status": status}
    defaults.update(changes)
    return PriorClaimLine(**defaults)


def test_no_earlier_claim_for_the_service_passes():
    lines = (
        prior(date_of_service=DOS - timedelta(days=7)),
        prior(code="97112"),
        prior(status="void"),
        prior(status="rejected"),
        prior(claim_id="HB-2026-000101"),  # this claim itself
    )
    assert run("duplicate.line", with_history(claim(), prior_lines=lines)) == []


@pytest.mark.parametrize("status", ["submitted", "paid", "denied", "draft"])
def test_same_service_on_another_live_claim_blocks(status):
    found = only(run("duplicate.line", with_history(claim(), prior_lines=(prior(status=status),
                                                                           prior(status=status)))),
                 "duplicate.line", Severity.BLOCKING)
    assert (found.line, found.code) == (1, "97124")
    assert "HB-2026-000077" in found.message and "frequency 7" in found.fix


def test_replacement_claim_expects_the_earlier_claim():
    target = replace(with_history(claim(), prior_lines=(prior(),)), frequency="7")
    assert run("duplicate.line", target) == []


# --- earlier denials ------------------------------------------------------------------------


def denial(code: str, reason: str, day: date = date(2026, 2, 2)) -> PriorDenial:
    return PriorDenial(code=code, reason=reason, date_of_service=day)


def test_other_denials_do_not_warn():
    denials = (denial("97124", "45"), denial("97112", "170"), denial("97140", "197"))
    assert run("history.denials", with_history(claim(), denials=denials)) == []
    assert run("history.denials", with_history(self_pay(), denials=(denial("97124", "170"),))) == []


def test_earlier_provider_type_denials_warn_once_per_code_and_reason():
    denials = (denial("97140", "170"), denial("97140", "CO-170", date(2026, 3, 9)),
               denial("97124", "204"))
    findings = run("history.denials", with_history(claim(), denials=denials))
    assert [(f.rule, f.severity, f.code) for f in findings] == [
        ("history.denials", Severity.WARNING, "97124"),
        ("history.denials", Severity.WARNING, "97140"),
    ]
    assert "2 times" in findings[1].message and "2026-03-09" in findings[1].message


def test_non_covered_denial_warns():
    found = only(run("history.denials", with_history(claim(), denials=(denial("97124", "96"),))),
                 "history.denials", Severity.WARNING)
    assert "CARC 96" in found.message


# --- charges --------------------------------------------------------------------------------


def test_positive_charges_pass():
    assert run("charge.total", claim()) == []
    assert run("charge.line", claim()) == []


def test_zero_total_or_no_lines_block():
    zero = tuple(replace(item, charge=Cents(0)) for item in CLEAN_LINES)
    found = only(run("charge.total", replace(claim(), lines=zero)), "charge.total",
                 Severity.BLOCKING)
    assert "$0.00" in found.message
    found = only(run("charge.total", replace(claim(), lines=())), "charge.total",
                 Severity.BLOCKING)
    assert "no service lines" in found.message


def test_a_line_without_a_charge_blocks():
    lines = (CLEAN_LINES[0], replace(CLEAN_LINES[1], charge=Cents(-100)))
    found = only(run("charge.line", replace(claim(), lines=lines)), "charge.line",
                 Severity.BLOCKING)
    assert found.line == 2 and "-$1.00" in found.message
