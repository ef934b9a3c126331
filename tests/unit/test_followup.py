"""The pure follow-up rules: next steps, aging, the filing clock, money at risk,
underpayments and denial → rule proposals."""

from __future__ import annotations

from datetime import date

import pytest

from handbill.core import followup as fu
from handbill.core import policy as core_policy
from handbill.core.money import Cents
from handbill.core.policy import MASSAGE_THERAPIST, PayerPolicy, policy_from_rules, rules_of

TODAY = date(2026, 12, 7)
OTHER_TAXONOMY = "111N00000X"  # chiropractor


def _policy(**overrides: object) -> PayerPolicy:
    rules: dict[str, object] = {
        "unit_rule": "cpt",
        "allowed_codes": {MASSAGE_THERAPIST: ["97124", "97140"]},
        "bills_97010": True,
        "modifier_style": "x",
        "therapy_modifier": "",
        "referral": "none",
        "timely_filing_days": 90,
        "line_style": "one_line",
        "expected_allowed": {"97124": "30.00", "97140": "32.50"},
    }
    rules.update(overrides)
    return policy_from_rules(profile="test-plan", name="Test Plan", rules=rules,
                             effective_date=date(2026, 1, 1), end_date=None)


# --- next steps --------------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "reason", "action", "words"), [
    ("CO", "197", fu.StepAction.CORRECTED_CLAIM, "authorization number"),
    ("CO", "97", fu.StepAction.CORRECTED_CLAIM, "59/XS"),
    ("CO", "236", fu.StepAction.CORRECTED_CLAIM, "body regions"),
    ("CO", "29", fu.StepAction.APPEAL, "proof of earlier submission"),
    ("PR", "1", fu.StepAction.BILL_PATIENT, "Deductible"),
    ("PR", "2", fu.StepAction.BILL_PATIENT, "Coinsurance"),
    ("PR", "3", fu.StepAction.BILL_PATIENT, "Copay"),
    ("PR", "204", fu.StepAction.BILL_PATIENT, "bill the patient"),
    ("CO", "204", fu.StepAction.BILL_PATIENT, "bill the patient"),
    ("CO", "170", fu.StepAction.WRITE_OFF, "provider type"),
    ("CO", "109", fu.StepAction.BILL_OTHER_PAYER, "right payer"),
    ("OA", "18", fu.StepAction.REVIEW, "duplicate"),
    ("CO", "4", fu.StepAction.CORRECTED_CLAIM, "GP"),
    ("PR", "119", fu.StepAction.BILL_PATIENT, "Benefit maximum"),
    ("CO", "119", fu.StepAction.WRITE_OFF, "Benefit maximum"),
])
def test_next_step_table(group: str, reason: str, action: fu.StepAction, words: str) -> None:
    step = fu.next_step(group, reason)
    assert step.action is action
    assert words in step.step
    assert step.codes == f"{group}-{reason}"
    assert step.known


def test_next_step_meaning_comes_from_the_code_tables() -> None:
    step = fu.next_step("CO", "197", ["N130"])
    assert step.meaning.startswith("Precertification, authorization or notification was missing")
    assert "may not bill the patient" in step.meaning  # CO's who-owes words
    assert "N130: The plan's benefit documents restrict this service" in step.meaning
    assert step.codes == "CO-197 N130"


def test_next_step_normalises_codes() -> None:
    assert fu.next_step(" co ", "0197").codes == "CO-197"
    assert fu.next_step("co", "197").action is fu.StepAction.CORRECTED_CLAIM


def test_any_patient_group_reason_bills_the_patient() -> None:
    step = fu.next_step("PR", "50")
    assert step.action is fu.StepAction.BILL_PATIENT


def test_ma130_means_a_new_claim_not_an_appeal() -> None:
    step = fu.next_step("CO", "16", ["MA130"])
    assert step.action is fu.StepAction.NEW_ORIGINAL
    assert "frequency 1" in step.step


def test_unknown_carc_is_review_never_an_error() -> None:
    step = fu.next_step("CO", "999")
    assert step.action is fu.StepAction.REVIEW
    assert not step.known
    assert "not in Handbill's table" in step.meaning
    assert fu.next_step("ZZ", "45").codes == "ZZ-45"


def test_contractual_cut_and_prior_payer_are_not_work() -> None:
    assert not fu.is_work("CO", "45")
    assert not fu.is_work("OA", "23")
    assert fu.is_work("CO", "197")
    assert fu.is_work("PR", "45")


