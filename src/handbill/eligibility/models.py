"""Eligibility checks: one 270 sent for one coverage and date, and the 271 that answered it.

Rows change only through ``eligibility.actions``. A check keeps the exact 270 it sent and,
once answered, the exact 271 file and the answer read from it (``benefits``, the JSON form of
``EligibilityAnswer``), so the plain-words summary can always be rebuilt from what the payer
said.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from handbill.patients.models import Coverage, Patient
from handbill.practice.models import Practice
from handbill.submissions.models import Clearinghouse


class CheckStatus(models.TextChoices):
    BUILT = "built", "Written, not sent yet"
    SENT = "sent", "Sent, waiting for the answer"
    FAILED = "failed", "Sending failed"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    REJECTED = "rejected", "Rejected by the payer"
    UNKNOWN = "unknown", "Answered without a status"


ANSWERED = frozenset({CheckStatus.ACTIVE, CheckStatus.INACTIVE, CheckStatus.REJECTED,
                      CheckStatus.UNKNOWN})
# A check in one of these states counts as "checked" for the batch (a failed one does not).
OUTSTANDING_OR_ANSWERED = frozenset(ANSWERED | {CheckStatus.BUILT, CheckStatus.SENT})


class EligibilityCheck(models.Model):
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="eligibility_checks"
    )
    coverage = models.ForeignKey(
        Coverage, on_delete=models.PROTECT, related_name="eligibility_checks"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="eligibility_checks"
    )
    clearinghouse = models.ForeignKey(
        Clearinghouse, null=True, blank=True, on_delete=models.PROTECT,
        related_name="eligibility_checks",
    )
    # The date of service asked about (DTP*291).
    service_date = models.DateField()
    status = models.CharField(max_length=10, choices=CheckStatus.choices)
    # TRN02 of the 270; the 271 echoes it, which is how the answer finds this row.
    trace_number = models.CharField(max_length=50)
    interchange_control = models.PositiveIntegerField()
    file_name = models.CharField(max_length=120)
    request_270 = models.TextField()
    response_271 = models.TextField(blank=True)
    response_file = models.CharField(max_length=255, blank=True)
    response_sha256 = models.CharField(max_length=64, blank=True)
    benefits = models.JSONField(default=dict, blank=True)
    # The answer in plain words as it read when it came in (rebuilt from ``benefits`` on show).
    summary = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # Answered by Handbill's payer sandbox, not by a payer.
    sandbox = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "trace_number"], name="eligibility_trace_per_practice"
            ),
            models.UniqueConstraint(
                fields=["practice", "file_name"], name="eligibility_file_per_practice"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CheckStatus]),
                name="eligibility_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=sorted(s.value for s in ANSWERED))
                | (Q(answered_at__isnull=False) & ~Q(response_271="")),
                name="eligibility_answer_kept",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""), name="eligibility_failed_has_error"
            ),
            models.CheckConstraint(
                condition=Q(status="built") | Q(status="failed") | Q(sent_at__isnull=False),
                name="eligibility_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["coverage", "service_date"]),
            models.Index(fields=["practice", "status"]),
            models.Index(fields=["practice", "response_sha256"]),
        ]

    def __str__(self) -> str:
        return f"{self.coverage} on {self.service_date.isoformat()}: {self.status}"

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED
