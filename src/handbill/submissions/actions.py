"""Sending ready claims to the clearinghouse, retrying a failed upload, fetching the answers.

Why two transactions around the upload. An upload cannot be rolled back, and a database
transaction should not stay open while a slow network call runs (on SQLite it would block
every other writer). So ``submit_claims`` works in two phases:

1. One transaction checks every claim, runs the 837 pre-checks (all problems at once; nothing is
   written if there is one), takes the control numbers, writes the 837 text and records the
   batch as *built* with one *live* item per claim. The live items already stop the same claims
   from going into a second batch.
2. After it commits, the file is uploaded. A second transaction then records the outcome: on
   success the batch is *uploaded* and every claim moves to *submitted* (a ClaimEvent noting the
   batch file); on failure the batch is *failed* with the error, its items stop being live and
   the claims stay *ready*, so ``retry_batch`` (or a new batch) can send them.

If the process dies between the two, the batch stays *built* with its claims held: nobody can
tell whether the file arrived, so the claims are not offered for a second file; ``retry_batch``
sends the same file again, and both transports treat an identical file already there as sent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from handbill.audit.record import record
from handbill.claims import actions as claim_actions
from handbill.claims.models import Claim, Status
from handbill.claims.outbound import read_claims
from handbill.core import outbound as ob
from handbill.core.claim_status import ClaimStatus
from handbill.practice.access import authorize
from handbill.practice.models import Practice
from handbill.submissions.inbox import decode, sniff_kind
from handbill.submissions.models import (
    CONTROL_NUMBER_MAX,
    BatchStatus,
    Clearinghouse,
    ControlNumberSequence,
    InboxFile,
    SubmissionBatch,
    SubmissionItem,
    TransportKind,
)
from handbill.submissions.transports import (
    OutboxTransport,
    SftpTransport,
    Transport,
    TransportError,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class SubmissionError(ValueError):
    """Claims that cannot go out as asked; the message names each claim and what to fix."""

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message)


class UploadFailedError(SubmissionError):
    """The batch was built but the upload failed; the batch is marked failed, claims stay ready."""

    def __init__(self, batch: SubmissionBatch) -> None:
        self.batch = batch
        super().__init__(
            f"upload of {batch.file_name} failed: {batch.error}. The claims stay ready; send "
            f"the same file again with retry_batch (handbill submit --retry {batch.pk})."
        )


def _user(by: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return by if by is not None and by.is_authenticated else None


def transport_for(clearinghouse: Clearinghouse) -> Transport:
    if clearinghouse.transport == TransportKind.SFTP:
        password = None
        if clearinghouse.sftp_password_env:
            password = os.environ.get(clearinghouse.sftp_password_env)
            if not password and not clearinghouse.sftp_key_path:
                raise TransportError(
                    f"the environment variable {clearinghouse.sftp_password_env} that should "
                    f"hold the SFTP password for {clearinghouse.name} is not set"
                )
        return SftpTransport(
            clearinghouse.sftp_host,
            clearinghouse.sftp_port,
            clearinghouse.sftp_username,
            clearinghouse.sftp_key_path or None,
            clearinghouse.known_host_key,
            clearinghouse.remote_out_dir,
            clearinghouse.remote_in_dir,
            password=password,
        )
    return OutboxTransport(clearinghouse.outbox_path)


# The writer's default split of claims into transaction sets; ST02s are taken for each set.
_CLAIMS_PER_TRANSACTION: int = next(
    f.default for f in dataclasses.fields(ob.Batch) if f.name == "claims_per_transaction"
)


@dataclass(frozen=True)
class ControlBlock:
    interchange: int
    group: int
    first_transaction: int


def _advance(value: int, by: int) -> int:
    # Nine digits at most; after 999,999,999 the numbers start again at 1.
    return (value - 1 + by) % CONTROL_NUMBER_MAX + 1


def take_control_numbers(*, practice: Practice, transactions: int) -> ControlBlock:
    """The next ISA13 and GS06 and ``transactions`` consecutive ST02s for ``practice``.

    Runs inside the caller's transaction: the sequence row stays locked until it commits, so two
    batches built at the same time never get the same numbers.
    """
    if transactions < 1:
        raise ValueError("a batch has at least one transaction set")
    ControlNumberSequence.objects.get_or_create(practice=practice)
    seq = ControlNumberSequence.objects.select_for_update().get(practice=practice)
    taken = ControlBlock(seq.next_interchange, seq.next_group, seq.next_transaction)
    ControlNumberSequence.objects.filter(pk=seq.pk).update(
        next_interchange=_advance(seq.next_interchange, 1),
        next_group=_advance(seq.next_group, 1),
        next_transaction=_advance(seq.next_transaction, transactions),
    )
    return taken


def _write_837(batch: ob.Batch) -> str:
    from handbill.x12.p837 import write_837

    return write_837(batch)


def _precheck(groups: list[ob.ClaimGroup]) -> list[str]:
    """Every reason any claim cannot be written, each once: a billing provider's problem is
    reported for the practice, not repeated on each of its claims."""
    from handbill.x12.p837 import billing_provider_problems, validate_claim

    problems: dict[str, None] = {}
    for group in groups:
        billing_side = billing_provider_problems(group.billing)
        problems.update(dict.fromkeys(billing_side))
        for claim in group.claims:
            for problem in validate_claim(claim, group.billing):
                # validate_claim repeats the billing provider's problems under each claim.
                if any(problem.endswith(side) for side in billing_side):
                    continue
                # Each message must say which claim it is about, whoever wrote it.
                if claim.claim_id not in problem:
                    problem = f"claim {claim.claim_id}: {problem}"
                problems[problem] = None
    return list(problems)


def _submitter(practice: Practice, clearinghouse: Clearinghouse) -> ob.Submitter:
    return ob.Submitter(
        name=practice.legal_name,
        etin=clearinghouse.submitter_etin or practice.submitter_id,
        contact_name="Billing office",
        phone="".join(ch for ch in practice.phone if ch.isdigit()),
    )


def _claim_problems(
    practice: Practice, wanted: list[int], found: dict[int, Claim]
) -> list[str]:
    problems = [f"there is no claim with id {pk}" for pk in wanted if pk not in found]
    live = dict(
        SubmissionItem.objects.filter(claim_id__in=list(found), live=True).values_list(
            "claim_id", "batch__file_name"
        )
    )
    open_blocking = claim_actions.unresolved_blocking_by_claim(list(found))
    for pk in wanted:
        claim = found.get(pk)
        if claim is None:
            continue
        if claim.practice_id != practice.pk:
            problems.append(f"claim {claim.number} belongs to another practice")
            continue
        if claim.status == Status.REJECTED:
            problems.append(
                f"claim {claim.number} was rejected; reopen it (handbill claims reopen), fix "
                "what the rejection names and mark it ready, then it goes out as a new original"
            )
        elif pk in live:
            problems.append(
                f"claim {claim.number} is already in batch {live[pk]}; it is not sent twice"
            )
        elif claim.status != Status.READY:
            problems.append(
                f"claim {claim.number} is {claim.get_status_display().lower()}, not ready; "
                "only ready claims are submitted"
            )
        else:
            # Findings can change after a claim became ready (an eligibility answer or a
            # reopened claim re-scrubs it); what blocks now still blocks.
            blocking = open_blocking.get(pk, [])
            if blocking:
                listed = "; ".join(f"{f.rule}: {f.message}" for f in blocking)
                problems.append(
                    f"claim {claim.number} has {len(blocking)} open blocking finding(s) "
                    f"({listed}); fix them or record an override, then send it"
                )
        if claim.payer_id is None:
            problems.append(
                f"claim {claim.number} has no payer (self-pay): print a superbill instead"
            )
    return problems


@transaction.atomic
def _build(
    *,
    practice: Practice,
    claim_ids: list[int],
    clearinghouse: Clearinghouse,
    by: AbstractBaseUser | None,
    at: datetime,
) -> SubmissionBatch:
    if clearinghouse.practice_id != practice.pk:
        raise SubmissionError(f"clearinghouse {clearinghouse.name} belongs to another practice")
    if not clearinghouse.active:
        raise SubmissionError(f"clearinghouse {clearinghouse.name} is switched off")
    if not claim_ids:
        raise SubmissionError("no claims to submit")
    # Locking the claims makes a concurrent submit of the same claims wait, then see them held.
    locked = Claim.objects.select_for_update().filter(pk__in=claim_ids)
    found = {claim.pk: claim for claim in locked}
    problems = _claim_problems(practice, claim_ids, found)
    if problems:
        raise SubmissionError(_summary(problems), problems)
    submitter = _submitter(practice, clearinghouse)
    if not submitter.etin:
        raise SubmissionError(
            f"no submitter ID: set the ETIN the clearinghouse gave {practice.legal_name} on "
            f"clearinghouse {clearinghouse.name}"
        )
    groups = read_claims(Claim.objects.filter(pk__in=claim_ids))
    problems = _precheck(groups)
    if problems:
        raise SubmissionError(_summary(problems), problems)
    per_transaction = _CLAIMS_PER_TRANSACTION
    transactions = sum(math.ceil(len(g.claims) / per_transaction) for g in groups)
    control = take_control_numbers(practice=practice, transactions=transactions)
    local = at.astimezone(ZoneInfo(practice.timezone))
    out = ob.Batch(
        submitter=submitter,
        receiver=ob.Receiver(name=clearinghouse.receiver_name, etin=clearinghouse.receiver_id),
        groups=tuple(groups),
        control=ob.ControlNumbers(
            interchange=control.interchange,
            group=control.group,
            first_transaction=control.first_transaction,
        ),
        created_at=local,
        batch_id=f"{control.interchange:09d}",
        production=clearinghouse.production,
    )
    try:
        text = _write_837(out)
    except ob.OutboundError as exc:
        raise SubmissionError(f"the 837 could not be written: {exc}", [str(exc)]) from None
    element, terminator = text[3], text[105]
    written_sets = sum(
        1 for segment in text.split(terminator) if segment.strip().startswith("ST" + element)
    )
    claims = [c for g in groups for c in g.claims]
    batch = SubmissionBatch.objects.create(
        practice=practice,
        clearinghouse=clearinghouse,
        file_name=f"{practice.slug}-{control.interchange:09d}.837",
        x12=text,
        sha256=hashlib.sha256(text.encode("ascii")).hexdigest(),
        interchange_control=control.interchange,
        group_control=control.group,
        first_transaction_control=control.first_transaction,
        transaction_count=written_sets,
        status=BatchStatus.BUILT,
        claim_count=len(claims),
        total_charge_cents=sum(c.total_charge.value for c in claims),
        created_at=at,
        created_by=_user(by),
    )
    try:
        with transaction.atomic():
            SubmissionItem.objects.bulk_create(
                SubmissionItem(batch=batch, claim_id=pk) for pk in claim_ids
            )
    except IntegrityError:
        raise SubmissionError(
            "some of these claims went into another batch a moment ago; nothing was sent "
            "twice. Refresh and submit what is still ready."
        ) from None
    record(
        action="submission.build",
        at=at,
        by=by,
        practice=practice,
        target=batch,
        file=batch.file_name,
        clearinghouse=clearinghouse.name,
        claims=[c.claim_id for c in claims],
        interchange_control=control.interchange,
    )
    return batch


def _summary(problems: list[str]) -> str:
    listed = "; ".join(problems)
    return (
        f"{len(problems)} problem(s) stop this batch, so nothing was written or sent: {listed}"
    )


def _upload(batch: SubmissionBatch) -> str:
    """Sends the stored file; returns the error text, empty when it arrived."""
    try:
        with transport_for(batch.clearinghouse) as transport:
            transport.upload(batch.file_name, batch.x12.encode("ascii"))
    except TransportError as exc:
        return str(exc)
    return ""


@transaction.atomic
def _record_outcome(
    batch_id: int, error: str, *, by: AbstractBaseUser | None, at: datetime
) -> SubmissionBatch:
    batch = SubmissionBatch.objects.select_for_update().select_related("practice").get(
        pk=batch_id
    )
    batch.attempts += 1
    if error:
        batch.status, batch.error = BatchStatus.FAILED, error
        batch.save(update_fields=["status", "error", "attempts"])
        batch.items.update(live=False)
        record(
            action="submission.upload_failed",
            at=at,
            by=by,
            practice=batch.practice,
            target=batch,
            file=batch.file_name,
            error=error,
        )
        return batch
    stuck: list[str] = []
    note = f"batch {batch.file_name}"
    for claim in Claim.objects.filter(submission_items__batch=batch).order_by("number"):
        try:
            with transaction.atomic():
                claim_actions.transition(
                    claim=claim, to=ClaimStatus.SUBMITTED, by=by, at=at, note=note
                )
        except claim_actions.ClaimError as exc:
            # The file is already at the clearinghouse; say so rather than pretend otherwise.
            stuck.append(f"claim {claim.number} was sent but could not be marked submitted: {exc}")
    batch.status, batch.uploaded_at = BatchStatus.UPLOADED, at
    batch.error = "; ".join(stuck)
    batch.save(update_fields=["status", "uploaded_at", "error", "attempts"])
    record(
        action="submission.upload",
        at=at,
        by=by,
        practice=batch.practice,
        target=batch,
        file=batch.file_name,
        claims=batch.claim_count,
        problems=stuck,
    )
    return batch


def _send(batch: SubmissionBatch, *, by: AbstractBaseUser | None, at: datetime) -> SubmissionBatch:
    error = _upload(batch)
    batch = _record_outcome(batch.pk, error, by=by, at=at)
    if batch.status == BatchStatus.FAILED:
        raise UploadFailedError(batch)
    return batch


def submit_claims(
    *,
    practice: Practice,
    claims: Iterable[Claim | int],
    clearinghouse: Clearinghouse,
    by: AbstractBaseUser | None,
    at: datetime,
) -> SubmissionBatch:
    """Build one 837P interchange of ``claims`` for ``clearinghouse``, upload it, and move the
    claims to submitted. Refuses every claim (and writes nothing) when any one has a problem;
    raises UploadFailedError, with the failed batch, when the upload does not go through."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    authorize(by, practice, "bill")
    ids = list(dict.fromkeys(c if isinstance(c, int) else c.pk for c in claims))
    batch = _build(practice=practice, claim_ids=ids, clearinghouse=clearinghouse, by=by, at=at)
    return _send(batch, by=by, at=at)