@pytest.mark.parametrize("category", ["A3", "A6", "A7", "A8"])
def test_277ca_rejections_are_resent_as_new_originals(category: str) -> None:
    step = fu.rejection_step("277ca", f"{category}:21:85", "Invalid billing provider NPI")
    assert step.action is fu.StepAction.NEW_ORIGINAL
    assert step.known
    assert "new original" in step.step and "frequency 1" in step.step
    assert "Invalid billing provider NPI" in step.meaning
    assert step.codes == f"277CA {category}:21:85"


def test_999_rejection_names_the_field() -> None:
    step = fu.rejection_step("999", "R", "NM109 in 2010BA: invalid value BADID")
    assert step.codes == "999 R"
    assert "NM109 in 2010BA" in step.meaning
    assert step.action is fu.StepAction.NEW_ORIGINAL
    assert fu.rejection_step("999", "A").known is False
    assert fu.rejection_step("277ca", "A2:20:PR").known is False


def test_rejected_claim_with_only_a_note() -> None:
    step = fu.rejection_step("claim", "", "Subscriber ID invalid")
    assert step.codes == "Rejected" and "Subscriber ID invalid" in step.meaning
    assert step.action is fu.StepAction.NEW_ORIGINAL


def test_denied_claim_without_lines() -> None:
    assert fu.denied_claim_step().meaning == "Denied"


# --- aging -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "label"), [
    (-3, "0-30"), (0, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
    (90, "61-90"), (91, "91-120"), (120, "91-120"), (121, ">120"), (4000, ">120"),
])
def test_bucket_edges(days: int, label: str) -> None:
    assert fu.bucket_of(days) == label


def test_aging_by_payer_from_the_date_of_service() -> None:
    balances = [
        fu.OpenBalance("C1", "Evergreen", date(2026, 11, 30), Cents(10_000)),  # 7 days
        fu.OpenBalance("C2", "Evergreen", date(2026, 10, 1), Cents(5_000)),  # 67 days
        fu.OpenBalance("C3", "Cascade", date(2026, 6, 1), Cents(20_000)),  # >120
        fu.OpenBalance("C4", "Cascade", date(2026, 11, 7), Cents(0)),  # closed: left out
        fu.OpenBalance("C5", "Cascade", date(2026, 11, 7), Cents(-1_500)),  # credit
        fu.OpenBalance("C6", "Evergreen", date(2026, 12, 8), Cents(700)),  # future DOS
    ]
    report = fu.age_receivables(balances, as_of=TODAY)
    assert [row.payer for row in report.rows] == ["Cascade", "Evergreen"]
    cascade, evergreen = report.rows
    assert cascade.buckets[">120"] == Cents(20_000) and cascade.claims == 1
    assert evergreen.buckets["0-30"] == Cents(10_700)
    assert evergreen.buckets["61-90"] == Cents(5_000)
    assert evergreen.total == Cents(15_700) and evergreen.claims == 3
    assert report.total == Cents(35_700)
    assert report.totals["31-60"] == Cents(0)
    assert [c.claim for c in report.credits] == ["C5"]
    shown = report.as_dict()
    assert shown["aged_from"] == "date_of_service"
    assert shown["payers"][1]["buckets"] == {
        "0-30": "107.00", "31-60": "0.00", "61-90": "50.00", "91-120": "0.00", ">120": "0.00"}
    assert shown["credit_balances"] == [{"claim": "C5", "payer": "Cascade", "balance": "-15.00"}]


def test_aging_of_nothing() -> None:
    report = fu.age_receivables([], as_of=TODAY)
    assert report.rows == () and report.total == Cents(0)


# --- timely filing -----------------------------------------------------------------------------


def test_filing_clock_counts_from_the_date_of_service() -> None:
    clock = fu.filing_clock(date(2026, 10, 1), 90, as_of=TODAY)
    assert clock.deadline == date(2026, 12, 30)
    assert clock.days_left == 23
    assert clock.state is fu.FilingState.NEAR
    assert clock.as_dict() == {"deadline": "2026-12-30", "days_left": 23, "state": "near"}


@pytest.mark.parametrize(("left", "state"), [
    (31, fu.FilingState.OK), (30, fu.FilingState.NEAR), (0, fu.FilingState.NEAR),
    (-1, fu.FilingState.PAST),
])
def test_filing_clock_states(left: int, state: fu.FilingState) -> None:
    from datetime import timedelta

    dos = TODAY - timedelta(days=180 - left)
    clock = fu.filing_clock(dos, 180, as_of=TODAY)
    assert clock.days_left == left
    assert clock.state is state


