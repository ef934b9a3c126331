"""/api/v1/patients: search, read, register, correct; roles, tenancy and the error shape."""

from __future__ import annotations

import pytest

from handbill.audit.models import AuditEvent
from handbill.patients.models import Patient
from tests.integration.api_setup import ApiClient, ApiClinic, error_of, make_api_clinic

pytestmark = pytest.mark.django_db

NEW = {
    "account_number": "A20001", "first_name": "Rowan", "last_name": "Ashdown",
    "birth_date": "1984-03-09", "address_line1": "12 Cedar Ln", "city": "Olympia",
    "state": "WA", "postal_code": "98501", "sex": "F",
}


@pytest.fixture
def api() -> ApiClinic:
    return make_api_clinic()


def test_no_token_or_a_wrong_one_is_401_in_the_error_shape(api: ApiClinic) -> None:
    for client in (ApiClient(None), ApiClient("hb_not-a-real-token")):
        response = client.get("/patients")
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthenticated"
        assert response["WWW-Authenticate"] == "Bearer"


def test_search_finds_by_name_and_pages_with_count_and_next(api: ApiClinic) -> None:
    client = api.as_role("front_desk")
    for n in range(3):
        assert client.post("/patients", {**NEW, "account_number": f"B{n}",
                                         "last_name": f"Ashdown{n}"}).status_code == 201
    first = client.get("/patients", q="ashdown", limit=2).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert first["previous"] is None and "offset=2" in first["next"]
    second = client.get(first["next"]).json()
    assert [p["last_name"] for p in second["results"]] == ["Ashdown2"]
    assert second["next"] is None and "offset=0" in second["previous"]


def test_register_then_read_and_correct(api: ApiClinic) -> None:
    client = api.as_role("front_desk")
    created = client.post("/patients", NEW)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["account_number"] == "A20001" and body["birth_date"] == "1984-03-09"
    assert client.get(f"/patients/{body['id']}").json()["last_name"] == "Ashdown"
    changed = client.put(f"/patients/{body['id']}", {**NEW, "city": "Tumwater"})
    assert changed.status_code == 200 and changed.json()["city"] == "Tumwater"
    assert Patient.objects.get(pk=body["id"]).city == "Tumwater"
    assert AuditEvent.objects.filter(action="patient.update", object_id=str(body["id"])).exists()


def test_schema_errors_name_each_field(api: ApiClinic) -> None:
    response = api.as_role("biller").post(
        "/patients", {**NEW, "birth_date": "not a date", "sex": "X", "first_name": ""}
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert {f["field"] for f in error["fields"]} == {"birth_date", "sex", "first_name"}


def test_a_refusal_of_the_rules_names_its_field(api: ApiClinic) -> None:
    client = api.as_role("biller")
    response = client.post("/patients", {**NEW, "account_number": "A10001"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "rejected" and "already used" in error["message"]
    assert [f["field"] for f in error["fields"]] == ["account_number"]
    future = client.post("/patients", {**NEW, "birth_date": "2100-01-01"})
    assert [f["field"] for f in error_of(future)["fields"]] == ["birth_date"]


def test_text_a_database_cannot_store_is_a_422_not_a_crash(api: ApiClinic) -> None:
    response = api.as_role("biller").post("/patients", {**NEW, "city": "Oly\x00mpia"})
    assert response.status_code == 422
    assert error_of(response)["fields"][0]["field"] == "city"


def test_therapist_and_auditor_cannot_register_patients(api: ApiClinic) -> None:
    for role in ("therapist", "auditor"):
        response = api.as_role(role).post("/patients", NEW)
        assert response.status_code == 403
        assert error_of(response)["code"] == "forbidden"
    assert not Patient.objects.filter(account_number="A20001").exists()


def test_another_practices_patient_is_404_and_never_listed(api: ApiClinic) -> None:
    other = make_api_clinic("Birch Hollow Bodywork", patient_last="Underhill")
    theirs = other.clinic.patient
    client = api.as_role("owner")
    for method, path, body in (
        ("get", f"/patients/{theirs.pk}", None),
        ("put", f"/patients/{theirs.pk}", NEW),
    ):
        response = getattr(client, method)(path, body) if body else client.get(path)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    listed = client.get("/patients", q="Underhill").json()
    assert listed["count"] == 0
    assert Patient.objects.get(pk=theirs.pk).address_line1 != NEW["address_line1"]


def coverage_body(api: ApiClinic, **overrides: object) -> dict[str, object]:
    coverage = api.clinic.coverage
    return {"payer_id": coverage.payer_id, "order": 2, "member_id": "SEC123",
            "start_date": "2026-01-01", **overrides}


def test_coverages_and_authorizations(api: ApiClinic) -> None:
    client = api.as_role("front_desk")
    patient = api.clinic.patient
    added = client.post(f"/patients/{patient.pk}/coverages", coverage_body(api))
    assert added.status_code == 201, added.json()
    assert added.json()["order"] == 2 and added.json()["payer_name"]
    listed = client.get(f"/patients/{patient.pk}/coverages").json()
    assert [c["order"] for c in listed["results"]] == [1, 2]
    twice = client.post(f"/patients/{patient.pk}/coverages", coverage_body(api))
    assert twice.status_code == 422
    assert [f["field"] for f in error_of(twice)["fields"]] == ["order"]
    other = make_api_clinic("Birch Hollow Bodywork", patient_last="Underhill")
    foreign = client.post(f"/patients/{patient.pk}/coverages",
                          coverage_body(api, payer_id=other.clinic.coverage.payer_id,
                                        order=3))
    assert foreign.status_code == 422
    assert [f["field"] for f in error_of(foreign)["fields"]] == ["payer_id"]
    primary_start = str(api.clinic.coverage.start_date)
    swapped = client.put(f"/coverages/{added.json()['id']}",
                         coverage_body(api, order=1, start_date=primary_start))
    assert swapped.status_code == 200 and swapped.json()["order"] == 1

    coverage_id = added.json()["id"]
    auth = client.post(f"/coverages/{coverage_id}/authorizations", {
        "kind": "authorization", "start_date": "2026-01-01", "end_date": "2026-07-01",
        "number": "PA-778", "visits_allowed": 8, "units_allowed": {"97124": 16}})
    assert auth.status_code == 201, auth.json()
    assert auth.json()["units_allowed"] == {"97124": 16}
    no_number = client.post(f"/coverages/{coverage_id}/authorizations",
                            {"kind": "authorization", "start_date": "2026-01-01"})
    assert no_number.status_code == 422
    assert [f["field"] for f in error_of(no_number)["fields"]] == ["number"]
    assert client.get(f"/coverages/{coverage_id}/authorizations").json()["count"] == 1
    theirs = other.clinic.coverage.pk
    assert client.get(f"/coverages/{theirs}/authorizations").status_code == 404
    assert client.post(f"/coverages/{theirs}/authorizations",
                       {"kind": "referral", "start_date": "2026-01-01"}).status_code == 404
    assert api.as_role("therapist").post(
        f"/patients/{patient.pk}/coverages", coverage_body(api, order=3)).status_code == 403


def test_paging_limits_are_checked_and_named(api: ApiClinic) -> None:
    client = api.as_role("auditor")
    for params, field in (({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
                          ({"offset": -1}, "offset")):
        response = client.get("/patients", **params)
        assert response.status_code == 422
        assert [f["field"] for f in error_of(response)["fields"]] == [field]
    empty = client.get("/patients", offset=500).json()
    assert empty["count"] == 1 and empty["results"] == [] and empty["next"] is None
