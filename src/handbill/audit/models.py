"""Audit events, written by every action in the same transaction as the change it records."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One thing a person (or a job acting for one) did. Rows are never edited or deleted."""

    # Nullable: practice-less events exist (a failed sign-in, a code-table import).
    practice = models.ForeignKey(
        "practice.Practice", null=True, blank=True, on_delete=models.PROTECT,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="audit_events",
    )
    # A dotted verb such as "claim.build" or "visit.sign"; stable, so reports can group on it.
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    # The patient the event concerns (the target's own patient), so "who looked at this
    # patient" is one indexed lookup. A plain id, not a foreign key: the trail outlives rows.
    patient_id = models.BigIntegerField(null=True, blank=True)
    # Where the request came from (REMOTE_ADDR, or the proxy's forwarded address when
    # HANDBILL_BEHIND_PROXY says so); empty outside a request (command line, jobs).
    source_address = models.GenericIPAddressField(null=True, blank=True)
    # web, api or cli: how the actor reached Handbill.
    channel = models.CharField(max_length=8, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["practice", "occurred_at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["patient_id", "occurred_at"]),
            models.Index(fields=["actor", "occurred_at"]),
        ]

    def __str__(self) -> str:
        when = f"{self.occurred_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit events are append-only; write a new event instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("audit events cannot be deleted")
