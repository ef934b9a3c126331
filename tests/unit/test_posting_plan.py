"""The posting plan, without a database: matching, ledger effects, outcomes and keys."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from handbill.core.money import Cents
from handbill.core.posting_plan import (
    AR_INSURANCE,
    AR_PATIENT,
    CASH,
    CONTRACTUAL_ADJUSTMENT,
    CREDIT,
    DEBIT,
    INTEREST,
    PROVIDER_ADJUSTMENT,
    UNAPPLIED,
    Effect,
    MatchedBy,
    OurClaim,
    OurLine,
    Outcome,
    PlannedEntry,
    PostingPlan,
    Remit,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
    RemitProviderAdjustment,
    build_plan,
    effect_of,
    idempotency_key,
)

DOS = date(2026, 11, 2)
PAID_ON = date(2026, 11, 20)
PAYER = 7
OTHER_PAYER = 8


def our_claim(number: str = "HB0000001", status: str = "submitted",
              lines: tuple[tuple[str, tuple[str, ...], int, int], ...] = (
                  ("97124", ("GP",), 2, 12000), ("97140", ("GP", "59"), 1, 7000)),
              key: int = 1, payer: int | None = PAYER) -> OurClaim:
    return OurClaim(
        key=key, number=number, status=status, patient_ref=f"A{key:05d}", payer_key=payer,
        lines=tuple(
            OurLine(key * 100 + n, f"{number}-{n}", code, mods, units, Cents(charge), DOS)
            for n, (code, mods, units, charge) in enumerate(lines, start=1)
        ),
    )


def cas(*items: tuple[str, str, int]) -> tuple[RemitAdjustment, ...]:
    return tuple(RemitAdjustment(g, r, Cents(c)) for g, r, c in items)


def svc(code: str, charge: int, paid: int, *adjustments: tuple[str, str, int],
        modifiers: tuple[str, ...] = ("GP",), units: int = 1, control: str = "",
        on: date | None = DOS, original_units: int | None = None) -> RemitLine:
    return RemitLine(code=code, modifiers=modifiers, charge=Cents(charge), paid=Cents(paid),
                     units=Decimal(units), service_date=on, control_number=control,
                     original_units=Decimal(original_units) if original_units else None,
                     adjustments=cas(*adjustments))


def clp(claim_id: str, *lines: RemitLine, status: str = "1",
        claim_cas: tuple[tuple[str, str, int], ...] = (), paid: int | None = None,
        charge: int | None = None) -> RemitClaim:
    adjustments = cas(*claim_cas)
    line_paid = sum(line.paid.value for line in lines)
    claim_paid = paid if paid is not None else line_paid - sum(a.amount.value
                                                               for a in adjustments)
    pr = sum(a.amount.value for a in adjustments if a.group == "PR") + sum(
        a.amount.value for line in lines for a in line.adjustments if a.group == "PR")
    return RemitClaim(
        claim_id=claim_id, status=status,
        charge=Cents(charge if charge is not None else sum(x.charge.value for x in lines)),
        paid=Cents(claim_paid), patient_responsibility=Cents(pr),
        payer_claim_number="PCN1", adjustments=adjustments, lines=lines)


def remit(*claims: RemitClaim, plb: tuple[RemitProviderAdjustment, ...] = (),
          trace: str = "EFT0001") -> Remit:
    amount = sum(c.paid.value for c in claims) - sum(p.amount.value for p in plb)
    return Remit(trace=trace, payer_identifier="1999999999", payer_name="SYNTHETIC PLAN",
                 amount=Cents(amount), method="CHK", payment_date=PAID_ON, claims=claims,
                 provider_adjustments=plb)


def plan_of(r: Remit, *claims: OurClaim, era_payer: int | None = PAYER) -> PostingPlan:
    return build_plan(r, claims, era_payer_key=era_payer, default_date=PAID_ON)


def legs(entry: PlannedEntry) -> set[tuple[str, str, int]]:
    return {(leg.account, leg.side, leg.amount.value) for leg in entry.legs}


def kinds(plan: PostingPlan) -> dict[str, PlannedEntry]:
    return {entry.kind: entry for entry in plan.entries}


STANDARD = (
    svc("97124", 12000, 7500, ("CO", "45", 2000), ("PR", "3", 2500), units=2,
        control="HB0000001-1"),
    svc("97140", 7000, 4000, ("CO", "45", 3000), modifiers=("GP", "59"),
        control="HB0000001-2"),
)


# --- matching ------------------------------------------------------------------------------


def test_lines_match_by_their_control_number() -> None:
    plan = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim())
    lines = plan.claims[0].lines
    assert [line.matched_by for line in lines] == [MatchedBy.CONTROL_NUMBER] * 2
    assert [line.line_key for line in lines] == [101, 102]
    assert plan.clean and not plan.unmatched


def test_without_ref_6r_lines_match_by_code_modifiers_units_and_date_and_say_so() -> None:
    lines = (svc("97140", 7000, 4000, ("CO", "45", 3000), modifiers=("GP", "59")),
             svc("97124", 12000, 9500, ("CO", "45", 2500), units=2))
    plan = plan_of(remit(clp("HB0000001", *lines)), our_claim())
    matched = plan.claims[0].lines
    assert [m.line_key for m in matched] == [102, 101]
    assert all(m.matched_by is MatchedBy.CODE_FALLBACK for m in matched)
    assert "no REF*6R" in matched[0].notes[0]
    # An exact fallback match is reported but is not something to stop for.
    assert plan.clean


def test_a_dropped_modifier_still_matches_on_code_units_and_date_flagged() -> None:
    lines = (svc("97140", 7000, 0, ("CO", "97", 7000), modifiers=("GP",)),)
    plan = plan_of(remit(clp("HB0000001", *lines)), our_claim())
    line = plan.claims[0].lines[0]
    assert line.line_key == 102 and line.matched_by is MatchedBy.CODE_FALLBACK
    assert "dropped or changed the modifier" in line.notes[0]
    assert "billed 97140-GP-59, remitted 97140-GP" in line.notes[0]
    assert not plan.clean and any("modifier" in w for w in plan.warnings)


def test_changed_units_match_on_code_date_and_charge_flagged() -> None:
    lines = (svc("97124", 12000, 4000, ("CO", "45", 2000), ("CO", "119", 6000), units=1,
                 modifiers=("GP",)),)
    plan = plan_of(remit(clp("HB0000001", *lines)), our_claim())
    line = plan.claims[0].lines[0]
    assert line.line_key == 101 and "changed the units" in line.notes[0]
    assert not plan.clean


def test_original_units_sent_by_the_payer_match_exactly() -> None:
    lines = (svc("97124", 12000, 4000, ("CO", "45", 2000), ("CO", "151", 6000), units=1,
                 original_units=2),)
    plan = plan_of(remit(clp("HB0000001", *lines)), our_claim())
    assert plan.claims[0].lines[0].line_key == 101
    assert plan.clean


def test_a_foreign_control_number_falls_back_and_is_flagged() -> None:
    lines = (svc("97124", 12000, 12000, units=2, control="XYZ-9"),)
    plan = plan_of(remit(clp("HB0000001", *lines)), our_claim())
    line = plan.claims[0].lines[0]
    assert line.line_key == 101 and line.matched_by is MatchedBy.CODE_FALLBACK
    assert "not a line of claim HB0000001" in line.notes[0]
    assert not plan.clean


def test_a_line_that_matches_nothing_is_listed_and_its_money_stays_on_the_claim() -> None:
    lines = (svc("97124", 12000, 12000, units=2, control="HB0000001-1"),
             svc("97530", 5000, 5000))
    plan = plan_of(remit(clp("HB0000001", *lines)), our_claim())
    assert plan.claims[0].lines[1].matched_by is MatchedBy.UNMATCHED
    assert [u.line for u in plan.unmatched] == ["97530-GP x1"]
    assert "posted to the claim" in plan.unmatched[0].reason
    assert legs(kinds(plan)["insurance_payment"]) == {(CASH, DEBIT, 17000),
                                                      (AR_INSURANCE, CREDIT, 17000)}


def test_an_unknown_claim_goes_to_unapplied_credits_with_the_reason() -> None:
    plan = plan_of(remit(clp("NOPE1", svc("97124", 6000, 5000, ("CO", "45", 1000)))),
                   our_claim())
    claim = plan.claims[0]
    assert claim.outcome is Outcome.UNMATCHED and claim.claim_key is None
    assert "no claim 'NOPE1'" in plan.unmatched[0].reason
    (entry,) = claim.entries
    assert legs(entry) == {(CASH, DEBIT, 5000), (UNAPPLIED, CREDIT, 5000)}
    assert not plan.moves


def test_a_claim_chosen_by_hand_for_an_unknown_clp01_matches_as_ours() -> None:
    mangled = remit(clp("HB000001", *STANDARD))  # the payer dropped a digit
    ours = our_claim()
    plan = build_plan(mangled, [ours], era_payer_key=PAYER, default_date=PAID_ON,
                      aliases={"HB000001": "HB0000001"})
    claim = plan.claims[0]
    assert claim.claim_key == ours.key and claim.claim_number == "HB0000001"
    assert claim.outcome is Outcome.PAID
    assert [line.matched_by for line in claim.lines] == [MatchedBy.CONTROL_NUMBER] * 2
    assert "matched by hand to claim HB0000001" in claim.notes[0]
    assert not plan.unmatched and plan.moves[0].claim_number == "HB0000001"
    # An alias never overrides a CLP01 that names one of our claims.
    exact = build_plan(remit(clp("HB0000001", *STANDARD)), [ours, our_claim("HB0000002", key=2)],
                       era_payer_key=PAYER, default_date=PAID_ON,
                       aliases={"HB0000001": "HB0000002"})
    assert exact.claims[0].claim_number == "HB0000001" and not exact.claims[0].notes


def test_a_draft_or_void_claim_is_never_paid() -> None:
    for status in ("draft", "void"):
        plan = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim(status=status))
        assert plan.claims[0].outcome is Outcome.UNMATCHED
        assert "never sent" in plan.unmatched[0].reason


# --- ledger effects -------------------------------------------------------------------------


def test_each_group_has_its_effect() -> None:
    assert effect_of("CO", "45") is Effect.CONTRACTUAL
    assert effect_of("PI", "045") is Effect.CONTRACTUAL
    assert effect_of("CO", "253") is Effect.CONTRACTUAL
    assert effect_of("CO", "197") is Effect.DENIED
    assert effect_of("PI", "50") is Effect.DENIED
    assert effect_of("PR", "1") is Effect.PATIENT
    assert effect_of("PR", "204") is Effect.PATIENT
    assert effect_of("OA", "23") is Effect.PRIOR_PAYER
    assert effect_of("OA", "18") is Effect.REVIEW
    assert effect_of("CR", "45") is Effect.REVIEW


def test_payment_contractual_and_patient_entries_per_claim() -> None:
    plan = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim())
    by_kind = kinds(plan)
    assert legs(by_kind["insurance_payment"]) == {(CASH, DEBIT, 11500),
                                                  (AR_INSURANCE, CREDIT, 11500)}
    assert legs(by_kind["contractual_adjustment"]) == {(CONTRACTUAL_ADJUSTMENT, DEBIT, 5000),
                                                       (AR_INSURANCE, CREDIT, 5000)}
    transfer = by_kind["transfer_to_patient"]
    assert legs(transfer) == {(AR_PATIENT, DEBIT, 2500), (AR_INSURANCE, CREDIT, 2500)}
    assert {leg.payer_key for leg in transfer.legs} == {None, PAYER}
    assert "copay 25.00" in transfer.memo
    assert transfer.patient_ref == "A00001" and transfer.claim_ref == "HB0000001"
    assert plan.claims[0].outcome is Outcome.PAID
    (move,) = plan.moves
    assert (move.from_status, move.to_status) == ("submitted", "paid")


def test_patient_reasons_are_named() -> None:
    lines = (svc("97124", 12000, 3000, ("PR", "1", 5000), ("PR", "2", 1000),
                 ("CO", "45", 3000), units=2, control="HB0000001-1"),)
    plan = plan_of(remit(clp("HB0000001", *lines)), our_claim())
    memo = kinds(plan)["transfer_to_patient"].memo
    assert "deductible 50.00" in memo and "coinsurance 10.00" in memo


def test_denials_are_not_written_off_and_stay_on_the_payer() -> None:
    lines = (svc("97124", 12000, 9500, ("CO", "45", 2500), units=2, control="HB0000001-1"),
             svc("97140", 7000, 0, ("CO", "197", 7000), modifiers=("GP", "59"),
                 control="HB0000001-2"))
    plan = plan_of(remit(clp("HB0000001", *lines)), our_claim())
    assert kinds(plan)["contractual_adjustment"].amount == Cents(2500)
    claim = plan.claims[0]
    assert claim.effect_total(Effect.DENIED) == Cents(7000)
    assert claim.outcome is Outcome.PARTIALLY_PAID


def test_denied_claims_and_zero_payments() -> None:
    denied = clp("HB0000001", svc("97124", 12000, 0, ("CO", "50", 12000), units=2,
                                  control="HB0000001-1"), status="4")
    plan = plan_of(remit(denied), our_claim())
    assert plan.claims[0].outcome is Outcome.DENIED and not plan.entries
    assert plan.moves[0].to_status == "denied"
    # Paid nothing and no patient share: denied even when CLP02 says processed.
    zero = clp("HB0000001", svc("97124", 12000, 0, ("CO", "170", 12000), units=2,
                                control="HB0000001-1"))
    assert plan_of(remit(zero), our_claim()).claims[0].outcome is Outcome.DENIED
    # All to the deductible: the payer is done with it, the patient owes it.
    deductible = clp("HB0000001", svc("97124", 12000, 0, ("PR", "1", 9000), ("CO", "45", 3000),
                                      units=2, control="HB0000001-1"))
    plan = plan_of(remit(deductible), our_claim())
    assert plan.claims[0].outcome is Outcome.PAID
    assert set(kinds(plan)) == {"contractual_adjustment", "transfer_to_patient"}


def test_prior_payer_and_other_adjustments_post_nothing() -> None:
    secondary = clp("HB0000001", svc("97124", 12000, 2000, ("OA", "23", 10000), units=2,
                                     control="HB0000001-1"), status="2")
    plan = plan_of(remit(secondary), our_claim())
    assert set(kinds(plan)) == {"insurance_payment"}
    assert plan.claims[0].outcome is Outcome.PAID
    duplicate = clp("HB0000001", svc("97124", 12000, 0, ("OA", "18", 12000), units=2,
                                     control="HB0000001-1"))
    plan = plan_of(remit(duplicate), our_claim())
    assert not plan.entries and plan.claims[0].outcome is Outcome.DENIED


def test_claim_level_adjustments_count_with_the_line_adjustments() -> None:
    claim = clp("HB0000001", svc("97124", 12000, 10000, ("CO", "45", 2000), units=2,
                                 control="HB0000001-1"), claim_cas=(("CO", "253", 200),))
    plan = plan_of(remit(claim), our_claim())
    assert legs(kinds(plan)["insurance_payment"]) == {(CASH, DEBIT, 9800),
                                                      (AR_INSURANCE, CREDIT, 9800)}
    assert kinds(plan)["contractual_adjustment"].amount == Cents(2200)


# --- reversals, takebacks, PLB ----------------------------------------------------------


def _negated(line: RemitLine) -> RemitLine:
    return RemitLine(code=line.code, modifiers=line.modifiers, charge=-line.charge,
                     paid=-line.paid, units=line.units, service_date=line.service_date,
                     control_number=line.control_number,
                     adjustments=tuple(RemitAdjustment(a.group, a.reason, -a.amount)
                                       for a in line.adjustments))


def test_a_reversal_mirrors_the_original_entries_and_leaves_the_status() -> None:
    original = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim())
    reversal = clp("HB0000001", *(_negated(line) for line in STANDARD), status="22")
    plan = plan_of(remit(reversal, trace="EFT0002"), our_claim(status="paid"))
    assert plan.claims[0].outcome is Outcome.REVERSED
    assert all(entry.takeback for entry in plan.entries)
    flip = {DEBIT: CREDIT, CREDIT: DEBIT}
    for entry in plan.entries:
        before = kinds(original)[entry.kind]
        assert legs(entry) == {(a, flip[side], n) for a, side, n in legs(before)}
    assert not plan.moves
    assert any("reversed its earlier payment" in w for w in plan.warnings)


def test_a_reversal_and_a_new_adjudication_of_the_same_claim() -> None:
    reversal = clp("HB0000001", *(_negated(line) for line in STANDARD), status="22")
    corrected = clp("HB0000001", svc("97124", 12000, 9500, ("CO", "45", 2500), units=2,
                                     control="HB0000001-1"),
                    svc("97140", 7000, 0, ("CO", "97", 7000), modifiers=("GP", "59"),
                        control="HB0000001-2"))
    plan = plan_of(remit(reversal, corrected), our_claim(status="paid"))
    assert [c.outcome for c in plan.claims] == [Outcome.REVERSED, Outcome.PARTIALLY_PAID]
    (move,) = plan.moves
    assert (move.from_status, move.to_status) == ("paid", "partially_paid")
    keys = [entry.key for entry in plan.entries]
    assert len(keys) == len(set(keys))


def test_a_negative_payment_outside_a_reversal_is_a_takeback() -> None:
    takeback = clp("HB0000001", svc("97124", 0, -2000, ("CO", "45", 2000), units=2,
                                    control="HB0000001-1"))
    plan = plan_of(remit(takeback), our_claim(status="paid"))
    payment = kinds(plan)["insurance_payment"]
    assert payment.takeback
    assert legs(payment) == {(CASH, CREDIT, 2000), (AR_INSURANCE, DEBIT, 2000)}


def test_provider_adjustments_post_at_the_payment_level() -> None:
    plb = (RemitProviderAdjustment("L6", "HB0000001", Cents(-150)),
           RemitProviderAdjustment("WO", "PCN1", Cents(3000)),
           RemitProviderAdjustment("FB", "", Cents(-500)))
    plan = plan_of(remit(clp("HB0000001", *STANDARD), plb=plb), our_claim())
    interest, recoupment, forward = plan.provider_adjustments
    assert interest.entry is not None and legs(interest.entry) == {
        (CASH, DEBIT, 150), (INTEREST, CREDIT, 150)}
    assert recoupment.entry is not None and legs(recoupment.entry) == {
        (PROVIDER_ADJUSTMENT, DEBIT, 3000), (CASH, CREDIT, 3000)}
    assert recoupment.claim_number == "HB0000001"  # cited by the payer's claim number
    assert forward.entry is not None and legs(forward.entry) == {
        (CASH, DEBIT, 500), (PROVIDER_ADJUSTMENT, CREDIT, 500)}
    assert any("WO" in w and "HB0000001" in w for w in plan.warnings)
    assert plan.totals()["interest"] == Cents(-150)


def test_status_moves_respect_the_claim_life() -> None:
    plan = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim(status="paid"))
    assert not plan.moves and not plan.warnings  # already paid: nothing to move
    plan = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim(status="closed"))
    assert not plan.moves and any("not a move" in w for w in plan.warnings)


def test_a_claim_billed_to_another_payer_is_flagged() -> None:
    plan = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim(payer=OTHER_PAYER))
    assert any("billed to another payer" in w for w in plan.warnings)
    assert all(leg.payer_key in (OTHER_PAYER, None) for e in plan.entries for leg in e.legs)


# --- keys and the preview -------------------------------------------------------------------


def test_keys_are_stable_distinct_and_fit() -> None:
    first = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim())
    again = plan_of(remit(clp("HB0000001", *STANDARD)), our_claim())
    assert [e.key for e in first.entries] == [e.key for e in again.entries]
    assert first.entries[0].key == "835:1999999999:EFT0001:HB0000001:1:1:pay"
    other = plan_of(remit(clp("HB0000001", *STANDARD), trace="EFT0002"), our_claim())
    assert not {e.key for e in first.entries} & {e.key for e in other.entries}
    long = plan_of(remit(clp("HB0000001", *STANDARD), trace="T" * 120), our_claim())
    assert all(len(e.key) <= 128 for e in long.entries)
    assert idempotency_key("a" * 200) == idempotency_key("a" * 200)


def test_the_preview_is_json() -> None:
    plb = (RemitProviderAdjustment("L6", "", Cents(-150)),)
    plan = plan_of(remit(clp("HB0000001", *STANDARD), clp("NOPE", svc("97124", 100, 100)),
                         plb=plb), our_claim())
    data = json.loads(json.dumps(plan.as_dict()))
    assert data["summary"]["outcomes"] == {"paid": 1, "unmatched": 1}
    assert data["totals"]["unapplied"] == "1.00"
    assert data["claims"][0]["lines"][0]["matched_by"] == "control_number"
    assert data["status_changes"][0]["to"] == "paid"


# --- every plan balances --------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=50_000)


@st.composite
def remitted_line(draw: st.DrawFn, n: int) -> RemitLine:
    paid = draw(amounts)
    adjustments = draw(st.lists(
        st.tuples(st.sampled_from(["CO", "PR", "OA", "PI"]),
                  st.sampled_from(["1", "2", "3", "45", "97", "197", "23", "18", "253"]),
                  st.integers(min_value=-5000, max_value=20_000)), max_size=4))
    charge = paid + sum(a for _g, _r, a in adjustments)
    return svc("97124", charge, paid, *adjustments, units=2,
               control=draw(st.sampled_from([f"HB0000001-{n}", "", "ZZZ"])))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_every_entry_balances_and_cash_is_the_payment(data: st.DataObject) -> None:
    lines = tuple(data.draw(remitted_line(n)) for n in range(1, data.draw(
        st.integers(min_value=0, max_value=3)) + 1))
    claim_cas = tuple(data.draw(st.lists(st.tuples(
        st.sampled_from(["CO", "PR"]), st.sampled_from(["45", "2"]),
        st.integers(min_value=-1000, max_value=1000)), max_size=2)))
    status = data.draw(st.sampled_from(["1", "2", "4", "22"]))
    plb = tuple(RemitProviderAdjustment(reason, "", Cents(amount)) for reason, amount in
                data.draw(st.lists(st.tuples(st.sampled_from(["L6", "WO", "FB"]),
                                             st.integers(-3000, 3000)), max_size=2)))
    claim_id = data.draw(st.sampled_from(["HB0000001", "OTHER"]))
    r = remit(clp(claim_id, *lines, status=status, claim_cas=claim_cas), plb=plb)
    plan = plan_of(r, our_claim(lines=(("97124", ("GP",), 2, 12000),
                                       ("97124", ("GP",), 2, 12000))))
    cash = 0
    receivable: dict[str, int] = defaultdict(int)
    for entry in plan.entries:
        debits = sum(leg.amount.value for leg in entry.legs if leg.side == DEBIT)
        credits = sum(leg.amount.value for leg in entry.legs if leg.side == CREDIT)
        assert debits == credits > 0
        assert all(leg.amount.value > 0 for leg in entry.legs)
        for leg in entry.legs:
            signed = leg.amount.value if leg.side == DEBIT else -leg.amount.value
            if leg.account == CASH:
                cash += signed
            if leg.account == AR_INSURANCE:
                receivable["insurance"] -= signed
    assert cash == r.amount.value
    claim = plan.claims[0]
    if claim.outcome is not Outcome.UNMATCHED:
        # The payer's A/R goes down by what it paid plus what it wrote down or passed on.
        expected = (claim.remit.paid + claim.effect_total(Effect.CONTRACTUAL)
                    + claim.effect_total(Effect.PATIENT))
        assert receivable["insurance"] == expected.value
