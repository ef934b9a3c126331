"""Remittances (835) as received and as posted, and acknowledgements (999, 277CA) per claim.

Rows are written only by ``remittance.actions``. An :class:`EraFile` is one 835 payment (one
ST … SE; a file with several payments gives one row each) with the text it came in. Its
claim, line, adjustment and provider-adjustment rows are written when it is posted, in the
same database transaction as the ledger entries, so what the rows say was paid is what the
ledger holds.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from handbill.core.posting_plan import Effect, MatchedBy, Outcome


class EraStatus(models.TextChoices):
    IMPORTED = "imported", "Imported, not planned yet"
    PLANNED = "planned", "Planned, waiting to be posted"
    POSTED = "posted", "Posted"
    REFUSED = "refused", "Refused, nothing posted"


class EraFile(models.Model):
    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.PROTECT, related_name="era_files"
    )
    inbox_file = models.ForeignKey(
        "submissions.InboxFile", null=True, blank=True, on_delete=models.PROTECT,
        related_name="era_files",
    )
    file_name = models.CharField(max_length=255, blank=True)
    # Of the whole file; with the transaction's place in it, names this payment exactly.
    sha256 = models.CharField(max_length=64)
    transaction_index = models.PositiveSmallIntegerField(default=0)
    raw = models.TextField()
    payer = models.ForeignKey(
        "practice.Payer", null=True, blank=True, on_delete=models.PROTECT,
        related_name="era_files",
    )
    # What the file says: TRN03 (else the payer's id) and the payer's name.
    payer_identifier = models.CharField(max_length=80, blank=True)
    payer_name = models.CharField(max_length=60, blank=True)
    trace_number = models.CharField(max_length=50, blank=True)  # TRN02
    # BPR02 signed as money to the practice: negative when BPR03 is D (a debit).
    payment_amount_cents = models.BigIntegerField(default=0)
    payment_method = models.CharField(max_length=3, blank=True)  # BPR04
    payment_date = models.DateField(null=True, blank=True)  # BPR16
    claim_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=EraStatus.choices)
    # Why it was refused (segment and reason), or what a biller should read before posting.
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # The preview's headline numbers (outcomes, totals, unmatched), kept from planning.
    plan_summary = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "ERA file"
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "sha256", "transaction_index"], name="era_file_once"
            ),
            # One payment is posted once, whichever file (or re-sent copy) carried it.
            models.UniqueConstraint(
                fields=["practice", "payer_identifier", "trace_number"],
                condition=~Q(status="refused"),
                name="era_payment_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="posted") | Q(posted_at__isnull=False),
                name="era_posted_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status="refused") | ~Q(trace_number=""),
                name="era_has_trace_unless_refused",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in EraStatus]), name="era_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "status"]),
            models.Index(fields=["practice", "trace_number"]),
        ]

    def __str__(self) -> str:
        return f"ERA {self.trace_number or self.file_name} ({self.status})"


class ManualMatch(models.Model):
    """A biller's answer to an unmatched claim of a remittance not yet posted: the CLP01 the
    payer sent means this claim of ours. The plan is made again with it, so the claim is posted
    like any other; the payer's text stays as it came."""

    era = models.ForeignKey(EraFile, on_delete=models.PROTECT, related_name="manual_matches")
    patient_control_number = models.CharField(max_length=38)  # CLP01 as the payer sent it
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["era", "patient_control_number"], name="manual_match_once"
            ),
        ]

    def __str__(self) -> str:
        return f"CLP01 {self.patient_control_number} → claim {self.claim_id}"


OUTCOME_CHOICES = [(o.value, o.value.replace("_", " ").capitalize()) for o in Outcome]
MATCHED_BY_CHOICES = [(m.value, m.value.replace("_", " ").capitalize()) for m in MatchedBy]
EFFECT_CHOICES = [(e.value, e.value.replace("_", " ").capitalize()) for e in Effect]


class ClaimPayment(models.Model):
    """One CLP: the payer's answer to one claim, and the claim it was matched to."""

    era = models.ForeignKey(EraFile, on_delete=models.PROTECT, related_name="claim_payments")
    # Copied from the ERA so per-claim history stays inside one practice without a join.
    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()  # 0-based among the payment's CLPs
    claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT,
        related_name="payments",
    )
    patient_control_number = models.CharField(max_length=38)  # CLP01
    status_code = models.CharField(max_length=2)  # CLP02
    charge_cents = models.BigIntegerField()
    paid_cents = models.BigIntegerField()
    patient_responsibility_cents = models.BigIntegerField()
    payer_claim_number = models.CharField(max_length=50, blank=True)  # CLP07
    outcome = models.CharField(max_length=16, choices=OUTCOME_CHOICES)
    unmatched_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["era", "position"], name="claim_payment_position"),
            models.CheckConstraint(
                condition=(Q(outcome="unmatched") & Q(claim__isnull=True))
                | (~Q(outcome="unmatched") & Q(claim__isnull=False)),
                name="claim_payment_matched_has_claim",
            ),
        ]
        indexes = [models.Index(fields=["practice", "patient_control_number"])]

    def __str__(self) -> str:
        return f"CLP {self.patient_control_number} ({self.outcome})"


