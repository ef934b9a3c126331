"""The claim page's "Get paid" panel: correct, reopen, secondary and appeal through the browser
views (Django test client), refusals back on the claim page, other practices' claims 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from handbill.claims.models import Claim
from handbill.practice.models import Role
from tests.factories import records as f
from tests.integration import money_back_setup as mb

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    return mb.clinic(tmp_path)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_panel_offers_what_the_claim_allows(clinic: dict[str, Any]) -> None:
    biller = client_for(clinic["biller"])
    paid = mb.post_835(clinic, mb.sent_claim(clinic))
    mb.add_secondary(clinic, paid)
    text = biller.get(f"/claims/{paid.pk}/").content.decode()
    assert 'id="get-paid"' in text
    assert "Correct the claim (replacement or void)" in text
    assert "Bill the secondary plan: Puget Second Health" in text
    assert f"/claims/{paid.pk}/appeal.pdf" in text
    assert "Reopen" not in text

    submitted = mb.sent_claim(clinic)
    assert 'id="get-paid"' not in biller.get(f"/claims/{submitted.pk}/").content.decode()
    rejected = mb.reject_277ca(clinic, mb.sent_claim(clinic))
    text = biller.get(f"/claims/{rejected.pk}/").content.decode()
    assert "Reopen to fix and send again" in text and "Correct the claim" not in text


def test_replace_from_the_page_goes_to_the_new_claim(clinic: dict[str, Any]) -> None:
    biller = client_for(clinic["biller"])
    paid = mb.post_835(clinic, mb.sent_claim(clinic))
    response = biller.post(f"/claims/{paid.pk}/correct/",
                           {"kind": "replace", "reason": "wrong units"})
    made = Claim.objects.get(replaces=paid)
    assert response.status_code == 302 and response["Location"] == f"/claims/{made.pk}/"
    page = biller.get(response["Location"]).content.decode()
    assert "Replacement" in page and f"Claim {paid.number}" in page  # linked both ways
    assert "Replacement of this claim" in biller.get(f"/claims/{paid.pk}/").content.decode()

    refused = biller.post(f"/claims/{paid.pk}/correct/", {"kind": "void", "reason": "again"},
                          follow=True)
    assert "No correction made" in refused.content.decode()
    assert "already has a replacement" in refused.content.decode()

    # Not needed after all: withdrawn, and the original is paid again (and correctable).
    assert "Withdraw this correction" in page
    response = biller.post(f"/claims/{made.pk}/withdraw/", {"reason": "sent by mistake"})
    assert response.status_code == 302
    assert Claim.objects.get(pk=made.pk).status == "void"
    assert Claim.objects.get(pk=paid.pk).status == "paid"
    refused = biller.post(f"/claims/{paid.pk}/withdraw/", {"reason": "x"}, follow=True)
    assert "only a claim not sent yet" in refused.content.decode()


def test_reopen_secondary_and_appeal_from_the_page(clinic: dict[str, Any]) -> None:
    biller = client_for(clinic["biller"])
    rejected = mb.reject_277ca(clinic, mb.sent_claim(clinic))
    response = biller.post(f"/claims/{rejected.pk}/reopen/", {"reason": "NPI fixed"})
    assert response.status_code == 302
    assert Claim.objects.get(pk=rejected.pk).status == "draft"

    paid = mb.post_835(clinic, mb.sent_claim(clinic))
    mb.add_secondary(clinic, paid)
    response = biller.post(f"/claims/{paid.pk}/secondary/", {})
    secondary = Claim.objects.get(primary_claim=paid)
    assert response["Location"] == f"/claims/{secondary.pk}/"
    page = biller.get(response["Location"]).content.decode()
    assert "Secondary to" in page and paid.number in page
    assert f"paid ${sum(ln.charge_cents * 70 // 100 for ln in paid.lines.all()) / 100:.2f}" in page
    assert f"its claim PCN-{paid.number}" in page

    denied = mb.post_835(clinic, mb.sent_claim(clinic), denied="50")
    pdf = biller.get(f"/claims/{denied.pk}/appeal.pdf", {"argument": "see plan"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    response = biller.post(f"/claims/{denied.pk}/appealed/", {"note": "faxed 12/14"})
    assert response.status_code == 302
    assert Claim.objects.get(pk=denied.pk).status == "appealed"
    refused = biller.get(f"/claims/{rejected.pk}/appeal.pdf", follow=True)
    assert "No appeal letter" in refused.content.decode()


def test_only_billers_and_owners_and_only_their_practice(
    clinic: dict[str, Any], tmp_path: Path,
) -> None:
    paid = mb.post_835(clinic, mb.sent_claim(clinic))
    therapist = client_for(f.make_user(clinic["practice"], Role.THERAPIST))
    assert therapist.post(f"/claims/{paid.pk}/correct/",
                          {"kind": "void", "reason": "x"}).status_code == 403
    assert therapist.get(f"/claims/{paid.pk}/appeal.pdf").status_code == 403
    owner = client_for(f.make_user(clinic["practice"], Role.OWNER))
    assert owner.get(f"/claims/{paid.pk}/appeal.pdf").status_code == 200

    other = mb.clinic(tmp_path / "other")
    theirs = mb.post_835(other, mb.sent_claim(other))
    biller = client_for(clinic["biller"])
    for url in (f"/claims/{theirs.pk}/correct/", f"/claims/{theirs.pk}/reopen/",
                f"/claims/{theirs.pk}/secondary/", f"/claims/{theirs.pk}/appealed/",
                f"/claims/{theirs.pk}/withdraw/"):
        assert biller.post(url, {"kind": "void", "reason": "x", "note": "x"}).status_code == 404
    assert biller.get(f"/claims/{theirs.pk}/appeal.pdf").status_code == 404
    assert Claim.objects.get(pk=theirs.pk).status == "paid"
    assert not Claim.objects.filter(replaces=theirs).exists()
    # A GET on a move is refused, not performed.
    assert biller.get(f"/claims/{paid.pk}/correct/").status_code == 405
