"""Claim records. Status changes only through ``claims.actions``; each is a ClaimEvent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from handbill.core.claim_status import ClaimStatus
from handbill.core.money import Cents
from handbill.patients.models import Authorization, Coverage, Patient
from handbill.practice.models import Payer, Practice, Provider
from handbill.visits.models import Visit


class Status(models.TextChoices):
    DRAFT = ClaimStatus.DRAFT.value, "Draft"
    READY = ClaimStatus.READY.value, "Ready"
    SUBMITTED = ClaimStatus.SUBMITTED.value, "Submitted"
    ACCEPTED = ClaimStatus.ACCEPTED.value, "Accepted"
    REJECTED = ClaimStatus.REJECTED.value, "Rejected"
    PAID = ClaimStatus.PAID.value, "Paid"
    PARTIALLY_PAID = ClaimStatus.PARTIALLY_PAID.value, "Partially paid"
    DENIED = ClaimStatus.DENIED.value, "Denied"
    CORRECTED = ClaimStatus.CORRECTED.value, "Corrected"
    APPEALED = ClaimStatus.APPEALED.value, "Appealed"
    CLOSED = ClaimStatus.CLOSED.value, "Closed"
    VOID = ClaimStatus.VOID.value, "Void"


class Frequency(models.TextChoices):
    ORIGINAL = "1", "Original"
    REPLACEMENT = "7", "Replacement"
    VOID = "8", "Void"


class Claim(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="claims")
    # CLM01, our patient control number: unique per practice, echoed as CLP01 in the 835.
    number = models.CharField(max_length=20)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="claims")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="claims")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey(
        Coverage, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    payer = models.ForeignKey(
        Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    authorization = models.ForeignKey(
        Authorization, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    referral = models.ForeignKey(
        Authorization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_claims",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    frequency = models.CharField(max_length=1, choices=Frequency.choices, default="1")
    # The original a replacement (7) or void (8) corrects; its payer claim number is REF*F8.
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    # A secondary claim: the primary payer's claim for the same visit, and that payer's
    # adjudication as the 837 carries it (loops 2320/2330/2430, handbill.core.secondary JSON),
    # kept as it was when the secondary was built.
    primary_claim = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="secondary_claims"
    )
    prior_payers = models.JSONField(default=list, blank=True)
    # SBR05 when Medicare is the secondary payer: why the other plan pays first (MSP type).
    msp_type = models.CharField(max_length=2, blank=True)
    date_of_service = models.DateField()
    place_of_service = models.CharField(max_length=2)
    diagnoses = models.JSONField(default=list)  # dotted ICD-10-CM codes, order = A..L
    total_charge_cents = models.BigIntegerField()
    rationale = models.TextField(blank=True)
    # What the builder noticed and refused to fix silently (a dropped 97010, a code the payer
    # does not pay); kept so every later scrub shows them again.
    build_findings = models.JSONField(default=list, blank=True)
    policy_profile = models.CharField(max_length=60, blank=True)
    payer_claim_number = models.CharField(max_length=50, blank=True)  # CLP07, for REF*F8
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "number"], name="claim_number_per_practice"
            ),
            models.CheckConstraint(
                condition=Q(total_charge_cents__gte=0), name="claim_total_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(frequency="1") | Q(replaces__isnull=False),
                name="claim_replacement_names_original",
            ),
            models.CheckConstraint(
                condition=Q(msp_type="") | Q(primary_claim__isnull=False),
                name="claim_msp_type_only_on_secondary",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "status"]),
            models.Index(fields=["practice", "date_of_service"]),
        ]

    def __str__(self) -> str:
        return f"Claim {self.number}"

    @property
    def total_charge(self) -> Cents:
        return Cents(self.total_charge_cents)


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    number = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list)
    units = models.PositiveSmallIntegerField()
    minutes = models.PositiveSmallIntegerField(default=0)
    pointers = models.JSONField(default=list)  # 1-based positions in claim.diagnoses
    charge_cents = models.BigIntegerField()
    rationale = models.TextField(blank=True)
    body_region = models.CharField(max_length=60, blank=True)
    # REF*6R line item control number; the 835 echoes it so payments match line by line.
    control_number = models.CharField(max_length=30)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "number"], name="claim_line_number"),
            models.UniqueConstraint(
                fields=["claim", "control_number"], name="line_control_number_per_claim"
            ),
            models.CheckConstraint(condition=Q(units__gte=1), name="claim_line_units_positive"),
            models.CheckConstraint(
                condition=Q(charge_cents__gt=0), name="claim_line_charge_positive"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1) & Q(number__lte=50), name="claim_line_number_1_50"
            ),
        ]

    def __str__(self) -> str:
        mods = ":".join(self.modifiers)
        return f"{self.code}{':' + mods if mods else ''} x{self.units}"


class Severity(models.TextChoices):
    BLOCKING = "blocking", "Blocking"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


class ClaimFinding(models.Model):
    """The latest scrub's findings; replaced at each scrub (the events keep the history)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(max_length=40)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    message = models.TextField()
    fix = models.TextField()
    line = models.PositiveSmallIntegerField(null=True, blank=True)
    code = models.CharField(max_length=8, blank=True)
    scrubbed_at = models.DateTimeField()

    class Meta:
        ordering = ["severity", "line", "rule"]
        indexes = [models.Index(fields=["rule", "severity"])]

    def __str__(self) -> str:
        return f"{self.severity}: {self.rule}"


class FindingOverride(models.Model):
    """A person's decision to send a claim despite a blocking finding, with the reason."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="overrides")
    rule = models.CharField(max_length=40)
    line = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.TextField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="override_needs_reason"),
        ]

    def __str__(self) -> str:
        return f"override {self.rule}"


class ClaimEvent(models.Model):
    """One move in a claim's life, with who and why. Never edited."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"