class ServicePayment(models.Model):
    """One SVC: what the payer did with one billed line, and our line it was matched to."""

    claim_payment = models.ForeignKey(
        ClaimPayment, on_delete=models.PROTECT, related_name="lines"
    )
    position = models.PositiveSmallIntegerField()  # 0-based among the claim's SVCs
    claim_line = models.ForeignKey(
        "claims.ClaimLine", null=True, blank=True, on_delete=models.PROTECT,
        related_name="payments",
    )
    matched_by = models.CharField(max_length=16, choices=MATCHED_BY_CHOICES)
    code = models.CharField(max_length=48)
    modifiers = models.JSONField(default=list, blank=True)
    original_code = models.CharField(max_length=48, blank=True)
    units = models.DecimalField(max_digits=12, decimal_places=3)
    original_units = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    charge_cents = models.BigIntegerField()
    paid_cents = models.BigIntegerField()
    allowed_cents = models.BigIntegerField(null=True, blank=True)  # AMT*B6
    service_date = models.DateField(null=True, blank=True)
    control_number = models.CharField(max_length=50, blank=True)  # REF*6R as the payer sent it
    remarks = models.JSONField(default=list, blank=True)  # LQ*HE RARCs
    note = models.TextField(blank=True)  # how it matched, when that needs saying

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["claim_payment", "position"], name="service_payment_position"
            ),
            models.CheckConstraint(
                condition=(Q(matched_by="unmatched") & Q(claim_line__isnull=True))
                | (~Q(matched_by="unmatched") & Q(claim_line__isnull=False)),
                name="service_payment_matched_has_line",
            ),
        ]
        indexes = [
            # The lines paid nothing (denials): the Denials queue reads them by themselves, a
            # small part of every line a practice was ever paid.
            models.Index(fields=["claim_payment"], condition=Q(paid_cents=0),
                         name="service_payment_zero_paid"),
        ]

    def __str__(self) -> str:
        return f"SVC {self.code} ({self.matched_by})"


class Adjustment(models.Model):
    """One CAS reason, on the claim (``service_payment`` empty) or on one line."""

    claim_payment = models.ForeignKey(
        ClaimPayment, on_delete=models.PROTECT, related_name="adjustments"
    )
    service_payment = models.ForeignKey(
        ServicePayment, null=True, blank=True, on_delete=models.PROTECT,
        related_name="adjustments",
    )
    group = models.CharField(max_length=2)  # CAS01
    reason = models.CharField(max_length=5)  # CARC
    amount_cents = models.BigIntegerField()
    quantity = models.CharField(max_length=15, blank=True)
    effect = models.CharField(max_length=12, choices=EFFECT_CHOICES)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(group__in=["CO", "PR", "OA", "PI", "CR"]),
                name="adjustment_group_known",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_has_reason"),
        ]
        indexes = [models.Index(fields=["group", "reason"])]

    def __str__(self) -> str:
        return f"{self.group}-{self.reason} {self.amount_cents}"


class ProviderAdjustment(models.Model):
    """One PLB reason and amount: money at the payment level (interest, recoupments …)."""

    era = models.ForeignKey(
        EraFile, on_delete=models.PROTECT, related_name="provider_adjustments"
    )
    position = models.PositiveSmallIntegerField()
    provider_id = models.CharField(max_length=50, blank=True)  # PLB01
    fiscal_period_date = models.DateField(null=True, blank=True)  # PLB02
    reason = models.CharField(max_length=2)  # PLB03-1
    reference = models.CharField(max_length=50, blank=True)  # PLB03-2
    # Signed as PLB04: positive reduced the payment, negative added to it.
    amount_cents = models.BigIntegerField()
    # The claim the reference names, when it names one of ours.
    claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT,
        related_name="provider_adjustments",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["era", "position"], name="provider_adjustment_position"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="provider_adjustment_reason"),
        ]

    def __str__(self) -> str:
        return f"PLB {self.reason} {self.amount_cents}"


class AckKind(models.TextChoices):
    IMPLEMENTATION = "999", "999 implementation acknowledgement"
    CLAIM = "277ca", "277CA claim acknowledgement"


class AckResult(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    ACCEPTED_WITH_ERRORS = "accepted_with_errors", "Accepted with errors"
    REJECTED = "rejected", "Rejected"
    PENDING = "pending", "Pending"
    OTHER = "other", "Other"


class Acknowledgement(models.Model):
    """What a 999 or a 277CA said about one claim, and what Handbill did about it."""

    practice = models.ForeignKey(
        "practice.Practice", on_delete=models.PROTECT, related_name="acknowledgements"
    )
    inbox_file = models.ForeignKey(
        "submissions.InboxFile", on_delete=models.PROTECT, related_name="acknowledgements"
    )
    # Order within the file, so reading the same file twice cannot add rows twice.
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=5, choices=AckKind.choices)
    claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT,
        related_name="acknowledgements",
    )
    claim_number = models.CharField(max_length=50, blank=True)  # TRN*2 / CLM01
    batch = models.ForeignKey(
        "submissions.SubmissionBatch", null=True, blank=True, on_delete=models.PROTECT,
        related_name="acknowledgements",
    )
    transaction_control = models.CharField(max_length=9, blank=True)  # AK2 ST02 acknowledged
    result = models.CharField(max_length=20, choices=AckResult.choices)
    # IK5/AK9 code for a 999; STC01 category:status:entity for a 277CA.
    code = models.CharField(max_length=30, blank=True)
    message = models.TextField(blank=True)  # the reason in words
    payer_claim_number = models.CharField(max_length=50, blank=True)  # REF*1K
    # What Handbill did: "rejected", "accepted", or why the claim was left alone.
    action_taken = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["inbox_file", "position"], name="acknowledgement_position"
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "result"]),
            models.Index(fields=["practice", "claim_number"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.claim_number or self.transaction_control}: {self.result}"
