"""Follow-up state: what a biller did with a worklist item, and proposed policy changes.

The worklists themselves are not stored: ``followup.queries`` builds them from the claims,
acknowledgements, remittances, ledger and policies each time, so they can never disagree with
the books. What is stored is only what a person adds: who has an item, when it was worked, how
long it is snoozed, a note (:class:`WorkItem`), and the policy changes proposed from repeated
denials with what the practice decided (:class:`RuleProposal`). Rows change only through
``followup.actions``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from handbill.core.followup import WorkKind

KIND_CHOICES = [(kind.value, kind.value.capitalize()) for kind in WorkKind]


class WorkItem(models.Model):
    """A person's state on one worklist item: a claim and the reason it is on a list.

    ``key`` names the reason exactly (``denial:sp42``, ``ack:17``, ``timely:claim9`` …, see
    ``followup.queries``), so a new denial of the same claim is a new item, not an old one
    already marked worked.
    """

    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.PROTECT, related_name="work_items"
    )
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="work_items")
    key = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    worked_at = models.DateTimeField(null=True, blank=True)
    worked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    snoozed_until = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "key"], name="work_item_key_once"),
            models.CheckConstraint(
                condition=Q(kind__in=[kind.value for kind in WorkKind]),
                name="work_item_kind_known",
            ),
            models.CheckConstraint(condition=~Q(key=""), name="work_item_has_key"),
        ]
        indexes = [models.Index(fields=["practice", "kind"])]

    def __str__(self) -> str:
        return f"{self.key} ({self.kind})"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class RuleProposal(models.Model):
    """A payer-policy change that would have caught a repeated denial before submission."""

    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.PROTECT, related_name="rule_proposals"
    )
    payer = models.ForeignKey(
        "practice.Payer", on_delete=models.PROTECT, related_name="rule_proposals"
    )
    code = models.CharField(max_length=5)
    carc = models.CharField(max_length=5)
    count = models.PositiveIntegerField()
    # {"field": …, "op": "add"|"remove"|"set", "value": …, ["taxonomy": …]}
    change = models.JSONField()
    # The change as canonical JSON text: what the uniqueness below compares.
    change_key = models.CharField(max_length=200)
    reason = models.TextField()
    claims = models.JSONField(default=list, blank=True)  # claim numbers behind the count
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # The policy version an accepted proposal created.
    policy_version = models.ForeignKey(
        "policies.PayerPolicyVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-count", "pk"]
        constraints = [
            # One row per payer, code, CARC and change: a dismissed proposal is not proposed
            # again, an accepted one is not proposed twice.
            models.UniqueConstraint(
                fields=["practice", "payer", "code", "carc", "change_key"],
                name="rule_proposal_once",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ProposalStatus]),
                name="rule_proposal_status_known",
            ),
            models.CheckConstraint(
                condition=Q(status="proposed") | Q(decided_at__isnull=False),
                name="rule_proposal_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(policy_version__isnull=False),
                name="rule_proposal_accepted_has_version",
            ),
            models.CheckConstraint(condition=Q(count__gte=1), name="rule_proposal_count"),
        ]

    def __str__(self) -> str:
        return f"{self.payer} {self.code} CARC {self.carc} ({self.status})"
