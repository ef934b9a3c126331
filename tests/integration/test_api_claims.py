"""/api/v1 visits and claims: note → sign → claim → scrub/findings/override → ready → submit,
the filtered list and status history; roles, tenancy and idempotency keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handbill.claims.models import Claim
from handbill.ledger.models import LedgerTransaction
from handbill.submissions.models import Clearinghouse
from handbill.visits.models import Visit
from tests.conftest import FIXED_NOW
from tests.factories.records import FULL_NOTE
from tests.integration.api_setup import ApiClinic, error_of, make_api_clinic
from tests.integration.web_clinic import signed_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> ApiClinic:
    return make_api_clinic()


def note_body(api: ApiClinic, **overrides: Any) -> dict[str, Any]:
    clinic = api.clinic
    body: dict[str, Any] = {
        "patient_id": clinic.patient.pk, "provider_id": clinic.provider.pk,
        "coverage_id": clinic.coverage.pk, "date_of_service": "2026-11-02",
        **FULL_NOTE.__dict__,
        "diagnoses": ["M62.830", "M54.2"],
        "services": [
            {"code": "97124", "minutes": 38, "body_region": "lumbar",
             "technique": "long gliding strokes and kneading"},
            {"code": "97140", "minutes": 15, "body_region": "cervical",
             "technique": "myofascial release"},
        ],
    }
    body.update(overrides)
    return body


def test_therapist_writes_and_signs_a_note(api: ApiClinic) -> None:
    therapist = api.as_role("therapist")
    created = therapist.post("/visits", note_body(api))
    assert created.status_code == 201, created.json()
    note = created.json()
    assert note["diagnoses"] == ["M62.830", "M54.2"]
    assert [(s["code"], s["minutes"]) for s in note["services"]] == [("97124", 38), ("97140", 15)]
    assert note["signed_at"] is None
    signed = therapist.post(f"/visits/{note['id']}/sign")
    assert signed.status_code == 200 and signed.json()["signed_at"] is not None
    again = therapist.post(f"/visits/{note['id']}/sign")
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"
    listed = therapist.get("/visits", signed="true").json()
    assert note["id"] in [v["id"] for v in listed["results"]]


def test_a_bad_note_names_the_field(api: ApiClinic) -> None:
    therapist = api.as_role("therapist")
    unknown = therapist.post("/visits", note_body(api, services=[{"code": "99999",
                                                                   "minutes": 30}]))
    assert unknown.status_code == 422
    assert error_of(unknown)["code"] == "rejected"
    too_long = therapist.post("/visits", note_body(api, services=[{"code": "97124",
                                                                    "minutes": 900}]))
    assert [f["field"] for f in error_of(too_long)["fields"]] == ["services.0.minutes"]
    bad_dx = therapist.post("/visits", note_body(api, diagnoses=["Z99.XYZ"]))
    assert bad_dx.status_code == 422
    assert [f["field"] for f in error_of(bad_dx)["fields"]] == ["diagnoses"]


def test_front_desk_cannot_write_and_biller_cannot_sign_notes(api: ApiClinic) -> None:
    assert api.as_role("front_desk").post("/visits", note_body(api)).status_code == 403
    visit = signed_visit(api.clinic)
    Visit.objects.filter(pk=visit.pk).update(signed_at=None)
    response = api.as_role("biller").post(f"/visits/{visit.pk}/sign")
    assert response.status_code == 403 and "may not sign notes" in error_of(response)["message"]


def test_another_practices_rows_in_a_body_or_path_are_never_reached(api: ApiClinic) -> None:
    other = make_api_clinic("Birch Hollow Bodywork", patient_last="Underhill")
    their_visit = signed_visit(other.clinic)
    from handbill.claims import actions

    claim = actions.build_claim(visit=their_visit, by=other.clinic.users["biller"], at=FIXED_NOW)
    biller = api.as_role("biller")
    therapist = api.as_role("therapist")
    wrong_patient = therapist.post("/visits",
                                   note_body(api, patient_id=other.clinic.patient.pk))
    assert wrong_patient.status_code == 422
    assert [f["field"] for f in error_of(wrong_patient)["fields"]] == ["patient_id"]
    build = biller.post("/claims", {"visit_id": their_visit.pk})
    assert build.status_code == 422
    assert [f["field"] for f in error_of(build)["fields"]] == ["visit_id"]
    for path in (f"/claims/{claim.pk}", f"/claims/{claim.pk}/status",
                 f"/claims/{claim.pk}/findings", f"/visits/{their_visit.pk}"):
        assert biller.get(path).status_code == 404, path
    for path in (f"/claims/{claim.pk}/scrub", f"/claims/{claim.pk}/ready"):
        assert biller.post(path).status_code == 404, path
    assert therapist.post(f"/visits/{their_visit.pk}/sign").status_code == 404
    assert biller.get("/claims", q=claim.number).json()["count"] == 0
    claim.refresh_from_db()
    assert claim.status == "draft"


def test_build_scrub_override_ready_and_status(api: ApiClinic) -> None:
    biller = api.as_role("biller")
    visit = signed_visit(api.clinic)
    built = biller.post("/claims", {"visit_id": visit.pk})
    assert built.status_code == 201, built.json()
    claim = built.json()
    assert claim["status"] == "draft" and claim["number"].startswith("HB")
    assert [line["code"] for line in claim["lines"]] == ["97124", "97140"]
    assert claim["total_charge_cents"] == sum(line["charge_cents"] for line in claim["lines"])

    findings = biller.get(f"/claims/{claim['id']}/findings").json()
    scrubbed = biller.post(f"/claims/{claim['id']}/scrub").json()
    assert [f["rule"] for f in scrubbed["findings"]] == [f["rule"] for f in findings["findings"]]
    for finding in [f for f in scrubbed["findings"] if f["severity"] == "blocking"]:
        done = biller.post(f"/claims/{claim['id']}/overrides", {
            "rule": finding["rule"], "line": finding["line"],
            "reason": "Documented in the plan of care."})
        assert done.status_code == 200
    no_such = biller.post(f"/claims/{claim['id']}/overrides",
                          {"rule": "no.such.rule", "reason": "because"})
    assert no_such.status_code == 409 and "no blocking finding" in error_of(no_such)["message"]

    ready = biller.post(f"/claims/{claim['id']}/ready")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["status"] == "ready"
    assert ready.json()["balance_cents"] == claim["total_charge_cents"]
    status = biller.get(f"/claims/{claim['id']}/status").json()
    assert [(e["from_status"], e["to_status"]) for e in status["events"]] == [
        ("", "draft"), ("draft", "ready")]
    assert biller.get("/claims", status="ready").json()["count"] == 1
    assert biller.get("/claims", status="draft").json()["count"] == 0
    assert biller.get("/claims", date_from="2026-11-03").json()["count"] == 0
    invalid = biller.get("/claims", status="lost")
    assert invalid.status_code == 422 and error_of(invalid)["fields"][0]["field"] == "status"


def test_a_blocked_claim_is_409_with_each_finding(api: ApiClinic) -> None:
    note = FULL_NOTE.__class__(**{**FULL_NOTE.__dict__, "medical_necessity": ""})
    visit = signed_visit(api.clinic, note=note)
    biller = api.as_role("biller")
    claim = biller.post("/claims", {"visit_id": visit.pk}).json()
    refused = biller.post(f"/claims/{claim['id']}/ready")
    assert refused.status_code == 409
    error = error_of(refused)
    assert any("note.medical_necessity" in p for p in error["problems"])
    assert Claim.objects.get(pk=claim["id"]).status == "draft"


def test_therapist_and_front_desk_cannot_bill(api: ApiClinic) -> None:
    visit = signed_visit(api.clinic)
    for role in ("therapist", "front_desk", "auditor"):
        response = api.as_role(role).post("/claims", {"visit_id": visit.pk})
        assert response.status_code == 403, role
    assert not Claim.objects.filter(visit=visit).exists()


def test_the_same_idempotency_key_builds_one_claim(api: ApiClinic) -> None:
    biller = api.as_role("biller")
    visit = signed_visit(api.clinic)
    first = biller.post("/claims", {"visit_id": visit.pk}, **{"Idempotency-Key": "k-1"})
    second = biller.post("/claims", {"visit_id": visit.pk}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert "Idempotent-Replayed" not in first and second["Idempotent-Replayed"] == "true"
    assert Claim.objects.filter(visit=visit).count() == 1
    other = signed_visit(api.clinic)
    reused = biller.post("/claims", {"visit_id": other.pk}, **{"Idempotency-Key": "k-1"})
    assert reused.status_code == 422
    assert error_of(reused)["code"] == "idempotency_key_reused"
    assert not Claim.objects.filter(visit=other).exists()
    # Without a key the second build is refused by the claim rules themselves.
    again = biller.post("/claims", {"visit_id": visit.pk})
    assert again.status_code == 409 and "already exists" in error_of(again)["message"]


def test_a_failed_request_gives_its_key_back(api: ApiClinic) -> None:
    biller = api.as_role("biller")
    visit = signed_visit(api.clinic)
    Visit.objects.filter(pk=visit.pk).update(signed_at=None)
    unsigned = biller.post("/claims", {"visit_id": visit.pk}, **{"Idempotency-Key": "k-2"})
    assert unsigned.status_code == 409
    Visit.objects.filter(pk=visit.pk).update(signed_at=FIXED_NOW)
    retried = biller.post("/claims", {"visit_id": visit.pk}, **{"Idempotency-Key": "k-2"})
    assert retried.status_code == 201


def test_ready_twice_with_one_key_posts_one_charge(api: ApiClinic) -> None:
    biller = api.as_role("biller")
    claim = biller.post("/claims", {"visit_id": signed_visit(api.clinic).pk}).json()
    for f in [f for f in claim_findings(biller, claim["id"]) if f["severity"] == "blocking"]:
        biller.post(f"/claims/{claim['id']}/overrides",
                    {"rule": f["rule"], "line": f["line"], "reason": "documented"})
    first = biller.post(f"/claims/{claim['id']}/ready", **{"Idempotency-Key": "ready-1"})
    second = biller.post(f"/claims/{claim['id']}/ready", **{"Idempotency-Key": "ready-1"})
    assert first.status_code == second.status_code == 200
    charges = LedgerTransaction.objects.filter(source_type="claim", source_id=str(claim["id"]))
    assert charges.count() == 1


def claim_findings(client: Any, claim_id: int) -> list[dict[str, Any]]:
    return list(client.get(f"/claims/{claim_id}/findings").json()["findings"])


def test_submit_sends_ready_claims_and_lists_problems(api: ApiClinic, tmp_path: Path) -> None:
    practice = api.clinic.practice
    practice.submitter_id = "HBSUBMIT01"
    practice.save()
    biller = api.as_role("biller")
    none_yet = biller.post("/claims/submit", {"claim_ids": [1]})
    assert none_yet.status_code == 422
    assert error_of(none_yet)["fields"][0]["field"] == "clearinghouse_id"
    Clearinghouse.objects.create(
        practice=practice, name="Test clearinghouse", receiver_id="TESTCH01",
        receiver_name="TEST CLEARINGHOUSE", transport="outbox", outbox_path=str(tmp_path),
        created_at=FIXED_NOW,
    )
    claim = biller.post("/claims", {"visit_id": signed_visit(api.clinic).pk}).json()
    draft = biller.post("/claims/submit", {"claim_ids": [claim["id"]]})
    assert draft.status_code == 422 and error_of(draft)["problems"]
    for f in [f for f in claim_findings(biller, claim["id"]) if f["severity"] == "blocking"]:
        biller.post(f"/claims/{claim['id']}/overrides",
                    {"rule": f["rule"], "line": f["line"], "reason": "documented"})
    assert biller.post(f"/claims/{claim['id']}/ready").status_code == 200
    sent = biller.post("/claims/submit", {"claim_ids": [claim["id"]]},
                       **{"Idempotency-Key": "send-1"})
    assert sent.status_code == 201, sent.json()
    batch = sent.json()
    assert batch["claim_ids"] == [claim["id"]] and batch["status"] == "uploaded"
    assert (tmp_path / batch["file_name"]).exists()
    replay = biller.post("/claims/submit", {"claim_ids": [claim["id"]]},
                         **{"Idempotency-Key": "send-1"})
    assert replay.json() == batch
    assert biller.get(f"/claims/{claim['id']}/status").json()["status"] == "submitted"


def test_a_key_still_running_is_409_and_a_bad_key_is_named(api: ApiClinic) -> None:
    from handbill.api.models import IdempotencyKey

    biller = api.as_role("biller")
    visit = signed_visit(api.clinic)
    # What a first request leaves while it runs: the key taken, no response yet. Its hash
    # is the one this very request has, so only the "still running" rule can answer.
    from django.test import RequestFactory

    from handbill.api.idempotency import fingerprint

    probe = RequestFactory().post("/api/v1/claims")
    IdempotencyKey.objects.create(
        practice=api.clinic.practice, key="busy", created_at=FIXED_NOW,
        request_hash=fingerprint(probe, {"visit_id": visit.pk, "coverage_id": None}),
    )
    busy = biller.post("/claims", {"visit_id": visit.pk}, **{"Idempotency-Key": "busy"})
    assert busy.status_code == 409
    assert error_of(busy)["code"] == "idempotency_key_in_progress"
    assert not Claim.objects.filter(visit=visit).exists()
    long_key = biller.post("/claims", {"visit_id": visit.pk}, **{"Idempotency-Key": "k" * 101})
    assert long_key.status_code == 422
    assert error_of(long_key)["fields"][0]["field"] == "Idempotency-Key"
    # Keys are per practice: another practice may use the same one.
    other = make_api_clinic("Birch Hollow Bodywork", patient_last="Underhill")
    theirs = signed_visit(other.clinic)
    done = other.as_role("biller").post("/claims", {"visit_id": theirs.pk},
                                        **{"Idempotency-Key": "busy"})
    assert done.status_code == 201


def test_a_therapist_sees_her_own_notes_and_patients_only(api: ApiClinic) -> None:
    from handbill.audit.models import AuditEvent
    from tests.factories import records as f

    clinic = api.clinic
    colleague = f.make_provider(clinic.practice, first_name="Tove", last_name="Lindahl")
    for payer in clinic.payers.values():
        f.enroll(colleague, payer)
    theirs = f.make_patient(clinic.practice, first_name="Iris", last_name="Vantongeren",
                            account_number="A10077")
    their_visit = f.make_signed_visit(colleague, theirs)
    mine = signed_visit(clinic)
    therapist = api.as_role("therapist")
    assert therapist.get(f"/visits/{their_visit.pk}").status_code == 404
    assert therapist.get(f"/visits/{mine.pk}").status_code == 200
    listed = {v["id"] for v in therapist.get("/visits").json()["results"]}
    assert mine.pk in listed and their_visit.pk not in listed
    names = {p["last_name"] for p in therapist.get("/patients").json()["results"]}
    assert "Fairweather" in names and "Vantongeren" not in names
    assert therapist.get(f"/patients/{theirs.pk}").status_code == 404
    # A note for the colleague is refused: a therapist writes her own.
    refused = therapist.post("/visits", note_body(api, provider_id=colleague.pk))
    assert refused.status_code == 403
    # The biller sees everyone's; reading a note is audited, a hidden row's attempt too.
    assert api.as_role("biller").get(f"/visits/{their_visit.pk}").status_code == 200
    assert AuditEvent.objects.filter(action="visit.view", object_id=str(their_visit.pk)
                                     ).exists()
    attempt = AuditEvent.objects.filter(action="access.denied", detail__status=404).first()
    assert attempt is not None and attempt.detail["reason"] == "another therapist's row"
