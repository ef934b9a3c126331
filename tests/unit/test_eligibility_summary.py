"""A 271 in plain words, and the payer sandbox's answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from handbill.core.codes import eligibility as codes
from handbill.core.eligibility import (
    CoverageStatus,
    describe,
    dollars,
    service_types_for,
    summarize,
)
from handbill.core.eligibility_values import (
    Benefit,
    DatePeriod,
    EligibilityAnswer,
    EligibilityValueError,
    Member,
    Provider,
    Rejection,
)
from handbill.core.money import Cents
from handbill.core.policy import read_shipped_policies
from handbill.core.sandbox_eligibility import SandboxCase, answer, case_for
from tests.unit import eligibility_factory as f

DAY = f.SERVICE_DATE
CHECKED = date(2026, 11, 23)
POLICIES = {p.profile: p for p in read_shipped_policies()}


def reply(*benefits: Benefit, **changes: object) -> EligibilityAnswer:
    base = EligibilityAnswer(
        trace_number="E1", reference="E1", payer_name="EVERGREEN HEALTH PPO", payer_id="EVGHP",
        provider=Provider("1234567893", organization_name="CLINIC"),
        subscriber=Member("SAMPLE", "JORDAN", member_id="EVH1", group_number="G1"),
        benefits=benefits,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def words(answer_: EligibilityAnswer) -> str:
    return describe(summarize(answer_, service_date=DAY, checked_on=CHECKED))


ACTIVE = Benefit("1", "IND", ("30", "AE"), "C1", "GOLD PPO")


def test_the_issue_example_reads_as_written():
    text = words(reply(
        ACTIVE,
        Benefit("B", "IND", ("AE",), period="27", amount=Cents(2500), authorization="Y",
                in_network="Y", messages=("PRIOR AUTHORIZATION REQUIRED AFTER 6 VISITS",)),
        Benefit("F", "IND", ("AE",), period="23", quantity_qualifier="VS", quantity=Decimal(20)),
        Benefit("F", "IND", ("AE",), period="29", quantity_qualifier="VS", quantity=Decimal(12)),
    ))
    assert text.startswith("Active. Physical medicine: $25 copay, 12 of 20 visits left this "
                           "calendar year, authorization required after 6 visits.")


def _sandbox(member_id: str, profile: str = "evergreen-health-ppo",
             payer_type: str = "commercial", visits_used: int = 8) -> EligibilityAnswer:
    policy = POLICIES[profile].for_date(DAY)
    asked = f.request(subscriber=f.subscriber(member_id=member_id),
                      service_types=service_types_for(policy))
    return answer(asked, policy=policy, payer_type=payer_type, visits_used=visits_used)


def test_the_four_sandbox_cases_in_plain_words():
    inactive = summarize(_sandbox("EVH000000010"), service_date=DAY, checked_on=CHECKED)
    assert inactive.status is CoverageStatus.INACTIVE
    assert describe(inactive) == (
        "Inactive: coverage ended 2026-10-31. Ask the patient for their current insurance "
        "card and check again, or see them as self-pay."
    )
    assert inactive.alerts() == ["Coverage is not active on the visit date: get the current "
                                 "card or see the patient as self-pay."]

    no_massage = summarize(_sandbox("EVH000000011"), service_date=DAY, checked_on=CHECKED)
    assert describe(no_massage).startswith(
        "Active, but physical medicine is not covered under this plan: visits will be denied "
        "as non-covered. Tell the patient before the visit and agree how they will pay. "
        "Not covered: massage therapy, physical therapy."
    )
    assert no_massage.alerts() == ["Physical medicine is not covered: tell the patient before "
                                   "the visit."]

    nearly = summarize(_sandbox("EVH000000012"), service_date=DAY, checked_on=CHECKED)
    assert describe(nearly).startswith(
        "Active. Physical medicine: $25 copay, 1 of 20 visits left this calendar year.")
    assert nearly.alerts() == ["Only 1 visit left: tell the patient before the cap is "
                               "reached."]

    wrong_id = summarize(_sandbox("EVH000000013"), service_date=DAY, checked_on=CHECKED)
    assert wrong_id.status is CoverageStatus.REJECTED and wrong_id.identity_rejected
    assert describe(wrong_id) == (
        "Not confirmed: the payer rejected the check. The member ID is missing or not valid "
        "(AAA 72). Fix: Copy the member ID exactly from the insurance card (with any letters "
        "in front, without spaces or dashes), then check again."
    )


def test_an_ordinary_member_with_the_full_answer():
    text = words(_sandbox("EVH000000019"))
    assert text == (
        "Active. Physical medicine: $25 copay, 12 of 20 visits left this calendar year. "
        "Deductible: $0 of $500 left. Payer's note: For this provider type the plan pays 97124 "
        "only."
    )


def test_sandbox_profiles_shape_the_answer():
    silverline = words(_sandbox("SLV000000019", "silverline-medicare-advantage",
                                "medicare_advantage", visits_used=1))
    assert silverline.startswith("Active. Physical medicine: $20 copay, 11 of 12 visits left "
                                 "this calendar year, authorization required from the first "
                                 "visit.")
    assert "a referral from the ordering physician is required" in silverline
    rainier = summarize(_sandbox("RUM000000019", "rainier-uniform-plan"), service_date=DAY,
                        checked_on=CHECKED)
    assert rainier.therapy is not None and rainier.therapy.authorization_codes == ("97112",)
    assert rainier.therapy.authorization_required is False
    assert "authorization required for 97112" in describe(rainier)
    medicare = summarize(_sandbox("1EG4TE5MK79", "original-medicare", "medicare"),
                         service_date=DAY, checked_on=CHECKED)
    assert medicare.therapy is not None and not medicare.therapy.covered
    assert "Not covered when provided by this provider type (225700000X)" in describe(medicare)
    assert "chiropractic" in describe(medicare)  # 33 is asked where the payer pays DCs
    over = summarize(_sandbox("EVH000000019", visits_used=25), service_date=DAY,
                     checked_on=CHECKED)
    assert over.therapy is not None and over.therapy.visits_remaining == 0
    assert over.alerts() == ["No visits left this year: the payer will deny the next visit."]


def test_sandbox_without_a_profile_confirms_the_plan_only():
    asked = f.request(subscriber=f.subscriber(member_id="ABC000009"))
    reply_ = answer(asked, policy=None, payer_type="other")
    summary = summarize(reply_, service_date=DAY, checked_on=CHECKED)
    assert summary.status is CoverageStatus.ACTIVE and summary.therapy is not None
    assert describe(summary) == "Active. Physical medicine: covered, no details given."


@pytest.mark.parametrize(("member_id", "case"), [
    ("EVH123456780", SandboxCase.INACTIVE),
    ("EVH123456781", SandboxCase.NO_MASSAGE_BENEFIT),
    ("EVH123456782", SandboxCase.CAP_NEARLY_USED),
    ("EVH123456783", SandboxCase.WRONG_MEMBER_ID),
    ("EVH123456784", SandboxCase.ACTIVE),
    ("evh12345678a", SandboxCase.ACTIVE),
    ("EVH1", SandboxCase.WRONG_MEMBER_ID),
    ("EVH-123456", SandboxCase.WRONG_MEMBER_ID),
    ("  ", SandboxCase.WRONG_MEMBER_ID),
])
def test_sandbox_case_follows_the_member_id(member_id, case):
    assert case_for(member_id) is case


def test_sandbox_answers_a_dependent_under_the_subscriber():
    asked = f.request(dependent=f.dependent())
    reply_ = answer(asked, policy=POLICIES["evergreen-health-ppo"].for_date(DAY),
                    payer_type="commercial")
    assert reply_.dependent == f.dependent() and reply_.patient == f.dependent()
    assert summarize(reply_, service_date=DAY, checked_on=CHECKED).status \
        is CoverageStatus.ACTIVE


def test_sandbox_is_deterministic():
    assert _sandbox("EVH123456784") == _sandbox("EVH123456784")


# --- summary details ------------------------------------------------------------------------------


def test_in_network_individual_amounts_win():
    summary = summarize(reply(
        ACTIVE,
        Benefit("B", "FAM", ("AE",), amount=Cents(9900), in_network="Y"),
        Benefit("B", "IND", ("AE",), amount=Cents(6000), in_network="N"),
        Benefit("B", "IND", ("AE",), amount=Cents(3000), in_network="Y"),
        Benefit("A", "IND", ("AE",), percent=Decimal("0.2"), in_network="Y"),
        Benefit("C", "IND", ("30",), period="23", amount=Cents(100000)),
        Benefit("C", "IND", ("30",), period="29", amount=Cents(25050)),
    ), service_date=DAY, checked_on=CHECKED)
    assert summary.therapy is not None and summary.therapy.copay == Cents(3000)
    assert summary.deductible == Cents(100000) and summary.deductible_remaining == Cents(25050)
    assert describe(summary) == ("Active. Physical medicine: $30 copay, 20% coinsurance. "
                                 "Deductible: $250.50 of $1,000 left.")


def test_remaining_visits_from_visits_used():
    summary = summarize(reply(
        ACTIVE,
        Benefit("F", "IND", ("AE",), period="23", quantity_qualifier="VS", quantity=Decimal(16)),
        Benefit("F", "IND", ("AE",), period="23", quantity_qualifier="99", quantity=Decimal(5)),
    ), service_date=DAY, checked_on=CHECKED)
    assert summary.therapy is not None
    assert (summary.therapy.visit_limit, summary.therapy.visits_remaining) == (16, 11)


@pytest.mark.parametrize(("message", "after"), [
    ("PRIOR AUTHORIZATION REQUIRED AFTER 6 VISITS", 6),
    ("AUTH REQ AFTER THE 12TH VISIT", 12),
    ("After 8 visits an authorization is needed", 8),
    ("PRIOR AUTHORIZATION REQUIRED FROM THE FIRST VISIT", 0),
    ("AUTHORIZATION REQUIRED FOR EVERY VISIT", 0),
    ("LIMIT 20 VISITS PER YEAR", None),
    ("CALL AFTER 6 VISITS", None),
])
def test_authorization_threshold_from_the_payers_words(message, after):
    summary = summarize(reply(ACTIVE, Benefit("B", "IND", ("AE",), amount=Cents(100),
                                              authorization="Y", messages=(message,))),
                        service_date=DAY, checked_on=CHECKED)
    assert summary.therapy is not None
    assert summary.therapy.authorization_after_visits == after


def test_massage_therapy_benefit_when_physical_medicine_is_not_answered():
    summary = summarize(reply(Benefit("1", "IND", ("30",)),
                              Benefit("B", "IND", ("BE",), amount=Cents(1500))),
                        service_date=DAY, checked_on=CHECKED)
    assert describe(summary) == "Active. Massage therapy: $15 copay."


def test_plan_only_answer_asks_to_call():
    assert words(reply(Benefit("1", "IND", ("30",)))) == (
        "Active. The payer said nothing about physical medicine or massage; call to confirm "
        "the massage benefit."
    )


def test_active_answer_with_an_end_before_the_visit():
    text = words(reply(ACTIVE, dates=(DatePeriod("346", date(2026, 1, 1)),
                                      DatePeriod("347", date(2026, 11, 20)))))
    assert text.startswith("Not active on 2026-11-24: the payer reports coverage from "
                           "2026-01-01 to 2026-11-20.")


def test_answer_without_status_and_rejection_of_unknown_code():
    assert "without saying whether the coverage is active" in words(reply())
    summary = summarize(reply(rejections=(Rejection("ZQ", "", "payer"),)), service_date=DAY,
                        checked_on=CHECKED)
    assert summary.status is CoverageStatus.REJECTED and not summary.identity_rejected
    assert "(reason ZQ) (AAA ZQ)" in describe(summary)


def test_summary_as_dict_carries_words_and_alerts():
    summary = summarize(_sandbox("EVH000000012"), service_date=DAY, checked_on=CHECKED)
    data = summary.as_dict()
    assert data["status"] == "active" and data["therapy"]["visits_remaining"] == 1
    assert data["therapy"]["copay"] == "25.00" and data["therapy"]["label"] == "Physical medicine"
    assert data["plain_words"] == describe(summary) and data["alerts"] == summary.alerts()


def test_dollars_drop_zero_cents():
    assert dollars(Cents(2500)) == "$25" and dollars(Cents(2550)) == "$25.50"
    assert dollars(Cents(123456700)) == "$1,234,567"


def test_service_types_add_chiropractic_where_the_payer_pays_chiropractors():
    assert service_types_for(None) == ("30", "AE", "PT", "BE")
    assert service_types_for(POLICIES["evergreen-health-ppo"].for_date(DAY)) == (
        "30", "AE", "PT", "BE")
    assert service_types_for(POLICIES["original-medicare"].for_date(DAY))[-1] == "33"


def test_rejection_reasons_have_words_and_fixes():
    for code, reason in codes.REJECTION_REASONS.items():
        assert reason.code == code and reason.words and reason.fix.endswith(".")
    assert codes.rejection_reason("75").words == "the payer cannot find the subscriber"
    assert codes.rejection_reason("75").identity
    assert not codes.rejection_reason("42").identity


def test_stored_answer_that_cannot_be_read_says_so():
    with pytest.raises(EligibilityValueError, match="cannot be read"):
        EligibilityAnswer.from_json({"trace_number": "E1"})
    broken = reply(ACTIVE).to_json()
    broken["benefits"][0]["amount"] = "twelve"
    with pytest.raises(EligibilityValueError):
        EligibilityAnswer.from_json(broken)
