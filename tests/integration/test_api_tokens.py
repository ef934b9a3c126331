"""API tokens: made on the Account → API tokens page (shown once, only a hash stored), used as
bearer tokens without Django's authenticate(), revoked by their owner or a practice owner,
and the same through ``handbill api-token``."""

from __future__ import annotations

import hashlib
import json
from unittest import mock

import pytest

from handbill.api.models import ApiToken
from handbill.api.tokens import PREFIX
from handbill.audit.models import AuditEvent
from handbill.cli import main
from handbill.practice.models import Membership
from tests.integration.api_setup import ApiClient, ApiClinic, error_of, make_api_clinic

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> ApiClinic:
    return make_api_clinic()


def make_on_page(api: ApiClinic, role: str, name: str = "scheduler") -> str:
    page = api.clinic.client_for(role).post("/account/tokens/", {"name": name})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    secret: str = page.context["secret"]
    assert secret.startswith(PREFIX) and secret in page.content.decode()
    return secret


def test_a_token_made_on_the_page_is_shown_once_and_stored_as_a_hash(api: ApiClinic) -> None:
    secret = make_on_page(api, "therapist")
    token = ApiToken.objects.get(name="scheduler")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert token.membership.user == api.clinic.users["therapist"]
    again = api.clinic.client_for("therapist").get("/account/tokens/")
    assert secret not in again.content.decode() and "scheduler" in again.content.decode()
    assert AuditEvent.objects.filter(action="api_token.create", object_id=str(token.pk)).exists()


def test_a_token_acts_with_its_membership_and_never_calls_authenticate(api: ApiClinic) -> None:
    secret = make_on_page(api, "therapist")
    with mock.patch("django.contrib.auth.authenticate", side_effect=AssertionError):
        response = ApiClient(secret).get("/patients")
    assert response.status_code == 200
    assert ApiToken.objects.get(name="scheduler").last_used_at is not None
    assert ApiClient(secret).post("/claims", {"visit_id": 1}).status_code == 403


def test_an_empty_name_is_refused_next_to_the_field(api: ApiClinic) -> None:
    before = ApiToken.objects.count()
    page = api.clinic.client_for("biller").post("/account/tokens/", {"name": ""})
    assert page.status_code == 422 and not page.context["secret"]
    assert ApiToken.objects.count() == before


def test_revoked_tokens_and_gone_memberships_stop_working(api: ApiClinic) -> None:
    secret = make_on_page(api, "biller")
    token = ApiToken.objects.get(name="scheduler")
    # Another member cannot even see it; the owner can revoke it.
    assert api.clinic.client_for("front_desk").post(
        f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiClient(secret).get("/patients").status_code == 200
    done = api.clinic.client_for("owner").post(f"/account/tokens/{token.pk}/revoke/")
    assert done.status_code == 302
    refused = ApiClient(secret).get("/patients")
    assert refused.status_code == 401 and error_of(refused)["code"] == "unauthenticated"
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(token.pk)).exists()

    other = api.tokens["front_desk"]
    Membership.objects.filter(user=api.clinic.users["front_desk"]).delete()
    assert ApiClient(other).get("/patients").status_code == 401
    user = api.clinic.users["auditor"]
    user.is_active = False
    user.save()
    assert ApiClient(api.tokens["auditor"]).get("/patients").status_code == 401


def test_a_token_of_another_practice_sees_only_its_own(api: ApiClinic) -> None:
    other = make_api_clinic("Birch Hollow Bodywork", patient_last="Underhill")
    names = {p["last_name"] for p in other.as_role("owner").get("/patients").json()["results"]}
    assert names == {"Underhill"}


def test_the_command_line_makes_lists_and_revokes(
    api: ApiClinic, capsys: pytest.CaptureFixture[str]
) -> None:
    user = api.clinic.users["biller"]
    slug = api.clinic.practice.slug
    assert main(["api-token", "create", "--user", user.username, "--practice", slug,
                 "--name", "nightly export"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["token"].startswith(PREFIX) and made["role"] == "biller"
    assert ApiClient(made["token"]).get("/patients").status_code == 200
    assert main(["api-token", "list", "--practice", slug]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "nightly export" in [t["name"] for t in listed]
    assert all("token" not in t for t in listed)
    assert main(["api-token", "revoke", str(made["id"])]) == 0
    assert json.loads(capsys.readouterr().out)["revoked_at"]
    assert ApiClient(made["token"]).get("/patients").status_code == 401
    assert main(["api-token", "create", "--user", "nobody", "--practice", slug,
                 "--name", "x"]) == 2
    assert "no membership" in capsys.readouterr().err
