"""Posting 835s: matching, ledger effects, statuses, reversals, PLB, refusals, idempotence and
atomicity, through the remittance actions on a real database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from handbill.audit.models import AuditEvent
from handbill.claims.models import Claim, ClaimEvent
from handbill.core import posting_plan as pp
from handbill.core.money import Cents
from handbill.ledger import posting
from handbill.ledger.balances import (
    account_balance,
    claim_balance,
    patient_balance,
    trial_balance,
)
from handbill.ledger.models import Account, AccountKind, LedgerTransaction, Leg, TransactionKind
from handbill.remittance import actions, writing
from handbill.remittance.models import (
    Adjustment,
    ClaimPayment,
    EraFile,
    ProviderAdjustment,
    ServicePayment,
)
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration.remittance_setup import (
    Clinic,
    Clp,
    Svc,
    make_clinic,
    make_submitted_claim,
    write_835,
)

pytestmark = pytest.mark.django_db

LINES = [("97124", ["GP"], 2, 12000), ("97140", ["GP", "59"], 1, 7000)]
INSURANCE = [AccountKind.AR_INSURANCE]


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def standard(claim: Claim, *, paid: int = 7500, cas2: Any = None) -> Clp:
    n = claim.number
    copay = 12000 - 2000 - paid
    return Clp(n, [
        Svc("97124", 12000, paid, [("CO", "45", 2000)] + ([("PR", "3", copay)] if copay else []),
            ["GP"], 2, f"{n}-1"),
        Svc("97140", 7000, 4000, cas2 or [("CO", "45", 3000)], ["GP", "59"], 1, f"{n}-2"),
    ], payer_claim_number=f"PAYER-{n}")


def post(clinic: Clinic, text: str) -> list[EraFile]:
    eras = actions.import_835(practice=clinic.practice, text=text, by=clinic.biller,
                              at=FIXED_NOW)
    return [actions.commit_posting(era=era, by=clinic.biller, at=FIXED_NOW) for era in eras]


def snapshot() -> dict[str, int]:
    """Row counts of everything posting can touch."""
    models = (EraFile, ClaimPayment, ServicePayment, Adjustment, ProviderAdjustment,
              LedgerTransaction, Leg, AuditEvent, ClaimEvent, Account)
    counts = {m.__name__: m.objects.count() for m in models}
    counts["claim statuses"] = hash(tuple(Claim.objects.order_by("pk").values_list(
        "status", "payer_claim_number")))
    return counts


def test_the_ledger_kinds_the_planner_names_exist() -> None:
    assert {pp.CASH, pp.AR_INSURANCE, pp.AR_PATIENT, pp.CONTRACTUAL_ADJUSTMENT, pp.UNAPPLIED,
            pp.INTEREST, pp.PROVIDER_ADJUSTMENT} <= set(AccountKind.values)
    assert {pp.INSURANCE_PAYMENT, pp.TRANSFER_TO_PATIENT, pp.CONTRACTUAL_ADJUSTMENT,
            pp.PROVIDER_ADJUSTMENT_KIND} <= set(TransactionKind.values)


def test_a_payment_posts_by_line_and_the_balances_follow(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    (era,) = post(clinic, write_835([standard(claim)]))
    assert era.status == "posted" and era.posted_at == FIXED_NOW
    practice, n = clinic.practice, claim.number
    # Payer's A/R: charge − paid − CO − PR transferred; the patient owes the PR.
    assert claim_balance(practice, n, kinds=INSURANCE) == Cents(19000 - 11500 - 5000 - 2500)
    assert patient_balance(practice, claim.patient.account_number) == Cents(2500)
    assert account_balance(Account.objects.get(practice=practice, kind="cash")) == Cents(11500)
    assert trial_balance(practice).is_balanced
    claim.refresh_from_db()
    assert claim.status == "paid" and claim.payer_claim_number == f"PAYER-{n}"
    event = ClaimEvent.objects.filter(claim=claim).latest("pk")
    assert (event.from_status, event.to_status) == ("submitted", "paid")
    assert "EFT0001" in event.note
    assert AuditEvent.objects.filter(action="claim.paid", object_id=str(claim.pk)).exists()
    assert AuditEvent.objects.filter(action="remittance.post", object_id=str(era.pk)).exists()
    (payment,) = ClaimPayment.objects.filter(era=era)
    assert payment.claim == claim and payment.outcome == "paid"
    lines = list(payment.lines.order_by("position"))
    assert [x.matched_by for x in lines] == ["control_number"] * 2
    assert [x.claim_line.control_number for x in lines] == [f"{n}-1", f"{n}-2"]
    effects = sorted(payment.adjustments.values_list("group", "reason", "effect"))
    assert effects == [("CO", "45", "contractual"), ("CO", "45", "contractual"),
                       ("PR", "3", "patient")]
    txns = LedgerTransaction.objects.filter(source_type="remittance.claimpayment")
    assert sorted(txns.values_list("kind", flat=True)) == [
        "contractual_adjustment", "insurance_payment", "transfer_to_patient"]
    assert all(t.idempotency_key.startswith("835:1999999999:EFT0001:") for t in txns)
    assert AuditEvent.objects.filter(action="ledger.post",
                                     object_id__in=[str(t.pk) for t in txns]).count() == 3


def test_a_payer_that_dropped_ref_6r_and_the_modifier_still_matches(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    n = claim.number
    text = write_835([Clp(n, [
        Svc("97140", 7000, 0, [("CO", "97", 7000)], ["GP"], 1),  # no REF*6R, no 59
        Svc("97124", 12000, 9500, [("CO", "45", 2500)], ["GP"], 2),
    ])])
    plan = actions.plan_posting(actions.import_835(
        practice=clinic.practice, text=text, by=clinic.biller, at=FIXED_NOW)[0])
    assert any("dropped or changed the modifier" in w for w in plan.warnings)
    era = EraFile.objects.get()
    assert era.status == "planned" and era.plan_summary["summary"]["clean"] is False
    actions.commit_posting(era=era, by=clinic.biller, at=FIXED_NOW)
    rows = list(ServicePayment.objects.order_by("position"))
    assert [r.matched_by for r in rows] == ["code_fallback", "code_fallback"]
    assert [r.claim_line.control_number for r in rows] == [f"{n}-2", f"{n}-1"]
    assert "billed 97140-GP-59, remitted 97140-GP" in rows[0].note
    # The bundled line stays owed by the payer (a denial to work), not written off.
    practice = clinic.practice
    assert claim_balance(practice, n, kinds=INSURANCE) == Cents(7000)
    assert Claim.objects.get(pk=claim.pk).status == "partially_paid"


def test_a_denied_claim_keeps_its_balance_on_the_payer(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    n = claim.number
    text = write_835([Clp(n, [
        Svc("97124", 12000, 0, [("CO", "197", 12000)], ["GP"], 2, f"{n}-1"),
        Svc("97140", 7000, 0, [("CO", "197", 7000)], ["GP", "59"], 1, f"{n}-2"),
    ], status="4")])
    post(clinic, text)
    assert Claim.objects.get(pk=claim.pk).status == "denied"
    assert claim_balance(clinic.practice, n) == Cents(19000)
    assert not LedgerTransaction.objects.filter(source_type="remittance.claimpayment").exists()
    assert set(Adjustment.objects.values_list("effect", flat=True)) == {"denied"}


def test_a_reversal_reverses_the_earlier_posting_then_a_new_adjudication_posts(
    clinic: Clinic,
) -> None:
    claim = make_submitted_claim(clinic, LINES)
    n, practice = claim.number, clinic.practice
    post(clinic, write_835([standard(claim)], trace="EFT0001"))
    original = {t.kind: t for t in LedgerTransaction.objects.filter(
        source_type="remittance.claimpayment")}
    reversal = Clp(n, [
        Svc("97124", -12000, -7500, [("CO", "45", -2000), ("PR", "3", -2500)], ["GP"], 2,
            f"{n}-1"),
        Svc("97140", -7000, -4000, [("CO", "45", -3000)], ["GP", "59"], 1, f"{n}-2"),
    ], status="22", payer_claim_number=f"PAYER-{n}")
    (era,) = post(clinic, write_835([reversal], trace="EFT0002"))
    reversed_ = LedgerTransaction.objects.filter(kind=TransactionKind.REVERSAL)
    assert {t.reverses_id for t in reversed_} == {t.pk for t in original.values()}
    assert claim_balance(practice, n) == Cents(19000)
    assert patient_balance(practice, claim.patient.account_number) == Cents(0)
    assert Claim.objects.get(pk=claim.pk).status == "paid"
    assert any("reversed its earlier payment" in w for w in era.warnings)
    # The corrected adjudication in a later file: the bundled line denied this time.
    corrected = standard(claim, cas2=[("CO", "45", 3000)])
    corrected.lines[1].paid, corrected.lines[1].cas = 0, [("CO", "97", 7000)]
    post(clinic, write_835([corrected], trace="EFT0003"))
    assert Claim.objects.get(pk=claim.pk).status == "partially_paid"
    assert claim_balance(practice, n, kinds=INSURANCE) == Cents(7000)
    assert trial_balance(practice).is_balanced


def test_reversal_and_readjudication_in_one_file(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    n = claim.number
    post(clinic, write_835([standard(claim)], trace="EFT0001"))
    reversal = Clp(n, [
        Svc("97124", -12000, -7500, [("CO", "45", -2000), ("PR", "3", -2500)], ["GP"], 2,
            f"{n}-1"),
        Svc("97140", -7000, -4000, [("CO", "45", -3000)], ["GP", "59"], 1, f"{n}-2"),
    ], status="22")
    again = standard(claim, paid=10000)  # the copay waived on review
    post(clinic, write_835([reversal, again], trace="EFT0002"))
    assert LedgerTransaction.objects.filter(kind=TransactionKind.REVERSAL).count() == 3
    assert claim_balance(clinic.practice, n) == Cents(0)
    assert patient_balance(clinic.practice, claim.patient.account_number) == Cents(0)
    assert Claim.objects.get(pk=claim.pk).status == "paid"


def test_a_takeback_without_an_exact_original_posts_mirror_legs(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    n, practice = claim.number, clinic.practice
    post(clinic, write_835([standard(claim)], trace="EFT0001"))
    # Later the payer takes back 20.00 it overpaid on line 1 (a negative payment).
    takeback = Clp(n, [Svc("97124", 0, -2000, [("CO", "45", 2000)], ["GP"], 2, f"{n}-1")],
                   charge=0)
    (era,) = post(clinic, write_835([takeback], trace="EFT0002"))
    assert era.payment_amount_cents == -2000
    txn = LedgerTransaction.objects.get(idempotency_key__contains="EFT0002",
                                        kind="insurance_payment")
    legs = {(leg.account.kind, leg.debit_cents, leg.credit_cents) for leg in txn.legs.all()}
    assert legs == {("ar_insurance", 2000, 0), ("cash", 0, 2000)}
    assert claim_balance(practice, n, kinds=INSURANCE) == Cents(0)
    assert trial_balance(practice).is_balanced


def test_interest_and_recoupment_post_at_the_payment_level(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    practice = clinic.practice
    text = write_835([standard(claim)], plb=[("L6", claim.number, -150),
                                             ("WO", f"PAYER-{claim.number}", 3000)])
    (era,) = post(clinic, text)
    assert era.payment_amount_cents == 11500 + 150 - 3000
    interest = Account.objects.get(practice=practice, kind="interest")
    assert interest.payer == clinic.payer and account_balance(interest) == Cents(150)
    recovery = Account.objects.get(practice=practice, kind="provider_adjustment")
    assert account_balance(recovery) == Cents(3000)
    cash = Account.objects.get(practice=practice, kind="cash")
    assert account_balance(cash) == Cents(era.payment_amount_cents)
    rows = list(ProviderAdjustment.objects.order_by("position"))
    assert [(r.reason, r.amount_cents) for r in rows] == [("L6", -150), ("WO", 3000)]
    assert rows[1].claim == claim  # cited by the payer's claim number
    assert any("WO" in w for w in era.warnings)


def test_an_unknown_claim_waits_in_unapplied_credits(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    text = write_835([standard(claim), Clp("HB9999999", [Svc("97124", 6000, 5000,
                                                             [("CO", "45", 1000)])])])
    (era,) = post(clinic, text)
    unknown = ClaimPayment.objects.get(patient_control_number="HB9999999")
    assert unknown.claim is None and unknown.outcome == "unmatched"
    assert "no claim 'HB9999999'" in unknown.unmatched_reason
    unapplied = Account.objects.get(practice=clinic.practice, kind="unapplied")
    assert account_balance(unapplied) == Cents(5000)
    assert era.plan_summary["summary"]["unmatched"] == 1


def test_several_payments_in_one_file(clinic: Clinic) -> None:
    first, second = (make_submitted_claim(clinic, LINES) for _ in range(2))
    one = write_835([standard(first)], trace="CHK1", control=1)
    two = write_835([standard(second)], trace="CHK2", control=2)
    # One interchange, two transaction sets.
    body = one.split("~")[2:-3] + two.split("~")[2:-3]
    text = "~".join([one.split("~")[0], one.split("~")[1], *body,
                     "GE*2*1", "IEA*1*000000001", ""])
    eras = post(clinic, text)
    assert [e.trace_number for e in eras] == ["CHK1", "CHK2"]
    assert [e.transaction_index for e in eras] == [0, 1]
    assert {c.status for c in Claim.objects.all()} == {"paid"}


# --- idempotence and atomicity ---------------------------------------------------------------


def test_posting_the_same_file_twice_changes_nothing(clinic: Clinic) -> None:
    claims = [make_submitted_claim(clinic, LINES) for _ in range(3)]
    text = write_835([standard(c) for c in claims], plb=[("L6", "", -150)])
    (era,) = post(clinic, text)
    before = snapshot()
    again = actions.commit_posting(era=era, by=clinic.biller, at=FIXED_NOW)
    assert again.pk == era.pk and again.status == "posted"
    (same,) = actions.import_835(practice=clinic.practice, text=text, by=clinic.biller,
                                 at=FIXED_NOW)
    assert same.pk == era.pk
    actions.commit_posting(era=same, by=clinic.biller, at=FIXED_NOW)
    assert snapshot() == before
    # The same payment re-sent in another envelope is refused, not posted again.
    resent = text.replace("000000001", "000000002")
    with pytest.raises(actions.RemittanceRefused, match="already imported"):
        actions.import_835(practice=clinic.practice, text=resent, by=clinic.biller,
                           at=FIXED_NOW)
    assert snapshot() == before


@pytest.mark.parametrize("where", ["write_rows", "update_claims", "post_many"])
def test_a_failure_half_way_changes_nothing(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    claims = [make_submitted_claim(clinic, LINES) for _ in range(3)]
    (era,) = actions.import_835(practice=clinic.practice,
                                text=write_835([standard(c) for c in claims]),
                                by=clinic.biller, at=FIXED_NOW)
    before = snapshot()
    balances = [claim_balance(clinic.practice, c.number) for c in claims]

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database server went away")

    target = posting if where == "post_many" else writing
    original: Callable[..., Any] = getattr(target, where)
    if where == "post_many":
        # Fail after the ledger rows are written, inside the bulk path itself.
        def late(*args: Any, **kwargs: Any) -> Any:
            original(*args, **kwargs)
            boom()
        monkeypatch.setattr(target, where, late)
    else:
        monkeypatch.setattr(target, where, boom)
    with pytest.raises(RuntimeError):
        actions.commit_posting(era=era, by=clinic.biller, at=FIXED_NOW)
    assert snapshot() == before
    assert [claim_balance(clinic.practice, c.number) for c in claims] == balances
    assert EraFile.objects.get(pk=era.pk).status == "planned"
    monkeypatch.undo()
    actions.commit_posting(era=era, by=clinic.biller, at=FIXED_NOW)
    assert {c.status for c in Claim.objects.filter(pk__in=[c.pk for c in claims])} == {"paid"}


# --- refusals -------------------------------------------------------------------------------


def test_malformed_and_unbalanced_files_are_refused_and_nothing_is_stored(
    clinic: Clinic,
) -> None:
    claim = make_submitted_claim(clinic, LINES)
    good = write_835([standard(claim)])
    before = snapshot()
    unbalanced = write_835([standard(claim)], payment=99999)
    with pytest.raises(actions.RemittanceRefused, match="does not balance") as refused:
        actions.import_835(practice=clinic.practice, text=unbalanced, by=clinic.biller,
                           at=FIXED_NOW)
    assert "BPR02" in str(refused.value)
    line_off = good.replace(f"CAS*CO*45*30~REF*6R*{claim.number}-2",
                            f"CAS*CO*45*31~REF*6R*{claim.number}-2")
    assert line_off != good
    with pytest.raises(actions.RemittanceRefused, match=r"line 2 .*segment \d+"):
        actions.import_835(practice=clinic.practice, text=line_off, by=clinic.biller,
                           at=FIXED_NOW)
    garbled = good.replace("SVC*HC:97124:GP*120*", "SVC*HC:97124:GP*12X0*")
    assert garbled != good
    with pytest.raises(actions.RemittanceRefused, match=r"segment \d+ \(SVC\)"):
        actions.import_835(practice=clinic.practice, text=garbled, by=clinic.biller,
                           at=FIXED_NOW)
    cut = good[: good.index("SE*")]
    with pytest.raises(actions.RemittanceRefused, match="SE"):
        actions.import_835(practice=clinic.practice, text=cut, by=clinic.biller, at=FIXED_NOW)
    with pytest.raises(actions.RemittanceRefused, match="ISA"):
        actions.import_835(practice=clinic.practice, text="hello", by=clinic.biller,
                           at=FIXED_NOW)
    assert snapshot() == before


def test_only_billers_and_owners_post(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    therapist = f.make_user(clinic.practice, role="therapist")
    with pytest.raises(PermissionDenied):
        actions.import_835(practice=clinic.practice, text=write_835([standard(claim)]),
                           by=therapist, at=FIXED_NOW)
    (era,) = actions.import_835(practice=clinic.practice, text=write_835([standard(claim)]),
                                by=clinic.biller, at=FIXED_NOW)
    with pytest.raises(PermissionDenied):
        actions.commit_posting(era=era, by=therapist, at=FIXED_NOW)
    outsider = f.make_user(f.make_practice(), role="owner")
    with pytest.raises(PermissionDenied):
        actions.commit_posting(era=era, by=outsider, at=FIXED_NOW)


def test_a_refused_era_is_never_posted(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    (era,) = actions.import_835(practice=clinic.practice, text=write_835([standard(claim)]),
                                by=clinic.biller, at=FIXED_NOW)
    actions.refuse_posting(era=era, by=clinic.biller, at=FIXED_NOW,
                           reason="this payment belongs to our sister clinic")
    with pytest.raises(actions.RemittanceError, match="refused"):
        actions.commit_posting(era=era, by=clinic.biller, at=FIXED_NOW)
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


# --- the command line -----------------------------------------------------------------------


def test_the_command_line_imports_previews_and_posts(
    clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from handbill.cli import main

    claim = make_submitted_claim(clinic, LINES)
    path = tmp_path / "remit.835"
    path.write_text(write_835([standard(claim)]))
    slug = clinic.practice.slug
    assert main(["remit", "import", str(path), "--practice", slug]) == 0
    shown = json.loads(capsys.readouterr().out)["payments"][0]
    assert shown["status"] == "planned"
    assert shown["plan"]["claims"][0]["lines"][0]["matched_by"] == "control_number"
    assert shown["plan"]["status_changes"] == [
        {"claim": claim.number, "from": "submitted", "to": "paid",
         "note": shown["plan"]["status_changes"][0]["note"]}]
    assert Claim.objects.get(pk=claim.pk).status == "submitted"
    assert main(["remit", "plan", str(shown["era"]), "--summary", "--practice", slug]) == 0
    assert json.loads(capsys.readouterr().out)["plan"]["summary"]["clean"] is True
    assert main(["remit", "post", str(shown["era"]), "--practice", slug]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "posted"
    assert Claim.objects.get(pk=claim.pk).status == "paid"
    bad = tmp_path / "bad.835"
    bad.write_text(write_835([standard(claim)], payment=1))
    assert main(["remit", "import", str(bad), "--commit", "--practice", slug]) == 2
    assert "does not balance" in capsys.readouterr().err
