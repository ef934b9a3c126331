"""The audit trail: append-only in the database, page views and exports, sign-ins and
refusals with their source address, the /audit/ page and its export, ``handbill audit``, and
every action's row written in the action's own transaction."""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import json
import pkgutil
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings

import handbill
from handbill.audit.models import AuditEvent
from handbill.audit.record import record
from handbill.claims import actions as claim_actions
from handbill.cli import main
from handbill.core.money import Cents
from handbill.ledger import posting
from handbill.patients import actions as patient_actions
from handbill.patients.models import Patient
from handbill.policies.actions import load_shipped_policies
from handbill.practice.models import Role
from handbill.visits import actions as visit_actions
from handbill.visits.models import Addendum, Visit
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration.web_clinic import PASSWORD, Clinic, draft_claim, make_clinic, signed_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


@pytest.fixture
def other() -> Clinic:
    return make_clinic("Birch Street Bodywork", patient_last="Oakhollow")


def _last(action: str) -> AuditEvent:
    found = AuditEvent.objects.filter(action=action).order_by("-pk").first()
    assert found is not None, f"no {action} row"
    return found


# --- Append-only, in the database itself -----------------------------------------------------


def test_the_database_refuses_to_change_or_remove_an_audit_row(clinic: Clinic) -> None:
    event = record(action="test.event", at=FIXED_NOW, by=None, practice=clinic.practice)
    for sql in ("UPDATE audit_auditevent SET action = 'rewritten' WHERE id = %s",
                "DELETE FROM audit_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.action == "test.event"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_postgresql_refuses_to_truncate_the_trail(clinic: Clinic) -> None:
    record(action="test.event", at=FIXED_NOW, by=None, practice=clinic.practice)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            # Checks the row's deferred foreign keys now, or TRUNCATE refuses for that reason.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE audit_auditevent CASCADE")


@pytest.mark.django_db(transaction=True)
def test_a_test_with_real_transactions_is_still_cleaned_up() -> None:
    """Django's flush empties the tables after this test; the guard is lifted only for that
    (tests/conftest.py). Were it not, the teardown would fail."""
    record(action="test.event", at=FIXED_NOW, by=None)
    assert AuditEvent.objects.count() == 1


# --- Page views and exports -----------------------------------------------------------------


def test_opening_a_patient_visit_or_claim_leaves_a_row_with_who_and_where(
    clinic: Clinic,
) -> None:
    claim = draft_claim(clinic)
    client = clinic.client_for("biller")
    biller = clinic.users["biller"]
    pages = {
        "patient.view": f"/patients/{clinic.patient.pk}/",
        "visit.view": f"/visits/{claim.visit_id}/",
        "claim.view": f"/claims/{claim.pk}/",
    }
    for action, url in pages.items():
        assert client.get(url, REMOTE_ADDR="198.51.100.23").status_code == 200
        event = _last(action)
        assert event.actor == biller
        assert event.practice == clinic.practice
        assert event.patient_id == clinic.patient.pk
        assert event.source_address == "198.51.100.23"
        assert event.channel == "web"
    client.get(f"/claims/{claim.pk}/837/")
    assert _last("claim.export").detail == {"format": "837P"}


@override_settings(HANDBILL_BEHIND_PROXY=True)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(clinic: Clinic) -> None:
    client = clinic.client_for("owner")
    client.get(f"/patients/{clinic.patient.pk}/", REMOTE_ADDR="10.0.0.2",
               HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.50")
    assert _last("patient.view").source_address == "203.0.113.50"


def test_actions_from_a_request_carry_its_address_and_the_cli_says_cli(clinic: Clinic) -> None:
    visit = signed_visit(clinic)
    assert _last("visit.sign").channel == "cli"  # made by the factories, outside a request
    clinic.client_for("biller").post(f"/visits/{visit.pk}/claim/", REMOTE_ADDR="192.0.2.7")
    build = _last("claim.build")
    assert build.source_address == "192.0.2.7" and build.channel == "web"
    assert build.patient_id == clinic.patient.pk


# --- Sign-in and refusals --------------------------------------------------------------------


def test_sign_in_failed_sign_in_and_sign_out_are_recorded(clinic: Clinic) -> None:
    user = clinic.users["biller"]
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.post("/sign-in/", {"username": user.username, "password": "wrong-password-1"})
    failed = _last("auth.sign_in_failed")
    assert failed.actor is None
    assert failed.object_id == str(user.pk)
    assert failed.detail == {"username": user.username}
    assert failed.source_address == "203.0.113.9"
    client.post("/sign-in/", {"username": "nobody-here", "password": "x"})
    assert _last("auth.sign_in_failed").object_id == ""
    client.post("/sign-in/", {"username": user.username, "password": PASSWORD})
    signed = _last("auth.sign_in")
    assert signed.actor == user and signed.source_address == "203.0.113.9"
    client.post("/sign-out/")
    assert _last("auth.sign_out").actor == user


def test_a_refusal_is_recorded_with_the_reason(clinic: Clinic) -> None:
    claim = draft_claim(clinic)
    response = clinic.client_for("front_desk").post(f"/claims/{claim.pk}/scrub/")
    assert response.status_code == 403
    event = _last("access.denied")
    assert event.actor == clinic.users["front_desk"]
    assert event.practice == clinic.practice
    assert event.detail["status"] == 403
    assert event.detail["path"] == f"/claims/{claim.pk}/scrub/"
    assert "may not bill" in event.detail["reason"]


def test_a_404_from_scoping_is_recorded_for_the_practice_that_owns_the_row(
    clinic: Clinic, other: Clinic
) -> None:
    client = clinic.client_for("owner")
    assert client.get(f"/patients/{other.patient.pk}/").status_code == 404
    event = _last("access.denied")
    assert event.practice == other.practice
    assert event.actor == clinic.users["owner"]
    assert event.detail["status"] == 404
    assert event.detail["reason"] == "a row of another practice"
    # A row that exists nowhere is an ordinary 404: nothing to record.
    before = AuditEvent.objects.filter(action="access.denied").count()
    assert client.get("/patients/987654/").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == before


def test_another_therapists_note_is_a_recorded_404(clinic: Clinic) -> None:
    colleague = f.make_provider(clinic.practice)
    patient = f.make_patient(clinic.practice)
    theirs = f.make_signed_visit(colleague, patient)
    assert clinic.client_for("therapist").get(f"/visits/{theirs.pk}/").status_code == 404
    event = _last("access.denied")
    assert event.practice == clinic.practice
    assert event.detail["reason"] == "another therapist's row"


# --- The /audit/ page and its export ---------------------------------------------------------


def test_only_owner_and_auditor_open_the_audit_page(clinic: Clinic) -> None:
    for role in Role:
        status = clinic.client_for(role.value).get("/audit/").status_code
        assert status == (200 if role in (Role.OWNER, Role.AUDITOR) else 403), role
    page = clinic.client_for("auditor").get("/today/").content.decode()
    assert ">Audit</a>" in page
    assert ">Audit</a>" not in clinic.client_for("biller").get("/today/").content.decode()


def test_the_audit_page_filters_and_keeps_to_its_practice(
    clinic: Clinic, other: Clinic
) -> None:
    second = f.make_patient(clinic.practice, last_name="Marchetti")
    biller = clinic.client_for("biller")
    biller.get(f"/patients/{clinic.patient.pk}/")
    biller.get(f"/patients/{second.pk}/")
    clinic.client_for("owner").get(f"/patients/{clinic.patient.pk}/")
    other.client_for("owner").get(f"/patients/{other.patient.pk}/")
    auditor = clinic.client_for("auditor")

    def shown(**query: Any) -> list[AuditEvent]:
        response = auditor.get("/audit/", query)
        assert response.status_code == 200
        return list(response.context["page"].object_list)

    everything = shown()
    assert {e.practice_id for e in everything} <= {clinic.practice.pk, None}
    assert not any(e.patient_id == other.patient.pk for e in everything)
    views = shown(action="patient.view", patient=clinic.patient.pk)
    assert len(views) == 2
    assert {e.actor for e in views} == {clinic.users["biller"], clinic.users["owner"]}
    by_biller = shown(action="patient.view", user=clinic.users["biller"].username)
    assert {e.patient_id for e in by_biller} == {clinic.patient.pk, second.pk}
    assert shown(action="patient.", since="2000-01-01", until="2000-01-02") == []
    response = auditor.get("/audit/", {"since": "last week", "patient": "Fairweather"})
    text = response.content.decode()
    assert "must be a date like 2026-11-02" in text and "patient&#x27;s number" in text


def test_sign_ins_of_members_show_on_their_practice_page_only(
    clinic: Clinic, other: Clinic
) -> None:
    mine, theirs = clinic.users["biller"], other.users["biller"]
    Client().post("/sign-in/", {"username": mine.username, "password": PASSWORD})
    Client().post("/sign-in/", {"username": theirs.username, "password": PASSWORD})
    Client().post("/sign-in/", {"username": mine.username, "password": "wrong-one-2"})
    page = clinic.client_for("owner").get("/audit/", {"action": "auth."})
    rows = list(page.context["page"].object_list)
    assert {(e.action, e.object_id) for e in rows} >= {
        ("auth.sign_in", str(mine.pk)), ("auth.sign_in_failed", str(mine.pk))}
    assert str(theirs.pk) not in {e.object_id for e in rows}


def test_the_export_is_csv_of_the_filtered_rows_and_is_itself_recorded(
    clinic: Clinic, other: Clinic
) -> None:
    clinic.client_for("biller").get(f"/patients/{clinic.patient.pk}/")
    other.client_for("biller").get(f"/patients/{other.patient.pk}/")
    owner = clinic.client_for("owner")
    response = owner.get("/audit/export.csv", {"action": "patient.view"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["patient_id"] for r in rows] == [str(clinic.patient.pk)]
    assert rows[0]["user"] == clinic.users["biller"].username
    assert rows[0]["source_address"] == "127.0.0.1"
    assert str(other.patient.pk) not in {r["patient_id"] for r in rows}
    assert _last("audit.export").actor == clinic.users["owner"]
    assert clinic.client_for("biller").get("/audit/export.csv").status_code == 403


# --- handbill audit ----------------------------------------------------------------------------


def test_the_command_prints_a_patients_trail_as_json(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    draft_claim(clinic)
    clinic.client_for("biller").get(f"/patients/{clinic.patient.pk}/")
    f.make_practice()  # a second practice: --practice is needed
    code = main(["audit", "--practice", clinic.practice.slug, "--patient",
                 clinic.patient.account_number, "--since", "2000-01-01"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["patient"]["account_number"] == clinic.patient.account_number
    actions = {e["action"] for e in out["events"]}
    assert {"patient.view", "claim.build", "visit.sign"} <= actions
    assert all(e["patient_id"] == clinic.patient.pk for e in out["events"])
    code = main(["audit", "--practice", clinic.practice.slug, "--patient",
                 clinic.patient.account_number, "--user", clinic.users["biller"].username])
    only = json.loads(capsys.readouterr().out)
    assert {e["user"] for e in only["events"]} == {clinic.users["biller"].username}


def test_the_command_names_bad_input(clinic: Clinic, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--patient", "NOPE"]) == 2
    assert "no patient 'NOPE'" in capsys.readouterr().err
    assert main(["audit", "--since", "2026-02-01", "--until", "2026-01-01"]) == 2
    assert "--until is before --since" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["audit", "--since", "yesterday"])
    assert "not a date" in capsys.readouterr().err


# --- Every action's row in the action's own transaction -------------------------------------


class Boom(RuntimeError):
    """Raised just after the audit row is written: the action must leave nothing behind."""


def _fail_after_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    def record_then_fail(**kwargs: Any) -> AuditEvent:
        record(**kwargs)
        raise Boom(kwargs["action"])

    for module in _modules_calling_record():
        monkeypatch.setattr(module, "record", record_then_fail)


def _modules_calling_record() -> list[Any]:
    found = []
    for info in pkgutil.walk_packages(handbill.__path__, "handbill."):
        if ".migrations" in info.name or info.name.startswith(("handbill.cli", "handbill.demo")):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue
        if getattr(module, "record", None) is record and info.name != "handbill.audit.record":
            found.append(module)
    return found


def _cases(c: Clinic) -> list[tuple[str, Callable[[], object], type]]:
    owner = c.users["owner"]
    unsigned = f.make_signed_visit(c.provider, c.patient, coverage=c.coverage, sign=False)
    signed = signed_visit(c)
    claim = draft_claim(c, signed_visit(c, on=date(2026, 11, 9)))
    data = patient_actions.PatientInput(
        account_number="A20001", first_name="Lee", last_name="Hollins",
        birth_date=date(1975, 3, 4), address_line1="1 Pine St", city="Olympia", state="WA",
        postal_code="98501")
    return [
        ("patient.create", lambda: patient_actions.register_patient(
            practice=c.practice, data=data, by=owner, at=FIXED_NOW), Patient),
        ("visit.create", lambda: f.make_signed_visit(c.provider, c.patient, sign=False), Visit),
        ("visit.sign", lambda: visit_actions.sign_visit(visit=unsigned, by=owner,
                                                        at=FIXED_NOW), Visit),
        ("visit.addendum", lambda: visit_actions.add_addendum(
            visit=signed, text="Late entry.", by=owner, at=FIXED_NOW), Addendum),
        ("claim.build", lambda: claim_actions.build_claim(visit=signed, by=owner,
                                                          at=FIXED_NOW), Visit),
        ("claim.scrub", lambda: claim_actions.scrub_claim(claim=claim, by=owner,
                                                          at=FIXED_NOW), Visit),
        ("ledger.post", lambda: posting.post_charge(
            practice=c.practice, payer=None, amount=Cents(1000), claim_ref="X1",
            patient_ref=c.patient.account_number, effective_date=date(2026, 11, 2),
            at=FIXED_NOW, by=owner), Visit),
        ("policy.load", lambda: load_shipped_policies(practice=f.make_practice(), by=None,
                                                      at=FIXED_NOW), Visit),
    ]


def _snapshot() -> dict[str, Any]:
    from handbill.claims.models import Claim, ClaimFinding
    from handbill.ledger.models import LedgerTransaction
    from handbill.policies.models import PayerPolicyVersion

    models = (AuditEvent, Patient, Visit, Addendum, Claim, ClaimFinding, LedgerTransaction,
              PayerPolicyVersion)
    counts: dict[str, Any] = {m.__name__: m.objects.count() for m in models}
    counts["signed"] = Visit.objects.filter(signed_at__isnull=False).count()
    return counts


def test_an_action_that_fails_after_its_audit_row_leaves_neither(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = _cases(clinic)  # the setup itself goes through the real actions
    _fail_after_audit(monkeypatch)
    for name, action, _model in cases:
        before = _snapshot()
        with pytest.raises(Boom, match=name.split(".")[0]):
            action()
        assert _snapshot() == before, name


def test_every_action_that_records_runs_in_one_transaction() -> None:
    """The rule the test above samples, checked over every action module: a public function
    that writes an audit row does so inside ``transaction.atomic``."""
    missing = []
    # Reads (a page view, a refusal, on a page or through the API) write one row and nothing
    # else: no transaction to share.
    readers = ("handbill.audit.", "handbill.web.", "handbill.api.access")
    for module in _modules_calling_record():
        if module.__name__.startswith(readers):
            continue
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or func.__module__ != module.__name__:
                continue
            source = inspect.getsource(func)
            if "record(" in source and "transaction.atomic" not in source:
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"these write audit rows outside one transaction: {missing}"
