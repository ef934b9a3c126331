"""Every shipped payer profile reads, and each one keeps the rule that defines it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from handbill.core.codes import cpt
from handbill.core.money import Cents
from handbill.core.policy import (
    CLAIM_FILING_INDICATORS,
    DATA_DIR,
    MASSAGE_THERAPIST,
    LineStyle,
    ModifierStyle,
    PayerType,
    PolicyError,
    PolicyFile,
    ReferralKind,
    UnitRule,
    policy_from_rules,
    read_policy_file,
    rules_of,
    shipped_policy_files,
)

PHYSICAL_THERAPIST = "225100000X"
CHIROPRACTOR = "111N00000X"
SHIPPED = shipped_policy_files()


def shipped(profile: str) -> PolicyFile:
    return read_policy_file(DATA_DIR / f"{profile}.toml")


def test_handbill_ships_the_profiles_billers_need() -> None:
    profiles = {path.stem for path in SHIPPED}
    assert profiles >= {
        "evergreen-health-ppo",
        "cascade-mutual",
        "rainier-uniform-plan",
        "silverline-medicare-advantage",
        "pacific-auto-pip",
        "columbia-workers-comp",
        "original-medicare",
    }
    with_two_versions = [p for p in SHIPPED if len(read_policy_file(p).versions) >= 2]
    assert len(with_two_versions) >= 2


def test_payer_ids_are_distinct() -> None:
    ids = [read_policy_file(path).payer_id for path in SHIPPED]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
class TestEveryShippedFile:
    def test_reads_without_error(self, path: Path) -> None:
        read = read_policy_file(path)
        assert read.profile == path.stem
        assert read.versions

    def test_says_who_the_payer_is(self, path: Path) -> None:
        read = read_policy_file(path)
        assert read.payer_type in set(PayerType)
        assert read.claim_filing_indicator in CLAIM_FILING_INDICATORS
        assert read.payer_id
        assert 0 < len(read.payer_name) <= 60

    def test_notes_say_where_the_rules_come_from(self, path: Path) -> None:
        notes = read_policy_file(path).notes
        assert "reference" in notes or "§" in notes
        assert any(tag in notes for tag in ("[V", "[S", "[U"))

    def test_fees_are_cents_for_catalogue_codes(self, path: Path) -> None:
        for version in read_policy_file(path).versions:
            assert version.fees, f"{version.effective_date}: no expected_allowed amounts"
            for code, fee in version.fees.items():
                assert cpt.is_known(code)
                assert isinstance(fee.expected_allowed, Cents)
                assert Cents(500) <= fee.expected_allowed <= Cents(10_000)

    def test_every_version_is_stored_and_read_back_unchanged(self, path: Path) -> None:
        for version in read_policy_file(path).versions:
            rules = json.loads(json.dumps(rules_of(version)))
            again = policy_from_rules(
                profile=version.profile,
                name=version.name,
                rules=rules,
                effective_date=version.effective_date,
                end_date=version.end_date,
            )
            assert again == version

    def test_only_the_last_version_runs_on(self, path: Path) -> None:
        versions = read_policy_file(path).versions
        assert versions[-1].end_date is None
        for earlier, later in zip(versions, versions[1:], strict=False):
            assert earlier.end_date == later.effective_date


class TestEvergreenHealthPpo:
    """Commercial PPO: LMTs bill 97124 only, per-code units, X modifiers, 20 visits in 2026."""

    read = shipped("evergreen-health-ppo")

    def test_payer(self) -> None:
        assert (self.read.payer_type, self.read.claim_filing_indicator) == ("commercial", "CI")

    def test_version_in_force(self) -> None:
        assert self.read.for_date(date(2025, 6, 15)).visit_cap_per_year == 24
        assert self.read.for_date(date(2025, 12, 31)).visit_cap_per_year == 24
        assert self.read.for_date(date(2026, 1, 1)).visit_cap_per_year == 20
        assert self.read.for_date(date(2027, 3, 1)).visit_cap_per_year == 20
        with pytest.raises(PolicyError, match="no version in force on 2024-12-31"):
            self.read.for_date(date(2024, 12, 31))

    def test_massage_only_for_massage_therapists(self) -> None:
        policy = self.read.for_date(date(2026, 2, 1))
        assert policy.code_allowed("97124", MASSAGE_THERAPIST)
        assert not policy.code_allowed("97140", MASSAGE_THERAPIST)
        assert not policy.code_allowed("97112", MASSAGE_THERAPIST)
        assert policy.code_allowed("97140", PHYSICAL_THERAPIST)

    def test_billing_habits(self) -> None:
        policy = self.read.for_date(date(2026, 2, 1))
        assert policy.unit_rule is UnitRule.CPT
        assert policy.modifier_style is ModifierStyle.X_MODIFIERS
        assert policy.therapy_modifier is None
        assert policy.daily_unit_cap == 4
        assert policy.referral is ReferralKind.NONE
        assert policy.authorization_after_visits is None
        assert policy.timely_filing_days == 180
        assert policy.line_style is LineStyle.ONE_LINE
        assert not policy.bills_97010

    def test_fees_by_year(self) -> None:
        assert self.read.for_date(date(2025, 6, 1)).expected_allowed("97124") == Cents(2740)
        assert self.read.for_date(date(2026, 6, 1)).expected_allowed("97124") == Cents(2810)


class TestCascadeMutual:
    """Commercial: LMTs bill 97140 only, CMS units, 59 only, GP, 90 days."""

    read = shipped("cascade-mutual")

    def test_version_in_force(self) -> None:
        assert self.read.for_date(date(2025, 1, 1)) is self.read.versions[0]
        assert self.read.for_date(date(2026, 8, 1)) is self.read.versions[0]

    def test_manual_therapy_only_for_massage_therapists(self) -> None:
        policy = self.read.for_date(date(2026, 2, 1))
        assert policy.code_allowed("97140", MASSAGE_THERAPIST)
        assert not policy.code_allowed("97124", MASSAGE_THERAPIST)

    def test_billing_habits(self) -> None:
        policy = self.read.for_date(date(2026, 2, 1))
        assert policy.unit_rule is UnitRule.CMS
        assert policy.modifier_style is ModifierStyle.MODIFIER_59
        assert policy.therapy_modifier == "GP"
        assert policy.timely_filing_days == 90
        assert policy.expected_allowed("97140") == Cents(3125)


class TestRainierUniformPlan:
    """WA-like commercial: prescription, 16 visits a year, 4 units a day, 97112 authorized."""

    read = shipped("rainier-uniform-plan")

    def test_version_in_force(self) -> None:
        assert self.read.version_on(date(2024, 12, 31)) is None
        assert self.read.for_date(date(2026, 5, 5)).visit_cap_per_year == 16

    def test_prescription_and_caps(self) -> None:
        policy = self.read.for_date(date(2026, 5, 5))
        assert policy.referral is ReferralKind.PRESCRIPTION
        assert policy.visit_cap_per_year == 16
        assert policy.daily_unit_cap == 4
        assert policy.unit_rule is UnitRule.CMS

    def test_neuromuscular_reeducation_needs_prior_authorization(self) -> None:
        policy = self.read.for_date(date(2026, 5, 5))
        assert policy.authorization_needed("97112", 1)
        assert not policy.authorization_needed("97124", 16)
        assert not policy.authorization_needed("97140", 1)
        for code in ("97112", "97124", "97140"):
            assert policy.code_allowed(code, MASSAGE_THERAPIST)
        assert policy.expected_allowed("97112") == Cents(3215)


class TestSilverlineMedicareAdvantage:
    """MA supplemental massage: physician's order, CMS units, no 97010, 365 days."""

    read = shipped("silverline-medicare-advantage")

    def test_payer(self) -> None:
        assert self.read.payer_type == PayerType.MEDICARE_ADVANTAGE
        assert self.read.claim_filing_indicator == "16"

    def test_version_in_force(self) -> None:
        assert self.read.for_date(date(2025, 12, 31)).effective_date == date(2025, 1, 1)
        assert self.read.for_date(date(2026, 1, 1)).effective_date == date(2026, 1, 1)

    def test_physicians_order_and_medicare_habits(self) -> None:
        for on in (date(2025, 3, 1), date(2026, 3, 1)):
            policy = self.read.for_date(on)
            assert policy.referral is ReferralKind.REFERRAL
            assert policy.unit_rule is UnitRule.CMS
            assert not policy.bills_97010
            assert not policy.code_allowed("97010", MASSAGE_THERAPIST)
            assert policy.code_allowed("97124", MASSAGE_THERAPIST)
            assert policy.therapy_modifier is None
            assert policy.visit_cap_per_year == 12
            assert policy.timely_filing_days == 365

    def test_2026_asks_for_an_authorization_from_the_first_visit(self) -> None:
        assert not self.read.for_date(date(2025, 3, 1)).authorization_needed("97124", 1)
        assert self.read.for_date(date(2026, 3, 1)).authorization_needed("97124", 1)
        assert self.read.for_date(date(2026, 3, 1)).expected_allowed("97124") == Cents(2475)


