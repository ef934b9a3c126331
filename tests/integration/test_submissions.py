"""Ready claims leave in an 837P batch: pre-checks refuse bad claims before anything is written,
claims are never sent twice, control numbers never repeat, a failed upload can be retried, and
the clearinghouse's answers are fetched once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections, transaction

from handbill.audit.models import AuditEvent
from handbill.claims.models import Claim, ClaimEvent
from handbill.claims.outbound import read_claims
from handbill.patients.models import Coverage
from handbill.submissions.actions import (
    SubmissionError,
    UploadFailedError,
    fetch_inbox,
    retry_batch,
    submit_claims,
    take_control_numbers,
)
from handbill.submissions.models import (
    BatchStatus,
    ControlNumberSequence,
    InboxFile,
    SubmissionBatch,
    SubmissionItem,
)
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration import submission_setup as s
from tests.unit.x12_validation import pyx12_errors


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    return s.make_clinic(tmp_path / "clearinghouse" / "outbox")


def _outbox(clinic: dict[str, Any]) -> Path:
    return Path(clinic["house"].outbox_path)


@pytest.mark.django_db
def test_submit_writes_one_file_moves_claims_and_passes_pyx12(
    clinic: dict[str, Any], tmp_path: Path
) -> None:
    claims = [s.ready_claim(clinic) for _ in range(3)]
    batch = submit_claims(
        practice=clinic["practice"], claims=claims, clearinghouse=clinic["house"],
        by=clinic["biller"], at=FIXED_NOW,
    )
    assert batch.status == BatchStatus.UPLOADED and batch.uploaded_at == FIXED_NOW
    assert batch.claim_count == 3 and batch.attempts == 1 and batch.error == ""
    assert batch.total_charge_cents == sum(c.total_charge_cents for c in claims)
    assert batch.created_by == clinic["biller"]
    sent = _outbox(clinic) / batch.file_name
    assert sent.read_text(encoding="ascii") == batch.x12
    assert [p.name for p in _outbox(clinic).iterdir()] == [batch.file_name]  # no temp left
    assert s.statuses(claims) == ["submitted"] * 3
    notes = ClaimEvent.objects.filter(claim__in=claims, to_status="submitted")
    assert sorted(e.note for e in notes) == [f"batch {batch.file_name}"] * 3
    assert all(e.by == clinic["biller"] for e in notes)
    # Every claim and every line is in the file, with its line control number.
    for claim in claims:
        assert f"CLM*{claim.number}*" in batch.x12
        for line in claim.lines.all():
            assert f"REF*6R*{line.control_number}~" in batch.x12
    assert f"*{batch.interchange_control:09d}*" in batch.x12.split("~")[0]
    assert pyx12_errors(batch.x12) == []
    actions = set(
        AuditEvent.objects.filter(object_type="submissions.submissionbatch", object_id=batch.pk)
        .values_list("action", flat=True)
    )
    assert actions == {"submission.build", "submission.upload"}


@pytest.mark.django_db
def test_the_same_claims_are_never_submitted_twice(clinic: dict[str, Any]) -> None:
    claims = [s.ready_claim(clinic) for _ in range(2)]
    first = submit_claims(
        practice=clinic["practice"], claims=claims, clearinghouse=clinic["house"],
        by=clinic["biller"], at=FIXED_NOW,
    )
    with pytest.raises(SubmissionError) as refused:
        submit_claims(
            practice=clinic["practice"], claims=claims, clearinghouse=clinic["house"],
            by=clinic["biller"], at=FIXED_NOW + timedelta(minutes=5),
        )
    for claim in claims:
        assert f"claim {claim.number} is already in batch {first.file_name}" in str(refused.value)
    assert SubmissionBatch.objects.count() == 1
    assert len(list(_outbox(clinic).iterdir())) == 1


@pytest.mark.django_db
def test_one_live_submission_per_claim_is_a_database_rule(clinic: dict[str, Any]) -> None:
    from django.db import IntegrityError

    claim = s.ready_claim(clinic)
    batch = submit_claims(
        practice=clinic["practice"], claims=[claim], clearinghouse=clinic["house"],
        by=None, at=FIXED_NOW,
    )
    other = SubmissionBatch.objects.create(
        practice=batch.practice, clearinghouse=batch.clearinghouse, file_name="other.837",
        x12="", sha256="", interchange_control=999, group_control=999,
        first_transaction_control=999, transaction_count=1, status="built", claim_count=1,
        total_charge_cents=0, created_at=FIXED_NOW,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SubmissionItem.objects.create(batch=other, claim=claim)
    # A released (not live) item may sit beside it: that is a failed attempt's record.
    SubmissionItem.objects.create(batch=other, claim=claim, live=False)


@pytest.mark.django_db
def test_precheck_refuses_every_claim_and_writes_nothing(clinic: dict[str, Any]) -> None:
    good = s.ready_claim(clinic)
    no_npi = s.ready_claim(clinic)
    no_member_id = s.ready_claim(clinic)
    no_pointer = s.ready_claim(clinic)
    # Bad data as an old import could have left it, written past the actions.
    unnumbered = f.make_provider(clinic["practice"])
    Claim.objects.filter(pk=no_npi.pk).update(provider=unnumbered)
    s.blank_provider_npi(unnumbered)
    Coverage.objects.filter(pk=no_member_id.coverage_id).update(member_id="")
    no_pointer.lines.filter(number=1).update(pointers=[])
    claims = [good, no_npi, no_member_id, no_pointer]
    before_events = ClaimEvent.objects.count()

    with pytest.raises(SubmissionError) as refused:
        submit_claims(
            practice=clinic["practice"], claims=claims, clearinghouse=clinic["house"],
            by=clinic["biller"], at=FIXED_NOW,
        )
    problems = refused.value.problems
    message = str(refused.value)
    assert any(
        p.startswith(f"claim {no_npi.number}:") and "rendering provider NPI" in p
        for p in problems
    ), problems
    assert any(
        p.startswith(f"claim {no_member_id.number}:") and "member ID" in p for p in problems
    ), problems
    assert any(
        p.startswith(f"claim {no_pointer.number}:") and "line 1" in p and "pointer" in p
        for p in problems
    ), problems
    assert not any(good.number in p for p in problems)
    assert "nothing was written or sent" in message
    # Nothing written, nothing moved, no control number used.
    assert SubmissionBatch.objects.count() == 0 and SubmissionItem.objects.count() == 0
    assert not _outbox(clinic).exists() or not list(_outbox(clinic).iterdir())
    assert s.statuses(claims) == ["ready"] * 4
    assert ClaimEvent.objects.count() == before_events
    assert not ControlNumberSequence.objects.filter(practice=clinic["practice"]).exists()


@pytest.mark.django_db
def test_claims_not_ready_or_of_another_practice_are_refused(
    clinic: dict[str, Any], tmp_path: Path
) -> None:
    ready = s.ready_claim(clinic)
    draft = s.ready_claim(clinic)
    Claim.objects.filter(pk=draft.pk).update(status="draft")
    elsewhere = s.make_clinic(tmp_path / "elsewhere")
    foreign = s.ready_claim(elsewhere)
    with pytest.raises(SubmissionError) as refused:
        submit_claims(
            practice=clinic["practice"], claims=[ready, draft, foreign],
            clearinghouse=clinic["house"], by=None, at=FIXED_NOW,
        )
    text = str(refused.value)
    assert f"claim {draft.number} is draft, not ready" in text
    assert f"claim {foreign.number} belongs to another practice" in text
    assert text.startswith("2 problem(s)")  # the ready claim of this practice is fine
    assert SubmissionBatch.objects.count() == 0
    with pytest.raises(SubmissionError, match="another practice"):
        submit_claims(
            practice=clinic["practice"], claims=[ready], clearinghouse=elsewhere["house"],
            by=None, at=FIXED_NOW,
        )


@pytest.mark.django_db
def test_a_therapist_may_not_submit(clinic: dict[str, Any]) -> None:
    from django.core.exceptions import PermissionDenied

    claim = s.ready_claim(clinic)
    therapist = f.make_user(clinic["practice"], role="therapist")
    with pytest.raises(PermissionDenied):
        submit_claims(
            practice=clinic["practice"], claims=[claim], clearinghouse=clinic["house"],
            by=therapist, at=FIXED_NOW,
        )
    assert s.statuses([claim]) == ["ready"]


@pytest.mark.django_db
def test_control_numbers_are_unique_and_increasing(clinic: dict[str, Any]) -> None:
    batches = []
    for minute in range(3):
        claim = s.ready_claim(clinic)
        batches.append(
            submit_claims(
                practice=clinic["practice"], claims=[claim], clearinghouse=clinic["house"],
                by=None, at=FIXED_NOW + timedelta(minutes=minute),
            )
        )
    interchanges = [b.interchange_control for b in batches]
    groups = [b.group_control for b in batches]
    sets = [b.first_transaction_control for b in batches]
    assert interchanges == sorted(set(interchanges)) and len(set(interchanges)) == 3
    assert groups == sorted(set(groups)) and sets == sorted(set(sets))
    for batch in batches:
        segments = batch.x12.split("~")
        isa = segments[0].split("*")
        assert int(isa[13]) == batch.interchange_control
        gs = next(seg for seg in segments if seg.startswith("GS*")).split("*")
        assert int(gs[6]) == batch.group_control
        st = next(seg for seg in segments if seg.startswith("ST*")).split("*")
        assert int(st[2]) == batch.first_transaction_control
        assert batch.transaction_count == sum(1 for seg in segments if seg.startswith("ST*"))
    taken = [
        take_control_numbers(practice=clinic["practice"], transactions=2).first_transaction
        for _ in range(3)
    ]
    assert taken[1] - taken[0] == 2 and taken[2] - taken[1] == 2


@pytest.mark.django_db
def test_control_numbers_wrap_after_nine_digits(clinic: dict[str, Any]) -> None:
    ControlNumberSequence.objects.create(
        practice=clinic["practice"], next_interchange=999_999_999, next_group=999_999_999,
        next_transaction=999_999_998,
    )
    first = take_control_numbers(practice=clinic["practice"], transactions=3)
    second = take_control_numbers(practice=clinic["practice"], transactions=1)
    assert (first.interchange, first.first_transaction) == (999_999_999, 999_999_998)
    assert (second.interchange, second.group, second.first_transaction) == (1, 1, 2)


@pytest.mark.django_db
def test_failed_upload_leaves_claims_ready_and_retry_sends_the_same_file(
    clinic: dict[str, Any], tmp_path: Path
) -> None:
    claims = [s.ready_claim(clinic) for _ in range(2)]
    house = clinic["house"]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the outbox folder should be")
    house.outbox_path = str(blocked / "outbox")
    house.save()
    with pytest.raises(UploadFailedError) as failed:
        submit_claims(
            practice=clinic["practice"], claims=claims, clearinghouse=house,
            by=clinic["biller"], at=FIXED_NOW,
        )
    batch = failed.value.batch
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "cannot write" in batch.error
    assert batch.attempts == 1 and batch.uploaded_at is None
    assert s.statuses(claims) == ["ready", "ready"]
    assert not batch.items.filter(live=True).exists()
    assert "retry" in str(failed.value)

    house.outbox_path = str(tmp_path / "fixed" / "outbox")
    house.save()
    later = FIXED_NOW + timedelta(hours=1)
    sent = retry_batch(batch=batch, by=clinic["biller"], at=later)
    assert sent.pk == batch.pk and sent.status == BatchStatus.UPLOADED
    assert sent.attempts == 2 and sent.uploaded_at == later
    assert (tmp_path / "fixed" / "outbox" / batch.file_name).read_text() == batch.x12
    assert s.statuses(claims) == ["submitted", "submitted"]
    with pytest.raises(SubmissionError, match="uploaded already"):
        retry_batch(batch=sent, by=clinic["biller"], at=later)


@pytest.mark.django_db
def test_a_failed_batch_whose_claims_went_elsewhere_is_not_resent(
    clinic: dict[str, Any], tmp_path: Path
) -> None:
    claim = s.ready_claim(clinic)
    house = clinic["house"]
    good_path = house.outbox_path
    (tmp_path / "blocker").write_text("")
    house.outbox_path = str(tmp_path / "blocker" / "outbox")
    house.save()
    with pytest.raises(UploadFailedError) as failed:
        submit_claims(practice=clinic["practice"], claims=[claim], clearinghouse=house,
                      by=None, at=FIXED_NOW)
    house.outbox_path = good_path
    house.save()
    # The biller sends the claim in a new batch instead of retrying the old one.
    submit_claims(practice=clinic["practice"], claims=[claim], clearinghouse=house,
                  by=None, at=FIXED_NOW)
    with pytest.raises(SubmissionError, match="already in batch"):
        retry_batch(batch=failed.value.batch, by=None, at=FIXED_NOW)
    assert SubmissionItem.objects.filter(claim=claim, live=True).count() == 1


@pytest.mark.django_db
def test_fetch_inbox_keeps_each_response_once_and_knows_its_kind(
    clinic: dict[str, Any],
) -> None:
    inbox = _outbox(clinic).parent / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "ack.999").write_bytes(
        s.x12_envelope("999", "005010X231A1", ["AK1*HC*1*005010X222A1"], 7)
    )
    (inbox / "claims.277").write_bytes(
        s.x12_envelope("277", "005010X214", ["BHT*0085*08*1*20261123*1700*TH"], 8)
    )
    (inbox / "era.835").write_bytes(s.x12_envelope("835", "005010X221A1", ["BPR*I*0*C*NON"], 9))
    (inbox / "readme.txt").write_bytes(b"not x12")
    (inbox / "copy-of-ack.999").write_bytes((inbox / "ack.999").read_bytes())

    first = fetch_inbox(practice=clinic["practice"], clearinghouse=clinic["house"],
                        by=clinic["biller"], at=FIXED_NOW)
    kinds = {f.name: f.kind for f in first}
    assert len(first) == 4  # the copy has the same bytes as ack.999
    assert kinds["claims.277"] == "277ca" and kinds["era.835"] == "835"
    assert kinds["readme.txt"] == "unknown"
    assert "999" in kinds.values()
    assert all(f.processed_at is None and f.received_at == FIXED_NOW for f in first)
    stored = InboxFile.objects.get(name="era.835")
    assert stored.content.startswith("ISA*") and len(stored.sha256) == 64

    again = fetch_inbox(practice=clinic["practice"], clearinghouse=clinic["house"],
                        by=clinic["biller"], at=FIXED_NOW + timedelta(hours=1))
    assert again == [] and InboxFile.objects.count() == 4
    (inbox / "later.835").write_bytes(s.x12_envelope("835", "005010X221A1", ["BPR*I*1*C*NON"], 10))
    third = fetch_inbox(practice=clinic["practice"], clearinghouse=clinic["house"],
                        by=None, at=FIXED_NOW + timedelta(hours=2))
    assert [f.name for f in third] == ["later.835"]


@pytest.mark.django_db
def test_outbound_values_carry_subscriber_patient_auto_and_facility(
    clinic: dict[str, Any],
) -> None:
    """The reader maps the records the 837 needs: a dependant patient (HL 23), an auto claim's
    accident fields, a referring provider from the prescription, a facility elsewhere."""
    from handbill.practice.models import Location
    from handbill.visits.models import Visit

    claim = s.ready_claim(clinic)
    coverage = claim.coverage
    Coverage.objects.filter(pk=coverage.pk).update(
        relationship="19", subscriber_first_name="Robin", subscriber_last_name="Parent",
        claim_number="PC-77", accident_date=FIXED_NOW.date(), accident_state="OR",
    )
    clinic["payers"][s.CLEAN_PROFILE].__class__.objects.filter(pk=claim.payer_id).update(
        payer_type="auto", claim_filing_indicator="AM"
    )
    studio = Location.objects.create(
        practice=clinic["practice"], name="Studio", address_line1="9 Harbor Way", city="Olympia",
        state="WA", postal_code="98501",
    )
    Visit.objects.filter(pk=claim.visit_id).update(location=studio)
    [group] = read_claims(Claim.objects.filter(pk=claim.pk))
    [out] = group.claims
    assert group.billing.npi == clinic["practice"].billing_npi
    assert out.patient is not None and out.patient.relationship == "19"
    assert out.subscriber.name.last == "Parent" and out.subscriber.address is None
    assert out.subscriber.claim_filing_indicator == "AM"
    assert [c.value for c in out.related_causes] == ["AA"] and out.accident_state == "OR"
    assert out.property_casualty_claim_number == "PC-77"
    assert out.referring is not None and out.referring.name.last == "Example"
    assert out.rendering is not None and out.rendering.npi == clinic["provider"].npi
    assert out.facility is not None and out.facility.name == "Studio"
    assert [line.control_number for line in out.lines] == [
        line.control_number for line in claim.lines.all()
    ]


@pytest.mark.django_db
def test_reading_claims_takes_a_fixed_number_of_queries(
    clinic: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for _ in range(6):
        s.ready_claim(clinic)
    with django_assert_max_num_queries(6):
        groups = read_claims(Claim.objects.filter(practice=clinic["practice"]))
    assert sum(len(g.claims) for g in groups) == 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_transactions_get_different_control_numbers(tmp_path: Path) -> None:
    """Two batches built at the same moment on PostgreSQL: the second waits for the first's
    row lock, then takes the next numbers."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); SQLite runs one writer at a time anyway")
    practice = f.make_practice()
    ControlNumberSequence.objects.create(practice=practice)
    taken: dict[str, int] = {}
    first_has_lock = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                taken["first"] = take_control_numbers(
                    practice=practice, transactions=1
                ).interchange
                first_has_lock.set()
                # Hold the lock until the second transaction is seen waiting for it (a
                # bounded poll, no sleeping).
                deadline = time.monotonic() + 30
                with connection.cursor() as cursor:
                    while time.monotonic() < deadline:
                        # Activity statistics are a snapshot per transaction unless cleared.
                        cursor.execute("SELECT pg_stat_clear_snapshot()")
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database() AND query LIKE %s",
                            ["%submissions_controlnumbersequence%"],
                        )
                        if cursor.fetchone()[0]:
                            break
                    else:
                        raise AssertionError("the second transaction never waited for the lock")
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_has_lock.wait(timeout=30)
            with transaction.atomic():
                taken["second"] = take_control_numbers(
                    practice=practice, transactions=1
                ).interchange
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert taken == {"first": 1, "second": 2}


