"""The tour: the main pages on the demo practice (real-looking data), photographed in Chromium
into docs/tour/ on every run, and checked to show that data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from handbill.claims.models import Claim, ClaimFinding
from handbill.patients.models import Authorization
from tests.conftest import FIXED_NOW
from tests.functional.conftest import shoot, sign_in

pytestmark = [pytest.mark.functional, pytest.mark.django_db(transaction=True)]

builder = pytest.importorskip("handbill.demo.builder")


def test_the_tour_of_the_demo_practice(
    page: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # The demo's clearinghouse folders go to a folder of this test, not the working var/.
    settings.VAR_DIR = tmp_path
    practice = builder.build_demo(as_of=FIXED_NOW.astimezone(builder.ZONE).date(), at=FIXED_NOW)
    base = live_server.url
    biller = f"biller@{builder.EMAIL_DOMAIN}"

    page.goto(f"{base}/sign-in/")
    page.get_by_label("Email or username").fill(biller)
    shoot(page, "01-sign-in")
    sign_in(page, base, biller, builder.DEMO_PASSWORD)
    expect(page.get_by_role("heading", name=re.compile(builder.PRACTICE_NAME))).to_be_visible()
    # The dashboard: money figures and the two charts, drawn as SVG with their titles.
    expect(page.locator("svg.bar-chart title").first).to_have_text("A/R aging")
    expect(page.get_by_role("img", name=re.compile("Denials by reason"))).to_be_visible()
    shoot(page, "02-today")

    page.get_by_role("link", name="Patients", exact=True).click()
    expect(page.locator("#results table")).to_be_visible()
    shoot(page, "03-patients")

    # A patient with an authorization that claims have drawn on: the burn-down.
    auth = (
        Authorization.objects.filter(practice=practice, visits_allowed__isnull=False)
        .filter(claims__isnull=False)
        .select_related("coverage__patient")
        .first()
    )
    assert auth is not None
    patient = auth.coverage.patient
    page.goto(f"{base}/patients/{patient.pk}/")
    expect(page.locator("#authorizations .burn").first).to_contain_text("used")
    shoot(page, "03b-patient")

    page.get_by_role("link", name="Claims", exact=True).click()
    expect(page.locator("#claims-table")).to_be_visible()
    shoot(page, "08-claims")
    # Filter to the drafts a biller must look at, without a page load.
    page.get_by_label("Status").select_option("draft")
    expect(page).to_have_url(re.compile(r"status=draft"))
    drafts = Claim.objects.filter(practice=practice, status="draft").count()
    expect(page.locator(".pagination, p.muted").first).to_contain_text(str(drafts))

    blocked = (
        ClaimFinding.objects.filter(
            claim__practice=practice, claim__status="draft", severity="blocking"
        )
        .values_list("claim_id", flat=True)
        .first()
    )
    assert blocked is not None
    page.goto(f"{base}/claims/{blocked}/")
    expect(page.locator("#findings .finding.blocking").first).to_be_visible()
    shoot(page, "09-claim-with-findings")

    page.get_by_role("link", name="Notes", exact=True).click()
    expect(page.locator("#results table")).to_be_visible()
    shoot(page, "10-notes")

    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="A/R aging by payer")).to_be_visible()
    denials = page.locator("section[aria-labelledby=denials-heading] table.table tbody tr")
    expect(denials.first).to_contain_text("-")
    shoot(page, "10b-reports")
