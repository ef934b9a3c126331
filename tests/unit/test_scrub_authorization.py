"""Referrals, prescriptions and authorizations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from handbill.core.claimdata import Severity
from handbill.core.money import Cents
from handbill.core.policy import ReferralKind
from tests.unit.scrub_factory import (
    CLEAN_LINES,
    DOS,
    authorization,
    claim,
    line,
    only,
    prescription,
    run,
    self_pay,
    with_history,
    with_policy,
)

# --- referral / prescription ----------------------------------------------------------------


def test_prescription_in_date_passes():
    assert run("referral.on_file", claim()) == []
    assert run("referral.on_file", self_pay()) == []
    assert run("referral.on_file", with_policy(replace(claim(), authorizations=()),
                                               referral=ReferralKind.NONE)) == []


def test_prescription_missing_blocks():
    found = only(run("referral.on_file", replace(claim(), authorizations=())),
                 "referral.on_file", Severity.BLOCKING)
    assert "needs a prescription and none is on file" in found.message


def test_prescription_out_of_date_blocks_and_shows_its_dates():
    expired = prescription(start_date=date(2025, 6, 1), end_date=date(2026, 5, 1))
    found = only(run("referral.on_file", replace(claim(), authorizations=(expired,))),
                 "referral.on_file", Severity.BLOCKING)
    assert "2025-06-01 to 2026-05-01" in found.message


def test_a_referral_does_not_stand_in_for_a_required_prescription():
    referral = prescription(kind=prescription().kind.REFERRAL)
    only(run("referral.on_file", replace(claim(), authorizations=(referral,))),
         "referral.on_file", Severity.BLOCKING)


# --- authorization needed -------------------------------------------------------------------


def test_authorization_not_needed_before_the_threshold():
    assert run("authorization.required", with_history(claim(), visits_this_year=11)) == []


def test_authorization_needed_and_missing_blocks():
    found = only(run("authorization.required", with_history(claim(), visits_this_year=12)),
                 "authorization.required", Severity.BLOCKING)
    assert "visit 13" in found.message and "after 12 visits" in found.message


def test_authorization_needed_from_the_first_visit():
    target = with_history(with_policy(claim(), authorization_after_visits=0),
                          visits_this_year=0)
    found = only(run("authorization.required", target), "authorization.required",
                 Severity.BLOCKING)
    assert "from the first visit" in found.message


def test_authorization_needed_and_active_passes():
    target = replace(with_history(claim(), visits_this_year=12),
                     authorizations=(prescription(), authorization()))
    assert run("authorization.required", target) == []


def test_authorization_out_of_date_does_not_count():
    stale = authorization(end_date=DOS)
    target = replace(with_history(claim(), visits_this_year=12),
                     authorizations=(prescription(), stale))
    only(run("authorization.required", target), "authorization.required", Severity.BLOCKING)


# --- what is left -------------------------------------------------------------------------


def with_auth(**changes):
    return replace(claim(), authorizations=(prescription(), authorization(**changes)))


def test_authorization_with_room_passes():
    assert run("authorization.remaining", with_auth()) == []


def test_visits_used_up_block():
    found = only(run("authorization.remaining", with_auth(visits_used=10)),
                 "authorization.remaining", Severity.BLOCKING)
    assert "all 10 visits are used" in found.message


def test_last_visit_warns():
    found = only(run("authorization.remaining", with_auth(visits_used=9)),
                 "authorization.remaining", Severity.WARNING)
    assert "last of 10 visits" in found.message and "renewal" in found.fix


def test_prescription_visit_count_is_checked_too():
    target = replace(claim(), authorizations=(prescription(visits_used=12),))
    found = only(run("authorization.remaining", target), "authorization.remaining",
                 Severity.BLOCKING)
    assert "Prescription RX-1" in found.message


def test_units_over_what_is_left_block():
    # 97124: 19 of 20 used, the claim bills 2.
    found = only(run("authorization.remaining", with_auth(units_used={"97124": 19})),
                 "authorization.remaining", Severity.BLOCKING)
    assert "97124: 2 billed but only 1 of 20 units left" in found.message


def test_units_reaching_the_limit_warn():
    only(run("authorization.remaining", with_auth(units_used={"97124": 18})),
         "authorization.remaining", Severity.WARNING)


def test_dollars_over_what_is_left_block():
    # The claim charges $185.00 (2 × $60 + $65).
    found = only(run("authorization.remaining", with_auth(dollars_used=Cents(190000))),
                 "authorization.remaining", Severity.BLOCKING)
    assert "$185.00" in found.message and "$100.00 left" in found.message


def test_dollars_running_low_warn():
    only(run("authorization.remaining", with_auth(dollars_used=Cents(170000))),
         "authorization.remaining", Severity.WARNING)


def test_a_second_authorization_with_room_is_enough():
    used_up = authorization(number="AUTH-OLD", visits_used=10)
    fresh = authorization(number="AUTH-NEW", visits_used=0)
    target = replace(claim(), authorizations=(prescription(), used_up, fresh))
    assert run("authorization.remaining", target) == []


def test_authorization_for_other_codes_is_not_drawn_on():
    other = authorization(codes=frozenset({"97112"}), visits_used=10)
    target = replace(claim(), authorizations=(prescription(), other))
    assert run("authorization.remaining", target) == []


def test_self_pay_has_no_authorization_to_check():
    target = replace(self_pay(), authorizations=(authorization(visits_used=10),))
    assert run("authorization.remaining", target) == []


# --- codes covered ------------------------------------------------------------------------


def test_authorized_codes_cover_the_claim():
    target = replace(with_history(claim(), visits_this_year=12),
                     authorizations=(prescription(), authorization()))
    assert run("authorization.codes", target) == []


def test_billed_code_outside_the_authorization_blocks():
    lines = (*CLEAN_LINES, line(3, "97112", 1))
    target = replace(with_history(claim(), visits_this_year=12), lines=lines,
                     authorizations=(prescription(), authorization()))
    found = only(run("authorization.codes", target), "authorization.codes", Severity.BLOCKING)
    assert (found.line, found.code) == (3, "97112")
    assert "97124, 97140" in found.message


def test_authorization_codes_unchecked_before_authorization_is_needed():
    lines = (*CLEAN_LINES, line(3, "97112", 1))
    target = replace(claim(), lines=lines, authorizations=(prescription(), authorization()))
    assert run("authorization.codes", target) == []