@transaction.atomic
def _reopen(batch_id: int, *, by: AbstractBaseUser | None, at: datetime) -> SubmissionBatch:
    batch = SubmissionBatch.objects.select_for_update().select_related("practice").get(
        pk=batch_id
    )
    if batch.status == BatchStatus.UPLOADED:
        raise SubmissionError(f"batch {batch.file_name} was uploaded already; it is not re-sent")
    if batch.status == BatchStatus.FAILED:
        claim_ids = list(batch.items.values_list("claim_id", flat=True))
        found = {c.pk: c for c in Claim.objects.select_for_update().filter(pk__in=claim_ids)}
        problems = _claim_problems(batch.practice, claim_ids, found)
        if problems:
            raise SubmissionError(
                f"batch {batch.file_name} cannot be sent again: " + "; ".join(problems)
                + ". Submit the claims that are still ready in a new batch.",
                problems,
            )
        try:
            with transaction.atomic():
                batch.items.update(live=True)
        except IntegrityError:
            raise SubmissionError(
                f"some claims of {batch.file_name} went into another batch a moment ago"
            ) from None
        batch.status = BatchStatus.BUILT
        batch.save(update_fields=["status"])
    record(
        action="submission.retry",
        at=at,
        by=by,
        practice=batch.practice,
        target=batch,
        file=batch.file_name,
        previous_error=batch.error,
    )
    return batch


