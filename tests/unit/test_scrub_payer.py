"""Coverage, payer policy, property & casualty fields and the rendering provider."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from handbill.core.claimdata import Severity
from handbill.core.policy import MASSAGE_THERAPIST
from tests.unit.scrub_factory import (
    DOS,
    claim,
    only,
    run,
    self_pay,
    with_coverage,
    with_policy,
    with_provider,
)

# --- coverage -----------------------------------------------------------------------------


def test_self_pay_is_noted_as_a_superbill():
    assert run("coverage.self_pay", claim()) == []
    found = only(run("coverage.self_pay", self_pay()), "coverage.self_pay", Severity.INFO)
    assert "superbill" in found.fix


def test_active_coverage_passes():
    assert run("coverage.active", claim()) == []
    assert run("coverage.active", self_pay()) == []
    # Ends the day after the visit: [start, end) still covers the date of service.
    assert run("coverage.active", with_coverage(claim(), end_date=date(2026, 5, 5))) == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"end_date": DOS}, "ended on 2026-05-04"),
        ({"start_date": date(2026, 6, 1)}, "starts on 2026-06-01"),
    ],
)
def test_coverage_not_active_on_the_date_of_service_blocks(changes, words):
    found = only(run("coverage.active", with_coverage(claim(), **changes)), "coverage.active",
                 Severity.BLOCKING)
    assert words in found.message


def test_insured_claim_without_a_policy_warns():
    assert run("policy.on_file", claim()) == []
    assert run("policy.on_file", self_pay()) == []
    only(run("policy.on_file", replace(claim(), policy=None)), "policy.on_file",
         Severity.WARNING)


def test_policy_version_not_in_force_warns():
    target = with_policy(claim(), effective_date=date(2025, 1, 1), end_date=date(2026, 1, 1))
    found = only(run("policy.on_file", target), "policy.on_file", Severity.WARNING)
    assert "2025-01-01 to 2026-01-01" in found.message


# --- property & casualty ------------------------------------------------------------------


def auto_claim(**changes):
    defaults = {"payer_type": "auto", "claim_number": "PIP-55-0192",
                "accident_date": date(2026, 3, 2), "accident_state": "WA"}
    defaults.update(changes)
    return with_coverage(claim(), **defaults)


def test_auto_claim_with_claim_number_and_accident_date_passes():
    assert run("pc.claim_fields", auto_claim()) == []
    assert run("pc.claim_fields", claim()) == []  # commercial needs neither


@pytest.mark.parametrize("payer_type", ["auto", "workers_comp"])
def test_auto_or_workers_comp_without_claim_number_blocks(payer_type):
    found = only(run("pc.claim_fields", auto_claim(payer_type=payer_type, claim_number=" ")),
                 "pc.claim_fields", Severity.BLOCKING)
    assert "claim number" in found.message


def test_policy_requiring_a_claim_number_applies_to_any_payer_type():
    target = with_policy(claim(), requires_claim_number=True)
    found = only(run("pc.claim_fields", target), "pc.claim_fields", Severity.BLOCKING)
    assert "claim number and the date of the accident" in found.message


def test_accident_after_the_date_of_service_blocks():
    assert run("pc.accident_date", auto_claim()) == []
    assert run("pc.accident_date", auto_claim(accident_date=DOS)) == []
    found = only(run("pc.accident_date", auto_claim(accident_date=date(2026, 5, 5))),
                 "pc.accident_date", Severity.BLOCKING)
    assert "2026-05-05" in found.message


# --- provider -----------------------------------------------------------------------------


def test_in_network_provider_passes():
    assert run("provider.enrollment", claim()) == []
    assert run("provider.enrollment", with_provider(self_pay(), enrollment_status=None)) == []


@pytest.mark.parametrize("status", [None, "not_enrolled", "pending", "terminated"])
def test_provider_not_credentialed_blocks(status):
    found = only(run("provider.enrollment", with_provider(claim(), enrollment_status=status)),
                 "provider.enrollment", Severity.BLOCKING)
    assert "Robin Example" in found.message


def test_out_of_network_provider_warns():
    only(run("provider.enrollment", with_provider(claim(), enrollment_status="out_of_network")),
         "provider.enrollment", Severity.WARNING)


def test_code_not_paid_for_the_provider_type_blocks_without_suggesting_a_swap():
    assert run("provider.code_allowed", claim()) == []
    target = with_policy(claim(), allowed_codes={MASSAGE_THERAPIST: frozenset({"97124"})})
    found = only(run("provider.code_allowed", target), "provider.code_allowed",
                 Severity.BLOCKING)
    assert (found.line, found.code) == (2, "97140")
    assert found.fix == (
        "This payer does not pay 225700000X for 97140; do not swap codes — bill the patient "
        "if the plan allows, or drop the line."
    )
    assert "does not pay a massage therapist (225700000X) for 97140" in found.message


def test_taxonomy_the_policy_does_not_list_may_bill_any_code():
    target = with_provider(
        with_policy(claim(), allowed_codes={MASSAGE_THERAPIST: frozenset({"97124"})}),
        taxonomy="225100000X",
    )
    assert run("provider.code_allowed", target) == []


def test_valid_licence_passes():
    assert run("provider.license", claim()) == []
    # Valid through its expiry date.
    assert run("provider.license", with_provider(claim(), license_expires_date=DOS)) == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"license_expires_date": date(2026, 5, 3)}, "expired on 2026-05-03"),
        ({"license_state": ""}, "no licence state"),
        ({"license_expires_date": None}, "no expiry date"),
        ({"license_state": "OR"}, "licensed in OR but treated in WA"),
    ],
)
def test_licence_problems_block_even_for_self_pay(changes, words):
    for base in (claim(), self_pay()):
        found = only(run("provider.license", with_provider(base, **changes)),
                     "provider.license", Severity.BLOCKING)
        assert words in found.message


def test_massage_therapist_billed_to_original_medicare_blocks():
    assert run("provider.medicare_lmt", claim()) == []
    assert run("provider.medicare_lmt",
               with_coverage(claim(), payer_type="medicare_advantage")) == []
    physical_therapist = with_provider(with_coverage(claim(), payer_type="medicare"),
                                       taxonomy="225100000X")
    assert run("provider.medicare_lmt", physical_therapist) == []
    found = only(run("provider.medicare_lmt", with_coverage(claim(), payer_type="medicare")),
                 "provider.medicare_lmt", Severity.BLOCKING)
    assert "self-pay" in found.fix
