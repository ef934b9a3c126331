"""Eligibility checks end to end: 270s out through the clearinghouse transport, 271s in from the
inbox, the sandbox's answers, the batch, bad answers, the scrubber and the command line."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client

from handbill.audit.models import AuditEvent
from handbill.claims import actions as claim_actions
from handbill.cli import main
from handbill.core import sandbox_eligibility
from handbill.core.eligibility_values import Benefit, EligibilityAnswer
from handbill.eligibility.actions import (
    EligibilityError,
    check_eligibility,
    read_answers,
    run_batch,
)
from handbill.eligibility.display import (
    eligibility_context,
    latest_summary,
    needing_attention,
    summary_of,
)
from handbill.eligibility.models import EligibilityCheck
from handbill.eligibility.requests import policy_for
from handbill.eligibility.sandbox import SandboxTransport
from handbill.patients.models import Coverage
from handbill.submissions.actions import fetch_inbox
from handbill.submissions.models import Clearinghouse, InboxFile
from handbill.submissions.transports import OutboxTransport, TransportError
from handbill.x12.eligibility import Envelope, read_270, write_271
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration import submission_setup as s

ON = date(2026, 11, 24)
EVERGREEN = "evergreen-health-ppo"


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    c = s.make_clinic(tmp_path / "clearinghouse" / "outbox")
    c["house"].receiver_id = "HBSANDBOX"  # the payer sandbox answers
    c["house"].save()
    c["front_desk"] = f.make_user(c["practice"], role="front_desk")
    return c


def _real_house(clinic: dict[str, Any], tmp_path: Path) -> Clearinghouse:
    """A clearinghouse that is not the sandbox: nothing answers until a 271 is put in."""
    house = clinic["house"]
    house.receiver_id = "TESTCH01"
    house.save()
    return house


def _inbox(house: Clearinghouse) -> Path:
    return Path(house.outbox_path).parent / "inbox"


def _coverage(clinic: dict[str, Any], member_id: str, profile: str = EVERGREEN,
              **changes: Any) -> Coverage:
    patient = f.make_patient(clinic["practice"])
    return f.make_coverage(patient, clinic["payers"][profile], member_id=member_id,
                           group_number="G100", **changes)


def _answer_for(check: EligibilityCheck, **changes: Any) -> EligibilityAnswer:
    """What a payer would say to ``check`` (the sandbox's answer, changed as asked)."""
    [request] = read_270(check.request_270).requests
    reply = sandbox_eligibility.answer(
        request, policy=policy_for(check.coverage, check.service_date), payer_type="commercial")
    return replace(reply, **changes)


def _drop_271(house: Clearinghouse, name: str, answers: list[EligibilityAnswer],
              control: int = 900) -> str:
    text = write_271(answers, Envelope("TESTCH01", "HBSUBMIT01", control, control, 1, FIXED_NOW))
    folder = _inbox(house)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="ascii")
    return text


def _actions(check: EligibilityCheck) -> list[str]:
    return list(AuditEvent.objects.filter(object_type="eligibility.eligibilitycheck",
                                          object_id=str(check.pk))
                .order_by("pk").values_list("action", flat=True))


# --- the sandbox round trip -----------------------------------------------------------------------


@pytest.mark.django_db
def test_sandbox_round_trip_through_the_outbox(clinic: dict[str, Any]) -> None:
    coverage = _coverage(clinic, "EVH100000009")
    check = check_eligibility(coverage=coverage, on=ON, by=clinic["biller"], at=FIXED_NOW)
    house = clinic["house"]
    assert check.status == "active" and check.sandbox and check.service_date == ON
    assert check.sent_at == FIXED_NOW and check.answered_at == FIXED_NOW
    assert check.created_by == clinic["biller"]
    # The 270 went out through the clearinghouse's outbox; the 271 came back in its inbox.
    outbox = Path(house.outbox_path)
    assert (outbox / check.file_name).read_text(encoding="ascii") == check.request_270
    assert check.response_file == check.file_name.replace(".270", ".271")
    assert (_inbox(house) / check.response_file).read_text(encoding="ascii") == \
        check.response_271
    [request] = read_270(check.request_270).requests
    assert request.trace_number == check.trace_number
    assert request.subscriber.member_id == "EVH100000009"
    assert request.provider.identifier == clinic["practice"].billing_npi
    summary = summary_of(check)
    assert summary is not None and summary.status.value == "active"
    assert check.summary.startswith("Active. Physical medicine: ")
    assert "visits left this calendar year" in check.summary
    assert EligibilityAnswer.from_json(check.benefits).trace_number == check.trace_number
    assert _actions(check) == ["eligibility.build", "eligibility.answer"]


