"""Follow-up worklists and actions on a sandbox round trip: denials, underpayments,
rejections, timely filing, A/R aging, working items, billing the patient, rule proposals."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from handbill.audit.models import AuditEvent
from handbill.claims.models import Claim
from handbill.core.money import Cents
from handbill.core.policy import MASSAGE_THERAPIST
from handbill.followup import actions, queries
from handbill.followup.models import RuleProposal, WorkItem
from handbill.ledger.balances import claim_balance, patient_balance, trial_balance
from handbill.ledger.models import AccountKind
from handbill.policies.store import policy_for
from handbill.remittance.acknowledgements import process_acknowledgements
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration import followup_setup as fs
from tests.integration import remittance_setup as rs

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


@pytest.fixture
def clinic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return fs.round_trip(tmp_path, capsys)


def _rows(clinic: dict[str, Any], kind: str | None = None, **kw: Any) -> list[queries.QueueRow]:
    return queries.worklist(clinic["practice"], at=FIXED_NOW, kind=kind, **kw)


def _co170(clinic: dict[str, Any]) -> list[queries.QueueRow]:
    return [r for r in _rows(clinic, "denials") if r.step.codes == "CO-170 N130"]


def test_denials_with_meaning_and_next_step(clinic: dict[str, Any]) -> None:
    denied = _co170(clinic)
    assert len(denied) == 3
    assert {r.claim.number for r in denied} == {c.number for c in clinic["claims"]}
    row = denied[0]
    assert row.line.startswith("97124")
    assert "does not pay this service when this provider type" in row.step.meaning
    assert "N130" in row.step.meaning
    assert row.step.action.value == "write_off"
    assert row.at_risk == Cents(9000)
    shown = row.as_dict()
    assert shown["codes"] == "CO-170 N130" and shown["at_risk"] == "90.00"
    # Lines paid nothing because of the deductible are the patient's to pay.
    for other in _rows(clinic, "denials"):
        if other.step.codes == "PR-1":
            assert other.step.action.value == "bill_patient"


def test_underpaid_lines_show_the_difference(clinic: dict[str, Any]) -> None:
    # The practice's fee for 97140 is 32.00; the payer allowed 31.25 on every paid line.
    rows = _rows(clinic, "underpaid")
    assert rows, "every paid 97140 line was allowed below the practice's fee"
    for row in rows:
        assert row.difference == Cents(75)
        assert row.line.startswith("97140")
        assert "31.25" in row.step.meaning and "32.00" in row.step.meaning


def test_followup_queue_ordered_by_money_at_risk(clinic: dict[str, Any]) -> None:
    rows = _rows(clinic, "followup")
    assert len(rows) == 3
    scores = [r.score for r in rows]
    assert scores == sorted(scores, reverse=True)
    for row in rows:
        owed = claim_balance(clinic["practice"], row.claim.number,
                             kinds=[AccountKind.AR_INSURANCE])
        assert row.at_risk == owed
        assert row.score == owed.value * (30 + row.age_days) // 30


def test_aging_by_payer(clinic: dict[str, Any]) -> None:
    report = queries.aging(clinic["practice"], at=FIXED_NOW)
    by_payer = {row.payer: row for row in report.rows}
    cascade = by_payer["Cascade Mutual Health Plan"]
    assert cascade.buckets["0-30"] == Cents(27_000)  # three 97124 lines held on the payer
    patients = by_payer[queries.PATIENTS]
    expected = sum(patient_balance(clinic["practice"], c.patient.account_number).value
                   for c in clinic["claims"])
    assert patients.total == Cents(expected)
    later = queries.aging(clinic["practice"], at=FIXED_NOW + timedelta(days=60))
    assert {row.payer: row for row in later.rows}["Cascade Mutual Health Plan"].buckets[
        "61-90"] == Cents(27_000)


def test_mark_worked_snooze_assign(clinic: dict[str, Any]) -> None:
    practice, biller = clinic["practice"], clinic["biller"]
    first, second, third = _co170(clinic)
    actions.mark_worked(practice=practice, key=first.key, by=biller, at=FIXED_NOW,
                        note="called the payer")
    keys = {r.key for r in _rows(clinic, "denials")}
    assert first.key not in keys and second.key in keys
    assert first.key in {r.key for r in _rows(clinic, "denials", include_done=True)}
    item = WorkItem.objects.get(key=first.key)
    assert item.worked_by == biller and "called the payer" in item.note
    assert AuditEvent.objects.filter(action="followup.worked", object_id=str(item.pk)).exists()

    actions.snooze(practice=practice, key=second.key, until=TODAY + timedelta(days=7),
                   by=biller, at=FIXED_NOW)
    assert second.key not in {r.key for r in _rows(clinic, "denials")}
    later = queries.worklist(practice, at=FIXED_NOW + timedelta(days=8), kind="denials")
    assert second.key in {r.key for r in later}
    with pytest.raises(actions.FollowupError, match="after today"):
        actions.snooze(practice=practice, key=third.key, until=TODAY, by=biller, at=FIXED_NOW)
    with pytest.raises(actions.FollowupError, match="at most 365"):
        actions.snooze(practice=practice, key=third.key, until=TODAY + timedelta(days=400),
                       by=biller, at=FIXED_NOW)

    colleague = f.make_user(practice, role="biller")
    actions.assign(practice=practice, key=third.key, to=colleague, by=biller, at=FIXED_NOW)
    assert WorkItem.objects.get(key=third.key).assigned_to == colleague
    therapist = f.make_user(practice, role="therapist")
    with pytest.raises(actions.FollowupError, match="cannot work claims"):
        actions.assign(practice=practice, key=third.key, to=therapist, by=biller, at=FIXED_NOW)
    with pytest.raises(PermissionDenied):
        actions.mark_worked(practice=practice, key=third.key, by=therapist, at=FIXED_NOW)
    with pytest.raises(actions.FollowupError, match="no open worklist item"):
        actions.mark_worked(practice=practice, key="denial:999999", by=biller, at=FIXED_NOW)


def test_worked_follow_up_comes_back(clinic: dict[str, Any]) -> None:
    row = _rows(clinic, "followup")[0]
    actions.mark_worked(practice=clinic["practice"], key=row.key, by=None, at=FIXED_NOW)
    assert row.key not in {r.key for r in _rows(clinic, "followup")}
    back = queries.worklist(clinic["practice"], at=FIXED_NOW + timedelta(
        days=queries.FOLLOW_UP_AGAIN_DAYS), kind="followup")
    assert row.key in {r.key for r in back}


def test_a_written_off_denial_leaves_the_list(clinic: dict[str, Any]) -> None:
    from handbill.ledger import posting

    row = _co170(clinic)[0]
    claim = row.claim
    posting.post_write_off(practice=clinic["practice"], payer=claim.payer, amount=Cents(9000),
                           claim_ref=claim.number, patient_ref=claim.patient.account_number,
                           effective_date=TODAY, at=FIXED_NOW, by=None,
                           memo="CO-170: not payable to an LMT")
    keys = {r.key for r in _rows(clinic, "denials", include_done=True)}
    assert row.key not in keys
    assert len(_co170(clinic)) == 2
    # Nothing left on the payer either: off the follow-up queue too.
    assert f"followup:{claim.pk}" not in {r.key for r in _rows(clinic, "followup")}


def test_bill_patient_moves_the_line_balance(clinic: dict[str, Any]) -> None:
    practice, biller = clinic["practice"], clinic["biller"]
    row = _co170(clinic)[0]
    claim = row.claim
    patient_before = patient_balance(practice, claim.patient.account_number)
    with pytest.raises(actions.FollowupError, match="agreed in writing"):
        actions.bill_patient(practice=practice, key=row.key, by=biller, at=FIXED_NOW)
    txn = actions.bill_patient(practice=practice, key=row.key, by=biller, at=FIXED_NOW,
                               patient_agreed=True, note="waiver signed 2026-10-30")
    assert txn.kind == "transfer_to_patient"
    assert patient_balance(practice, claim.patient.account_number) == patient_before + Cents(
        9000)
    assert claim_balance(practice, claim.number, kinds=[AccountKind.AR_INSURANCE]) == Cents(0)
    assert trial_balance(practice).is_balanced
    assert row.key not in {r.key for r in _rows(clinic, "denials")}
    assert AuditEvent.objects.filter(action="followup.bill_patient").count() == 1
    # Once moved, nothing is left to move.
    with pytest.raises(actions.FollowupError, match="no open worklist item"):
        actions.bill_patient(practice=practice, key=row.key, by=biller, at=FIXED_NOW,
                             patient_agreed=True)
    deductible = next((r for r in _rows(clinic, "denials") if r.step.codes == "PR-1"), None)
    if deductible is not None:
        with pytest.raises(actions.FollowupError, match="statement"):
            actions.bill_patient(practice=practice, key=deductible.key, by=biller,
                                 at=FIXED_NOW)


def test_proposal_accepted_becomes_a_policy_version(clinic: dict[str, Any]) -> None:
    practice, biller = clinic["practice"], clinic["biller"]
    payer = clinic["payers"][fs.PROFILE]
    assert policy_for(payer, TODAY).code_allowed("97124", MASSAGE_THERAPIST)
    open_ = actions.refresh_proposals(practice=practice, by=biller, at=FIXED_NOW)
    assert len(open_) == 1
    proposal = open_[0]
    assert (proposal.payer, proposal.code, proposal.carc, proposal.count) == (payer, "97124",
                                                                              "170", 3)
    assert proposal.change == {"field": "allowed_codes", "op": "remove", "value": "97124",
                               "taxonomy": MASSAGE_THERAPIST}
    # Looking again does not propose it twice.
    assert [p.pk for p in actions.refresh_proposals(practice=practice, by=biller,
                                                    at=FIXED_NOW)] == [proposal.pk]
    accepted = actions.accept_proposal(practice=practice, proposal_id=proposal.pk, by=biller,
                                       at=FIXED_NOW)
    assert accepted.status == "accepted" and accepted.policy_version is not None
    assert accepted.policy_version.effective_date == TODAY
    now = policy_for(payer, TODAY)
    assert not now.code_allowed("97124", MASSAGE_THERAPIST)
    assert now.code_allowed("97140", MASSAGE_THERAPIST)
    # Claims billed before keep the rules they were billed under.
    assert policy_for(payer, fs.DOS).code_allowed("97124", MASSAGE_THERAPIST)
    assert actions.refresh_proposals(practice=practice, by=biller, at=FIXED_NOW) == []
    with pytest.raises(actions.FollowupError, match="already accepted"):
        actions.dismiss_proposal(practice=practice, proposal_id=proposal.pk, by=biller,
                                 at=FIXED_NOW)


def test_dismissed_proposal_is_not_proposed_again(clinic: dict[str, Any]) -> None:
    practice, biller = clinic["practice"], clinic["biller"]
    [proposal] = actions.refresh_proposals(practice=practice, by=biller, at=FIXED_NOW)
    actions.dismiss_proposal(practice=practice, proposal_id=proposal.pk, by=biller,
                             at=FIXED_NOW, note="the plan is changing in January")
    assert actions.refresh_proposals(practice=practice, by=biller, at=FIXED_NOW) == []
    assert RuleProposal.objects.get(pk=proposal.pk).status == "dismissed"
    assert policy_for(clinic["payers"][fs.PROFILE], TODAY).code_allowed("97124",
                                                                        MASSAGE_THERAPIST)


def test_threshold(clinic: dict[str, Any]) -> None:
    assert actions.refresh_proposals(practice=clinic["practice"], by=None, at=FIXED_NOW,
                                     threshold=4) == []
    with pytest.raises(actions.FollowupError, match="at least 1"):
        actions.refresh_proposals(practice=clinic["practice"], by=None, at=FIXED_NOW,
                                  threshold=0)


def test_another_practice_sees_and_touches_nothing(clinic: dict[str, Any]) -> None:
    other = f.make_practice()
    outsider = f.make_user(other, role="biller")
    assert queries.worklist(other, at=FIXED_NOW) == []
    key = _co170(clinic)[0].key
    with pytest.raises(actions.FollowupError, match="no open worklist item"):
        actions.mark_worked(practice=other, key=key, by=outsider, at=FIXED_NOW)
    with pytest.raises(PermissionDenied):
        actions.mark_worked(practice=clinic["practice"], key=key, by=outsider, at=FIXED_NOW)
    [proposal] = actions.refresh_proposals(practice=clinic["practice"], by=None, at=FIXED_NOW)
    with pytest.raises(actions.FollowupError, match="no proposal"):
        actions.accept_proposal(practice=other, proposal_id=proposal.pk, by=outsider,
                                at=FIXED_NOW)


# --- rejections and timely filing (hand-made acknowledgements) ---------------------------------


def test_rejections_from_277ca_and_999() -> None:
    clinic = rs.make_clinic()
    practice = clinic.practice
    by277 = rs.make_submitted_claim(clinic, [("97124", ["GP"], 2, 9000)])
    by999 = rs.make_submitted_claim(clinic, [("97140", ["GP"], 1, 4500)])
    accepted = rs.make_submitted_claim(clinic, [("97140", ["GP"], 1, 4500)])
    ack = rs.inbox_file(practice, "a.277", rs.write_277ca([
        (by277.number, "A7:21:85", ""), (accepted.number, "A2:20:PR", "PAYER1")]),
        kind="277ca")
    process_acknowledgements(practice=practice, inbox_file=ack, by=None, at=FIXED_NOW)
    rs.sent_batch(practice, [by999], group=41)
    fa = rs.inbox_file(practice, "a.999", rs.write_999(41, [("0001", "R")]), kind="999",
                       minute=1)
    process_acknowledgements(practice=practice, inbox_file=fa, by=None, at=FIXED_NOW)

    rows = queries.worklist(practice, at=FIXED_NOW, kind="rejections")
    by_claim = {row.claim.number: row for row in rows}
    assert set(by_claim) == {by277.number, by999.number}
    assert by_claim[by277.number].step.codes == "277CA A7:21:85"
    assert by_claim[by999.number].step.codes == "999 R"
    for row in rows:
        assert row.step.action.value == "new_original"
        assert "new original" in row.step.step
    assert by_claim[by277.number].at_risk == Cents(9000)


def test_timely_filing_countdown(clinic: dict[str, Any]) -> None:
    practice = clinic["practice"]
    payer = clinic["payers"][fs.PROFILE]  # 90 days of timely filing
    holder = rs.Clinic(practice, payer, clinic["provider"], clinic["biller"])
    near = rs.make_submitted_claim(holder, [("97140", ["GP"], 1, 4500)], status="ready",
                                   on=TODAY - timedelta(days=80))
    past = rs.make_submitted_claim(holder, [("97140", ["GP"], 1, 4500)], status="rejected",
                                   on=TODAY - timedelta(days=95))
    rs.make_submitted_claim(holder, [("97140", ["GP"], 1, 4500)], status="ready",
                            on=TODAY - timedelta(days=10))
    denied = rs.make_submitted_claim(holder, [("97140", ["GP"], 1, 4500)], status="denied",
                                     on=TODAY - timedelta(days=85))
    rows = {row.claim.number: row for row in _rows(clinic, "timely")}
    assert set(rows) == {near.number, past.number, denied.number}
    assert rows[denied.number].step.action.value == "corrected_claim"
    assert "a corrected claim must reach the payer" in rows[denied.number].step.meaning
    assert rows[near.number].filing.days_left == 10
    assert rows[near.number].filing.state.value == "near"
    assert rows[past.number].filing.days_left == -5
    assert rows[past.number].step.action.value == "appeal"
    # The rejected claim has no acknowledgement on file: it is a rejection all the same.
    rejected = {r.claim.number: r for r in _rows(clinic, "rejections")}
    assert rejected[past.number].key == f"rejected:{past.pk}"
    assert rejected[past.number].step.action.value == "new_original"
    never_sent = rs.make_submitted_claim(holder, [("97140", ["GP"], 1, 4500)],
                                         status="ready", on=TODAY - timedelta(days=120))
    late = {row.claim.number: row for row in _rows(clinic, "timely")}[never_sent.number]
    assert late.step.action.value == "write_off" and "CO-29" in late.step.step
    # Ten days from the deadline triples the weight in the follow-up queue.
    followup = {row.claim.number: row for row in _rows(clinic, "followup")}
    assert followup[near.number].score == 4500 * (30 + 80) * 3 // 30
    # A claim with the payer shows its deadline for information, without the extra weight.
    accepted = rs.make_submitted_claim(holder, [("97140", ["GP"], 1, 4500)],
                                       status="accepted", on=TODAY - timedelta(days=80))
    row = {r.claim.number: r for r in _rows(clinic, "followup")}[accepted.number]
    assert row.filing is not None and row.filing.days_left == 10 and not row.clock_running
    assert row.score == 4500 * (30 + 80) // 30
    assert Claim.objects.get(pk=near.pk).status == "ready"


# --- the command line --------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from handbill.cli import main

    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_queue_worklist_aging_proposals(clinic: dict[str, Any],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import json

    slug = clinic["practice"].slug
    day = ("--practice", slug, "--as-of", TODAY.isoformat())
    status, out, err = _cli(capsys, "followup", *day)
    assert status == 0, err
    queue = json.loads(out)
    assert len(queue["items"]) == 3 and queue["items"][0]["kind"] == "followup"
    assert [i["score"] for i in queue["items"]] == sorted(
        (i["score"] for i in queue["items"]), reverse=True)

    status, out, err = _cli(capsys, "followup", "worklist", "--kind", "denials", *day)
    assert status == 0, err
    denials = json.loads(out)["items"]
    assert sum(1 for i in denials if i["codes"] == "CO-170 N130") == 3
    assert all(i["next_step"] and i["meaning"] for i in denials)

    # The options may also come before the action.
    status, out, err = _cli(capsys, "followup", *day, "aging")
    assert status == 0, err
    assert json.loads(out)["payers"][0]["buckets"]["0-30"] == "270.00"

    status, out, err = _cli(capsys, "followup", "work", denials[0]["key"], "--worked",
                            "--note", "written off", *day)
    assert status == 0, err
    assert json.loads(out)["worked_at"]

    status, out, err = _cli(capsys, "followup", "proposals", *day)
    assert status == 0, err
    [proposal] = json.loads(out)["proposals"]
    assert proposal["in_words"].startswith("Stop billing 97124")
    status, out, err = _cli(capsys, "followup", "proposals", "--accept", str(proposal["id"]),
                            *day)
    assert status == 0, err
    assert json.loads(out)["status"] == "accepted"


@pytest.mark.parametrize(("argv", "words"), [
    (("followup", "worklist", "--kind", "lost"), "--kind is 'lost'"),
    (("followup", "aging", "--as-of", "yesterday"), "not a date"),
    (("followup", "proposals", "--threshold", "0"), "--threshold must be 1 or more"),
    (("followup", "proposals", "--dismiss", "999999"), "no proposal 999999"),
    (("followup", "proposals", "--effective-date", "2026-12-01"), "goes with --accept"),
    (("followup", "work", "denial:999999", "--worked"), "no open worklist item"),
    (("followup", "--practice", "nowhere"), "no practice 'nowhere'"),
])
def test_cli_bad_input_exits_2(clinic: dict[str, Any], capsys: pytest.CaptureFixture[str],
                               argv: tuple[str, ...], words: str) -> None:
    status, out, err = _cli(capsys, *argv, *(("--practice", clinic["practice"].slug)
                                             if "--practice" not in argv else ()))
    assert status == 2
    assert words in err
    assert out == ""


# --- constraints -------------------------------------------------------------------------------


def test_database_constraints(clinic: dict[str, Any]) -> None:
    from django.db import IntegrityError, transaction

    practice = clinic["practice"]
    claim = clinic["claims"][0]
    WorkItem.objects.create(practice=practice, claim=claim, key="followup:x", kind="followup",
                            created_at=FIXED_NOW, updated_at=FIXED_NOW)
    for bad in ({"key": "followup:x", "kind": "followup"}, {"key": "x", "kind": "lost"},
                {"key": "", "kind": "denials"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            WorkItem.objects.create(practice=practice, claim=claim, created_at=FIXED_NOW,
                                    updated_at=FIXED_NOW, **bad)
    payer = clinic["payers"][fs.PROFILE]
    base = {"practice": practice, "payer": payer, "code": "97124", "carc": "170", "count": 3,
            "change": {"field": "x"}, "change_key": "k", "reason": "r",
            "created_at": FIXED_NOW}
    RuleProposal.objects.create(**base)
    for bad in ({}, {"change_key": "k2", "status": "accepted", "decided_at": FIXED_NOW},
                {"change_key": "k3", "status": "dismissed"},
                {"change_key": "k4", "count": 0}, {"change_key": "k5", "status": "maybe"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            RuleProposal.objects.create(**{**base, **bad})
