"""The whole loop from the command line: claims out as an 837P, the payer sandbox answers with a
999, a 277CA and 835s, the inbox is fetched and processed, and the money is on the books."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handbill.claims.models import Claim, ClaimEvent
from handbill.core.money import Cents
from handbill.ledger.balances import claim_balance, patient_balance, trial_balance
from handbill.ledger.models import AccountKind
from handbill.remittance.models import Acknowledgement, ClaimPayment, EraFile
from handbill.submissions.actions import submit_claims
from tests.conftest import FIXED_NOW
from tests.integration import submission_setup as s

pytestmark = pytest.mark.django_db


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    from handbill.cli import main

    status = main(list(argv))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def test_claims_out_answers_back_and_posted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = s.make_clinic(tmp_path / "outbox")
    practice = clinic["practice"]
    claims = [s.ready_claim(clinic) for _ in range(4)]
    batch = submit_claims(practice=practice, claims=claims, clearinghouse=clinic["house"],
                          by=clinic["biller"], at=FIXED_NOW)
    sent = tmp_path / "outbox" / batch.file_name
    assert sent.exists()

    answered = _run(capsys, "sandbox", "adjudicate", str(sent), "--seed", "7")
    assert any(name.endswith(".835") for name in answered["files"])
    slug = practice.slug
    fetched = _run(capsys, "inbox", "fetch", "--practice", slug)
    assert fetched
    report = _run(capsys, "inbox", "process", "--practice", slug)["files"]
    kinds = [item["kind"] for item in report]
    assert kinds[:2] == ["999", "277ca"] and set(kinds[2:]) == {"835"}
    assert all(item["result"] in ("read", "posted", "planned") for item in report), report
    # The 999 checks syntax only; the 277CA accepts the four claims (with payer numbers).
    assert [item["detail"] for item in report[:2]] == [
        "4 verdicts, 0 claims moved", "4 verdicts, 4 claims moved"]

    # Anything waiting for a look is posted by hand, as a biller would after the preview.
    for era in EraFile.objects.filter(practice=practice, status="planned"):
        assert _run(capsys, "remit", "post", str(era.pk), "--practice", slug)["status"] == (
            "posted")
    assert set(EraFile.objects.filter(practice=practice).values_list("status", flat=True)) == {
        "posted"}

    # Every claim went submitted → accepted (277CA) → an adjudicated status (835).
    assert Acknowledgement.objects.filter(kind="277ca", result="accepted").count() == 4
    for claim in Claim.objects.filter(pk__in=[c.pk for c in claims]):
        assert claim.status in ("paid", "partially_paid", "denied"), claim.status
        moves = list(ClaimEvent.objects.filter(claim=claim).values_list("to_status", flat=True))
        assert moves[-3:-1] == ["submitted", "accepted"], moves
        assert claim.payer_claim_number
        payment = ClaimPayment.objects.get(claim=claim)
        assert payment.lines.filter(matched_by="control_number").count() == payment.lines.count()
        # What the payer still owes is what it neither paid, wrote down nor passed on.
        contractual = sum(a.amount_cents for a in payment.adjustments.filter(
            effect="contractual"))
        to_patient = sum(a.amount_cents for a in payment.adjustments.filter(effect="patient"))
        owed = claim.total_charge_cents - payment.paid_cents - contractual - to_patient
        assert claim_balance(practice, claim.number, kinds=[AccountKind.AR_INSURANCE]) == Cents(
            owed)
        assert patient_balance(practice, claim.patient.account_number) == Cents(to_patient)
    assert trial_balance(practice).is_balanced
    # Reading the inbox again changes nothing.
    assert _run(capsys, "inbox", "process", "--practice", slug) == {"files": []}