def test_filing_clock_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        fu.filing_clock(TODAY, 0, as_of=TODAY)
    with pytest.raises(ValueError, match="cannot be negative"):
        fu.filing_clock(TODAY, 90, as_of=TODAY, warn_days=-1)


# --- money at risk -----------------------------------------------------------------------------


def test_money_at_risk_formula() -> None:
    assert fu.money_at_risk(Cents(10_000), 0) == 10_000
    assert fu.money_at_risk(Cents(10_000), 30) == 20_000
    assert fu.money_at_risk(Cents(10_000), 180) == 70_000
    assert fu.money_at_risk(Cents(10_000), 900) == 70_000  # capped at six months
    assert fu.money_at_risk(Cents(10_000), 30, days_left=10) == 60_000
    assert fu.money_at_risk(Cents(10_000), 30, days_left=20) == 40_000
    assert fu.money_at_risk(Cents(10_000), 30, days_left=-5) == 20_000
    assert fu.money_at_risk(Cents(0), 100) == 0
    assert fu.money_at_risk(Cents(-500), 100) == 0
    # A small old balance can outrank a big new one, but not a big one about to expire.
    assert fu.money_at_risk(Cents(3_000), 120) > fu.money_at_risk(Cents(10_000), 0)
    assert fu.money_at_risk(Cents(10_000), 60, 7) > fu.money_at_risk(Cents(10_000), 180)


# --- underpayments -----------------------------------------------------------------------------


def test_underpayment_compares_the_allowed_amount() -> None:
    policy = _policy()
    line = fu.PaidLine("C1", "C1-1", "97124", 2, Cents(4_000), Cents(5_000))
    found = fu.underpayment(line, policy)
    assert found is not None
    assert found.expected_allowed == Cents(6_000)
    assert found.difference == Cents(1_000)
    assert found.as_dict()["difference"] == "10.00"


def test_deductible_is_not_an_underpayment() -> None:
    policy = _policy()
    # Paid nothing, but the payer allowed the full fee and put it on the deductible.
    line = fu.PaidLine("C1", "C1-1", "97124", 2, Cents(0), None, Cents(6_000))
    assert fu.underpayment(line, policy) is None


def test_underpayment_without_amt_b6_uses_paid_plus_patient_share() -> None:
    line = fu.PaidLine("C1", "C1-1", "97140", 1, Cents(2_000), None, Cents(1_000))
    found = fu.underpayment(line, _policy())
    assert found is not None and found.difference == Cents(250)


def test_underpayment_edges() -> None:
    policy = _policy()
    exact = fu.PaidLine("C1", "C1-1", "97124", 1, Cents(3_000), Cents(3_000))
    assert fu.underpayment(exact, policy) is None
    over = fu.PaidLine("C1", "C1-1", "97124", 1, Cents(3_500), Cents(3_500))
    assert fu.underpayment(over, policy) is None
    denied = fu.PaidLine("C1", "C1-1", "97124", 0, Cents(0), Cents(0))
    assert fu.underpayment(denied, policy) is None
    no_fee = fu.PaidLine("C1", "C1-1", "97112", 1, Cents(10), Cents(10))
    assert fu.underpayment(no_fee, policy) is None
    assert fu.underpayment(exact, None) is None
    cent_short = fu.PaidLine("C1", "C1-1", "97124", 1, Cents(2_999), Cents(2_999))
    assert fu.underpayment(cent_short, policy) is not None
    assert fu.underpayment(cent_short, policy, tolerance=Cents(1)) is None


# --- denial → rule proposals -------------------------------------------------------------------


def _denials(code: str, reason: str, n: int, *, group: str = "CO", payer: str = "7",
             modifiers: tuple[str, ...] = (), with_codes: tuple[str, ...] = (),
             taxonomy: str = MASSAGE_THERAPIST) -> list[fu.DenialEvent]:
    return [fu.DenialEvent(payer, f"C{i}", f"C{i}-1", code, group, reason, date(2026, 11, i),
                           modifiers, taxonomy, with_codes) for i in range(1, n + 1)]


def test_three_not_covered_denials_propose_dropping_the_code() -> None:
    proposals = fu.propose_rules(_denials("97140", "170", 3), {"7": _policy()})
    assert len(proposals) == 1
    proposal = proposals[0]
    assert (proposal.payer, proposal.code, proposal.carc, proposal.count) == ("7", "97140",
                                                                              "170", 3)
    assert proposal.change == {"field": "allowed_codes", "op": "remove", "value": "97140",
                               "taxonomy": MASSAGE_THERAPIST}
    assert proposal.claims == ("C1", "C2", "C3")
    assert "does not pay 97140" in proposal.reason


