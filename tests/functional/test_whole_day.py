"""Issue 6's whole day in one browser run, on a small clinic rather than the demo (fast):
the therapist writes and signs a note with two services and sees the units and findings; the
biller builds the claim, marks it ready, submits it with the progress bar, lets the payer
sandbox answer the file, uploads the 835, posts it, sees the payment, and finds the denied
line in the denials queue with its CARC in words and the next step. Tour shot 18.

The denial is deterministic: the practice's copy of Cascade Mutual's policy says the plan
pays massage therapists for 97124 (a biller's wrong edit), so the scrubber lets the claim
through; the sandbox adjudicates by the shipped profile, which pays only 97140, and denies
97124 CO-170 N130 while paying 97140.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from handbill.claims.models import Claim
from handbill.core.money import Cents
from handbill.core.policy import read_shipped_policies
from handbill.remittance.models import ClaimPayment, EraFile
from handbill.sandbox import adjudicate
from handbill.submissions.models import Clearinghouse, SubmissionBatch
from handbill.visits.models import Visit
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.functional.conftest import shoot, sign_in, sign_out
from tests.integration.followup_setup import wrong_policy
from tests.integration.web_clinic import PASSWORD, make_clinic

pytestmark = [pytest.mark.functional, pytest.mark.django_db(transaction=True)]

PROFILE = "cascade-mutual"


def test_note_to_denial_in_the_queue(page: Any, live_server: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    clinic = make_clinic()
    practice = clinic.practice
    practice.submitter_id = "HBSUBMIT01"
    practice.save(update_fields=["submitter_id"])
    cascade = clinic.payers[PROFILE]
    wrong_policy(cascade)
    patient = f.make_patient(practice, first_name="Robin", last_name="Ashgrove",
                             account_number="A10002")
    f.make_coverage(patient, cascade, member_id="CM5550002", group_number="GRP100")
    Clearinghouse.objects.create(
        practice=practice, name="Sandbox clearinghouse", receiver_id="TESTCH01",
        receiver_name="TEST CLEARINGHOUSE", transport="outbox",
        outbox_path=str(tmp_path / "outbox"), created_at=FIXED_NOW)
    base = live_server.url

    # The therapist writes the note: two services, and the preview counts the units.
    sign_in(page, base, clinic.users["therapist"].username, PASSWORD)
    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("link", name="New visit note").click()

    def field(label: str) -> Any:
        return page.get_by_label(label, exact=True)

    field("Diagnosis 1").fill("M62.830")
    field("Service 1 Code").select_option("97124")
    field("Service 1 Minutes").fill("38")
    field("Service 1 Technique").fill("Swedish massage")
    field("Service 1 Body region").fill("low back")
    field("Service 2 Code").select_option("97140")
    field("Service 2 Minutes").fill("15")
    field("Service 2 Technique").fill("Myofascial release")
    field("Service 2 Body region").fill("neck")
    field("Subjective").fill("Low back ache 5/10 after gardening.")
    field("Objective").fill("Hypertonic lumbar paraspinals; guarded flexion.")
    field("Assessment").fill("Muscle spasm of the back.")
    field("Plan").fill("Weekly for three weeks.")
    field("Medical necessity").fill("Treatment of M62.830 to restore bending for work.")
    field("Response to treatment").fill("Pain 2/10 after the session.")
    field("Response to treatment").press("Tab")
    preview = page.locator("#preview")
    # CMS total time: 53 minutes → 4 units, 3 of 97124 and 1 of 97140.
    expect(preview.locator("#units-rationale")).to_contain_text("53 timed minutes")
    expect(preview.locator('#units-table tr[data-code="97124"] .units')).to_have_text("3")
    expect(preview.locator('#units-table tr[data-code="97140"] .units')).to_have_text("1")
    expect(preview.locator("#claim-lines")).to_contain_text("97140")
    page.get_by_role("button", name="Save and sign").click()
    expect(page.locator("#note-status")).to_contain_text("Signed and locked")
    visit = Visit.objects.get(patient=patient)
    sign_out(page)

    # The biller builds the claim, reads its findings and marks it ready.
    sign_in(page, base, clinic.users["biller"].username, PASSWORD)
    page.goto(f"{base}/visits/{visit.pk}/")
    page.get_by_role("button", name=re.compile("Build the claim")).click()
    page.wait_for_url(re.compile(r"/claims/\d+/$"))
    claim = Claim.objects.get(visit=visit)
    expect(page.locator("#claim-lines")).to_contain_text("97124")
    findings = claim.findings.all()
    assert not findings.filter(severity="blocking").exists(), list(findings.values("rule"))
    if findings.exists():
        expect(page.locator("#findings .finding").first).to_contain_text("Fix:")
    else:
        expect(page.locator("#findings")).to_contain_text("scrubbed clean")
    page.get_by_role("button", name="Mark ready").click()
    expect(page.locator("#claim-status")).to_have_text("Ready")

    # Submit it; the bar fills by polling until the job is done.
    page.get_by_role("link", name="Submit", exact=True).click()
    expect(page.locator("#ready-table")).to_contain_text(claim.number)
    page.get_by_role("button", name=re.compile(r"Submit all 1 ready claim")).click()
    expect(page.locator("#job h2")).to_have_text("Done", timeout=60_000)
    expect(page.locator("#job-progress")).to_have_attribute("value", "1")
    claim.refresh_from_db()
    assert claim.status == "submitted", claim.status

    # The payer sandbox answers the file in the outbox, as the clearinghouse would.
    batch = SubmissionBatch.objects.get(practice=practice)
    sent = tmp_path / "outbox" / batch.file_name
    assert sent.exists()
    policies = {p.payer_id: p for p in read_shipped_policies() if p.payer_id}
    answer = adjudicate(sent.read_text(), policies=policies, as_of=None, seed=7)
    [remittance] = answer.remittances
    era_file = tmp_path / "cascade.835"
    era_file.write_text(remittance)

    # Upload it, read the plan, post it.
    page.get_by_role("link", name="Remittances", exact=True).click()
    page.get_by_label("835 file").set_input_files(str(era_file))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="What posting will do")).to_be_visible()
    expect(page.locator(".plan-claim").first).to_contain_text(claim.number)
    page.get_by_role("button", name="Post this payment").click()
    expect(page.get_by_role("heading", name=re.compile("Payment .* Posted"))).to_be_visible()
    posted = page.locator("#posted-claims")
    expect(posted).to_contain_text(claim.number)
    era = EraFile.objects.get(practice=practice)
    assert era.status == "posted"
    claim.refresh_from_db()
    assert claim.status == "partially_paid", claim.status
    # 97140 paid, 97124 denied: the payment and the denial's adjustment are on the page.
    payment = ClaimPayment.objects.get(claim=claim, era=era)
    assert payment.paid_cents > 0
    expect(posted).to_contain_text(Cents(payment.paid_cents).display())
    expect(posted).to_contain_text("CO-170")

    # The denial waits in the queue: CO-170 in words, and what to do next.
    page.goto(f"{base}/queues/?kind=denials")
    row = page.locator("#queue-table tbody tr").filter(has_text=claim.number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("97124")
    expect(row.locator(".codes")).to_have_text("CO-170 N130")
    expect(row.locator(".meaning").first).to_contain_text(
        "does not pay this service when this provider type")
    expect(row.locator(".step")).to_contain_text("write it off and drop the code")
    expect(row.locator(f'a[href="/claims/{claim.pk}/"]').first).to_be_visible()
    shoot(page, "18-queue-denials")