def retry_batch(
    *, batch: SubmissionBatch, by: AbstractBaseUser | None, at: datetime
) -> SubmissionBatch:
    """Send a failed (or never-confirmed) batch's stored file again, unchanged: same control
    numbers, same content, so the clearinghouse sees one interchange however often we try."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    authorize(by, batch.practice, "bill")
    batch = _reopen(batch.pk, by=by, at=at)
    return _send(batch, by=by, at=at)


def fetch_inbox(
    *,
    practice: Practice,
    clearinghouse: Clearinghouse,
    by: AbstractBaseUser | None,
    at: datetime,
) -> list[InboxFile]:
    """Download the clearinghouse's response files that are new to us (by content), and keep
    them to be read later. Returns the new ones; fetching again changes nothing."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    authorize(by, practice, "bill")
    if clearinghouse.practice_id != practice.pk:
        raise SubmissionError(f"clearinghouse {clearinghouse.name} belongs to another practice")
    downloaded: list[tuple[str, bytes]] = []
    try:
        with transport_for(clearinghouse) as transport:
            for name in transport.inbox_names():
                downloaded.append((name, transport.download(name)))
    except TransportError as exc:
        raise SubmissionError(f"fetching from {clearinghouse.name} failed: {exc}") from exc
    return _store_inbox(practice, clearinghouse, downloaded, by=by, at=at)


@transaction.atomic
def _store_inbox(
    practice: Practice,
    clearinghouse: Clearinghouse,
    downloaded: list[tuple[str, bytes]],
    *,
    by: AbstractBaseUser | None,
    at: datetime,
) -> list[InboxFile]:
    digests = {hashlib.sha256(content).hexdigest(): (name, content) for name, content in downloaded}
    known = set(
        InboxFile.objects.filter(practice=practice, sha256__in=list(digests)).values_list(
            "sha256", flat=True
        )
    )
    created = []
    for digest, (name, content) in digests.items():
        if digest in known:
            continue
        text = decode(content)
        created.append(
            InboxFile.objects.create(
                practice=practice,
                clearinghouse=clearinghouse,
                name=name,
                sha256=digest,
                size=len(content),
                kind=sniff_kind(text),
                content=text,
                received_at=at,
            )
        )
    record(
        action="inbox.fetch",
        at=at,
        by=by,
        practice=practice,
        target=clearinghouse,
        listed=len(downloaded),
        new=[f.name for f in created],
    )
    return created