def test_below_the_threshold_nothing_is_proposed() -> None:
    assert fu.propose_rules(_denials("97140", "170", 2), {"7": _policy()}) == []
    assert len(fu.propose_rules(_denials("97140", "170", 2), {"7": _policy()},
                                threshold=2)) == 1
    with pytest.raises(ValueError, match="at least 1"):
        fu.propose_rules([], {}, threshold=0)


def test_the_same_line_counts_once() -> None:
    events = _denials("97140", "170", 1) * 5
    assert fu.propose_rules(events, {"7": _policy()}) == []


def test_counts_are_per_payer_code_and_carc() -> None:
    events = (_denials("97140", "170", 2) + _denials("97140", "170", 2, payer="8")
              + _denials("97140", "197", 1) + _denials("97124", "170", 1))
    policies = {"7": _policy(), "8": _policy()}
    assert fu.propose_rules(events, policies) == []


def test_authorization_denials_propose_a_prior_authorization() -> None:
    [proposal] = fu.propose_rules(_denials("97124", "197", 4), {"7": _policy()})
    assert proposal.change == {"field": "prior_authorization_codes", "op": "add",
                               "value": "97124"}
    assert proposal.count == 4
    already = _policy(prior_authorization_codes=["97124"])
    assert fu.propose_rules(_denials("97124", "197", 4), {"7": already}) == []


def test_x_modifier_bundling_denials_propose_modifier_59() -> None:
    events = _denials("97140", "236", 3, modifiers=("XS", "GP"), with_codes=("97124",))
    [proposal] = fu.propose_rules(events, {"7": _policy()})
    assert proposal.change == {"field": "modifier_style", "op": "set", "value": "59"}
    assert "with 97124" in proposal.reason
    # A payer already on 59, or lines that carried no X modifier: no policy change helps.
    assert fu.propose_rules(events, {"7": _policy(modifier_style="59")}) == []
    with_59 = _denials("97140", "97", 3, modifiers=("59",), with_codes=("97124",))
    assert fu.propose_rules(with_59, {"7": _policy()}) == []


def test_bundling_without_any_modifier_proposes_a_pair_rule() -> None:
    bare = _denials("97140", "97", 3, modifiers=("GP",), with_codes=("97124",))
    [proposal] = fu.propose_rules(bare, {"7": _policy()})
    assert proposal.change == {"field": "modifier_pairs", "op": "add",
                               "value": ["97140", "97124"]}
    known = _policy(modifier_pairs=[["97140", "97124"]])
    assert fu.propose_rules(bare, {"7": known}) == []
    alone = _denials("97140", "236", 3)
    assert fu.propose_rules(alone, {"7": _policy()}) == []


def test_hot_packs_bundled_proposes_not_billing_97010() -> None:
    policy = _policy(allowed_codes={MASSAGE_THERAPIST: ["97010", "97124"]},
                     expected_allowed={"97010": "5.00"})
    [proposal] = fu.propose_rules(_denials("97010", "97", 3), {"7": policy})
    assert proposal.change == {"field": "bills_97010", "op": "set", "value": False}
    assert fu.propose_rules(_denials("97010", "97", 3), {"7": _policy(bills_97010=False,
                            allowed_codes={})}) == []


def test_missing_therapy_modifier_proposes_gp() -> None:
    [proposal] = fu.propose_rules(_denials("97124", "4", 3), {"7": _policy()})
    assert proposal.change == {"field": "therapy_modifier", "op": "set", "value": "GP"}
    assert fu.propose_rules(_denials("97124", "4", 3), {"7": _policy(therapy_modifier="GP")}) == []
    with_gp = _denials("97124", "4", 3, modifiers=("GP",))
    assert fu.propose_rules(with_gp, {"7": _policy()}) == []


def test_no_policy_or_no_rule_no_proposal() -> None:
    assert fu.propose_rules(_denials("97140", "170", 3), {}) == []
    assert fu.propose_rules(_denials("97140", "29", 5), {"7": _policy()}) == []
    # Already not allowed for this taxonomy: the scrubber warned, someone overrode it.
    assert fu.propose_rules(_denials("97112", "170", 3), {"7": _policy()}) == []


