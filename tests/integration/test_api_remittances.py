"""/api/v1/remittances: upload an 835 → plan preview → commit; roles, tenancy, idempotency;
and the worklists and reports read over what posting leaves."""

from __future__ import annotations

import pytest

from handbill.claims.models import Claim
from handbill.ledger.models import LedgerTransaction
from handbill.practice.models import Role
from handbill.remittance.models import EraFile
from tests.factories import records as f
from tests.integration.api_setup import ApiClient, error_of, token_for
from tests.integration.remittance_setup import (
    Clinic,
    Clp,
    Svc,
    make_clinic,
    make_submitted_claim,
    write_835,
)

pytestmark = pytest.mark.django_db

LINES = [("97124", ["GP"], 2, 12000), ("97140", ["GP", "59"], 1, 7000)]


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def biller_of(clinic: Clinic) -> ApiClient:
    return ApiClient(token_for(clinic.biller, clinic.practice))


def paid(claim: Claim, trace: str = "EFT0001") -> str:
    n = claim.number
    return write_835([Clp(n, [
        Svc("97124", 12000, 10000, [("CO", "45", 2000)], ["GP"], 2, f"{n}-1"),
        Svc("97140", 7000, 4000, [("CO", "45", 3000)], ["GP", "59"], 1, f"{n}-2"),
    ], payer_claim_number="PAYER-1")], trace=trace)


def test_upload_preview_commit(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    client = biller_of(clinic)
    uploaded = client.upload("/remittances", "era.835", paid(claim))
    assert uploaded.status_code == 201, uploaded.json()
    (era,) = uploaded.json()["remittances"]
    assert era["status"] == "planned" and era["payment_amount_cents"] == 14000
    assert era["plan_summary"]["summary"]["claims"] == 1
    preview = client.get(f"/remittances/{era['id']}/plan").json()
    assert [(c["claim"], c["outcome"]) for c in preview["plan"]["claims"]] == [
        (claim.number, "paid")]
    assert preview["plan"]["status_changes"][0]["to"] == "paid"
    assert LedgerTransaction.objects.filter(source_type="remittance.claimpayment").count() == 0
    committed = client.post(f"/remittances/{era['id']}/commit")
    assert committed.status_code == 200 and committed.json()["status"] == "posted"
    claim.refresh_from_db()
    assert claim.status == "paid"
    posted = LedgerTransaction.objects.filter(source_type="remittance.claimpayment").count()
    assert posted > 0
    # Committing again changes nothing.
    assert client.post(f"/remittances/{era['id']}/commit").status_code == 200
    assert LedgerTransaction.objects.filter(
        source_type="remittance.claimpayment").count() == posted
    listed = client.get("/remittances", status="posted").json()
    assert [r["id"] for r in listed["results"]] == [era["id"]]


def test_a_file_that_does_not_balance_is_refused_with_its_reasons(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    text = paid(claim).replace("BPR*I*140*", "BPR*I*141*")
    assert text != paid(claim)
    response = biller_of(clinic).upload("/remittances", "bad.835", text)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "rejected" and error["problems"]
    assert not EraFile.objects.exists()


def test_the_same_key_and_file_give_the_same_answer_another_file_is_422(
    clinic: Clinic,
) -> None:
    claim = make_submitted_claim(clinic, LINES)
    client = biller_of(clinic)
    first = client.upload("/remittances", "era.835", paid(claim), **{"Idempotency-Key": "u1"})
    again = client.upload("/remittances", "era.835", paid(claim), **{"Idempotency-Key": "u1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = client.upload("/remittances", "era.835", paid(claim, trace="EFT0002"),
                          **{"Idempotency-Key": "u1"})
    assert other.status_code == 422 and error_of(other)["code"] == "idempotency_key_reused"
    assert EraFile.objects.count() == 1


def test_therapist_front_desk_and_auditor_cannot_touch_payments(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    era = biller_of(clinic).upload("/remittances", "era.835", paid(claim)).json()
    era_id = era["remittances"][0]["id"]
    for role in (Role.THERAPIST, Role.FRONT_DESK, Role.AUDITOR):
        user = f.make_user(clinic.practice, role)
        client = ApiClient(token_for(user, clinic.practice))
        assert client.upload("/remittances", "era.835", paid(claim)).status_code == 403
        assert client.post(f"/remittances/{era_id}/commit").status_code == 403
        assert client.get(f"/remittances/{era_id}/plan").status_code == 403
        assert client.get("/reports/balances").status_code == 403
    assert EraFile.objects.get(pk=era_id).status == "planned"


def test_another_practices_remittance_is_404(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    era_id = biller_of(clinic).upload("/remittances", "era.835", paid(claim)).json()[
        "remittances"][0]["id"]
    stranger = make_clinic(payer_id="SYN02")
    client = biller_of(stranger)
    for path in (f"/remittances/{era_id}", f"/remittances/{era_id}/plan"):
        assert client.get(path).status_code == 404
    assert client.post(f"/remittances/{era_id}/commit").status_code == 404
    assert client.get("/remittances").json()["count"] == 0
    assert EraFile.objects.get(pk=era_id).status == "planned"


def test_reports_follow_the_claims_and_the_ledger(clinic: Clinic) -> None:
    paid_claim = make_submitted_claim(clinic, LINES)
    make_submitted_claim(clinic, LINES, status="denied")
    client = biller_of(clinic)
    era = client.upload("/remittances", "era.835", paid(paid_claim)).json()["remittances"][0]
    client.post(f"/remittances/{era['id']}/commit")
    statuses = {r["status"]: r for r in client.get("/reports/claim-status").json()["statuses"]}
    assert statuses["paid"]["claims"] == 1 and statuses["denied"]["claims"] == 1
    balances = client.get("/reports/balances").json()
    assert balances["balanced"] is True
    (owed,) = balances["insurance_receivable"]
    # The denied claim's 190.00 and nothing of the paid one (its rest was adjusted off).
    assert owed["payer_id"] == clinic.payer.pk and owed["owes_cents"] == 19000
    aging = client.get("/reports/aging").json()
    (payer,) = [row for row in aging["payers"] if row["payer"] == clinic.payer.name]
    assert payer["total_cents"] == 19000 == sum(payer["buckets_cents"].values())
    assert aging["buckets"] == ["0-30", "31-60", "61-90", "91-120", ">120"]