@pytest.mark.django_db
def test_stored_270_is_what_x12sdk_reads(clinic: dict[str, Any]) -> None:
    from x12sdk.io import X12ModelReader

    coverage = _coverage(clinic, "EVH100000019", relationship="19",
                         subscriber_first_name="Pat", subscriber_last_name="Parent",
                         subscriber_birth_date=date(1970, 1, 1), subscriber_sex="F")
    check = check_eligibility(coverage=coverage, on=ON, by=None, at=FIXED_NOW)
    with X12ModelReader(check.request_270) as reader:
        assert [type(m).__name__ for m in reader.models()] == ["EligibilityInquiry"]
    [request] = read_270(check.request_270).requests
    assert request.dependent is not None and request.dependent.relationship == "19"
    assert request.subscriber.last_name == "PARENT"
    assert check.status == "active"
    assert EligibilityAnswer.from_json(check.benefits).dependent is not None


@pytest.mark.django_db
@pytest.mark.parametrize(("member_id", "status", "words"), [
    ("EVH100000010", "inactive", "Inactive: coverage ended 2026-10-31."),
    ("EVH100000011", "active", "Active, but physical medicine is not covered under this plan"),
    ("EVH100000012", "active", "1 of 20 visits left this calendar year"),
    ("EVH100000013", "rejected", "The member ID is missing or not valid (AAA 72). Fix: Copy"),
])
def test_the_four_sandbox_cases(clinic: dict[str, Any], member_id: str, status: str,
                                words: str) -> None:
    check = check_eligibility(coverage=_coverage(clinic, member_id), on=ON, by=None,
                              at=FIXED_NOW)
    assert check.status == status
    assert words in check.summary


# --- a real clearinghouse: answers come later, bad ones store nothing -----------------------------


@pytest.mark.django_db
def test_answer_read_later_and_a_bad_271_stores_nothing(clinic: dict[str, Any],
                                                        tmp_path: Path) -> None:
    house = _real_house(clinic, tmp_path)
    check = check_eligibility(coverage=_coverage(clinic, "EVH100000029"), on=ON,
                              by=clinic["front_desk"], at=FIXED_NOW)
    assert check.status == "sent" and not check.sandbox and check.response_271 == ""
    good = _answer_for(check)
    text = _drop_271(house, "answer-1.271", [good])
    bad = text.replace("~EB*B*", "~EB*ZZ*", 1)
    (_inbox(house) / "answer-1.271").write_text(bad, encoding="ascii")
    position = bad[: bad.index("~EB*ZZ*") + 1].count("~") + 1

    report = read_answers(practice=clinic["practice"], by=clinic["biller"], at=FIXED_NOW)
    assert report.answered == []
    [problem] = report.problems
    assert problem.startswith(f"answer-1.271: segment {position} (EB): EB01 'ZZ' is not an "
                              "eligibility or benefit code")
    assert "Nothing from this file was stored" in problem
    check.refresh_from_db()
    assert check.status == "sent" and check.response_271 == "" and check.benefits == {}
    assert "eligibility.answer" not in _actions(check)

    (_inbox(house) / "answer-1.271").unlink()
    _drop_271(house, "answer-2.271", [good])
    later = FIXED_NOW + timedelta(hours=1)
    report = read_answers(practice=clinic["practice"], by=None, at=later)
    assert [c.pk for c in report.answered] == [check.pk] and report.problems == []
    check.refresh_from_db()
    assert check.status == "active" and check.answered_at == later
    assert check.response_file == "answer-2.271"
    # Reading again changes nothing.
    again = read_answers(practice=clinic["practice"], by=None, at=later)
    assert again.answered == [] and again.problems == []


