"""Money in the browser, on the demo practice: submit last week's ready claims with the
progress bar, let the payer sandbox answer the file, upload its 835, read the posting plan,
post it and see the payment with its claims; then a payer's policy page. Photographed into
docs/tour/ (11–16)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from handbill.claims.models import Claim
from handbill.core.policy import read_shipped_policies
from handbill.remittance.models import EraFile
from handbill.sandbox import adjudicate
from handbill.submissions.models import Clearinghouse, SubmissionBatch
from handbill.web.queries.submit import ready_claims
from tests.conftest import FIXED_NOW
from tests.functional.conftest import shoot, sign_in

pytestmark = [pytest.mark.functional, pytest.mark.django_db(transaction=True)]

builder = pytest.importorskip("handbill.demo.builder")


def test_submit_then_upload_the_sandbox_835_and_see_the_payment_posted(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    practice = builder.build_demo(as_of=FIXED_NOW.astimezone(builder.ZONE).date(), at=FIXED_NOW)
    # The demo's outbox lives under var/; this run sends into its own folder.
    Clearinghouse.objects.filter(practice=practice).update(outbox_path=str(tmp_path / "outbox"))
    ready = ready_claims(practice).count()  # ready, with a payer, in no batch yet
    assert ready > 0
    base = live_server.url
    sign_in(page, base, f"biller@{builder.EMAIL_DOMAIN}", builder.DEMO_PASSWORD)

    page.get_by_role("link", name="Submit", exact=True).click()
    expect(page.locator("#ready-table")).to_be_visible()
    shoot(page, "11-submit")
    page.get_by_role("button", name=re.compile(rf"Submit all {ready} ready claim")).click()
    # The bar advances by polling until the job is done, with no page load of ours.
    expect(page.locator("#job h2")).to_have_text("Done", timeout=60_000)
    expect(page.locator("#job-progress")).to_have_attribute("value", str(ready))
    expect(page.locator("#job-results")).to_be_visible()
    shoot(page, "12-submit-done")
    sent = list(ready_claims(practice).values_list("pk", flat=True))
    assert not sent

    # The payer sandbox answers the file, as a clearinghouse would a day later.
    batch = SubmissionBatch.objects.filter(practice=practice).latest("pk")
    policies = {p.payer_id: p for p in read_shipped_policies() if p.payer_id}
    answer = adjudicate(batch.x12, policies=policies, as_of=None, seed=7)
    assert answer.remittances
    era_file = tmp_path / "sandbox.835"
    # The payer with the most claims in this file: the fullest plan to read.
    era_file.write_text(max(answer.remittances, key=lambda text: text.count("CLP*")))

    page.get_by_role("link", name="Remittances", exact=True).click()
    page.get_by_label("835 file").set_input_files(str(era_file))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="What posting will do")).to_be_visible()
    expect(page.locator(".plan-claim").first).to_contain_text("Insurance balance")
    shoot(page, "13-remittance-plan")
    page.get_by_role("button", name="Post this payment").click()
    expect(page.get_by_role("heading", name=re.compile("Payment .* Posted"))).to_be_visible()
    expect(page.locator("#posted-claims")).to_be_visible()
    shoot(page, "14-remittance-posted")
    # The demo already holds the ERAs of its history; this one is the newest.
    era = EraFile.objects.filter(practice=practice).latest("pk")
    assert era.status == "posted"
    statuses = set(Claim.objects.filter(payments__era=era).values_list("status", flat=True))
    assert era.claim_count > 0 and statuses <= {"paid", "partially_paid", "denied"}, statuses

    page.get_by_role("link", name="Payers", exact=True).click()
    expect(page.locator("#payers-table")).to_be_visible()
    page.locator("#payers-table a").first.click()
    expect(page.get_by_role("heading", name="Versions")).to_be_visible()
    shoot(page, "15-payer")
    # New rules from a date: a code the catalogue does not know is refused next to its field.
    page.get_by_role("link", name="New rules from a date").click()
    page.get_by_label("Expected allowed per unit").fill("97124: 28.10\n99999: 10.00")
    page.get_by_role("button", name="Save the new version").click()
    expect(page.locator("#id_expected_allowed_error")).to_contain_text("99999")
    expect(page.get_by_label("Expected allowed per unit")).to_have_value(
        "97124: 28.10\n99999: 10.00")
    page.locator("#id_expected_allowed").scroll_into_view_if_needed()
    shoot(page, "17-policy-form-error", full_page=False, from_top=False)

    # A tablet holds the plan too (no sideways scrolling of the page itself).
    page.set_viewport_size({"width": 800, "height": 1100})
    page.goto(f"{base}/remittances/{era.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    shoot(page, "16-remittance-posted-tablet")