class TestPacificAutoPip:
    """Auto PIP: AM, claim number, prescription, per-code units, 97010 paid."""

    read = shipped("pacific-auto-pip")

    def test_payer(self) -> None:
        assert (self.read.payer_type, self.read.claim_filing_indicator) == ("auto", "AM")

    def test_property_and_casualty_rules(self) -> None:
        policy = self.read.for_date(date(2026, 4, 1))
        assert policy.requires_claim_number
        assert policy.referral is ReferralKind.PRESCRIPTION
        assert policy.unit_rule is UnitRule.CPT
        assert policy.visit_cap_per_year is None

    def test_hot_packs_are_paid(self) -> None:
        policy = self.read.for_date(date(2026, 4, 1))
        assert policy.bills_97010
        assert policy.code_allowed("97010", MASSAGE_THERAPIST)
        assert policy.expected_allowed("97010") == Cents(1400)

    def test_the_unit_choice_is_marked_unverified(self) -> None:
        assert "[U" in self.read.notes
        assert "CPT per-code" in self.read.notes


class TestColumbiaWorkersComp:
    """WC (WA L&I-like): first 6 visits free of authorization, claim number, CMS units."""

    read = shipped("columbia-workers-comp")

    def test_payer(self) -> None:
        assert (self.read.payer_type, self.read.claim_filing_indicator) == ("workers_comp", "WC")

    def test_version_in_force_follows_the_july_fee_schedule(self) -> None:
        assert self.read.version_on(date(2025, 6, 30)) is None
        assert self.read.for_date(date(2025, 7, 1)).expected_allowed("97124") == Cents(3002)
        assert self.read.for_date(date(2026, 6, 30)).expected_allowed("97124") == Cents(3002)
        assert self.read.for_date(date(2026, 7, 1)).expected_allowed("97124") == Cents(3110)

    def test_authorization_from_the_seventh_visit(self) -> None:
        policy = self.read.for_date(date(2026, 3, 1))
        assert policy.authorization_after_visits == 6
        assert not policy.authorization_needed("97124", 6)
        assert policy.authorization_needed("97124", 7)

    def test_claim_number_order_and_units(self) -> None:
        policy = self.read.for_date(date(2026, 3, 1))
        assert policy.requires_claim_number
        assert policy.referral is ReferralKind.PRESCRIPTION
        assert policy.unit_rule is UnitRule.CMS


class TestOriginalMedicare:
    """Original Medicare pays massage therapists nothing; PTs with GP and the 8-minute rule."""

    read = shipped("original-medicare")

    def test_payer(self) -> None:
        assert (self.read.payer_type, self.read.claim_filing_indicator) == ("medicare", "MB")

    def test_pays_massage_therapists_nothing(self) -> None:
        policy = self.read.for_date(date(2026, 1, 15))
        assert policy.allowed_codes[MASSAGE_THERAPIST] == frozenset()
        assert not any(policy.code_allowed(code, MASSAGE_THERAPIST) for code in cpt.CATALOGUE)

    def test_therapists_and_chiropractors(self) -> None:
        policy = self.read.for_date(date(2026, 1, 15))
        assert policy.code_allowed("97124", PHYSICAL_THERAPIST)
        assert policy.code_allowed("98940", CHIROPRACTOR)
        assert not policy.code_allowed("98943", CHIROPRACTOR)
        assert policy.therapy_modifier == "GP"
        assert policy.unit_rule is UnitRule.CMS
        assert not policy.bills_97010
        assert policy.timely_filing_days == 365
