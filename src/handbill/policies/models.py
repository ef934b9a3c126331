"""One stored version of a payer's policy.

A version's rules never change once stored: a claim billed under them must still be explained
by them later. A change of rules is a new version (``actions.save_policy_version``), and the
only thing that ever changes on a stored row is its ``end_date``, set when a newer version
takes over. The period lives in columns rather than inside ``rules`` so that the database
constraints can see it and closing a version leaves its rules untouched.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from handbill.core import policy as core_policy
from handbill.practice.models import Payer


class PayerPolicyVersion(models.Model):
    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.CASCADE, related_name="policy_versions"
    )
    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="policy_versions")
    effective_date = models.DateField(help_text="First day these rules apply")
    end_date = models.DateField(
        null=True, blank=True, help_text="First day they no longer apply (set by a newer version)"
    )
    # The [[version]] table of a policy file as JSON, without the two dates above; see
    # docs/policies.md for the fields.
    rules = models.JSONField()
    # "shipped:<profile>" for a profile Handbill ships, "edited by <user>" for a biller's edit.
    source = models.CharField(max_length=160)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["payer", "effective_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gt=models.F("effective_date")),
                name="policy_version_period_order",
            ),
            models.UniqueConstraint(
                fields=["payer", "effective_date"], name="one_policy_version_per_start"
            ),
            # At most one version runs on with no end: the current one.
            models.UniqueConstraint(
                fields=["payer"], condition=models.Q(end_date__isnull=True),
                name="one_open_policy_version",
            ),
        ]

    def __str__(self) -> str:
        until = f" to {self.end_date}" if self.end_date else ""
        return f"{self.payer} from {self.effective_date}{until}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Closing a version (end_date) is the one change a stored row may take.
        if self.pk is not None and set(kwargs.get("update_fields") or ()) != {"end_date"}:
            raise ValueError(
                "stored policy versions are never edited; save a new version with "
                "handbill.policies.actions.save_policy_version"
            )
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.payer_id and self.practice_id and self.payer.practice_id != self.practice_id:
            raise ValidationError({"payer": "This payer belongs to another practice."})

    def as_policy(self) -> core_policy.PayerPolicy:
        """The core value for this version (validated again: stored JSON is still input)."""
        return core_policy.policy_from_rules(
            profile=profile_of(self.payer),
            name=self.payer.name,
            rules=self.rules,
            effective_date=self.effective_date,
            end_date=self.end_date,
            where=f"{self.payer.name} policy from {self.effective_date}",
        )


def profile_of(payer: Payer) -> str:
    """The profile name a payer's policy goes by: its shipped profile, or one of its own."""
    return str(payer.policy_profile) or f"payer-{payer.pk}"
