"""Schemathesis against the API's own OpenAPI document, inside the test suite.

For every operation, Hypothesis draws requests that match the document (bodies, query
strings, path ids — half of them pointing at real rows of a small clinic, so updates and
moves on live objects are drawn too) and sends them through the Django WSGI app with an
owner's token. Each answer must not be a server error and must match the response schema
the document declares for its status. Examples per operation are few, so the suite stays
quick; raise HANDBILL_SCHEMATHESIS_EXAMPLES for a deeper run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from handbill.submissions.models import Clearinghouse
from handbill.wsgi import application
from tests.conftest import FIXED_NOW
from tests.integration.api_setup import ApiClinic, make_api_clinic
from tests.integration.web_clinic import draft_claim, signed_visit

EXAMPLES = int(os.environ.get("HANDBILL_SCHEMATHESIS_EXAMPLES", "6"))

SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
OPERATIONS = {
    op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())
}


@pytest.fixture
def _keep_the_test_connection() -> Iterator[None]:
    """Schemathesis calls the WSGI app directly, which closes the database connection at the
    end of each request (request_finished → close_old_connections); inside the test's
    transaction that would drop it (PostgreSQL). Django's own test client unhooks the same
    handlers; so do we, for the test only."""
    hooks = (request_started, request_finished)
    for signal in hooks:
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in hooks:
            signal.connect(close_old_connections)


@pytest.fixture
def live(tmp_path: Path, _keep_the_test_connection: None) -> tuple[ApiClinic, dict[str, int]]:
    api = make_api_clinic()
    clinic = api.clinic
    Clearinghouse.objects.create(
        practice=clinic.practice, name="Test clearinghouse", receiver_id="TESTCH01",
        receiver_name="TEST CLEARINGHOUSE", transport="outbox", outbox_path=str(tmp_path),
        created_at=FIXED_NOW,
    )
    claim = draft_claim(clinic)
    ids = {
        "patient_id": clinic.patient.pk,
        "coverage_id": clinic.coverage.pk,
        "visit_id": signed_visit(clinic).pk,
        "claim_id": claim.pk,
        "provider_id": clinic.provider.pk,
        "payer_id": clinic.coverage.payer_id,
        "remittance_id": 1,
    }
    return api, ids


def _point_at_live_rows(case: Any, ids: dict[str, int]) -> None:
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    if isinstance(case.body, dict):
        for name in list(case.body):
            if name in ids:
                case.body[name] = ids[name]


def test_the_document_is_served_and_lists_every_area() -> None:
    paths = set(SCHEMA.raw_schema["paths"])
    for prefix in ("/api/v1/patients", "/api/v1/visits", "/api/v1/claims",
                   "/api/v1/remittances", "/api/v1/worklists", "/api/v1/reports"):
        assert any(p.startswith(prefix) for p in paths), prefix
    assert "/api/v1/coverages/{coverage_id}/authorizations" in paths
    assert SCHEMA.raw_schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_the_docs_page_is_served_without_a_cdn(client: Any) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    text = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in text and "cdn" not in text.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_conforms_to_its_schema(
    label: str, mode: GenerationMode, live: tuple[ApiClinic, dict[str, int]]
) -> None:
    """Positive cases match the document; negative ones break it (a wrong type, a missing
    field, a value out of range) and must be refused with a 4xx in the error shape, never a
    500."""
    api, ids = live
    headers = {"Authorization": f"Bearer {api.tokens['owner']}"}
    operation = OPERATIONS[label]

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), live_rows=st.booleans())
    def check(case: Any, live_rows: bool) -> None:
        if live_rows:
            _point_at_live_rows(case, ids)
        response = case.call(headers=headers)
        case.validate_response(
            response, checks=[not_a_server_error, response_schema_conformance]
        )

    check()
