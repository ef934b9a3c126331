"""Records of claims leaving the practice: where they go, which file took them, what came back.

Rows change only through ``submissions.actions``. A SubmissionItem ties a claim to the batch
that carries it; while that batch is not failed the item is *live*, and the database allows one
live item per claim, so the same claim can never ride in two files at once (no double billing).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from handbill.claims.models import Claim
from handbill.practice.models import Practice

# ISA13, GS06 and ST02 are at most nine digits; numbers wrap back to 1 after this.
CONTROL_NUMBER_MAX = 999_999_999


class TransportKind(models.TextChoices):
    # A folder the biller uploads from through the clearinghouse's web portal (the default).
    OUTBOX = "outbox", "Outbox folder"
    SFTP = "sftp", "SFTP"


class Clearinghouse(models.Model):
    """How one practice reaches one clearinghouse: the X12 identities and the transport.

    Secrets stay out of the database: SFTP signs in with a key file named by path, or with a
    password read from the environment variable named in ``sftp_password_env``.
    """

    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="clearinghouses"
    )
    name = models.CharField(max_length=60)
    # ISA08/GS03 and loop 1000B: who receives the interchange.
    receiver_id = models.CharField(max_length=15)
    receiver_name = models.CharField(max_length=60)
    # ISA06/GS02 and loop 1000A; blank means the practice's own submitter ID.
    submitter_etin = models.CharField(max_length=15, blank=True)
    # ISA15: T until the clearinghouse has approved the practice's test files.
    production = models.BooleanField(default=False)
    transport = models.CharField(
        max_length=8, choices=TransportKind.choices, default=TransportKind.OUTBOX
    )
    # Outbox: 837 files are written here; response files are read from its sibling "inbox".
    outbox_path = models.CharField(max_length=500, blank=True)
    sftp_host = models.CharField(max_length=255, blank=True)
    sftp_port = models.PositiveIntegerField(default=22)
    sftp_username = models.CharField(max_length=100, blank=True)
    sftp_key_path = models.CharField(max_length=500, blank=True)
    sftp_password_env = models.CharField(
        max_length=100, blank=True,
        help_text="Name of an environment variable that holds the SFTP password",
    )
    remote_out_dir = models.CharField(max_length=255, blank=True, help_text="Where 837s go")
    remote_in_dir = models.CharField(
        max_length=255, blank=True, help_text="Where 999, 277CA and 835 files appear"
    )
    # The server's public key as in known_hosts ("ssh-ed25519 AAAA…"); a server presenting
    # any other key is refused.
    known_host_key = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "name"], name="clearinghouse_name_per_practice"
            ),
            models.CheckConstraint(
                condition=~Q(transport="outbox") | ~Q(outbox_path=""),
                name="clearinghouse_outbox_has_path",
            ),
            models.CheckConstraint(
                condition=~Q(transport="sftp")
                | (
                    ~Q(sftp_host="")
                    & ~Q(sftp_username="")
                    & ~Q(known_host_key="")
                    & (~Q(sftp_key_path="") | ~Q(sftp_password_env=""))
                ),
                name="clearinghouse_sftp_complete",
            ),
            models.CheckConstraint(
                condition=Q(sftp_port__gte=1) & Q(sftp_port__lte=65535),
                name="clearinghouse_sftp_port_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_transport_display()})"


class ControlNumberSequence(models.Model):
    """The next ISA13, GS06 and ST02 for one practice, taken under a row lock."""

    practice = models.OneToOneField(
        Practice, on_delete=models.PROTECT, related_name="control_numbers"
    )
    next_interchange = models.PositiveIntegerField(default=1)
    next_group = models.PositiveIntegerField(default=1)
    next_transaction = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(next_interchange__gte=1)
                & Q(next_interchange__lte=CONTROL_NUMBER_MAX)
                & Q(next_group__gte=1)
                & Q(next_group__lte=CONTROL_NUMBER_MAX)
                & Q(next_transaction__gte=1)
                & Q(next_transaction__lte=CONTROL_NUMBER_MAX),
                name="control_numbers_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"next ISA13 {self.next_interchange} ({self.practice})"


class BatchStatus(models.TextChoices):
    BUILT = "built", "Built, not sent yet"
    UPLOADED = "uploaded", "Uploaded"
    FAILED = "failed", "Upload failed"


class SubmissionBatch(models.Model):
    """One 837P interchange: the exact text sent, its control numbers and what became of it."""

    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="submission_batches"
    )
    clearinghouse = models.ForeignKey(
        Clearinghouse, on_delete=models.PROTECT, related_name="batches"
    )
    file_name = models.CharField(max_length=120)
    x12 = models.TextField()
    sha256 = models.CharField(max_length=64)
    interchange_control = models.PositiveIntegerField()
    group_control = models.PositiveIntegerField()
    first_transaction_control = models.PositiveIntegerField()
    transaction_count = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=BatchStatus.choices)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_count = models.PositiveIntegerField()
    total_charge_cents = models.BigIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "file_name"], name="batch_file_name_per_practice"
            ),
            models.UniqueConstraint(
                fields=["practice", "interchange_control"],
                name="batch_interchange_control_per_practice",
            ),
            models.CheckConstraint(
                condition=~Q(status="uploaded") | Q(uploaded_at__isnull=False),
                name="batch_uploaded_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""), name="batch_failed_has_error"
            ),
            models.CheckConstraint(
                condition=Q(total_charge_cents__gte=0), name="batch_total_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["practice", "status"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class SubmissionItem(models.Model):
    batch = models.ForeignKey(SubmissionBatch, on_delete=models.PROTECT, related_name="items")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="submission_items")
    # True while the batch is built or uploaded; a failed batch releases its claims.
    live = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "claim"], name="submission_item_once"),
            models.UniqueConstraint(
                fields=["claim"], condition=Q(live=True), name="one_live_submission_per_claim"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim} in {self.batch}"


class InboxKind(models.TextChoices):
    ACK_999 = "999", "999 implementation acknowledgement"
    CLAIM_ACK_277CA = "277ca", "277CA claim acknowledgement"
    REMITTANCE_835 = "835", "835 remittance advice"
    UNKNOWN = "unknown", "Not an X12 file we read"


class InboxFile(models.Model):
    """A response file downloaded from the clearinghouse, kept as received until it is read."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="inbox_files")
    clearinghouse = models.ForeignKey(
        Clearinghouse, null=True, blank=True, on_delete=models.PROTECT, related_name="inbox"
    )
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=InboxKind.choices)
    content = models.TextField()
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            # The same bytes fetched twice (the server keeps old files) are one file.
            models.UniqueConstraint(fields=["practice", "sha256"], name="inbox_file_once"),
        ]
        indexes = [models.Index(fields=["practice", "kind", "processed_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class JobStatus(models.TextChoices):
    RUNNING = "running", "Sending"
    DONE = "done", "Done"
    FAILED = "failed", "Upload failed"  # a file did not arrive: retry it
    STOPPED = "stopped", "Stopped"  # a problem of the whole batch (the practice, the house)


class SubmissionJob(models.Model):
    """A biller's "submit these claims", sent one step (one file) at a time.

    Each step takes the next ``step_size`` claims through ``actions.submit_claims``; a browser
    asks for the next step while it shows the progress bar, so no background worker is needed
    and a large batch never holds one request for minutes.
    """

    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="submission_jobs"
    )
    clearinghouse = models.ForeignKey(
        Clearinghouse, on_delete=models.PROTECT, related_name="jobs"
    )
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.RUNNING)
    step_size = models.PositiveIntegerField(default=500)
    claim_count = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    # The batch whose upload failed, sent again by the retry button.
    failed_batch = models.ForeignKey(
        SubmissionBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set while a step runs: a second poll arriving meanwhile shows the bar and waits.
    step_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(step_size__gte=1), name="job_step_positive"),
            models.CheckConstraint(
                condition=~Q(status="failed") | Q(failed_batch__isnull=False),
                name="job_failed_has_batch",
            ),
        ]
        indexes = [models.Index(fields=["practice", "status"])]

    def __str__(self) -> str:
        return f"submission job {self.pk} ({self.status})"


class JobOutcome(models.TextChoices):
    PENDING = "pending", "Waiting"
    SUBMITTED = "submitted", "Submitted"
    REFUSED = "refused", "Refused"
    UPLOAD_FAILED = "upload_failed", "Upload failed"


class SubmissionJobItem(models.Model):
    """One claim of a job and what became of it."""

    job = models.ForeignKey(SubmissionJob, on_delete=models.CASCADE, related_name="items")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    outcome = models.CharField(
        max_length=14, choices=JobOutcome.choices, default=JobOutcome.PENDING
    )
    reason = models.TextField(blank=True)
    batch = models.ForeignKey(
        SubmissionBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "claim"], name="job_item_once"),
            models.UniqueConstraint(fields=["job", "position"], name="job_item_position"),
            models.CheckConstraint(
                condition=~Q(outcome="refused") | ~Q(reason=""), name="job_refusal_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["job", "outcome", "position"])]

    def __str__(self) -> str:
        return f"{self.claim} in job {self.job_id}: {self.outcome}"
