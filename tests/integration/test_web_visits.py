"""The visit note in the browser: the form and its field errors, add/remove rows, the live
preview (units, claim lines, findings; nothing written), save, sign and lock, addenda, and
building the claim."""

from __future__ import annotations

from typing import Any

import pytest

from handbill.audit.models import AuditEvent
from handbill.claims.models import Claim
from handbill.visits.models import Visit
from tests.factories import records as f
from tests.integration.web_clinic import Clinic, make_clinic, signed_visit

pytestmark = pytest.mark.django_db

FULL_NOTE = {
    "subjective": "Low back pain 5/10 after gardening; neck stiff.",
    "objective": "Hypertonic lumbar paraspinals; cervical rotation 60 degrees.",
    "assessment": "Muscle spasm of the back with cervicalgia.",
    "plan": "Weekly for four weeks; stretches reviewed.",
    "medical_necessity": "Treatment of M62.830 and M54.2 to restore lifting for work.",
    "response_to_treatment": "Pain 2/10 after session.",
}


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def note_data(
    clinic: Clinic,
    services: list[tuple[str, str, str, str]] | None = None,
    diagnoses: list[str] | None = None,
    **fields: Any,
) -> dict[str, str]:
    services = services if services is not None else [
        ("97124", "38", "Swedish massage", "low back"),
        ("97140", "15", "Myofascial release", "neck"),
    ]
    diagnoses = diagnoses if diagnoses is not None else ["M62.830", "M54.2"]
    data = {
        "patient": str(clinic.patient.pk),
        "date_of_service": "2026-11-02",
        "provider": str(clinic.provider.pk),
        "coverage": str(clinic.coverage.pk),
        "location": "",
        "place_of_service": "11",
        **FULL_NOTE,
        "dx-TOTAL_FORMS": str(len(diagnoses)), "dx-INITIAL_FORMS": "0",
        "svc-TOTAL_FORMS": str(len(services)), "svc-INITIAL_FORMS": "0",
    }
    for index, code in enumerate(diagnoses):
        data[f"dx-{index}-code"] = code
    for index, (code, minutes, technique, region) in enumerate(services):
        data.update({
            f"svc-{index}-code": code, f"svc-{index}-minutes": minutes,
            f"svc-{index}-technique": technique, f"svc-{index}-body_region": region,
            f"svc-{index}-start_time": "",
        })
    data.update({k: str(v) for k, v in fields.items()})
    return data


def test_the_new_note_form_opens_for_a_therapist(clinic: Clinic) -> None:
    response = clinic.client_for("therapist").get(f"/patients/{clinic.patient.pk}/visits/new/")
    assert response.status_code == 200
    note = response.context["forms"].note
    # Her own provider record and the primary coverage in force are chosen for her.
    assert note.initial["provider"] == clinic.provider.pk
    assert note.initial["coverage"] == clinic.coverage.pk
    text = response.content.decode()
    assert 'name="svc-1-minutes"' in text and 'name="dx-0-code"' in text
    assert "Save and sign" in text
    assert (
        '<label for="id_svc-0-minutes"><span class="visually-hidden">Service 1 </span>Minutes'
        in text
    )


def test_save_creates_the_note_with_its_services(clinic: Clinic) -> None:
    response = clinic.client_for("therapist").post(
        f"/patients/{clinic.patient.pk}/visits/new/", note_data(clinic, action="save")
    )
    visit = Visit.objects.get(patient=clinic.patient)
    assert response.status_code == 302 and response["Location"] == f"/visits/{visit.pk}/"
    assert not visit.signed
    assert [(s.code, s.minutes, s.body_region) for s in visit.services.all()] == [
        ("97124", 38, "low back"), ("97140", 15, "neck")]
    assert [d.code for d in visit.diagnoses.all()] == ["M62.830", "M54.2"]
    # Reopened, it is the form again, with the stored values and a preview.
    page = clinic.client_for("therapist").get(f"/visits/{visit.pk}/")
    assert page.templates[0].name == "web/visits/note_form.html"
    assert page.context["preview"].units.total_units == 4


@pytest.mark.parametrize("minutes", ["0", "-5"])
def test_minutes_of_zero_or_less_are_refused_and_what_was_typed_kept(
    clinic: Clinic, minutes: str
) -> None:
    data = note_data(clinic, services=[("97124", minutes, "Swedish massage", "low back")])
    response = clinic.client_for("therapist").post(
        f"/patients/{clinic.patient.pk}/visits/new/", data
    )
    assert response.status_code == 422
    form = response.context["forms"].services.forms[0]
    assert "1 minute or more" in form.errors["minutes"][0]
    text = response.content.decode()
    assert f'name="svc-0-minutes" value="{minutes}"' in text
    assert 'id="id_svc-0-minutes_error"' in text
    assert "Swedish massage" in text and "Low back pain 5/10" in text
    assert not Visit.objects.exists()


