"""The appeal letter for a denied claim, built from our records and read back with pypdf."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from handbill.claims.actions import ClaimError
from handbill.claims.appeals import appeal_letter, letter_values, mark_appealed
from handbill.claims.models import Claim
from tests.integration import money_back_setup as mb

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    return mb.clinic(tmp_path)


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_a_denied_claim_gets_a_letter_citing_claim_reason_and_note(
    clinic: dict[str, Any],
) -> None:
    claim = mb.post_835(clinic, mb.sent_claim(clinic), denied="50",
                        payer_claim_number="RUMP-DEN-1")
    values = letter_values(claim)
    assert values.payer_claim_number == "RUMP-DEN-1"
    assert values.submitted_on is not None and values.remittance_date == mb.PAID_ON
    assert {a.reason for line in values.lines for a in line.adjustments} == {"50"}
    assert values.evidence.medical_necessity
    assert values.evidence.authorization.startswith("prescription")

    text = _text(appeal_letter(claim, at=mb.LATER, argument="Please see the enclosed plan."))
    visit = claim.visit
    for expected in ("RUMP-DEN-1", claim.number, claim.patient.last_name,
                     "CO-50", "medically necessary", "Swedish massage", "low back",
                     "38 minutes", "M62.830", "Please see the enclosed plan.",
                     claim.practice.legal_name, "Sincerely"):
        assert expected in text, expected
    assert " ".join(visit.medical_necessity.split())[:40] in text

    appealed = mark_appealed(claim=claim, by=clinic["biller"], at=mb.LATER,
                             note="faxed to the appeals unit")
    assert appealed.status == "appealed"
    assert claim.events.filter(to_status="appealed", note__contains="faxed").exists()


def test_no_letter_without_the_payer_answer(clinic: dict[str, Any]) -> None:
    claim = mb.sent_claim(clinic)
    with pytest.raises(ClaimError, match="needs its remittance posted"):
        appeal_letter(claim, at=mb.LATER)
    Claim.objects.filter(pk=claim.pk).update(status="denied")
    claim.refresh_from_db()
    with pytest.raises(ClaimError, match="no posted remittance"):
        appeal_letter(claim, at=mb.LATER)