@pytest.mark.django_db
def test_answer_fetched_by_inbox_fetch_is_read_from_the_stored_file(
    clinic: dict[str, Any], tmp_path: Path
) -> None:
    house = _real_house(clinic, tmp_path)
    check = check_eligibility(coverage=_coverage(clinic, "EVH100000039"), on=ON, by=None,
                              at=FIXED_NOW)
    _drop_271(house, "eligibility.271", [_answer_for(check)])
    [stored] = fetch_inbox(practice=clinic["practice"], clearinghouse=house,
                           by=clinic["biller"], at=FIXED_NOW)
    (_inbox(house) / "eligibility.271").unlink()
    report = read_answers(practice=clinic["practice"], by=None, at=FIXED_NOW)
    assert [c.pk for c in report.answered] == [check.pk]
    stored.refresh_from_db()
    assert stored.processed_at == FIXED_NOW
    assert InboxFile.objects.filter(processed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_unreadable_answer_to_a_single_check_is_an_error(clinic: dict[str, Any]) -> None:
    class Garbling(SandboxTransport):
        def upload(self, name: str, content: bytes) -> str:
            where = super().upload(name, content)
            answer = self.inner.inbox / name.replace(".270", ".271")
            answer.write_text(answer.read_text().replace("~DTP*346*D8*", "~DTP*346*D8*9"))
            return where

    house = clinic["house"]
    transport = Garbling(clinic["practice"], OutboxTransport(house.outbox_path), at=FIXED_NOW)
    with pytest.raises(EligibilityError) as caught:
        check_eligibility(coverage=_coverage(clinic, "EVH100000049"), on=ON, by=None,
                          at=FIXED_NOW, transport=transport)
    assert "(DTP): DTP03" in str(caught.value) and "is not a CCYYMMDD date" in str(caught.value)
    assert "the check waits for a good answer" in str(caught.value)
    check = EligibilityCheck.objects.get()
    assert check.status == "sent" and check.response_271 == ""


@pytest.mark.django_db
def test_failed_upload_is_recorded_and_nothing_is_answered(clinic: dict[str, Any]) -> None:
    class Broken(OutboxTransport):
        def upload(self, name: str, content: bytes) -> str:
            raise TransportError("the clearinghouse folder is not mounted")

    broken = Broken(clinic["house"].outbox_path)
    with pytest.raises(EligibilityError, match="written but not sent: the clearinghouse"):
        check_eligibility(coverage=_coverage(clinic, "EVH100000059"), on=ON, by=None,
                          at=FIXED_NOW, transport=broken)
    check = EligibilityCheck.objects.get()
    assert check.status == "failed" and "not mounted" in check.error


# --- the batch ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_checks_the_schedule_and_stale_coverages_once(clinic: dict[str, Any]) -> None:
    practice = clinic["practice"]
    planned = _coverage(clinic, "EVH200000009")
    f.make_signed_visit(clinic["provider"], planned.patient, on=ON, sign=False,
                        coverage=planned)
    never_checked = _coverage(clinic, "EVH200000019")
    recent = _coverage(clinic, "EVH200000029")
    check_eligibility(coverage=recent, on=ON - timedelta(days=10), by=None,
                      at=FIXED_NOW - timedelta(days=10))
    _coverage(clinic, "EVH200000039", end_date=date(2026, 10, 1))  # ended: not checked
    self_pay = f.make_patient(practice)
    f.make_signed_visit(clinic["provider"], self_pay, on=ON, sign=False)
    blank = Coverage.objects.create(practice=practice, patient=f.make_patient(practice),
                                    payer=clinic["payers"][EVERGREEN], order=1, member_id=" ",
                                    start_date=date(2025, 1, 1))

    report = run_batch(practice=practice, on=ON, by=clinic["biller"], at=FIXED_NOW)
    assert [c.coverage_id for c in report.sent] == [planned.pk, never_checked.pk]
    assert report.failed == [] and report.already_checked == 0
    [skipped] = report.skipped
    assert "member ID is empty" in skipped and str(blank.patient) in skipped
    assert not EligibilityCheck.objects.filter(coverage=blank).exists()
    assert sorted(c.pk for c in report.answers.answered) == sorted(c.pk for c in report.sent)
    assert all(c.status == "active" for c in report.sent)

    again = run_batch(practice=practice, on=ON, by=None, at=FIXED_NOW + timedelta(hours=2))
    assert again.sent == [] and again.already_checked == 2
    assert EligibilityCheck.objects.filter(service_date=ON).count() == 2


@pytest.mark.django_db
def test_batch_retries_what_failed_to_send(clinic: dict[str, Any]) -> None:
    class Broken(OutboxTransport):
        def upload(self, name: str, content: bytes) -> str:
            raise TransportError("disk full")

    practice = clinic["practice"]
    _coverage(clinic, "EVH300000009")
    _coverage(clinic, "EVH300000019")
    first = run_batch(practice=practice, on=ON, by=None, at=FIXED_NOW,
                      transport=Broken(clinic["house"].outbox_path))
    assert first.sent == [] and len(first.failed) == 2
    assert {c.error for c in first.failed} == {"disk full"}
    second = run_batch(practice=practice, on=ON, by=None, at=FIXED_NOW + timedelta(hours=1))
    assert len(second.sent) == 2 and second.already_checked == 0


# --- what the scrubber makes of it ----------------------------------------------------------------


def _claim_for(clinic: dict[str, Any], coverage: Coverage, on: date) -> Any:
    visit = f.make_signed_visit(clinic["provider"], coverage.patient, on=on, coverage=coverage)
    return claim_actions.build_claim(visit=visit, by=clinic["biller"], at=FIXED_NOW)


def _eligibility_findings(claim: Any) -> list[tuple[str, str]]:
    stored = claim_actions.scrub_claim(claim=claim, by=None, at=FIXED_NOW)
    return sorted((f_.rule, f_.severity) for f_ in stored if f_.rule.startswith("eligibility."))


@pytest.mark.django_db
def test_inactive_coverage_becomes_a_blocking_finding(clinic: dict[str, Any]) -> None:
    coverage = _coverage(clinic, "EVH400000010")
    f.make_authorization(coverage, kind="prescription")
    claim = _claim_for(clinic, coverage, date(2026, 11, 2))
    assert _eligibility_findings(claim) == []
    check_eligibility(coverage=coverage, on=ON, by=None, at=FIXED_NOW)
    # The open claim was scrubbed again as the answer came in.
    assert list(claim.findings.filter(rule__startswith="eligibility.")
                .values_list("rule", "severity")) == [("eligibility.inactive", "blocking")]
    assert _eligibility_findings(claim) == [("eligibility.inactive", "blocking")]
    message = claim.findings.get(rule="eligibility.inactive").message
    assert "ended on 2026-10-31" in message and "2026-11-02" in message


@pytest.mark.django_db
def test_cap_reached_and_the_latest_answer_wins(clinic: dict[str, Any], tmp_path: Path) -> None:
    house = _real_house(clinic, tmp_path)
    coverage = _coverage(clinic, "EVH400000029")
    f.make_authorization(coverage, kind="prescription")
    claim = _claim_for(clinic, coverage, ON)
    first = check_eligibility(coverage=coverage, on=ON, by=None, at=FIXED_NOW)
    used_up = _answer_for(first, benefits=(
        Benefit("1", "IND", ("30", "AE")),
        Benefit("F", "IND", ("AE",), period="23", quantity_qualifier="VS", quantity=Decimal(20)),
        Benefit("F", "IND", ("AE",), period="29", quantity_qualifier="VS", quantity=Decimal(0)),
    ))
    _drop_271(house, "cap.271", [used_up])
    read_answers(practice=clinic["practice"], by=None, at=FIXED_NOW)
    assert _eligibility_findings(claim) == [("eligibility.visits", "blocking")]
    summary = latest_summary(coverage)
    assert summary is not None and summary.alerts() == [
        "No visits left this year: the payer will deny the next visit."]
    # A newer answer (the payer corrected its count) replaces it.
    later = FIXED_NOW + timedelta(hours=1)
    second = check_eligibility(coverage=coverage, on=ON, by=None, at=later)
    _drop_271(house, "cap-2.271", [_answer_for(second)], control=901)
    read_answers(practice=clinic["practice"], by=None, at=later)
    assert _eligibility_findings(claim) == []


@pytest.mark.django_db
def test_authorization_required_but_none_on_file(clinic: dict[str, Any], tmp_path: Path) -> None:
    house = _real_house(clinic, tmp_path)
    coverage = _coverage(clinic, "RUM400000039", profile="rainier-uniform-plan")
    f.make_authorization(coverage, kind="prescription")
    claim = _claim_for(clinic, coverage, ON)
    check = check_eligibility(coverage=coverage, on=ON, by=None, at=FIXED_NOW)
    needs_auth = _answer_for(check, benefits=(
        Benefit("1", "IND", ("30", "AE")),
        Benefit("B", "IND", ("AE",), period="27", amount=None, authorization="Y",
                messages=("PRIOR AUTHORIZATION REQUIRED FROM THE FIRST VISIT",)),
    ))
    _drop_271(house, "auth.271", [needs_auth])
    read_answers(practice=clinic["practice"], by=None, at=FIXED_NOW)
    assert _eligibility_findings(claim) == [("eligibility.authorization", "blocking")]
    f.make_authorization(coverage, kind="authorization", number="PA-77", codes=[],
                         start_date=date(2026, 11, 1), end_date=date(2027, 1, 1))
    assert _eligibility_findings(claim) == []


# --- the patient page, permissions, tenancy, the sandbox behind SFTP ------------------------------


@pytest.mark.django_db
def test_patient_page_panel_shows_the_latest_answer_in_plain_words(
    clinic: dict[str, Any]
) -> None:
    coverage = _coverage(clinic, "EVH500000012")
    patient = coverage.patient
    context = eligibility_context(patient)
    assert [row["check"] for row in context["rows"]] == [None]
    html = render_to_string("web/patients/_eligibility.html", {"eligibility": context})
    assert "Not checked yet." in html
    check_eligibility(coverage=coverage, on=ON, by=None, at=FIXED_NOW)
    context = eligibility_context(patient)
    [row] = context["rows"]
    assert row["badge"] == "ok" and row["checked_on"] == date(2026, 11, 23)
    assert row["alerts"] == ["Only 1 visit left: tell the patient before the cap is reached."]
    html = render_to_string("web/patients/_eligibility.html", {"eligibility": context})
    assert "1 of 20 visits left this calendar year" in html
    assert "Only 1 visit left" in html and "answered by the payer sandbox" in html
    check_eligibility(coverage=_coverage(clinic, "EVH500000019"), on=ON, by=None, at=FIXED_NOW)
    [queued] = needing_attention(clinic["practice"])
    assert queued["patient"] == patient and queued["alerts"] == row["alerts"]


@pytest.mark.django_db
def test_the_served_patient_page_carries_the_panel(clinic: dict[str, Any],
                                                   client: Client) -> None:
    coverage = _coverage(clinic, "EVH500000010")  # last digit 0: the sandbox says inactive
    check_eligibility(coverage=coverage, on=ON, by=None, at=FIXED_NOW)
    client.force_login(clinic["front_desk"])
    html = client.get(f"/patients/{coverage.patient.pk}/").content.decode()
    assert 'id="eligibility"' in html and "member EVH500000010" in html
    assert "Not checked yet." not in html


@pytest.mark.django_db
def test_who_may_check_and_whose_clearinghouse(clinic: dict[str, Any]) -> None:
    coverage = _coverage(clinic, "EVH600000009")
    therapist = f.make_user(clinic["practice"], role="therapist")
    with pytest.raises(PermissionDenied):
        check_eligibility(coverage=coverage, on=ON, by=therapist, at=FIXED_NOW)
    other = s.make_clinic(Path(clinic["house"].outbox_path).parent / "other")
    with pytest.raises(EligibilityError, match="belongs to another practice"):
        check_eligibility(coverage=coverage, on=ON, by=None, at=FIXED_NOW,
                          clearinghouse=other["house"])
    assert not EligibilityCheck.objects.exists()
    with pytest.raises(ValueError, match="timezone-aware"):
        check_eligibility(coverage=coverage, on=ON, by=None, at=FIXED_NOW.replace(tzinfo=None))


@pytest.mark.django_db
def test_forced_sandbox_never_reaches_an_sftp_server(clinic: dict[str, Any], tmp_path: Path,
                                                     settings: Any) -> None:
    settings.VAR_DIR = tmp_path / "var"
    house = clinic["house"]
    Clearinghouse.objects.filter(pk=house.pk).update(
        transport="sftp", outbox_path="", sftp_host="sftp.invalid", sftp_username="clinic",
        sftp_key_path="/nonexistent", known_host_key="ssh-ed25519 AAAA", receiver_id="REALCH")
    house.refresh_from_db()
    check = check_eligibility(coverage=_coverage(clinic, "EVH700000009"), on=ON, by=None,
                              at=FIXED_NOW, sandbox=True)
    local = tmp_path / "var" / "eligibility-sandbox" / clinic["practice"].slug
    assert check.status == "active" and check.sandbox
    assert (local / "outbox" / check.file_name).exists()
    assert (local / "inbox" / check.response_file).exists()


# --- the command line -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_cli_check_batch_show_and_answers(clinic: dict[str, Any],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    coverage = _coverage(clinic, "EVH800000013")
    account = coverage.patient.account_number
    assert main(["eligibility", "check", "--patient", account, "--date", ON.isoformat()]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["status"] == "rejected" and checked["patient"] == account
    assert "(AAA 72)" in checked["plain_words"]
    assert checked["answer"]["rejections"][0]["code"] == "72"

    _coverage(clinic, "EVH800000019")
    assert main(["eligibility", "batch", "--date", ON.isoformat()]) == 0
    batch = json.loads(capsys.readouterr().out)
    assert batch["sent"] == 1 and batch["already_checked"] == 1
    assert [a["status"] for a in batch["answered"]] == ["active"]
    assert batch["problems"] == [] and batch["skipped"] == []

    assert main(["eligibility", "show", "--patient", account]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["coverages"][0]["latest"]["status"] == "rejected"

    assert main(["eligibility", "answers"]) == 0
    assert json.loads(capsys.readouterr().out) == {"answered": [], "problems": [],
                                                   "unmatched": [], "claims_rescrubbed": []}


@pytest.mark.django_db
def test_cli_bad_input_exits_2(clinic: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    coverage = _coverage(clinic, "EVH900000009")
    account = coverage.patient.account_number
    assert main(["eligibility", "check", "--patient", account, "--date", "next week"]) == 2
    assert "is not a date: use YYYY-MM-DD, today or tomorrow" in capsys.readouterr().err
    assert main(["eligibility", "check", "--patient", "NOPE", "--date", "2026-11-24"]) == 2
    assert "no patient with account number 'NOPE'" in capsys.readouterr().err
    assert main(["eligibility", "check", "--patient", account, "--date", "2026-11-24",
                 "--order", "2"]) == 2
    assert "has no secondary coverage in force on 2026-11-24" in capsys.readouterr().err
    assert not EligibilityCheck.objects.exists()