def test_an_unknown_or_header_diagnosis_is_refused_next_to_the_field(clinic: Clinic) -> None:
    data = note_data(clinic, diagnoses=["M62.830", "Q99.999", "M54.5"])
    response = clinic.client_for("therapist").post(
        f"/patients/{clinic.patient.pk}/visits/new/", data
    )
    assert response.status_code == 422
    dx = response.context["forms"].diagnoses.forms
    assert not dx[0].errors
    assert dx[1].errors["code"] and dx[2].errors["code"]
    assert "M54.50" in dx[2].errors["code"][0]  # the header says which codes to use instead
    text = response.content.decode()
    assert 'value="Q99.999"' in text
    assert 'id="id_dx-1-code_error"' in text
    assert not Visit.objects.exists()


def test_a_service_without_a_code_or_minutes_is_named(clinic: Clinic) -> None:
    data = note_data(clinic, services=[("", "20", "", ""), ("97124", "", "", "")])
    response = clinic.client_for("therapist").post(
        f"/patients/{clinic.patient.pk}/visits/new/", data
    )
    assert response.status_code == 422
    rows = response.context["forms"].services.forms
    assert "choose the code" in rows[0].errors["code"][0]
    assert "enter the minutes" in rows[1].errors["minutes"][0]


def test_add_and_remove_rows_keep_what_was_typed(clinic: Clinic) -> None:
    client = clinic.client_for("therapist")
    url = f"/patients/{clinic.patient.pk}/visits/new/"
    added = client.post(url, note_data(clinic, row="add-svc"))
    assert added.status_code == 200
    forms = added.context["forms"]
    assert forms.services.total_form_count() == 3
    assert 'name="svc-1-minutes" value="15"' in added.content.decode()
    assert "Low back pain 5/10" in added.content.decode()

    removed = client.post(url, note_data(clinic, row="del-svc:0"))
    services = removed.context["forms"].services
    assert services.total_form_count() == 1
    assert services.forms[0].initial["code"] == "97140"
    assert not Visit.objects.exists()  # a row button never saves


