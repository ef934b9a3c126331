"""Submitting many claims one step at a time, so a browser can show the progress.

A :class:`SubmissionJob` holds the claims a biller chose. Each call of :func:`advance_job`
sends the next ``step_size`` of them through :func:`actions.submit_claims` — the same build,
pre-checks, control numbers, upload and claim moves as any submission, one 837 file per step
— and records each claim's result. Nothing here repeats those rules:

- ``submit_claims`` refuses a whole file when one claim has a problem. Its problems name the
  claim they are about ("claim HB0000012: …"), so a step keeps those claims back as
  *refused* with their reasons and sends the others; a problem that names no claim (the
  practice's billing NPI, a switched-off clearinghouse) stops the job, since every later step
  would meet it too.
- A failed upload leaves the step's claims ready (``submit_claims`` releases them) and the job
  *failed* with the batch; :func:`retry_job` sends that same file again with ``retry_batch``
  and then the job carries on.

Each step runs outside any transaction of ours on purpose: ``submit_claims`` commits the
built file before it uploads, so that an upload is never inside an open transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction

from handbill.audit.record import record
from handbill.claims.models import Claim
from handbill.practice.access import authorize, same_practice
from handbill.practice.models import Practice
from handbill.submissions.actions import (
    SubmissionError,
    UploadFailedError,
    retry_batch,
    submit_claims,
)
from handbill.submissions.models import (
    Clearinghouse,
    JobOutcome,
    JobStatus,
    SubmissionBatch,
    SubmissionJob,
    SubmissionJobItem,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

STEP_SIZE = 500
# A step that has not finished after this long is taken to have died with its process.
STEP_LEASE = timedelta(minutes=10)
_IDS_PER_QUERY = 900
_NAMED = re.compile(r"^claim (\S+?)[:\s]")


def _user(by: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return by if by is not None and by.is_authenticated else None


@transaction.atomic
def start_job(
    *,
    practice: Practice,
    claims: Iterable[Claim | int],
    clearinghouse: Clearinghouse,
    by: AbstractBaseUser | None,
    at: datetime,
    step_size: int | None = None,
) -> SubmissionJob:
    """Record which claims to send, in order; nothing is built or sent yet."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    authorize(by, practice, "bill")
    same_practice(practice, clearinghouse)
    if not clearinghouse.active:
        raise SubmissionError(f"clearinghouse {clearinghouse.name} is switched off")
    step_size = STEP_SIZE if step_size is None else step_size
    if step_size < 1:
        raise SubmissionError("a step sends at least one claim")
    ids = list(dict.fromkeys(c if isinstance(c, int) else c.pk for c in claims))
    if not ids:
        raise SubmissionError("choose at least one ready claim to submit")
    ours: set[int] = set()
    for start in range(0, len(ids), _IDS_PER_QUERY):  # within SQLite's bound-parameter limit
        chunk = ids[start:start + _IDS_PER_QUERY]
        ours.update(Claim.objects.filter(practice=practice, pk__in=chunk)
                    .values_list("pk", flat=True))
    missing = [pk for pk in ids if pk not in ours]
    if missing:
        raise SubmissionError(
            f"{len(missing)} of the chosen claims are not claims of this practice; refresh "
            "the list and choose again"
        )
    job = SubmissionJob.objects.create(
        practice=practice, clearinghouse=clearinghouse, step_size=step_size,
        claim_count=len(ids), created_at=at, created_by=_user(by),
    )
    SubmissionJobItem.objects.bulk_create(
        SubmissionJobItem(job=job, claim_id=pk, position=n) for n, pk in enumerate(ids)
    )
    record(action="submission.job.start", at=at, by=by, practice=practice, target=job,
           claims=len(ids), clearinghouse=clearinghouse.name, step_size=step_size)
    return job


@transaction.atomic
def _take_step(job_id: int, at: datetime) -> list[tuple[int, int, str]] | None:
    """Lease the job for one step: its next claims as (item, claim, number), or None when
    the job is not running or another request is running a step right now."""
    job = SubmissionJob.objects.select_for_update().get(pk=job_id)
    if job.status != JobStatus.RUNNING:
        return None
    if job.step_started_at is not None and at - job.step_started_at < STEP_LEASE:
        return None
    rows = list(
        SubmissionJobItem.objects.filter(job=job, outcome=JobOutcome.PENDING)
        .order_by("position")
        .values_list("pk", "claim_id", "claim__number")[: job.step_size]
    )
    job.step_started_at = at
    job.save(update_fields=["step_started_at"])
    return rows


def _named_claims(problems: list[str], numbers: dict[str, int]) -> dict[int, list[str]]:
    """The problems of ``submit_claims`` per claim id (only those that name one of ours)."""
    found: dict[int, list[str]] = {}
    for problem in problems:
        match = _NAMED.match(problem)
        if match and match.group(1) in numbers:
            found.setdefault(numbers[match.group(1)], []).append(problem)
    return found


