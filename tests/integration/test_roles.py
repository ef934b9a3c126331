"""Each role on the existing pages: what it may open, what it may change, and (for a
therapist) whose rows it sees at all."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from handbill.practice.models import Role
from handbill.visits import actions as visit_actions
from tests.factories import records as f
from tests.integration.web_clinic import Clinic, draft_claim, make_clinic, signed_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


@pytest.fixture
def colleague(clinic: Clinic) -> dict[str, object]:
    """A second therapist of the same practice, her own patient, note and claim."""
    provider = f.make_provider(clinic.practice, first_name="Tove", last_name="Lindqvist")
    for payer in clinic.payers.values():
        f.enroll(provider, payer)
    user = f.make_user(clinic.practice, Role.THERAPIST, provider=provider)
    patient = f.make_patient(clinic.practice, first_name="Rowan", last_name="Ashgrove",
                             account_number="A10002")
    coverage = f.make_coverage(patient, clinic.payers["rainier-uniform-plan"],
                               member_id="RU5550002")
    visit = f.make_signed_visit(provider, patient, coverage=coverage)
    claim = draft_claim(clinic, visit)
    return {"provider": provider, "user": user, "patient": patient, "visit": visit,
            "claim": claim}


def test_a_therapist_sees_only_her_own_notes_claims_and_patients(
    clinic: Clinic, colleague: dict[str, object]
) -> None:
    own_visit = signed_visit(clinic)
    own_claim = draft_claim(clinic, own_visit)
    mine = clinic.client_for("therapist")
    theirs = colleague
    for url in (f"/visits/{own_visit.pk}/", f"/claims/{own_claim.pk}/",
                f"/patients/{clinic.patient.pk}/"):
        assert mine.get(url).status_code == 200, url
    for url in (f"/visits/{theirs['visit'].pk}/", f"/claims/{theirs['claim'].pk}/",  # type: ignore[attr-defined]
                f"/patients/{theirs['patient'].pk}/",  # type: ignore[attr-defined]
                f"/patients/{theirs['patient'].pk}/visits/new/"):  # type: ignore[attr-defined]
        assert mine.get(url).status_code == 404, url
    for url in ("/visits/", "/claims/", "/patients/"):
        page = mine.get(url).content.decode()
        assert "Ashgrove" not in page, url
    assert mine.get("/patients/?q=Ashgrove").context["page"].paginator.count == 0
    assert "Fairweather" in mine.get("/visits/").content.decode()
    # The owner still sees both therapists' work.
    owner = clinic.client_for("owner").get("/visits/").content.decode()
    assert "Ashgrove" in owner and "Fairweather" in owner


def test_a_therapist_may_not_sign_or_write_another_therapists_note(
    clinic: Clinic, colleague: dict[str, object]
) -> None:
    unsigned = f.make_signed_visit(colleague["provider"], colleague["patient"], sign=False)  # type: ignore[arg-type]
    therapist = clinic.users["therapist"]
    with pytest.raises(PermissionDenied, match="her own notes"):
        visit_actions.sign_visit(visit=unsigned, by=therapist, at=unsigned.created_at)
    with pytest.raises(PermissionDenied, match="her own notes"):
        visit_actions.add_addendum(visit=unsigned, text="late entry", by=therapist,
                                   at=unsigned.created_at)
    # Her colleague may; so may the owner.
    signed = visit_actions.sign_visit(visit=unsigned, by=colleague["user"], at=unsigned.created_at)  # type: ignore[arg-type]
    assert signed.signed


def test_a_new_patient_is_visible_to_every_therapist_until_someone_treats_them(
    clinic: Clinic, colleague: dict[str, object]
) -> None:
    newcomer = f.make_patient(clinic.practice, first_name="Sky", last_name="Newcombe")
    mine = clinic.client_for("therapist")
    assert mine.get(f"/patients/{newcomer.pk}/").status_code == 200
    assert mine.get(f"/patients/{newcomer.pk}/visits/new/").status_code == 200
    f.make_signed_visit(colleague["provider"], newcomer)  # type: ignore[arg-type]
    assert mine.get(f"/patients/{newcomer.pk}/").status_code == 404


def test_a_therapist_without_a_provider_link_sees_no_notes(clinic: Clinic) -> None:
    signed_visit(clinic)
    unlinked = f.make_user(clinic.practice, Role.THERAPIST)
    client = Client()
    client.force_login(unlinked)
    assert client.get("/visits/").context["page"].paginator.count == 0
    assert client.get(f"/patients/{clinic.patient.pk}/").status_code == 404


def test_a_therapist_cannot_bill_post_payments_or_change_policy(clinic: Clinic) -> None:
    visit = signed_visit(clinic)
    client = clinic.client_for("therapist")
    assert client.post(f"/visits/{visit.pk}/claim/").status_code == 403
    from handbill.practice.access import authorize

    therapist = clinic.users["therapist"]
    for permission in ("post_payments", "edit_policy", "bill", "view_audit"):
        with pytest.raises(PermissionDenied, match="a therapist may not"):
            authorize(therapist, clinic.practice, permission)


def test_front_desk_edits_demographics_and_coverage_not_claims(clinic: Clinic) -> None:
    claim = draft_claim(clinic)
    desk = clinic.client_for("front_desk")
    page = desk.get(f"/patients/{clinic.patient.pk}/coverages/{clinic.coverage.pk}/")
    assert page.status_code == 200
    form = page.context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data["member_id"] = "RU5550009"
    data["payer"] = clinic.coverage.payer_id
    response = desk.post(
        f"/patients/{clinic.patient.pk}/coverages/{clinic.coverage.pk}/", data
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    clinic.coverage.refresh_from_db()
    assert clinic.coverage.member_id == "RU5550009"
    for url in (f"/claims/{claim.pk}/scrub/", f"/claims/{claim.pk}/ready/",
                f"/claims/{claim.pk}/override/"):
        assert desk.post(url).status_code == 403, url
    assert desk.get(f"/claims/{claim.pk}/").status_code == 200
    assert desk.get(f"/patients/{clinic.patient.pk}/visits/new/").status_code == 403


def test_the_auditor_reads_everything_and_writes_nothing(clinic: Clinic) -> None:
    visit = signed_visit(clinic)
    claim = draft_claim(clinic, visit)
    auditor = clinic.client_for("auditor")
    for url in ("/today/", "/patients/", f"/patients/{clinic.patient.pk}/", "/visits/",
                f"/visits/{visit.pk}/", "/claims/", f"/claims/{claim.pk}/"):
        assert auditor.get(url).status_code == 200, url
    for url in ("/patients/new/", f"/patients/{clinic.patient.pk}/coverages/new/",
                f"/visits/{visit.pk}/", f"/visits/{visit.pk}/addenda/",
                f"/visits/{visit.pk}/claim/", f"/claims/{claim.pk}/scrub/",
                f"/claims/{claim.pk}/ready/", f"/claims/{claim.pk}/override/",
                "/visits/preview/"):
        assert auditor.post(url, {"text": "x"}).status_code == 403, url


def test_a_biller_does_not_write_notes(clinic: Clinic) -> None:
    visit = f.make_signed_visit(clinic.provider, clinic.patient, sign=False)
    biller = clinic.client_for("biller")
    assert biller.get(f"/patients/{clinic.patient.pk}/visits/new/").status_code == 403
    assert biller.post(f"/visits/{visit.pk}/", {"action": "sign"}).status_code == 403


def test_a_therapist_sees_no_remittance_files(clinic: Clinic) -> None:
    """A remittance file pays many therapists' patients at once: not hers to read."""
    from handbill.remittance import actions as remit_actions
    from tests.conftest import FIXED_NOW
    from tests.integration.remittance_setup import Clp, Svc, write_835

    text = write_835([Clp("ZZ-1", [Svc("97124", 12000, 7500, [("CO", "45", 4500)], ["GP"], 2,
                                       "ZZ-1-1")], payer_claim_number="PCN77")],
                     payer_id=clinic.coverage.payer.payer_id, trace="TRACE-ROLES-1")
    (era,) = remit_actions.import_835(practice=clinic.practice, text=text, by=None,
                                      at=FIXED_NOW)
    biller, therapist = clinic.client_for("biller"), clinic.client_for("therapist")
    assert biller.get("/remittances/").context["page"].paginator.count == 1
    assert biller.get(f"/remittances/{era.pk}/").status_code == 200
    assert therapist.get("/remittances/").context["page"].paginator.count == 0
    assert therapist.get(f"/remittances/{era.pk}/").status_code == 404