def test_with_htmx_a_row_button_returns_only_the_rows(clinic: Clinic) -> None:
    response = clinic.client_for("therapist").post(
        f"/patients/{clinic.patient.pk}/visits/new/", note_data(clinic, row="add-dx"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="note-rows">')
    assert 'name="dx-2-code"' in text and "<html" not in text


def test_the_live_preview_shows_units_lines_and_findings_and_writes_nothing(
    clinic: Clinic,
) -> None:
    before = (Visit.objects.count(), Claim.objects.count(), AuditEvent.objects.count())
    response = clinic.client_for("therapist").post(
        "/visits/preview/", note_data(clinic), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.templates[0].name == "web/visits/_preview.html"
    preview = response.context["preview"]
    # The Rainier plan counts CMS total time: 53 minutes → 4 units, 3 massage and 1 manual.
    assert preview.method.value == "cms"
    assert preview.units.total_units == 4
    assert {line.code: line.units for line in preview.lines} == {"97124": 3, "97140": 1}
    assert preview.total_charge.value == 3 * 3000 + 3500
    assert not preview.problems
    assert not [f for f in preview.findings if f.rule == "note.signed"]
    text = response.content.decode()
    assert "53 timed minutes" in text and "<html" not in text
    assert 'id="claim-lines"' in text and 'id="preview-findings"' in text
    assert (Visit.objects.count(), Claim.objects.count(), AuditEvent.objects.count()) == before


def test_the_preview_follows_the_payers_unit_method(clinic: Clinic) -> None:
    per_code = f.make_coverage(clinic.patient, clinic.payers["evergreen-health-ppo"], order=2)
    data = note_data(
        clinic,
        services=[("97124", "22", "Swedish", "low back"), ("97140", "22", "MFR", "neck")],
        coverage=per_code.pk,
    )
    preview = clinic.client_for("therapist").post("/visits/preview/", data).context["preview"]
    assert preview.method.value == "cpt"
    assert {line.code: line.units for line in preview.units.lines} == {"97124": 1, "97140": 1}


def test_the_preview_names_what_is_missing_and_still_counts_units(clinic: Clinic) -> None:
    data = note_data(clinic, services=[("97124", "38", "", ""), ("97140", "0", "", "")])
    preview = clinic.client_for("therapist").post("/visits/preview/", data).context["preview"]
    assert preview.units is not None and preview.units.total_units == 3
    assert any("1 minute or more" in p for p in preview.problems)
    assert preview.lines == ()


def test_the_preview_shows_scrub_findings_before_signing(clinic: Clinic) -> None:
    data = note_data(clinic, medical_necessity="", response_to_treatment="")
    preview = clinic.client_for("therapist").post("/visits/preview/", data).context["preview"]
    rules = {f.rule for f in preview.findings}
    assert "note.medical_necessity" in rules
    assert all(f.fix for f in preview.findings)


def test_save_and_sign_locks_the_note(clinic: Clinic) -> None:
    client = clinic.client_for("therapist")
    response = client.post(
        f"/patients/{clinic.patient.pk}/visits/new/", note_data(clinic, action="sign")
    )
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert visit.signed and visit.signed_by == clinic.users["therapist"]
    page = client.get(f"/visits/{visit.pk}/")
    assert page.templates[0].name == "web/visits/note_read.html"
    text = page.content.decode()
    assert "Signed and locked" in text and 'name="svc-0-minutes"' not in text
    assert "Add an addendum" in text
    # A post to the locked note is refused and changes nothing.
    refused = client.post(f"/visits/{visit.pk}/", note_data(clinic, action="save", plan="new"))
    assert refused.status_code == 403
    visit.refresh_from_db()
    assert visit.plan == FULL_NOTE["plan"]


def test_signing_needs_a_diagnosis(clinic: Clinic) -> None:
    response = clinic.client_for("therapist").post(
        f"/patients/{clinic.patient.pk}/visits/new/",
        note_data(clinic, diagnoses=[""], action="sign"),
    )
    assert response.status_code == 422
    assert "without a diagnosis cannot be signed" in response.content.decode()
    # All or nothing: the note was not left half-saved.
    assert not Visit.objects.exists()


def test_a_front_desk_user_may_not_sign(clinic: Clinic) -> None:
    visit = f.make_signed_visit(clinic.provider, clinic.patient, sign=False)
    response = clinic.client_for("front_desk").post(
        f"/visits/{visit.pk}/", note_data(clinic, action="sign")
    )
    assert response.status_code == 403


def test_updating_an_unsigned_note(clinic: Clinic) -> None:
    visit = f.make_signed_visit(clinic.provider, clinic.patient, sign=False,
                                coverage=clinic.coverage)
    data = note_data(clinic, services=[("97124", "45", "Swedish", "low back")], action="save")
    response = clinic.client_for("therapist").post(f"/visits/{visit.pk}/", data)
    assert response.status_code == 302
    assert [(s.code, s.minutes) for s in visit.services.all()] == [("97124", 45)]


def test_a_biller_reads_an_unsigned_note_without_the_form(clinic: Clinic) -> None:
    visit = f.make_signed_visit(clinic.provider, clinic.patient, sign=False)
    page = clinic.client_for("biller").get(f"/visits/{visit.pk}/")
    assert page.templates[0].name == "web/visits/note_read.html"
    assert b"Not signed yet" in page.content and b"Build the claim" not in page.content


def test_addenda_after_signing(clinic: Clinic) -> None:
    visit = signed_visit(clinic)
    client = clinic.client_for("therapist")
    empty = client.post(f"/visits/{visit.pk}/addenda/", {"text": "   "})
    assert empty.status_code == 422
    assert b"an addendum needs text" in empty.content
    response = client.post(f"/visits/{visit.pk}/addenda/", {"text": "Patient called: sore."})
    assert response.status_code == 302
    assert [a.text for a in visit.addenda.all()] == ["Patient called: sore."]
    assert b"Patient called: sore." in client.get(f"/visits/{visit.pk}/").content


def test_build_the_claim_from_a_signed_note(clinic: Clinic) -> None:
    visit = signed_visit(clinic)
    client = clinic.client_for("biller")
    page = client.get(f"/visits/{visit.pk}/")
    assert b"Build the claim to Rainier Uniform Medical Plan" in page.content
    response = client.post(f"/visits/{visit.pk}/claim/")
    claim = Claim.objects.get(visit=visit)
    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/"
    # Twice is refused with the reason, not a second claim.
    again = client.post(f"/visits/{visit.pk}/claim/", follow=True)
    assert Claim.objects.filter(visit=visit).count() == 1
    assert b"already exists for this visit" in again.content
    assert b"Build the claim" not in client.get(f"/visits/{visit.pk}/").content


def test_icd10_search_offers_billable_codes(clinic: Clinic) -> None:
    client = clinic.client_for("therapist")
    response = client.get("/codes/icd10/", {"dx-0-code": "M54.5"}, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert '<option value="M54.50">' in text and '<option value="M54.5">' not in text
    by_words = client.get("/codes/icd10/", {"q": "cervicalgia"}).content.decode()
    assert '<option value="M54.2">' in by_words
    assert client.get("/codes/icd10/", {"q": "m"}).content.strip() == b""


def test_the_notes_list_filters(clinic: Clinic) -> None:
    signed = signed_visit(clinic)
    unsigned = f.make_signed_visit(clinic.provider, clinic.patient, sign=False)
    client = clinic.client_for("biller")

    def shown(**query: str) -> set[int]:
        return {v.pk for v in client.get("/visits/", query).context["page"].object_list}

    assert shown() == {signed.pk, unsigned.pk}
    assert shown(signed="no") == {unsigned.pk}
    assert shown(signed="yes", unbilled="1") == {signed.pk}
    assert shown(provider=str(clinic.provider.pk + 1000)) == set()
