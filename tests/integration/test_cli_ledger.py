"""``handbill ledger check``: the trial balance and the kept sums against the legs."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from django.db import connection

from handbill.cli import main
from handbill.core.money import Cents
from handbill.ledger.posting import post_charge, post_insurance_payment
from handbill.practice.models import Payer, PayerType, Practice

pytestmark = pytest.mark.django_db

AT = datetime.fromisoformat("2026-11-23T17:00:00+00:00")
DAY = date(2026, 11, 23)


def _books(slug: str) -> Practice:
    practice = Practice.objects.create(
        legal_name=f"{slug.title()} LLC", slug=slug, billing_npi="1234567893",
        tax_id="123456789", address_line1="1 Main St", city="Portland", state="OR",
        postal_code="97201", created_at=AT,
    )
    payer = Payer.objects.create(practice=practice, name="Evergreen Health Plan",
                                 payer_id="EVG01", payer_type=PayerType.COMMERCIAL,
                                 claim_filing_indicator="CI")
    common = {"practice": practice, "claim_ref": "HB1", "patient_ref": "P1",
              "effective_date": DAY, "at": AT, "by": None}
    post_charge(payer=payer, amount=Cents(19000), **common)
    post_insurance_payment(payer=payer, amount=Cents(12000), **common)
    return practice


def test_books_that_agree_pass(capsys: pytest.CaptureFixture[str]) -> None:
    _books("calm-hands")
    _books("other-hands")
    assert main(["ledger", "check"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] is True
    assert [p["practice"] for p in found["practices"]] == ["calm-hands", "other-hands"]
    first = found["practices"][0]
    assert first["legs"] == 4
    # A charge of 190.00 and a payment of 120.00: 310.00 on each side.
    assert first["trial_balance"] == {"debits": "310.00", "credits": "310.00",
                                      "balanced": True}
    assert first["claim_receivables"] == {"rows": 1, "differences": 0, "first": []}
    assert first["daily_totals"]["differences"] == 0


def test_an_unknown_practice_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "check", "--practice", "nowhere"]) == 2
    assert "no practice 'nowhere'" in capsys.readouterr().err


@pytest.mark.skipif(connection.vendor != "sqlite",
                    reason="PostgreSQL's guard trigger refuses the tampering this test needs")
def test_a_kept_sum_changed_behind_the_ledger_fails_the_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _books("calm-hands")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_claimreceivable SET balance_cents = balance_cents + 1")
        cursor.execute("DELETE FROM ledger_dailytotal WHERE kind = 'charge'")
    assert main(["ledger", "check", "--practice", "calm-hands"]) == 1
    captured = capsys.readouterr()
    found = json.loads(captured.out)
    assert found["ok"] is False
    books = found["practices"][0]
    assert books["claim_receivables"]["differences"] == 1
    assert books["claim_receivables"]["first"][0]["claim"] == "HB1"
    assert books["daily_totals"]["differences"] == 2  # the charge's two accounts
    assert "do not agree with their legs" in captured.err
