"""What the submit pages show: the claims ready to go, and a submission job's progress."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet

from handbill.claims.models import Claim, Status
from handbill.practice.access import scoped
from handbill.practice.models import Practice
from handbill.submissions.models import (
    Clearinghouse,
    JobOutcome,
    JobStatus,
    SubmissionItem,
    SubmissionJob,
    SubmissionJobItem,
)


def ready_claims(practice: Practice, payer: int | None = None) -> QuerySet[Claim]:
    """Ready claims with a payer that no live batch holds: what a new batch may take."""
    held = SubmissionItem.objects.filter(claim=OuterRef("pk"), live=True)
    claims = scoped(Claim.objects.all(), practice).filter(
        status=Status.READY, payer__isnull=False
    ).exclude(Exists(held))
    if payer is not None:
        claims = claims.filter(payer_id=payer)
    return claims.select_related("patient", "payer", "provider").order_by(
        "date_of_service", "pk"
    )


def clearinghouses(practice: Practice) -> QuerySet[Clearinghouse]:
    return scoped(Clearinghouse.objects.filter(active=True), practice).order_by("name")


def recent_jobs(practice: Practice, limit: int = 5) -> list[SubmissionJob]:
    return list(scoped(SubmissionJob.objects.select_related("clearinghouse", "created_by"),
                       practice)[:limit])


@dataclass(frozen=True)
class JobProgress:
    job: SubmissionJob
    counts: dict[str, int]  # per JobOutcome value
    total: int

    @property
    def handled(self) -> int:
        return self.total - self.counts[JobOutcome.PENDING]

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.handled * 100 // self.total

    @property
    def steps(self) -> int:
        return -(-self.total // self.job.step_size)

    @property
    def step(self) -> int:
        """The step being sent next (1-based), at most the number of steps."""
        return min(self.steps, self.handled // self.job.step_size + 1)

    @property
    def running(self) -> bool:
        return self.job.status == JobStatus.RUNNING


def job_progress(job: SubmissionJob) -> JobProgress:
    counts = dict.fromkeys(JobOutcome.values, 0)
    for row in job.items.values("outcome").annotate(n=Count("pk")):
        counts[row["outcome"]] = row["n"]
    return JobProgress(job, counts, job.claim_count)


def job_items(job: SubmissionJob, outcome: str = "") -> QuerySet[SubmissionJobItem]:
    items = job.items.select_related("claim", "claim__patient", "claim__payer", "batch")
    if outcome in JobOutcome.values:
        items = items.filter(outcome=outcome)
    return items.order_by("position")
