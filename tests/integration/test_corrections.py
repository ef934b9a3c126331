"""Corrected claims: a replacement (7) or void (8) of an adjudicated claim names the payer's
claim number; a rejected claim is reopened and sent again as a new original; submission checks
blocking findings again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handbill.claims import actions
from handbill.claims.corrections import correct_claim, reopen_claim
from handbill.claims.models import Claim, ClaimFinding
from handbill.core.claim_status import ClaimStatus
from handbill.core.money import Cents
from handbill.ledger.balances import claim_balance
from handbill.ledger.models import AccountKind, LedgerTransaction, TransactionKind
from handbill.submissions.actions import SubmissionError, submit_claims
from handbill.submissions.models import SubmissionItem
from handbill.x12.tokens import iter_transactions
from tests.integration import money_back_setup as mb
from tests.unit.x12_validation import pyx12_errors

pytestmark = pytest.mark.django_db

AR = [AccountKind.AR_INSURANCE, AccountKind.AR_PATIENT]


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    return mb.clinic(tmp_path)


def _send(clinic: dict[str, Any], claim: Claim) -> str:
    ready = actions.mark_ready(claim=claim, by=clinic["biller"], at=mb.LATER)
    batch = submit_claims(practice=clinic["practice"], claims=[ready],
                          clearinghouse=clinic["house"], by=clinic["biller"], at=mb.LATER)
    return batch.x12


def _segments(text: str, *prefix: str) -> list[list[str]]:
    found = []
    for transaction in iter_transactions(text):
        for segment in transaction.segments:
            values = list(segment)
            if values[: len(prefix)] == list(prefix):
                found.append(values)
    return found


def _open_charges(claim: Claim) -> int:
    return LedgerTransaction.objects.filter(
        kind=TransactionKind.CHARGE, source_type="claim", source_id=str(claim.pk),
        reversed_by__isnull=True).count()


def test_a_replacement_of_a_paid_claim_names_the_payer_claim_and_charges_the_visit_once(
    clinic: dict[str, Any],
) -> None:
    original = mb.post_835(clinic, mb.sent_claim(clinic), payer_claim_number="RUMP-55501")
    assert original.status == "paid" and original.payer_claim_number == "RUMP-55501"
    charge = original.total_charge_cents

    replacement = correct_claim(claim=original, kind="replace", by=clinic["biller"],
                                at=mb.LATER, reason="modifier on the wrong line")
    original.refresh_from_db()
    assert (replacement.frequency, replacement.replaces_id) == ("7", original.pk)
    assert replacement.status == "draft" and original.status == "corrected"
    assert replacement.number != original.number

    text = _send(clinic, replacement)
    # The original's charge is reversed when the replacement's charge posts: one visit, one
    # charge, whatever the payer does with the original's payment.
    assert _open_charges(original) == 0 and _open_charges(replacement) == 1
    assert claim_balance(clinic["practice"], replacement.number, kinds=AR) == Cents(charge)

    assert pyx12_errors(text) == []
    (clm,) = _segments(text, "CLM")
    assert clm[1] == replacement.number and clm[5].split(":")[2] == "7"
    assert _segments(text, "REF", "F8") == [["REF", "F8", "RUMP-55501"]]
    replacement.refresh_from_db()
    assert replacement.status == "submitted"

    # On paper: box 22, the resubmission code and the original reference number.
    from handbill.claims.outbound import read_claim
    from handbill.documents.cms1500 import render_cms1500
    from tests.unit.outbound_docs_factory import text_runs
    from tests.unit.test_cms1500 import printed

    billing, out = read_claim(replacement)
    (runs, *_rest) = text_runs(render_cms1500(out, billing, signed_on=mb.PAID_ON))
    assert printed(runs, "22_code") == "7" and printed(runs, "22_ref") == "RUMP-55501"


def test_a_void_cancels_the_original_and_reverses_its_charge(clinic: dict[str, Any]) -> None:
    original = mb.post_835(clinic, mb.sent_claim(clinic), denied="170")
    assert original.status == "denied"
    before = claim_balance(clinic["practice"], original.number, kinds=AR)
    assert before == original.total_charge  # a denial stays on the payer's A/R

    void = correct_claim(claim=original, kind="void", by=clinic["biller"], at=mb.LATER,
                         reason="billed to the wrong payer")
    assert void.frequency == "8"
    assert [(ln.code, ln.units, ln.charge_cents) for ln in void.lines.all()] == [
        (ln.code, ln.units, ln.charge_cents) for ln in original.lines.all()]
    text = _send(clinic, void)

    assert claim_balance(clinic["practice"], original.number, kinds=AR) == Cents(0)
    assert claim_balance(clinic["practice"], void.number, kinds=AR) == Cents(0)
    assert not LedgerTransaction.objects.filter(
        kind=TransactionKind.CHARGE, source_type="claim", source_id=str(void.pk)).exists()
    assert pyx12_errors(text) == []
    (clm,) = _segments(text, "CLM")
    assert clm[5].split(":")[2] == "8"
    assert _segments(text, "REF", "F8") == [["REF", "F8", f"PCN-{original.number}"]]


def test_an_abandoned_correction_puts_the_original_back(clinic: dict[str, Any]) -> None:
    original = mb.post_835(clinic, mb.sent_claim(clinic))
    replacement = correct_claim(claim=original, kind="replace", by=clinic["biller"],
                                at=mb.LATER, reason="units")
    actions.mark_ready(claim=replacement, by=clinic["biller"], at=mb.LATER)
    assert _open_charges(original) == 0
    actions.transition(claim=replacement, to=ClaimStatus.VOID, by=clinic["biller"],
                       at=mb.LATER, note="not needed after all")
    original.refresh_from_db()
    assert original.status == "paid"
    assert _open_charges(original) == 1 and _open_charges(replacement) == 0
    # And it can be corrected again.
    again = correct_claim(claim=original, kind="void", by=clinic["biller"], at=mb.LATER,
                          reason="duplicate visit")
    assert again.frequency == "8"


def test_corrections_are_refused_with_the_reason(clinic: dict[str, Any]) -> None:
    biller = clinic["biller"]
    submitted = mb.sent_claim(clinic)
    with pytest.raises(actions.ClaimError, match="only a paid, partially paid or denied"):
        correct_claim(claim=submitted, kind="replace", by=biller, at=mb.LATER, reason="x")
    rejected = mb.reject_277ca(clinic, mb.sent_claim(clinic))
    with pytest.raises(actions.ClaimError, match="reopen it"):
        correct_claim(claim=rejected, kind="void", by=biller, at=mb.LATER, reason="x")
    paid = mb.post_835(clinic, mb.sent_claim(clinic))
    Claim.objects.filter(pk=paid.pk).update(payer_claim_number="")
    paid.refresh_from_db()
    with pytest.raises(actions.ClaimError, match="no payer claim number on file"):
        correct_claim(claim=paid, kind="void", by=biller, at=mb.LATER, reason="x")
    with pytest.raises(actions.ClaimError, match="'replace'"):
        correct_claim(claim=paid, kind="refund", by=biller, at=mb.LATER, reason="x")
    void = correct_claim(claim=paid, kind="void", by=biller, at=mb.LATER, reason="x",
                         payer_claim_number="TYPED-1")
    paid.refresh_from_db()
    assert paid.payer_claim_number == "TYPED-1" and void.replaces_id == paid.pk
    with pytest.raises(actions.ClaimError, match=f"already has a void, {void.number}"):
        correct_claim(claim=paid, kind="replace", by=biller, at=mb.LATER, reason="x")


def test_a_rejected_claim_is_reopened_and_sent_again_as_a_new_original(
    clinic: dict[str, Any],
) -> None:
    claim = mb.reject_277ca(clinic, mb.sent_claim(clinic))
    assert _open_charges(claim) == 1
    with pytest.raises(SubmissionError, match="was rejected; reopen it"):
        submit_claims(practice=clinic["practice"], claims=[claim],
                      clearinghouse=clinic["house"], by=clinic["biller"], at=mb.LATER)

    reopened = reopen_claim(claim=claim, by=clinic["biller"], at=mb.LATER,
                            reason="billing NPI typo fixed")
    assert reopened.status == "draft" and reopened.frequency == "1"
    assert _open_charges(claim) == 0
    assert not SubmissionItem.objects.filter(claim=claim, live=True).exists()

    text = _send(clinic, reopened)
    assert _open_charges(claim) == 1
    assert pyx12_errors(text) == []
    (clm,) = _segments(text, "CLM")
    assert clm[1] == claim.number and clm[5].split(":")[2] == "1"
    assert not _segments(text, "REF", "F8")
    assert claim_balance(clinic["practice"], claim.number, kinds=AR) == claim.total_charge
    paid = mb.post_835(clinic, Claim.objects.get(pk=claim.pk))
    with pytest.raises(actions.ClaimError, match="send a replacement or a void"):
        reopen_claim(claim=paid, by=clinic["biller"], at=mb.LATER, reason="x")


def test_submission_checks_blocking_findings_again(clinic: dict[str, Any]) -> None:
    from tests.integration import submission_setup as s

    claim = s.ready_claim(clinic)
    # Something found after the claim became ready (an eligibility answer re-scrubbed it).
    ClaimFinding.objects.create(claim=claim, rule="eligibility.inactive", severity="blocking",
                                message="coverage ended", fix="check the plan",
                                scrubbed_at=mb.LATER)
    with pytest.raises(SubmissionError, match="open blocking finding.*eligibility.inactive"):
        submit_claims(practice=clinic["practice"], claims=[claim],
                      clearinghouse=clinic["house"], by=clinic["biller"], at=mb.LATER)
    actions.override_finding(claim=claim, rule="eligibility.inactive", line=None,
                             reason="plan confirmed active by phone", by=clinic["biller"],
                             at=mb.LATER)
    batch = submit_claims(practice=clinic["practice"], claims=[claim],
                          clearinghouse=clinic["house"], by=clinic["biller"], at=mb.LATER)
    assert batch.claim_count == 1


def test_a_replacement_does_not_count_its_visit_twice_against_the_prescription(
    clinic: dict[str, Any],
) -> None:
    original = mb.post_835(clinic, mb.sent_claim(clinic))
    # The prescription allowed one visit, and this is it.
    original.referral.__class__.objects.filter(pk=original.referral_id).update(visits_allowed=1)
    replacement = correct_claim(claim=original, kind="replace", by=clinic["biller"],
                                at=mb.LATER, reason="modifier")
    assert replacement.referral_id == original.referral_id
    (finding,) = replacement.findings.filter(rule="authorization.remaining")
    assert finding.severity == "warning" and "this is the last of 1 visit" in finding.message
