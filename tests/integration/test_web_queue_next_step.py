"""Each denial in the queue offers its next step as one click: the claim page's corrected-claim
form (CO-16), the appeal letter PDF (CO-50), or moving the held amount to the patient
(CO-204, with the waiver); a patient's own share links to their account."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from handbill.followup import queries
from handbill.ledger.balances import patient_balance
from handbill.remittance import actions as remit
from tests.integration import money_back_setup as mb

pytestmark = pytest.mark.django_db


@pytest.fixture
def denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr("handbill.web.views.followup.now", lambda: mb.LATER)
    monkeypatch.setattr("handbill.web.views.money_back.now", lambda: mb.LATER)
    clinic = mb.clinic(tmp_path)
    clinic["claims"] = {
        carc: mb.post_835(clinic, mb.sent_claim(clinic), denied=carc)
        for carc in ("16", "50", "204")}
    return clinic


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row(html: str, claim_number: str) -> str:
    """The queue table row (one <tr>) of the claim's first denied line."""
    rows = re.findall(r"<tr id=\"item-\d+\".*?</tr>", html, flags=re.S)
    found = [row for row in rows if f">{claim_number}</a>" in row]
    assert found, f"no row for {claim_number}"
    return found[0]


def test_each_denial_offers_its_next_step(denied: dict[str, Any]) -> None:
    client = _client(denied["biller"])
    html = client.get(reverse("web:queues"), {"kind": "denials"}).content.decode()
    claims = denied["claims"]

    corrected = _row(html, claims["16"].number)
    assert "CO-16" in corrected
    link = reverse("web:claim", args=[claims["16"].pk]) + "#correct-form"
    assert f'href="{link}"' in corrected and "Correct the claim" in corrected
    # The anchor is the claim page's corrected-claim form.
    page = client.get(reverse("web:claim", args=[claims["16"].pk])).content.decode()
    assert 'id="correct-form"' in page

    appeal = _row(html, claims["50"].number)
    pdf = reverse("web:claim_appeal_pdf", args=[claims["50"].pk])
    assert f'href="{pdf}"' in appeal and "Appeal letter (PDF)" in appeal
    letter = client.get(pdf)
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")

    bill = _row(html, claims["204"].number)
    form_id = re.search(r'<form [^>]*id="(bill-\d+)"', bill)
    assert form_id is not None
    assert f'form="{form_id.group(1)}"' in bill and "Bill the patient" in bill
    # One bill button per row: the Work column's own is not repeated.
    assert ">Bill patient</button>" not in bill
    # Nothing else gets a bill-the-patient step.
    assert "Bill the patient" not in corrected and "Bill the patient" not in appeal


def test_the_bill_patient_step_moves_the_money(denied: dict[str, Any]) -> None:
    practice = denied["practice"]
    claim = denied["claims"]["204"]
    row = next(r for r in queries.worklist(practice, at=mb.LATER, kind="denials")
               if r.claim.pk == claim.pk)
    assert row.action == "bill_patient"
    account = claim.patient.account_number
    before = patient_balance(practice, account)
    # What the step's button submits: its row's form, with the waiver box ticked.
    done = _client(denied["biller"]).post(
        reverse("web:queue_work"),
        {"key": row.key, "kind": "denials", "op": "bill_patient", "agreed": "on"}, follow=True)
    assert "to the patient&#x27;s account" in done.content.decode()
    assert patient_balance(practice, account) > before
    left = [r.key for r in queries.worklist(practice, at=mb.LATER, kind="denials")]
    assert row.key not in left


def test_a_patients_own_share_links_to_their_account(
        denied: dict[str, Any]) -> None:
    """PR-204: the payer already put it on the patient; there is nothing to move."""
    clinic = denied
    claim = mb.sent_claim(clinic)
    lines = [mb.Svc(line.code, line.charge_cents, 0, [("PR", "204", line.charge_cents)],
                    line.modifiers, line.units, line.control_number, on=claim.date_of_service)
             for line in claim.lines.all()]
    text = mb.write_835([mb.Clp(claim.number, lines, status="1", payer_claim_number="PCN-PR")],
                        trace="EFTPR001", payer_id=claim.payer.payer_id,
                        payer_name=claim.payer.name.upper())
    for era in remit.import_835(practice=clinic["practice"], text=text, by=clinic["biller"],
                                at=mb.LATER):
        remit.commit_posting(era=era, by=clinic["biller"], at=mb.LATER)
    html = _client(clinic["biller"]).get(reverse("web:queues"),
                                         {"kind": "denials"}).content.decode()
    row = _row(html, claim.number)
    assert "PR-204" in row
    assert f'href="{reverse("web:patient", args=[claim.patient_id])}"' in row
    assert "Bill the patient" not in row
