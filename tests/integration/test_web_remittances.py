"""Remittance pages: the list, an 835 upload (refused with the segment and reason next to the
field, nothing stored), the posting plan in words (fallback matches flagged, effects on the
insurance and patient balances, unmatched items and why), commit, the posted payment, choosing
our claim for an unmatched one, fetching the inbox, and 404 for another practice's payment."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from handbill.audit.models import AuditEvent
from handbill.claims.models import Claim
from handbill.ledger.models import LedgerTransaction
from handbill.remittance.models import ClaimPayment, EraFile, ManualMatch
from handbill.submissions.models import Clearinghouse
from tests.conftest import FIXED_NOW
from tests.factories import records as f
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


def standard(claim: Claim, clp01: str | None = None) -> Clp:
    n = claim.number
    return Clp(clp01 or n, [
        Svc("97124", 12000, 7500, [("CO", "45", 2000), ("PR", "3", 2500)], ["GP"], 2, f"{n}-1"),
        Svc("97140", 7000, 4000, [("CO", "45", 3000)], ["GP", "59"], 1, f"{n}-2"),
    ], payer_claim_number=f"PAYER-{n}")


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def login(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def upload(client: Client, text: str, name: str = "era.835") -> object:
    return client.post("/remittances/upload/", {
        "file": SimpleUploadedFile(name, text.encode("ascii"), content_type="text/plain")})


def test_upload_previews_the_plan_in_words_then_commit_posts_it(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    client = login(clinic.biller)
    assert b"No remittances yet" in client.get("/remittances/").content
    response = upload(client, write_835([standard(claim)]))
    era = EraFile.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/remittances/{era.pk}/"
    plan = client.get(f"/remittances/{era.pk}/")
    assert plan.templates[0].name == "web/remittances/plan.html"
    text = plan.content.decode()
    assert f"Claim {claim.number}" in text and "REF*6R " + claim.number + "-1" in text
    # What each adjustment does to the insurance and patient balances.
    assert "written off under the contract: insurance owes $20.00 less" in text
    assert "moved to the patient (copay): insurance owes $25.00 less, the patient $25.00 more" \
        in text
    assert "Insurance balance -$190.00" in text  # 115 paid + 50 contract + 25 to the patient
    assert "patient balance +$25.00" in text
    assert "Post this payment" in text
    assert not ClaimPayment.objects.exists()  # previewing writes nothing

    posted = client.post(f"/remittances/{era.pk}/commit/", follow=True)
    assert posted.templates[0].name == "web/remittances/posted.html"
    era.refresh_from_db()
    assert era.status == "posted"
    assert Claim.objects.get(pk=claim.pk).status == "paid"
    page = posted.content.decode()
    assert f'href="/claims/{claim.pk}/"' in page and "$115.00" in page
    listed = client.get("/remittances/", {"status": "posted"})
    assert [e.pk for e in listed.context["page"].object_list] == [era.pk]
    # Posting again changes nothing.
    before = LedgerTransaction.objects.count()
    client.post(f"/remittances/{era.pk}/commit/")
    assert LedgerTransaction.objects.count() == before


def test_malformed_unbalanced_and_foreign_files_are_refused_next_to_the_field(
    clinic: Clinic,
) -> None:
    claim = make_submitted_claim(clinic, LINES)
    client = login(clinic.biller)
    good = write_835([standard(claim)])
    unbalanced = upload(client, write_835([standard(claim)], payment=99999))
    assert unbalanced.status_code == 422
    form = unbalanced.context["form"]
    assert "does not balance" in form.errors["file"][0] and "BPR02" in form.errors["file"][0]
    assert 'id="id_file_error"' in unbalanced.content.decode()
    garbled = upload(client, good.replace("SVC*HC:97124:GP*120*", "SVC*HC:97124:GP*12X0*"))
    assert garbled.status_code == 422
    assert "(SVC)" in garbled.context["form"].errors["file"][0]
    pdf = upload(client, "%PDF-1.7 a remittance report", name="era.pdf")
    assert pdf.status_code == 422 and "not an X12 file" in pdf.context["form"].errors["file"][0]
    assert not EraFile.objects.exists()


def test_a_fallback_match_is_flagged_and_unmatched_items_say_why(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    n = claim.number
    text = write_835([
        Clp(n, [Svc("97140", 7000, 0, [("CO", "97", 7000)], ["GP"], 1),
                Svc("97124", 12000, 9500, [("CO", "45", 2500)], ["GP"], 2)]),
        Clp("ZZ999", [Svc("97124", 6000, 5000, [("CO", "45", 1000)], ["GP"], 1)]),
    ])
    client = login(clinic.biller)
    upload(client, text)
    page = client.get(f"/remittances/{EraFile.objects.get().pk}/").content.decode()
    assert "Matched by code, not REF*6R" in page
    assert "dropped or changed the modifier" in page
    assert "denied: $70.00 stays on the insurance balance" in page
    assert "no claim &#x27;ZZ999&#x27; in this practice" in page
    assert "waits in unapplied credits" in page
    # Unmatched first: it is what needs a person.
    assert page.index("CLP01 ZZ999") < page.index(f"Claim {n}")


def test_an_unmatched_claim_is_resolved_by_choosing_ours_then_posts(clinic: Clinic) -> None:
    claim = make_submitted_claim(clinic, LINES)
    draft = make_submitted_claim(clinic, LINES, status="draft")
    mangled = claim.number[:-1]  # the payer dropped a digit
    client = login(clinic.biller)
    upload(client, write_835([standard(claim, clp01=mangled)]))
    era = EraFile.objects.get()
    url = f"/remittances/{era.pk}/resolve/"
    unknown = client.post(url, {"clp01": mangled, "claim": "HB9999999"})
    assert unknown.status_code == 422
    assert "there is no claim HB9999999" in unknown.context["resolve_form"].errors["claim"][0]
    never_sent = client.post(url, {"clp01": mangled, "claim": draft.number})
    assert never_sent.status_code == 422 and "sent to a payer" in never_sent.content.decode()
    wrong_clp = client.post(url, {"clp01": "NOTHERE", "claim": claim.number})
    assert "not an unmatched claim" in wrong_clp.content.decode()
    assert not ManualMatch.objects.exists()

    done = client.post(url, {"clp01": mangled, "claim": claim.number.lower()}, follow=True)
    assert done.status_code == 200
    match = ManualMatch.objects.get()
    assert match.claim == claim and match.by == clinic.biller
    event = AuditEvent.objects.get(action="remittance.resolve_unmatched")
    assert event.detail["claim"] == claim.number and event.actor == clinic.biller
    text = done.content.decode()
    assert f"matched by hand to claim {claim.number}" in text
    era.refresh_from_db()
    assert era.plan_summary["summary"]["unmatched"] == 0

    client.post(f"/remittances/{era.pk}/commit/")
    assert Claim.objects.get(pk=claim.pk).status == "paid"
    payment = ClaimPayment.objects.get()
    assert payment.claim == claim and payment.patient_control_number == mangled
    after = client.post(url, {"clp01": mangled, "claim": claim.number})
    assert after.status_code == 422 and "only a remittance not posted yet" in \
        after.content.decode()


def test_fetch_the_inbox_reads_and_posts_clean_remittances(
    clinic: Clinic, tmp_path: Path
) -> None:
    claim = make_submitted_claim(clinic, LINES)
    Clearinghouse.objects.create(
        practice=clinic.practice, name="Test clearinghouse", receiver_id="TESTCH01",
        receiver_name="TEST CLEARINGHOUSE", transport="outbox",
        outbox_path=str(tmp_path / "outbox"), created_at=FIXED_NOW)
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "payment.835").write_text(write_835([standard(claim)]))
    (tmp_path / "inbox" / "broken.835").write_text(
        write_835([standard(claim)], trace="EFT0002", payment=5))
    client = login(clinic.biller)
    response = client.post("/remittances/fetch/", follow=True)
    text = response.content.decode()
    assert "Fetched 2 new file(s); read 2." in text and "payment.835: posted" in text
    assert "broken.835: refused" in text
    assert EraFile.objects.get(file_name="payment.835").status == "posted"
    assert Claim.objects.get(pk=claim.pk).status == "paid"
    refused = EraFile.objects.get(file_name="broken.835")
    page = client.get(f"/remittances/{refused.pk}/")
    assert page.templates[0].name == "web/remittances/refused.html"
    assert "does not balance" in page.content.decode()
    assert "Post this payment" not in page.content.decode()


def test_other_practices_payments_are_404_and_only_billers_post(clinic: Clinic) -> None:
    other = make_clinic(payer_id="SYN02")
    theirs = make_submitted_claim(other, LINES)
    login(other.biller).post("/remittances/upload/", {"file": SimpleUploadedFile(
        "era.835", write_835([standard(theirs)]).encode())})
    era = EraFile.objects.get(practice=other.practice)
    client = login(clinic.biller)
    assert client.get(f"/remittances/{era.pk}/").status_code == 404
    for action in ("commit", "resolve"):
        assert client.post(f"/remittances/{era.pk}/{action}/").status_code == 404
    assert client.get("/remittances/").context["page"].paginator.count == 0
    therapist = login(f.make_user(clinic.practice, role="therapist"))
    assert therapist.get("/remittances/").status_code == 200
    assert therapist.post("/remittances/upload/").status_code == 403
    assert therapist.post("/remittances/fetch/").status_code == 403
    assert b"upload-form" not in therapist.get("/remittances/").content
    assert EraFile.objects.get(pk=era.pk).status == "planned"


def test_the_list_and_a_posted_payment_take_a_fixed_number_of_queries(
    clinic: Clinic, django_assert_max_num_queries: object
) -> None:
    client = login(clinic.biller)
    claims = [make_submitted_claim(clinic, LINES) for _ in range(6)]
    for n, claim in enumerate(claims[:3]):
        upload(client, write_835([standard(claim)], trace=f"EFT{n:04d}"), name=f"era{n}.835")
    big = write_835([standard(c) for c in claims[3:]], trace="EFT9999")
    upload(client, big)
    for era in EraFile.objects.all():
        client.post(f"/remittances/{era.pk}/commit/")
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert len(client.get("/remittances/").context["page"].object_list) == 4
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        page = client.get(f"/remittances/{EraFile.objects.get(trace_number='EFT9999').pk}/")
        assert len(page.context["page"].object_list) == 3  # three claims, no query per claim