def test_proposals_sorted_by_count() -> None:
    events = _denials("97140", "170", 3) + _denials("97124", "197", 5)
    proposals = fu.propose_rules(events, {"7": _policy()})
    assert [p.carc for p in proposals] == ["197", "170"]
    assert proposals[0].as_dict()["change"]["value"] == "97124"


# --- applying a change -------------------------------------------------------------------------


def _roundtrip(rules: dict[str, object]) -> PayerPolicy:
    return policy_from_rules(profile="test-plan", name="Test Plan", rules=rules,
                             effective_date=date(2027, 1, 1), end_date=None)


def test_applied_changes_read_back_as_the_rule() -> None:
    policy = _policy()
    rules = rules_of(policy)
    dropped = _roundtrip(fu.apply_change(rules, {"field": "allowed_codes", "op": "remove",
                                                 "value": "97140",
                                                 "taxonomy": MASSAGE_THERAPIST}))
    assert not dropped.code_allowed("97140", MASSAGE_THERAPIST)
    assert dropped.code_allowed("97124", MASSAGE_THERAPIST)
    auth = _roundtrip(fu.apply_change(rules, {"field": "prior_authorization_codes",
                                              "op": "add", "value": "97124"}))
    assert auth.authorization_needed("97124", 1)
    style = _roundtrip(fu.apply_change(rules, {"field": "modifier_style", "op": "set",
                                               "value": "59"}))
    assert style.modifier_style is core_policy.ModifierStyle.MODIFIER_59
    gp = _roundtrip(fu.apply_change(rules, {"field": "therapy_modifier", "op": "set",
                                            "value": "GP"}))
    assert gp.therapy_modifier == "GP"
    paired = fu.apply_change(rules, {"field": "modifier_pairs", "op": "add",
                                     "value": ["97140", "97124"]})
    again = fu.apply_change(paired, {"field": "modifier_pairs", "op": "add",
                                     "value": ["97140", "97124"]})
    assert again["modifier_pairs"] == [["97140", "97124"]]
    assert _roundtrip(again).modifier_pairs == frozenset({("97140", "97124")})
    with pytest.raises(fu.ChangeError, match="is \\[code, partner\\]"):
        fu.apply_change(rules, {"field": "modifier_pairs", "op": "add", "value": "97140"})
    assert rules == rules_of(policy)  # the input is not changed


def test_dropping_a_code_for_an_unlisted_taxonomy_keeps_the_rest() -> None:
    rules = rules_of(_policy())
    changed = _roundtrip(fu.apply_change(rules, {"field": "allowed_codes", "op": "remove",
                                                 "value": "97140", "taxonomy": OTHER_TAXONOMY}))
    assert not changed.code_allowed("97140", OTHER_TAXONOMY)
    assert changed.code_allowed("98940", OTHER_TAXONOMY)
    assert changed.code_allowed("97140", MASSAGE_THERAPIST)


def test_not_billing_97010_removes_it_from_lists_and_fees() -> None:
    policy = _policy(allowed_codes={MASSAGE_THERAPIST: ["97010", "97124"]},
                     expected_allowed={"97010": "5.00", "97124": "30.00"})
    changed = _roundtrip(fu.apply_change(rules_of(policy), {"field": "bills_97010", "op": "set",
                                                            "value": False}))
    assert not changed.bills_97010
    assert changed.expected_allowed("97010") is None
    assert changed.code_allowed("97124", MASSAGE_THERAPIST)


def test_unknown_change_is_refused() -> None:
    with pytest.raises(fu.ChangeError, match="cannot apply"):
        fu.apply_change({}, {"field": "timely_filing_days", "op": "set", "value": 1})
    with pytest.raises(fu.ChangeError):
        fu.apply_change({}, {"field": "allowed_codes", "op": "add", "value": "97124"})


@pytest.mark.parametrize(("change", "words"), [
    ({"field": "allowed_codes", "op": "remove", "value": "97140"}, "Stop billing 97140"),
    ({"field": "prior_authorization_codes", "op": "add", "value": "97124"},
     "prior authorization for 97124"),
    ({"field": "bills_97010", "op": "set", "value": False}, "97010"),
    ({"field": "modifier_style", "op": "set", "value": "59"}, "modifier 59"),
    ({"field": "therapy_modifier", "op": "set", "value": "GP"}, "Add GP"),
    ({"field": "modifier_pairs", "op": "add", "value": ["97140", "97124"]},
     "Require 59/XS on 97140 when billed with 97124"),
    ({"field": "x", "op": "y", "value": 1}, "y x = 1"),
])
def test_describe_change(change: dict[str, object], words: str) -> None:
    assert words in fu.describe_change(change)