@pytest.mark.django_db
def test_the_command_line_refuses_bad_claims_and_prints_the_forms(
    clinic: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from handbill.cli import main

    good, bad = s.ready_claim(clinic), s.ready_claim(clinic)
    Coverage.objects.filter(pk=bad.coverage_id).update(member_id="")
    slug = clinic["practice"].slug
    assert main(["submit", "--all-ready", "--practice", slug]) == 2
    err = capsys.readouterr().err
    assert "nothing was written or sent" in err and f"claim {bad.number}:" in err
    assert s.statuses([good, bad]) == ["ready", "ready"]
    # ``handbill claims submit`` is the same command under the claims group.
    assert main(["claims", "submit", "--all-ready", "--practice", slug]) == 2
    assert f"claim {bad.number}:" in capsys.readouterr().err
    assert s.statuses([good, bad]) == ["ready", "ready"]

    out = tmp_path / "forms" / "claim.pdf"
    assert main(["forms", "cms1500", good.number, "--practice", slug, "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["form"] == "CMS-1500" and out.read_bytes().startswith(b"%PDF")
    superbill = tmp_path / "superbill.pdf"
    assert main(["forms", "superbill", good.number, "--practice", slug, "--paid", "25.00",
                 "--out", str(superbill)]) == 0
    assert json.loads(capsys.readouterr().out)["amount_paid"] == "25.00"
    assert superbill.read_bytes().startswith(b"%PDF")
    assert main(["forms", "superbill", "HB9999999", "--out", str(superbill)]) == 2


@pytest.mark.django_db
def test_a_batch_left_built_by_a_crash_holds_its_claims_until_retried(
    clinic: dict[str, Any],
) -> None:
    from handbill.submissions import actions as submission_actions

    claim = s.ready_claim(clinic)
    # Phase one committed, then the process died before the upload's outcome was recorded.
    batch = submission_actions._build(
        practice=clinic["practice"], claim_ids=[claim.pk], clearinghouse=clinic["house"],
        by=None, at=FIXED_NOW,
    )
    assert batch.status == BatchStatus.BUILT
    with pytest.raises(SubmissionError, match="already in batch"):
        submit_claims(practice=clinic["practice"], claims=[claim],
                      clearinghouse=clinic["house"], by=None, at=FIXED_NOW)
    sent = retry_batch(batch=batch, by=None, at=FIXED_NOW)
    assert sent.status == BatchStatus.UPLOADED
    assert (_outbox(clinic) / batch.file_name).read_text() == batch.x12
    assert s.statuses([claim]) == ["submitted"]


@pytest.mark.django_db
def test_a_replacement_carries_the_payers_claim_number_and_referring_names_split(
    clinic: dict[str, Any],
) -> None:
    from handbill.claims.outbound import referring_name

    original = s.ready_claim(clinic)
    Claim.objects.filter(pk=original.pk).update(payer_claim_number="PAYER-CCN-77")
    Claim.objects.filter(pk=original.pk).update(status="paid")
    replacement = Claim.objects.get(pk=original.pk)
    replacement.pk = None
    replacement.number = "HB7777777"
    replacement.frequency = "7"
    replacement.replaces = original
    replacement.payer_claim_number = ""
    replacement.status = "ready"
    replacement.save()
    [group] = read_claims(Claim.objects.filter(pk=replacement.pk))
    assert group.claims[0].frequency == "7"
    assert group.claims[0].payer_claim_number == "PAYER-CCN-77"
    [first] = read_claims(Claim.objects.filter(pk=original.pk))
    assert first.claims[0].payer_claim_number == ""  # an original sends no REF*F8
    assert referring_name("Dr. Pat Example, MD") == referring_name("Example, Pat")
    assert referring_name("Mary Ann O'Neil").first == "Mary Ann"
