"""Secondary claims: the primary's 835 left the patient a share, the patient has a second plan,
so that plan is billed with the primary's adjudication (2320/2330/2430), and the share moves
from the patient's A/R to the secondary payer's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handbill.claims import actions
from handbill.claims.models import Claim
from handbill.claims.secondary import build_secondary
from handbill.core.money import Cents
from handbill.ledger.balances import claim_balance, patient_balance
from handbill.ledger.models import AccountKind
from handbill.submissions.actions import submit_claims
from handbill.x12.p837 import read_837
from handbill.x12.tokens import iter_transactions
from tests.integration import money_back_setup as mb
from tests.unit.x12_validation import pyx12_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    return mb.clinic(tmp_path)


def _paid_with_share(clinic: dict[str, Any]) -> Claim:
    claim = mb.post_835(clinic, mb.sent_claim(clinic), paid_percent=70, coinsurance_percent=20,
                        payer_claim_number="RUMP-2001")
    assert claim.status == "paid"
    return claim


def test_the_secondary_claim_carries_the_primary_adjudication_and_passes_pyx12(
    clinic: dict[str, Any],
) -> None:
    primary = _paid_with_share(clinic)
    mb.add_secondary(clinic, primary)
    practice = primary.practice
    share = sum(line.charge_cents * 20 // 100 for line in primary.lines.all())
    account = primary.patient.account_number
    assert patient_balance(practice, account) == Cents(share)

    secondary = build_secondary(claim=primary, by=clinic["biller"], at=mb.LATER)
    assert secondary.primary_claim_id == primary.pk and secondary.frequency == "1"
    assert secondary.payer.payer_id == "PUGET2"
    assert secondary.coverage.order == 2
    assert [(ln.code, ln.charge_cents) for ln in secondary.lines.all()] == [
        (ln.code, ln.charge_cents) for ln in primary.lines.all()]
    # Billing the same lines again is the point, not a duplicate.
    assert not secondary.findings.filter(rule="duplicate.line").exists()

    ready = actions.mark_ready(claim=secondary, by=clinic["biller"], at=mb.LATER)
    # The patient's share now waits on the secondary payer, on the secondary claim.
    assert patient_balance(practice, account) == Cents(0)
    assert claim_balance(practice, secondary.number,
                         kinds=[AccountKind.AR_INSURANCE]) == Cents(share)
    assert claim_balance(practice, primary.number) == Cents(0)

    batch = submit_claims(practice=practice, claims=[ready], clearinghouse=clinic["house"],
                          by=clinic["biller"], at=mb.LATER)
    assert pyx12_errors(batch.x12) == []
    (transaction,) = iter_transactions(batch.x12)
    (group,) = read_837(transaction).groups
    (out,) = group.claims
    assert out.claim_id == secondary.number
    assert out.subscriber.responsibility.value == "S"
    (prior,) = out.prior_payers
    assert prior.payer.payer_id == primary.payer.payer_id
    assert prior.subscriber.responsibility.value == "P"
    assert prior.payer_claim_number == "RUMP-2001"
    paid = sum(line.charge_cents * 70 // 100 for line in primary.lines.all())
    assert prior.paid == Cents(paid)
    assert prior.remaining_patient_liability == Cents(share)
    assert {a.control_number for a in prior.line_adjudications} == {
        ln.control_number for ln in secondary.lines.all()}
    groups = {adj.group for a in prior.line_adjudications for adj in a.adjustments}
    assert groups == {"CO", "PR"}
    assert all(a.adjudicated_on == mb.PAID_ON for a in prior.line_adjudications)

    # The secondary pays the share (CLP02 2); the primary's part comes back as OA-23, which
    # is already on the books. Both claims end at zero and the patient owes nothing.
    text = mb.write_835([mb.Clp(secondary.number, [
        mb.Svc(line.code, line.charge_cents, line.charge_cents * 20 // 100,
               [("OA", "23", line.charge_cents - line.charge_cents * 20 // 100)],
               line.modifiers, line.units, line.control_number)
        for line in secondary.lines.all()], status="2", payer_claim_number="PUGET-1")],
        trace="EFTSEC1", payer_id="PUGET2", payer_name="PUGET SECOND HEALTH")
    from handbill.remittance import actions as remit

    for era in remit.import_835(practice=practice, text=text, by=clinic["biller"],
                                at=mb.LATER):
        remit.commit_posting(era=era, by=clinic["biller"], at=mb.LATER)
    secondary.refresh_from_db()
    assert secondary.status == "paid"
    assert claim_balance(practice, secondary.number) == Cents(0)
    assert claim_balance(practice, primary.number) == Cents(0)
    assert patient_balance(practice, account) == Cents(0)


def test_a_secondary_is_refused_with_the_reason(clinic: dict[str, Any]) -> None:
    biller = clinic["biller"]
    no_share = mb.post_835(clinic, mb.sent_claim(clinic), paid_percent=80,
                           coinsurance_percent=0)
    with pytest.raises(actions.ClaimError, match="no secondary coverage in force"):
        build_secondary(claim=no_share, by=biller, at=mb.LATER)
    mb.add_secondary(clinic, no_share)
    with pytest.raises(actions.ClaimError, match="left nothing to the patient"):
        build_secondary(claim=no_share, by=biller, at=mb.LATER)
    submitted = mb.sent_claim(clinic)
    with pytest.raises(actions.ClaimError, match="follows the primary's payment or denial"):
        build_secondary(claim=submitted, by=biller, at=mb.LATER)

    primary = _paid_with_share(clinic)
    mb.add_secondary(clinic, primary)
    secondary = build_secondary(claim=primary, by=biller, at=mb.LATER)
    with pytest.raises(actions.ClaimError, match=f"already has secondary claim {secondary.number}"):
        build_secondary(claim=primary, by=biller, at=mb.LATER)
    with pytest.raises(actions.ClaimError, match="itself a secondary"):
        build_secondary(claim=secondary, by=biller, at=mb.LATER)


def test_medicare_as_secondary_needs_the_msp_type(clinic: dict[str, Any]) -> None:
    primary = _paid_with_share(clinic)
    mb.add_secondary(clinic, primary, payer=clinic["payers"]["original-medicare"])
    with pytest.raises(actions.ClaimError, match="Medicare Secondary Payer type.*12 working"):
        build_secondary(claim=primary, by=clinic["biller"], at=mb.LATER)
    with pytest.raises(actions.ClaimError, match="'99' is not one of"):
        build_secondary(claim=primary, by=clinic["biller"], at=mb.LATER, msp_type="99")
    secondary = build_secondary(claim=primary, by=clinic["biller"], at=mb.LATER, msp_type="12")
    assert secondary.msp_type == "12"
    from handbill.claims.outbound import read_claim

    _billing, out = read_claim(secondary)
    assert out.subscriber.insurance_type_code == "12"
    assert out.subscriber.claim_filing_indicator == "MB"


def test_a_secondary_that_goes_back_to_draft_returns_the_share_to_the_patient(
    clinic: dict[str, Any],
) -> None:
    primary = _paid_with_share(clinic)
    mb.add_secondary(clinic, primary)
    secondary = build_secondary(claim=primary, by=clinic["biller"], at=mb.LATER)
    actions.mark_ready(claim=secondary, by=clinic["biller"], at=mb.LATER)
    account = primary.patient.account_number
    assert patient_balance(primary.practice, account) == Cents(0)
    actions.transition(claim=secondary, to="draft", by=clinic["biller"], at=mb.LATER,
                       note="wrong member ID on the secondary")
    share = sum(line.charge_cents * 20 // 100 for line in primary.lines.all())
    assert patient_balance(primary.practice, account) == Cents(share)
    assert claim_balance(primary.practice, secondary.number) == Cents(0)


def test_a_replacement_of_a_secondary_claim_keeps_its_lines_and_adjudication(
    clinic: dict[str, Any],
) -> None:
    from handbill.claims.corrections import correct_claim

    primary = _paid_with_share(clinic)
    mb.add_secondary(clinic, primary)
    secondary = build_secondary(claim=primary, by=clinic["biller"], at=mb.LATER)
    ready = actions.mark_ready(claim=secondary, by=clinic["biller"], at=mb.LATER)
    submit_claims(practice=primary.practice, claims=[ready], clearinghouse=clinic["house"],
                  by=clinic["biller"], at=mb.LATER)
    denied = mb.post_835(clinic, Claim.objects.get(pk=secondary.pk), denied="16",
                         payer_claim_number="PUGET-9")
    replacement = correct_claim(claim=denied, kind="replace", by=clinic["biller"],
                                at=mb.LATER, reason="subscriber's group number")
    assert replacement.primary_claim_id == primary.pk
    controls = {ln.control_number for ln in replacement.lines.all()}
    (prior,) = replacement.prior_payers
    assert {item["control_number"] for item in prior["lines"]} == controls
    ready = actions.mark_ready(claim=replacement, by=clinic["biller"], at=mb.LATER)
    batch = submit_claims(practice=primary.practice, claims=[ready],
                          clearinghouse=clinic["house"], by=clinic["biller"], at=mb.LATER)
    assert pyx12_errors(batch.x12) == []
    (transaction,) = iter_transactions(batch.x12)
    (group,) = read_837(transaction).groups
    (out,) = group.claims
    assert out.frequency == "7" and out.payer_claim_number == "PUGET-9"
    assert len(out.prior_payers) == 1
