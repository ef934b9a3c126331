"""Signing in: password rules, lockout after repeated failures, two-factor for owners and
billers when the practice requires it, idle sessions ending, and the deploy settings."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from handbill.audit.models import AuditEvent
from handbill.practice.actions import set_two_factor_requirement
from handbill.web import sessions
from tests.conftest import FIXED_NOW
from tests.integration.web_clinic import PASSWORD, Clinic, make_clinic

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def _sign_in(client: Client, username: str, password: str, next_url: str = "/today/") -> object:
    return client.post("/sign-in/", {"username": username, "password": password,
                                     "next": next_url})


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


# --- Passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-1", "too short"),
        ("password1234", "too common"),
        ("839201746153", "entirely numeric"),
        ("aaaaaaaaaaaaaaaa", "too few characters"),
        ("abcabcabcabcabc", "too few characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    text = " ".join(refused.value.messages)
    assert reason.split()[-1] in text, text


def test_a_long_varied_password_passes() -> None:
    validate_password("copper kettle meadow 47")


# --- Lockout -------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_for_fifteen_minutes(clinic: Clinic) -> None:
    user = clinic.users["biller"]
    client = Client(REMOTE_ADDR="198.51.100.4")
    for _ in range(4):
        assert _sign_in(client, user.username, "wrong-password-x").status_code == 200
    locked = _sign_in(client, user.username, "wrong-password-x")
    assert locked.status_code == 429
    assert "locked for 15 minutes" in locked.content.decode()
    # Even the right password is refused while locked, from any address.
    again = _sign_in(Client(REMOTE_ADDR="192.0.2.99"), user.username, PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    lockouts = AuditEvent.objects.filter(action="auth.locked_out", object_id=str(user.pk))
    assert lockouts.filter(source_address="198.51.100.4").exists()
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() >= 5
    # Fifteen minutes later the account opens again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    signed = _sign_in(Client(), user.username, PASSWORD)
    assert signed.status_code == 302 and signed["Location"] == "/today/"


def test_a_success_clears_earlier_failures(clinic: Clinic) -> None:
    user = clinic.users["owner"]
    client = Client()
    for _ in range(3):
        _sign_in(client, user.username, "wrong-password-x")
    assert _sign_in(client, user.username, PASSWORD).status_code == 302
    client.post("/sign-out/")
    for _ in range(3):
        assert _sign_in(client, user.username, "wrong-password-x").status_code == 200


# --- Two-factor --------------------------------------------------------------------------------


def test_only_an_owner_turns_two_factor_on_and_it_is_audited(clinic: Clinic) -> None:
    with pytest.raises(PermissionDenied):
        set_two_factor_requirement(practice=clinic.practice, required=True,
                                   by=clinic.users["biller"], at=FIXED_NOW)
    assert clinic.client_for("biller").post("/practice/security/",
                                             {"require_two_factor": "1"}).status_code == 403
    response = clinic.client_for("owner").post("/practice/security/", {"require_two_factor": "1"})
    assert response.status_code == 302
    clinic.practice.refresh_from_db()
    assert clinic.practice.require_two_factor
    event = AuditEvent.objects.filter(action="practice.two_factor").latest("pk")
    assert event.actor == clinic.users["owner"]
    assert event.detail == {"required": True, "was": False}


def test_without_the_requirement_nobody_is_asked_for_a_code(clinic: Clinic) -> None:
    client = Client()
    _sign_in(client, clinic.users["owner"].username, PASSWORD)
    assert client.get("/today/").status_code == 200


def test_an_owner_enrols_with_a_qr_code_then_types_a_code_at_each_sign_in(
    clinic: Clinic,
) -> None:
    set_two_factor_requirement(practice=clinic.practice, required=True, by=None, at=FIXED_NOW)
    owner = clinic.users["owner"]
    client = Client()
    response = _sign_in(client, owner.username, PASSWORD, next_url="/claims/")
    assert response["Location"] == "/claims/"
    # A filtered list keeps all its filters through the two-factor step.
    filtered = client.get("/claims/?status=denied&payer=3")
    assert filtered["Location"] == "/two-factor/enrol/?next=/claims/%3Fstatus%3Ddenied%26payer%3D3"
    gate = client.get("/claims/")
    assert gate.status_code == 302
    assert gate["Location"] == "/two-factor/enrol/?next=/claims/"
    page = client.get(gate["Location"])
    text = page.content.decode()
    assert page.status_code == 200 and "<svg" in text and "<path" in text
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/")
    wrong = client.post("/two-factor/enrol/", {"code": "000000", "next": "/claims/"})
    assert wrong.status_code == 422 and "does not match" in wrong.content.decode()
    # A wrong code makes the next try wait a second (django-otp's throttle); a test does not.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    right = client.post("/two-factor/enrol/", {"code": _code(device), "next": "/claims/"})
    assert right.status_code == 302 and right["Location"] == "/claims/"
    assert client.get("/claims/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.two_factor_enrolled", actor=owner).exists()

    # The next sign-in asks for a code (the app shows a new one each 30 seconds; the last one
    # used is refused, so start from a fresh time step here).
    TOTPDevice.objects.filter(user=owner).update(last_t=-1)
    client.post("/sign-out/")
    fresh = Client()
    _sign_in(fresh, owner.username, PASSWORD)
    gate = fresh.get("/today/")
    assert gate["Location"] == "/two-factor/verify/?next=/today/"
    assert fresh.post("/two-factor/verify/", {"code": "123456"}).status_code == 422
    assert AuditEvent.objects.filter(action="auth.two_factor_failed", actor=owner).exists()
    device = TOTPDevice.objects.get(user=owner, confirmed=True)
    device.throttle_reset()
    ok = fresh.post("/two-factor/verify/", {"code": _code(device), "next": "/today/"})
    assert ok.status_code == 302, ok.content.decode()[-1500:]
    assert ok["Location"] == "/today/"
    assert fresh.get("/today/").status_code == 200


def test_two_factor_is_for_owners_and_billers_and_never_blocks_the_api(clinic: Clinic) -> None:
    set_two_factor_requirement(practice=clinic.practice, required=True, by=None, at=FIXED_NOW)
    for role in ("therapist", "front_desk", "auditor"):
        assert clinic.client_for(role).get("/today/").status_code == 200, role
    biller = clinic.client_for("biller")
    assert biller.get("/today/")["Location"].startswith("/two-factor/enrol/")
    # The API authenticates each request itself; the 2FA gate stays out of its way.
    api = biller.get("/api/v1/")
    assert not (api.status_code == 302 and "two-factor" in api.get("Location", ""))
    # Sign-out stays open to a half-signed-in user.
    assert biller.post("/sign-out/")["Location"] == "/sign-in/"


def test_the_next_address_after_a_code_stays_on_this_site(clinic: Clinic) -> None:
    set_two_factor_requirement(practice=clinic.practice, required=True, by=None, at=FIXED_NOW)
    client = clinic.client_for("owner")
    client.get("/two-factor/enrol/")
    device = TOTPDevice.objects.get(user=clinic.users["owner"])
    response = client.post("/two-factor/enrol/", {"code": _code(device),
                                                  "next": "https://evil.example/"})
    assert response["Location"] == "/today/"


# --- Idle sessions -----------------------------------------------------------------------------


def test_a_session_ends_after_thirty_idle_minutes_and_each_request_extends_it(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    _sign_in(client, clinic.users["biller"].username, PASSWORD)
    client.get("/today/")  # the first page also stores the current practice
    assert client.session.get_expiry_age() == 30 * 60
    key = client.session.session_key

    def end() -> object:
        return Session.objects.get(session_key=key).expire_date

    earlier = end() - timedelta(minutes=20)
    Session.objects.filter(session_key=key).update(expire_date=earlier)
    # Within the minute: no write, the end stays where it was.
    assert client.get("/today/").status_code == 200
    assert end() == earlier
    # A minute on, a request moves the end to 30 minutes from now.
    real = sessions.time.time
    monkeypatch.setattr(sessions.time, "time", lambda: real() + 61)
    assert client.get("/today/").status_code == 200
    assert end() > earlier + timedelta(minutes=19)
    # Past the end the session is gone: back to sign in.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    gone = client.get("/today/")
    assert gone.status_code == 302 and gone["Location"].startswith("/sign-in/")


# --- Deploy settings ---------------------------------------------------------------------------


def test_the_deploy_check_passes_with_debug_off() -> None:
    env = {
        **os.environ,
        "HANDBILL_DEBUG": "false",
        "HANDBILL_SECRET_KEY": "x7Qp2-vN9s_Lk4Wm8rT1yB6cF3hJ0dGzA5eU+iO@aK!qR$wE%tY^u",
        "HANDBILL_ALLOWED_HOSTS": "billing.example.org",
        "DJANGO_SETTINGS_MODULE": "handbill.settings",
    }
    done = subprocess.run(  # noqa: S603 - our own manage.py with a fixed argument list
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