def _send_step(
    job: SubmissionJob, rows: list[tuple[int, int, str]], *, by: AbstractBaseUser | None,
    at: datetime,
) -> tuple[dict[int, tuple[str, str, SubmissionBatch | None]], str, SubmissionBatch | None]:
    """Send one step's claims: per item (outcome, reason, batch), and the job's error and
    failed batch when the step stops the job."""
    item_of = {claim_id: item_id for item_id, claim_id, _number in rows}
    numbers = {number: claim_id for _item, claim_id, number in rows}
    results: dict[int, tuple[str, str, SubmissionBatch | None]] = {}
    remaining = [claim_id for _item, claim_id, _number in rows]
    while remaining:
        try:
            batch = submit_claims(practice=job.practice, claims=remaining,
                                  clearinghouse=job.clearinghouse, by=by, at=at)
        except UploadFailedError as exc:
            for claim_id in remaining:
                results[item_of[claim_id]] = (JobOutcome.UPLOAD_FAILED, exc.batch.error,
                                              exc.batch)
            return results, str(exc), exc.batch
        except SubmissionError as exc:
            named = _named_claims(exc.problems, {n: c for n, c in numbers.items()
                                                 if c in set(remaining)})
            if not named:
                return results, str(exc), None
            for claim_id, problems in named.items():
                results[item_of[claim_id]] = (JobOutcome.REFUSED, "; ".join(problems), None)
            remaining = [claim_id for claim_id in remaining if claim_id not in named]
            continue
        for claim_id in remaining:
            results[item_of[claim_id]] = (JobOutcome.SUBMITTED, batch.error, batch)
        remaining = []
    return results, "", None


@transaction.atomic
def _record_step(
    job_id: int, results: dict[int, tuple[str, str, SubmissionBatch | None]], error: str,
    failed: SubmissionBatch | None, *, by: AbstractBaseUser | None, at: datetime,
) -> SubmissionJob:
    job = SubmissionJob.objects.select_for_update().select_related("practice").get(pk=job_id)
    by_outcome: dict[tuple[str, str, int | None], list[int]] = {}
    for item_id, (outcome, reason, batch) in results.items():
        by_outcome.setdefault((outcome, reason, batch.pk if batch else None), []).append(item_id)
    for (outcome, reason, batch_id), items in by_outcome.items():
        SubmissionJobItem.objects.filter(pk__in=items).update(
            outcome=outcome, reason=reason, batch_id=batch_id)
    job.step_started_at = None
    fields = ["step_started_at"]
    if failed is not None:
        job.status, job.error, job.failed_batch = JobStatus.FAILED, error, failed
        fields += ["status", "error", "failed_batch"]
    elif error:
        job.status, job.error = JobStatus.STOPPED, error
        fields += ["status", "error"]
    elif not job.items.filter(outcome=JobOutcome.PENDING).exists():
        job.status, job.error, job.finished_at = JobStatus.DONE, "", at
        fields += ["status", "error", "finished_at"]
    job.save(update_fields=fields)
    if job.status != JobStatus.RUNNING:
        counts = dict.fromkeys(JobOutcome.values, 0)
        for outcome in job.items.values_list("outcome", flat=True):
            counts[outcome] += 1
        record(action=f"submission.job.{job.status}", at=at, by=by, practice=job.practice,
               target=job, error=job.error, **counts)
    return job


def advance_job(*, job: SubmissionJob, by: AbstractBaseUser | None, at: datetime) -> SubmissionJob:
    """Send the job's next step; a job that is not running (or is mid-step in another
    request) comes back unchanged."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    authorize(by, job.practice, "bill")
    rows = _take_step(job.pk, at)
    if rows is None:
        return SubmissionJob.objects.select_related("practice", "clearinghouse").get(pk=job.pk)
    try:
        results, error, failed = _send_step(job, rows, by=by, at=at)
    except BaseException:
        SubmissionJob.objects.filter(pk=job.pk).update(step_started_at=None)
        raise
    return _record_step(job.pk, results, error, failed, by=by, at=at)


def retry_job(*, job: SubmissionJob, by: AbstractBaseUser | None, at: datetime) -> SubmissionJob:
    """Send the file whose upload failed again (unchanged, ``retry_batch``); when it arrives
    the job carries on with its remaining claims."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    authorize(by, job.practice, "bill")
    if job.status != JobStatus.FAILED or job.failed_batch is None:
        raise SubmissionError("only a job whose upload failed is retried")
    batch = job.failed_batch
    items = list(job.items.filter(batch=batch, outcome=JobOutcome.UPLOAD_FAILED)
                 .values_list("pk", flat=True))
    results: dict[int, tuple[str, str, SubmissionBatch | None]]
    failed: SubmissionBatch | None = None
    error = ""
    try:
        sent = retry_batch(batch=batch, by=by, at=at)
    except UploadFailedError as exc:
        results = dict.fromkeys(items, (JobOutcome.UPLOAD_FAILED, exc.batch.error, exc.batch))
        error, failed = str(exc), exc.batch
    except SubmissionError as exc:
        # The claims went out another way meanwhile; say so per claim and carry on.
        results = dict.fromkeys(items, (JobOutcome.REFUSED, str(exc), None))
    else:
        results = dict.fromkeys(items, (JobOutcome.SUBMITTED, sent.error, sent))
    with transaction.atomic():
        locked = SubmissionJob.objects.select_for_update().get(pk=job.pk)
        if failed is None:
            locked.status, locked.error, locked.failed_batch = JobStatus.RUNNING, "", None
            locked.save(update_fields=["status", "error", "failed_batch"])
        record(action="submission.job.retry", at=at, by=by, practice=job.practice,
               target=locked, batch=batch.file_name,
               arrived=failed is None)
    return _record_step(job.pk, results, error, failed, by=by, at=at)
