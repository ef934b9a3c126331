"""999 and 277CA acknowledgements move claims; the inbox is read in order, once."""

from __future__ import annotations

import json

import pytest

from handbill.claims.models import Claim, ClaimEvent
from handbill.remittance import actions
from handbill.remittance.acknowledgements import AcknowledgementUnreadable
from handbill.remittance.models import Acknowledgement, EraFile
from handbill.submissions.models import InboxFile
from tests.conftest import FIXED_NOW
from tests.integration.remittance_setup import (
    Clinic,
    Clp,
    Svc,
    inbox_file,
    make_clinic,
    make_submitted_claim,
    sent_batch,
    write_277ca,
    write_835,
    write_999,
)

pytestmark = pytest.mark.django_db

LINES = [("97124", ["GP"], 2, 12000)]


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def _paid(claim: Claim, paid: int = 9500) -> Clp:
    return Clp(claim.number, [Svc("97124", 12000, paid, [("CO", "45", 12000 - paid)], ["GP"],
                                  2, f"{claim.number}-1")])


def test_a_rejected_999_transaction_rejects_its_claims(clinic: Clinic) -> None:
    claims = [make_submitted_claim(clinic, LINES) for _ in range(2)]
    sent_batch(clinic.practice, claims, group=41)
    ack = inbox_file(clinic.practice, "ack.999", write_999(41, [("0001", "R")]), kind="999")
    rows = actions.process_acknowledgements(practice=clinic.practice, inbox_file=ack,
                                            by=clinic.biller, at=FIXED_NOW)
    assert [(r.claim, r.result, r.action_taken) for r in rows] == [
        (claims[0], "rejected", "rejected"), (claims[1], "rejected", "rejected")]
    assert "NM1 at position 8 in loop 2010BA" in rows[0].message
    assert "invalid code value (sent 'BADID')" in rows[0].message
    assert {c.status for c in Claim.objects.all()} == {"rejected"}
    event = ClaimEvent.objects.filter(to_status="rejected").first()
    assert event is not None and "batch-41.837" in event.note
    # Read again: nothing new.
    again = actions.process_acknowledgements(practice=clinic.practice, inbox_file=ack,
                                             by=clinic.biller, at=FIXED_NOW)
    assert [r.pk for r in again] == [r.pk for r in rows]
    assert ClaimEvent.objects.filter(to_status="rejected").count() == 2


def test_an_accepted_999_leaves_claims_alone(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    sent_batch(clinic.practice, [claim], group=42)
    ack = inbox_file(clinic.practice, "ack.999", write_999(42, [("0001", "A")]), kind="999")
    (row,) = actions.process_acknowledgements(practice=clinic.practice, inbox_file=ack,
                                              by=clinic.biller, at=FIXED_NOW)
    assert row.result == "accepted" and "syntax" in row.action_taken
    assert Claim.objects.get(pk=claim.pk).status == "submitted"
    unknown = inbox_file(clinic.practice, "other.999", write_999(99, [("0001", "R")]),
                         kind="999")
    (row,) = actions.process_acknowledgements(practice=clinic.practice, inbox_file=unknown,
                                              by=clinic.biller, at=FIXED_NOW)
    assert row.claim is None and "no batch of ours" in row.action_taken


def test_277ca_accepts_with_the_payer_number_and_rejects_in_words(clinic: Clinic) -> None:
    good, bad, late = (make_submitted_claim(clinic, LINES) for _ in range(3))
    Claim.objects.filter(pk=late.pk).update(status="paid")
    text = write_277ca([(good.number, "A2:20:PR", "PAYER777"),
                        (bad.number, "A7:562:85", ""),
                        (late.number, "A7:21", ""),
                        ("HB9999999", "A2:20", "X1")])
    ack = inbox_file(clinic.practice, "claims.277", text, kind="277ca")
    rows = actions.process_acknowledgements(practice=clinic.practice, inbox_file=ack,
                                            by=clinic.biller, at=FIXED_NOW)
    assert [r.result for r in rows] == ["accepted", "rejected", "rejected", "accepted"]
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == "accepted" and good.payer_claim_number == "PAYER777"
    assert bad.status == "rejected"
    assert rows[1].code == "A7:562:85"
    assert ("rejected: invalid information (A7), entity's National Provider Identifier (NPI) "
            "of the billing provider") in rows[1].message
    assert Claim.objects.get(pk=late.pk).status == "paid"
    assert rows[2].action_taken.startswith("left paid")
    assert rows[3].claim is None and "no claim" in rows[3].action_taken
    assert ClaimEvent.objects.filter(claim=bad, to_status="rejected").exists()


def test_an_unreadable_acknowledgement_changes_nothing(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    text = write_277ca([(claim.number, "A7:21:85", "")]).replace("STC*A7:21:85", "STC*")
    ack = inbox_file(clinic.practice, "broken.277", text, kind="277ca")
    with pytest.raises(AcknowledgementUnreadable, match="STC"):
        actions.process_acknowledgements(practice=clinic.practice, inbox_file=ack,
                                         by=clinic.biller, at=FIXED_NOW)
    assert InboxFile.objects.get(pk=ack.pk).processed_at is None
    assert not Acknowledgement.objects.exists()
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_the_inbox_is_read_in_order_and_clean_remittances_post(clinic: Clinic) -> None:
    accepted, rejected, unclear = (make_submitted_claim(clinic, LINES) for _ in range(3))
    sent_batch(clinic.practice, [accepted, rejected, unclear], group=43)
    practice = clinic.practice
    # Fetched in the "wrong" order: the 835 first. The acknowledgements are still read first.
    inbox_file(practice, "pay1.835", write_835([_paid(accepted)], trace="CHK1"), kind="835")
    # No REF*6R and the GP modifier dropped: a match a biller should look at before posting.
    inbox_file(practice, "pay2.835",
               write_835([Clp(unclear.number, [Svc("97124", 12000, 9500, [("CO", "45", 2500)],
                                                   [], 2)])], trace="CHK2"),
               kind="835", minute=1)
    inbox_file(practice, "broken.835", write_835([_paid(accepted)], trace="CHK3", payment=1),
               kind="835", minute=2)
    inbox_file(practice, "claims.277",
               write_277ca([(accepted.number, "A2:20:PR", "P1"),
                            (rejected.number, "A6:254:85", ""),
                            (unclear.number, "A2:20:PR", "P3")]), kind="277ca", minute=3)
    inbox_file(practice, "ack.999", write_999(43, [("0001", "A")]), kind="999", minute=4)
    report = actions.process_inbox(practice=practice, by=clinic.biller, at=FIXED_NOW)
    assert [(o.file, o.result) for o in report] == [
        ("ack.999", "read"), ("claims.277", "read"), ("pay1.835", "posted"),
        ("pay2.835", "planned"), ("broken.835", "refused")]
    json.dumps([o.as_dict() for o in report])
    statuses = {c.number: c.status for c in Claim.objects.all()}
    assert statuses == {accepted.number: "paid", rejected.number: "rejected",
                        unclear.number: "accepted"}
    refused = EraFile.objects.get(file_name="broken.835")
    assert refused.status == "refused" and "does not balance" in refused.errors[0]
    waiting = EraFile.objects.get(file_name="pay2.835")
    assert waiting.status == "planned"
    assert not InboxFile.objects.filter(processed_at__isnull=True).exists()
    # A second run finds nothing to read.
    assert actions.process_inbox(practice=practice, by=clinic.biller, at=FIXED_NOW) == []
    actions.commit_posting(era=waiting, by=clinic.biller, at=FIXED_NOW)
    assert Claim.objects.get(pk=unclear.pk).status == "paid"
