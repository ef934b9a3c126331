"""The API's isolation probe: every route that names an object in its path, called by an owner
of practice A with practice B's ids, answers 404 and changes nothing; every list route of A
shows none of B's rows. The routes come from the OpenAPI document, so a new route is probed
as soon as it exists (a new path parameter, or a write route without a known body, fails here
until the probe knows it)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from handbill.api.api import api as ninja_api
from handbill.audit.models import AuditEvent
from handbill.remittance.models import EraFile
from tests.conftest import FIXED_NOW
from tests.integration.api_setup import ApiClinic, make_api_clinic
from tests.integration.web_clinic import draft_claim, signed_visit

pytestmark = pytest.mark.django_db

# A body that passes each write route's schema, so the answer comes from the scoping and not
# from validation. Keyed by "METHOD /path" as in the document.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "PUT /api/v1/patients/{patient_id}": {
        "account_number": "Z1", "first_name": "Ada", "last_name": "Probe",
        "birth_date": "1980-01-01", "address_line1": "1 Elm St", "city": "Olympia",
        "state": "WA", "postal_code": "98501"},
    "POST /api/v1/patients/{patient_id}/coverages": {
        "payer_id": "<own payer>", "order": 3, "member_id": "Z", "start_date": "2026-01-01"},
    "PUT /api/v1/coverages/{coverage_id}": {
        "payer_id": "<own payer>", "order": 3, "member_id": "Z", "start_date": "2026-01-01"},
    "POST /api/v1/coverages/{coverage_id}/authorizations": {
        "kind": "referral", "start_date": "2026-01-01"},
    "POST /api/v1/claims/{claim_id}/overrides": {"rule": "note.medical_necessity",
                                                 "reason": "probe"},
}
NO_BODY = {"POST /api/v1/visits/{visit_id}/sign", "POST /api/v1/claims/{claim_id}/scrub",
           "POST /api/v1/claims/{claim_id}/ready",
           "POST /api/v1/remittances/{remittance_id}/commit"}
# Path parameters that name a kind, not a row.
NOT_ROWS = {"kind"}


def _routes() -> list[tuple[str, str]]:
    document = ninja_api.get_openapi_schema()
    return [(method.upper(), path)
            for path, operations in document["paths"].items() for method in operations]


@pytest.fixture
def practices() -> tuple[ApiClinic, ApiClinic, dict[str, int]]:
    ours = make_api_clinic()
    theirs = make_api_clinic("Birch Hollow Bodywork", patient_last="Underhill")
    clinic = theirs.clinic
    # Values only practice B holds, to look for in A's answers.
    clinic.patient.account_number = "B77777"
    clinic.patient.save()
    clinic.coverage.member_id = "BMEMBER9"
    clinic.coverage.save()
    era = EraFile.objects.create(
        practice=clinic.practice, sha256="0" * 64, raw="ISA*", trace_number="PROBE1",
        status="planned", imported_at=FIXED_NOW,
    )
    their_ids = {
        "patient_id": clinic.patient.pk,
        "coverage_id": clinic.coverage.pk,
        "visit_id": signed_visit(clinic).pk,
        "claim_id": draft_claim(clinic).pk,
        "remittance_id": era.pk,
    }
    return ours, theirs, their_ids


def _state() -> tuple[int, str]:
    from handbill.claims.models import Claim
    from handbill.patients.models import Authorization, Coverage, Patient
    from handbill.visits.models import Visit

    rows = [list(m.objects.order_by("pk").values()) for m in
            (Patient, Coverage, Authorization, Visit, Claim, EraFile)]
    return AuditEvent.objects.count(), json.dumps(rows, default=str, sort_keys=True)


def test_every_route_with_an_id_is_404_for_another_practices_row(
    practices: tuple[ApiClinic, ApiClinic, dict[str, int]],
) -> None:
    ours, _theirs, their_ids = practices
    client = ours.as_role("owner")
    own_payer = ours.clinic.coverage.payer_id
    before = _state()
    probed = []
    for method, path in _routes():
        params = [p for p in re.findall(r"{(\w+)}", path) if p not in NOT_ROWS]
        if not params:
            continue
        key = f"{method} {path}"
        assert set(params) <= set(their_ids), f"{key}: teach the probe the id {params}"
        url = path
        for name in params:
            url = url.replace("{" + name + "}", str(their_ids[name]))
        if method == "GET":
            response = client.get(url)
        else:
            assert key in VALID_BODIES or key in NO_BODY, f"{key}: give the probe a valid body"
            body = {k: (own_payer if v == "<own payer>" else v)
                    for k, v in VALID_BODIES.get(key, {}).items()}
            response = getattr(client, method.lower())(url, body)
        assert response.status_code == 404, (key, response.status_code, response.content[:200])
        assert response.json()["error"]["code"] == "not_found"
        probed.append(key)
    assert len(probed) >= 15
    assert _state() == before


def test_lists_never_show_another_practices_rows(
    practices: tuple[ApiClinic, ApiClinic, dict[str, int]],
) -> None:
    ours, theirs, _ids = practices
    client = ours.as_role("owner")
    foreign = ["B77777", "Underhill", "BMEMBER9", "PROBE1", "Birch Hollow"]
    listed = 0
    for method, path in _routes():
        if method != "GET" or "{" in path.replace("{kind}", ""):
            continue
        kinds = ("followup", "denials", "rejections", "underpaid", "timely")
        urls = [path.replace("{kind}", n) for n in kinds] if "{kind}" in path else [path]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            text = response.content.decode()
            for value in foreign:
                assert value not in text, (url, value)
            listed += 1
    assert listed >= 8
