"""A therapist's and a biller's day in a real browser: sign in, open a patient, write a note
with two services, watch the units and findings update as the minutes change, sign; then the
biller builds the claim and sees its findings. Plus the tenancy check from the browser."""

from __future__ import annotations

import re
from typing import Any

import pytest

from handbill.claims.models import Claim
from handbill.visits.models import Visit
from tests.functional.conftest import shoot, sign_in, sign_out
from tests.integration.web_clinic import PASSWORD, draft_claim, make_clinic

pytestmark = [pytest.mark.functional, pytest.mark.django_db(transaction=True)]


def field(page: Any, label: str) -> Any:
    """The input whose whole accessible label is ``label``."""
    return page.get_by_label(label, exact=True)


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def test_write_sign_and_bill_a_note(page: Any, live_server: Any) -> None:
    clinic = make_clinic()
    base = live_server.url
    check = expect()

    # The therapist signs in and finds her patient.
    sign_in(page, base, clinic.users["therapist"].username, PASSWORD)
    # The first Tab reaches the skip link, and it shows (keyboard users start here).
    page.keyboard.press("Tab")
    check(page.locator(".skip-link")).to_be_focused()
    check(page.locator(".skip-link")).to_be_in_viewport()
    page.get_by_role("link", name="Patients").click()
    field(page, "Name, account number or date of birth").fill("fairw")
    check(page.locator("#results")).to_contain_text("Fairweather, Jordan")
    page.get_by_role("link", name="Fairweather, Jordan").click()
    check(page.get_by_role("heading", name="Jordan Fairweather")).to_be_visible()
    page.get_by_role("link", name="New visit note").click()

    # Two diagnoses (a second row added in place) and two services.
    field(page, "Diagnosis 1").fill("M62.830")
    page.get_by_role("button", name="+ Add diagnosis").click()
    field(page, "Diagnosis 2").fill("M54.2")
    field(page, "Service 1 Code").select_option("97124")
    field(page, "Service 1 Minutes").fill("38")
    field(page, "Service 1 Technique").fill("Swedish massage")
    field(page, "Service 1 Body region").fill("low back")
    field(page, "Service 2 Code").select_option("97140")
    field(page, "Service 2 Minutes").fill("15")
    field(page, "Service 2 Technique").fill("Myofascial release")
    field(page, "Service 2 Body region").fill("neck")
    field(page, "Subjective").fill("Low back pain 6/10 after lifting; neck stiff.")
    field(page, "Objective").fill("Hypertonic lumbar paraspinals; cervical rotation 60°.")
    field(page, "Assessment").fill("Muscle spasm of the back with cervicalgia.")
    field(page, "Plan").fill("Weekly for four weeks; home stretches reviewed.")
    field(page, "Medical necessity").fill(
        "Treatment of M62.830 and M54.2 to restore lifting tolerance for work."
    )
    field(page, "Response to treatment").press("Tab")  # left empty on purpose

    # The preview counts CMS total time: 53 minutes → 4 units, and names the missing response.
    preview = page.locator("#preview")
    check(preview.locator("#units-rationale")).to_contain_text("53 timed minutes")
    check(preview.locator('#units-table tr[data-code="97124"] .units')).to_have_text("3")
    check(preview.locator('#units-table tr[data-code="97140"] .units')).to_have_text("1")
    check(preview.locator('[data-rule="note.response"]')).to_be_visible()
    check(preview.locator("#claim-lines")).to_contain_text("97124")

    # Fewer minutes, fewer units, without a page load.
    field(page, "Service 1 Minutes").fill("25")
    field(page, "Service 1 Minutes").press("Tab")
    check(preview.locator("#units-rationale")).to_contain_text("40 timed minutes")
    check(preview.locator('#units-table tr[data-code="97124"] .units')).to_have_text("2")
    # And the response to treatment clears its finding.
    field(page, "Response to treatment").fill("Pain 3/10 after the session.")
    field(page, "Response to treatment").press("Tab")
    check(preview.locator('[data-rule="note.response"]')).to_have_count(0)
    shoot(page, "04-visit-note-preview")
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
    field(page, "Service 2 Body region").scroll_into_view_if_needed()
    shoot(page, "05-visit-note-tablet", full_page=False, from_top=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Zero minutes is refused next to the field, and everything typed stays.
    field(page, "Service 2 Minutes").fill("0")
    page.get_by_role("button", name="Save draft").click()
    check(page.locator("#id_svc-1-minutes_error")).to_contain_text("1 minute or more")
    check(field(page, "Service 2 Minutes")).to_have_attribute(
        "aria-invalid", "true"
    )
    check(field(page, "Service 1 Technique")).to_have_value("Swedish massage")
    check(field(page, "Response to treatment")).to_have_value(
        "Pain 3/10 after the session."
    )
    assert not Visit.objects.exists()
    field(page, "Service 2 Minutes").scroll_into_view_if_needed()
    shoot(page, "05b-visit-note-error", full_page=False, from_top=False)
    field(page, "Service 2 Minutes").fill("15")

    page.get_by_role("button", name="Save and sign").click()
    check(page.locator("#note-status")).to_contain_text("Signed and locked")
    check(page.locator("form#note-form")).to_have_count(0)
    visit = Visit.objects.get(patient=clinic.patient)
    assert visit.signed and [(s.code, s.minutes) for s in visit.services.all()] == [
        ("97124", 25), ("97140", 15)]
    shoot(page, "06-visit-note-signed")
    sign_out(page)

    # The biller builds the claim from the signed note and sees its findings.
    sign_in(page, base, clinic.users["biller"].username, PASSWORD)
    page.goto(f"{base}/visits/{visit.pk}/")
    page.get_by_role("button", name=re.compile("Build the claim")).click()
    page.wait_for_url(re.compile(r"/claims/\d+/$"))
    claim = Claim.objects.get(visit=visit)
    check(page.get_by_role("heading", name=re.compile(f"Claim {claim.number}"))).to_be_visible()
    check(page.locator("#claim-status")).to_have_text("Draft")
    check(page.locator("#claim-lines")).to_contain_text("97124")
    findings = page.locator("#findings .finding")
    assert findings.count() == claim.findings.count()
    if claim.findings.exists():
        check(findings.first).to_contain_text("Fix:")
    else:
        check(page.locator("#findings")).to_contain_text("scrubbed clean")
    shoot(page, "07-claim")


def test_blocking_finding_overridden_then_ready(page: Any, live_server: Any) -> None:
    from tests.factories.records import FULL_NOTE
    from tests.integration.web_clinic import signed_visit

    clinic = make_clinic()
    note = FULL_NOTE.__class__(**{**FULL_NOTE.__dict__, "medical_necessity": ""})
    claim = draft_claim(clinic, signed_visit(clinic, note=note))
    check = expect()
    sign_in(page, live_server.url, clinic.users["biller"].username, PASSWORD)
    page.goto(f"{live_server.url}/claims/{claim.pk}/")
    blocking = page.locator('#findings .finding.blocking[data-rule="note.medical_necessity"]')
    check(blocking).to_be_visible()
    page.get_by_role("button", name="Mark ready").click()
    check(page.locator(".messages")).to_contain_text("blocking finding(s) are open")
    blocking.get_by_text("Override with a reason").click()
    blocking.get_by_label("Reason").fill("Necessity is in the signed plan of care.")
    blocking.get_by_role("button", name="Record override").click()
    check(page.locator(".messages")).to_contain_text("Override recorded")
    for rule in claim.findings.filter(severity="blocking").exclude(
        rule="note.medical_necessity"
    ).values_list("rule", flat=True):
        other = page.locator(f'#findings .finding.blocking[data-rule="{rule}"]').first
        other.get_by_text("Override with a reason").click()
        other.get_by_label("Reason").fill("Reviewed with the payer's policy.")
        other.get_by_role("button", name="Record override").click()
    page.get_by_role("button", name="Mark ready").click()
    check(page.locator("#claim-status")).to_have_text("Ready")


def test_another_practices_pages_are_not_found(page: Any, live_server: Any) -> None:
    mine = make_clinic()
    theirs = make_clinic("Birch Street Bodywork", patient_last="Oakhollow")
    claim = draft_claim(theirs)
    sign_in(page, live_server.url, mine.users["owner"].username, PASSWORD)
    for path in (
        f"/patients/{theirs.patient.pk}/",
        f"/claims/{claim.pk}/",
        f"/visits/{claim.visit_id}/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 404, path
