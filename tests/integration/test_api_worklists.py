"""/api/v1/worklists: the follow-up queues (as on the Queues page) after a sandbox round trip
that leaves real denials and underpayments; roles and the error shape for an unknown list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from handbill.followup import queries
from handbill.practice.models import Role
from tests.factories import records as f
from tests.integration import followup_setup as fs
from tests.integration.api_setup import ApiClient, error_of, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return fs.round_trip(tmp_path, capsys)


def test_denials_and_underpayments_with_next_steps(clinic: dict[str, Any]) -> None:
    client = ApiClient(token_for(clinic["biller"], clinic["practice"]))
    denials = client.get("/worklists/denials").json()
    co170 = [row for row in denials["results"] if row["codes"] == "CO-170 N130"]
    assert {row["claim_number"] for row in co170} == {c.number for c in clinic["claims"]}
    row = co170[0]
    assert row["kind"] == "denials" and row["line"].startswith("97124")
    assert row["at_risk_cents"] == 9000 and row["action"] == "write_off"
    assert "does not pay this service" in row["meaning"] and row["next_step"]
    # The same rows, in the same order, as the queue page reads.
    expected = [r.key for r in queries.worklist(clinic["practice"], at=timezone.now(),
                                                kind="denials")]
    assert [r["key"] for r in denials["results"]] == expected
    underpaid = client.get("/worklists/underpaid").json()["results"]
    assert underpaid and all(r["difference_cents"] == 75 for r in underpaid)
    first = client.get("/worklists/denials", limit=1).json()
    assert first["count"] == denials["count"] and len(first["results"]) == 1
    unknown = client.get("/worklists/lost")
    assert unknown.status_code == 422 and error_of(unknown)["fields"][0]["field"] == "kind"


def test_therapists_and_front_desk_do_not_work_queues(clinic: dict[str, Any]) -> None:
    for role in (Role.THERAPIST, Role.FRONT_DESK, Role.AUDITOR):
        user = f.make_user(clinic["practice"], role)
        client = ApiClient(token_for(user, clinic["practice"]))
        assert client.get("/worklists/denials").status_code == 403
        assert client.get("/reports/aging").status_code == 403
