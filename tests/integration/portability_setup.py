"""A practice with a bit of everything, for the export/import tests: claims sent as an 837P,
answered by the payer sandbox (999, 277CA, 835s) and posted, an eligibility check, an
addendum, a replacement and a secondary-style claim, a reversed charge, and a submission job.
Synthetic people only."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from handbill.claims import actions as claim_actions
from handbill.claims.corrections import correct_claim
from handbill.claims.models import Claim
from handbill.eligibility.actions import check_eligibility
from handbill.followup import queries
from handbill.followup.actions import mark_worked
from handbill.remittance.models import EraFile
from handbill.submissions.jobs import advance_job, start_job
from handbill.submissions.models import SubmissionBatch
from handbill.visits.actions import add_addendum
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration import submission_setup as s


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    from handbill.cli import main

    status = main(list(argv))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def busy_practice(folder: Path, capsys: pytest.CaptureFixture[str], *,
                  last_name: str = "Quillfeather") -> dict[str, Any]:
    clinic = s.make_clinic(folder / "clearinghouse" / "outbox")
    practice = clinic["practice"]
    biller = clinic["biller"]
    claims = [s.ready_claim(clinic, last_name=last_name) for _ in range(3)]
    # Sent as the Submit page sends them: a job, one step at a time.
    job = start_job(practice=practice, claims=claims, clearinghouse=clinic["house"], by=biller,
                    at=FIXED_NOW)
    while job.status == "running":
        job = advance_job(job=job, by=biller, at=FIXED_NOW)
    batch = SubmissionBatch.objects.get(practice=practice)
    run(capsys, "sandbox", "adjudicate", str(Path(clinic["house"].outbox_path) /
                                               batch.file_name), "--seed", "7")
    run(capsys, "inbox", "fetch", "--practice", practice.slug)
    run(capsys, "inbox", "process", "--practice", practice.slug)
    for era in EraFile.objects.filter(practice=practice, status="planned"):
        run(capsys, "remit", "post", str(era.pk), "--practice", practice.slug)

    # A charge taken back (ready → draft reverses it), a replacement claim, an addendum.
    pulled = s.ready_claim(clinic, last_name=last_name)
    claim_actions.transition(claim=pulled, to="draft", by=biller, at=FIXED_NOW,
                             note="wrong date of service")
    original = Claim.objects.get(pk=claims[0].pk)
    correct_claim(claim=original, kind="replace", by=biller, at=FIXED_NOW,
                  reason="units were one too many")
    # A claim naming its primary (as a secondary does): a second key into its own table.
    Claim.objects.create(
        practice=practice, number=f"{original.number}S", visit=original.visit,
        patient=original.patient, provider=original.provider, payer=original.payer,
        coverage=original.coverage, primary_claim=original,
        date_of_service=original.date_of_service, place_of_service="11",
        diagnoses=original.diagnoses, total_charge_cents=original.total_charge_cents,
        created_at=FIXED_NOW, created_by=biller)
    add_addendum(visit=original.visit, text="Client reported less pain the next day.",
                 by=None, at=FIXED_NOW)

    # An eligibility question answered by the payer sandbox.
    house = clinic["house"]
    house.receiver_id = "HBSANDBOX"
    house.save()
    check_eligibility(coverage=claims[1].coverage, on=claims[1].date_of_service, by=biller,
                      at=FIXED_NOW)
    f.make_user(practice, role="therapist", username=f"therapist-{practice.slug}")

    # A claim sent on paper that nobody answers: a follow-up row, worked a month on.
    paper = s.ready_claim(clinic, last_name=last_name)
    claim_actions.transition(claim=paper, to="submitted", by=biller, at=FIXED_NOW,
                             note="sent on paper")
    later = FIXED_NOW + timedelta(days=45)
    rows = queries.worklist(practice, at=later)
    mark_worked(practice=practice, key=rows[0].key, by=biller, at=later, note="called the payer")
    return clinic
