"""Patient pages: search and pagination, the patient page (coverages, authorization
burn-down, visits, claims, balance), and the patient, coverage and authorization forms."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from handbill.claims import actions as claim_actions
from handbill.patients.models import Authorization, Coverage, Patient
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.factories.records import npi_with_check_digit
from tests.integration.web_clinic import Clinic, draft_claim, make_clinic

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def test_search_by_name_account_and_birth_date(clinic: Clinic) -> None:
    f.make_patient(clinic.practice, first_name="Ada", last_name="Lindqvist",
                   account_number="B20002", birth_date=date(1971, 3, 9))
    client = clinic.client_for("front_desk")

    def found(q: str) -> list[str]:
        page = client.get("/patients/", {"q": q}).context["page"]
        return [p.last_name for p in page.object_list]

    assert found("lindq") == ["Lindqvist"]
    assert found("ada lind") == ["Lindqvist"]
    assert found("Lindqvist, Ada") == ["Lindqvist"]
    assert found("B2000") == ["Lindqvist"]
    assert found("1971-03-09") == ["Lindqvist"]
    assert found("03/09/1971") == ["Lindqvist"]
    assert found("nobody") == []
    assert set(found("")) == {"Fairweather", "Lindqvist"}


def test_the_list_paginates_and_keeps_the_search(clinic: Clinic) -> None:
    for n in range(30):
        f.make_patient(clinic.practice, last_name=f"Pagewood{n:02d}")
    client = clinic.client_for("biller")
    first = client.get("/patients/", {"q": "Pagewood"})
    page = first.context["page"]
    assert page.paginator.count == 30 and len(page.object_list) == 25
    assert b'href="?page=2&amp;q=Pagewood"' in first.content
    second = client.get("/patients/", {"q": "Pagewood", "page": 2}).context["page"]
    assert [p.last_name for p in second.object_list] == [f"Pagewood{n}" for n in range(25, 30)]


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(
    clinic: Clinic, django_assert_max_num_queries: object
) -> None:
    for n in range(40):
        patient = f.make_patient(clinic.practice, last_name=f"Countwell{n:02d}")
        f.make_coverage(patient, clinic.payers["cascade-mutual"])
    client = clinic.client_for("biller")
    client.get("/patients/")  # warm the session
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        client.get("/patients/")


def test_the_patient_page_shows_coverage_burn_down_and_balance(clinic: Clinic) -> None:
    claim = draft_claim(clinic)
    claim_actions.mark_ready(claim=claim, by=clinic.users["biller"], at=FIXED_NOW)
    response = clinic.client_for("biller").get(f"/patients/{clinic.patient.pk}/")
    assert response.status_code == 200
    p = response.context["p"]
    [use] = p.authorizations
    # One ready claim drew one visit and its massage units on the prescription.
    assert use.visits_used == 1 and use.visits_left == 11
    massage = {u.code: u for u in use.units}["97124"]
    assert massage.used == 3 and massage.left == 21
    assert p.insurance_owes.value == claim.total_charge_cents
    assert p.patient_owes.value == 0
    text = response.content.decode()
    assert "<strong>1</strong> of 12 used, <strong>11</strong> left" in text
    assert "Units of 97124: <strong>3</strong> of 24 used" in text
    assert "RU5550001" in text and claim.number in text
    assert "Charge" in text  # the ledger activity
    assert p.activity[0].amount.value == claim.total_charge_cents


def test_an_expired_authorization_is_marked(clinic: Clinic) -> None:
    f.make_authorization(clinic.coverage, number="OLD-1", start_date=date(2025, 1, 1),
                         end_date=date(2025, 6, 1))
    response = clinic.client_for("biller").get(f"/patients/{clinic.patient.pk}/")
    expired = [u for u in response.context["p"].authorizations if u.expired]
    assert [u.authorization.number for u in expired] == ["OLD-1"]
    assert b"Expired" in response.content


def test_register_a_patient(clinic: Clinic) -> None:
    client = clinic.client_for("front_desk")
    data = {
        "account_number": "C30003", "first_name": "Noor", "last_name": "Ellery",
        "birth_date": "1990-02-14", "sex": "F", "address_line1": "8 Cedar Ct",
        "city": "Tacoma", "state": "wa", "postal_code": "98402",
    }
    response = client.post("/patients/new/", data)
    patient = Patient.objects.get(account_number="C30003")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    assert patient.state == "WA" and patient.practice == clinic.practice

    again = client.post("/patients/new/", data)
    assert again.status_code == 422
    assert b"already used in this practice" in again.content
    assert b'value="Ellery"' in again.content


def _coverage_data(clinic: Clinic, **overrides: str) -> dict[str, str]:
    data = {
        "payer": str(clinic.payers["cascade-mutual"].pk), "order": "2",
        "member_id": "CM-777", "relationship": "18", "start_date": "2026-01-01",
        "end_date": "", "copay_cents": "25.00",
    }
    data.update(overrides)
    return data


def test_add_a_coverage(clinic: Clinic) -> None:
    client = clinic.client_for("front_desk")
    url = f"/patients/{clinic.patient.pk}/coverages/new/"
    assert client.get(url).context["form"].initial["order"] == 2
    response = client.post(url, _coverage_data(clinic))
    assert response.status_code == 302
    coverage = Coverage.objects.get(member_id="CM-777")
    assert coverage.order == 2 and coverage.copay_cents == 2500


def test_coverage_dates_out_of_order_are_refused_next_to_the_field(clinic: Clinic) -> None:
    client = clinic.client_for("front_desk")
    response = client.post(
        f"/patients/{clinic.patient.pk}/coverages/new/",
        _coverage_data(clinic, start_date="2026-06-01", end_date="2026-05-01"),
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "must be after the start date" in form.errors["end_date"][0]
    text = response.content.decode()
    assert 'id="id_end_date_error"' in text
    assert 'aria-invalid="true"' in text
    assert 'value="CM-777"' in text and 'value="2026-05-01"' in text
    assert not Coverage.objects.filter(member_id="CM-777").exists()


def test_auto_coverage_needs_its_claim_fields(clinic: Clinic) -> None:
    auto = clinic.payers["pacific-auto-pip"]
    response = clinic.client_for("biller").post(
        f"/patients/{clinic.patient.pk}/coverages/new/",
        _coverage_data(clinic, payer=str(auto.pk)),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"claim_number", "accident_date", "accident_state"} <= set(errors)
    assert "carrier's acknowledgement letter" in errors["claim_number"][0]


def test_bad_money_is_refused(clinic: Clinic) -> None:
    response = clinic.client_for("biller").post(
        f"/patients/{clinic.patient.pk}/coverages/new/",
        _coverage_data(clinic, copay_cents="twenty"),
    )
    assert response.status_code == 422
    assert "is not an amount" in response.context["form"].errors["copay_cents"][0]


def test_edit_a_coverage_and_swap_primary_and_secondary(clinic: Clinic) -> None:
    secondary = f.make_coverage(clinic.patient, clinic.payers["cascade-mutual"], order=2,
                                start_date=clinic.coverage.start_date, member_id="CM-2")
    client = clinic.client_for("biller")
    url = f"/patients/{clinic.patient.pk}/coverages/{secondary.pk}/"
    form = client.get(url).context["form"]
    assert form.initial["member_id"] == "CM-2" and form.initial["order"] == 2
    data = {k: ("" if v is None else str(v)) for k, v in form.initial.items()}
    data.update(order="1", member_id="CM-2B")
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    secondary.refresh_from_db()
    clinic.coverage.refresh_from_db()
    assert (secondary.order, secondary.member_id) == (1, "CM-2B")
    assert clinic.coverage.order == 2


def test_another_patients_coverage_is_not_found(clinic: Clinic) -> None:
    other = f.make_patient(clinic.practice)
    url = f"/patients/{other.pk}/coverages/{clinic.coverage.pk}/"
    assert clinic.client_for("biller").get(url).status_code == 404


def _authorization_data(**overrides: str) -> dict[str, str]:
    data = {
        "kind": "prescription", "number": "", "referring_provider_name": "Dr. Pat Example",
        "referring_provider_npi": npi_with_check_digit("123456789"),
        "codes": "97124, 97140", "visits_allowed": "8", "units_allowed": "97124=16 97140=8",
        "dollars_allowed_cents": "", "start_date": "2026-02-01", "end_date": "2026-08-01",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_add_an_authorization(clinic: Clinic) -> None:
    url = f"/patients/{clinic.patient.pk}/coverages/{clinic.coverage.pk}/authorizations/new/"
    response = clinic.client_for("front_desk").post(url, _authorization_data())
    assert response.status_code == 302
    auth = Authorization.objects.get(visits_allowed=8)
    assert auth.codes == ["97124", "97140"]
    assert auth.units_allowed == {"97124": 16, "97140": 8}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("referring_provider_npi", "1234567890", "fails the NPI check digit"),
        ("referring_provider_npi", "12345", "an NPI has 10 digits"),
        ("end_date", "2026-01-15", "must be after the start date"),
        ("units_allowed", "97124:16", "CODE=UNITS"),
        ("codes", "97124, 12345", "12345"),
        ("dollars_allowed_cents", "0", "above 0"),
    ],
)
def test_authorization_input_is_refused_next_to_the_field(
    clinic: Clinic, field: str, value: str, message: str
) -> None:
    url = f"/patients/{clinic.patient.pk}/coverages/{clinic.coverage.pk}/authorizations/new/"
    response = clinic.client_for("front_desk").post(url, _authorization_data(**{field: value}))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert message in errors[field][0], errors
    assert f'value="{value}"' in response.content.decode()
    assert not Authorization.objects.filter(visits_allowed=8).exists()


def test_a_prior_authorization_needs_its_number(clinic: Clinic) -> None:
    url = f"/patients/{clinic.patient.pk}/coverages/{clinic.coverage.pk}/authorizations/new/"
    response = clinic.client_for("biller").post(url, _authorization_data(kind="authorization"))
    assert response.status_code == 422
    assert "needs the number" in response.context["form"].errors["number"][0]


def test_a_therapist_may_not_edit_coverage(client: Client, clinic: Clinic) -> None:
    response = clinic.client_for("therapist").post(
        f"/patients/{clinic.patient.pk}/coverages/new/", _coverage_data(clinic)
    )
    assert response.status_code == 403
    assert b"may not edit patients" in response.content
