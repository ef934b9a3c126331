"""Patient records. Thin models: cross-record writes live in ``patients.actions``."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from handbill.practice.models import Payer, Practice


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    UNKNOWN = "U", "Unknown"


class Patient(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="patients")
    # CLM01 is the claim's own number; the account number is the patient's, printed in box 26.
    account_number = models.CharField(max_length=20)
    first_name = models.CharField(max_length=35)
    middle_initial = models.CharField(max_length=1, blank=True)
    last_name = models.CharField(max_length=60)
    birth_date = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    address_line1 = models.CharField(max_length=55)
    address_line2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=15, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "account_number"], name="patient_account_per_practice"
            )
        ]
        indexes = [models.Index(fields=["practice", "last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class CoverageOrder(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class Relationship(models.TextChoices):
    # X12 individual relationship codes (SBR02 / PAT01).
    SELF = "18", "Self"
    SPOUSE = "01", "Spouse"
    CHILD = "19", "Child"
    EMPLOYEE = "20", "Employee"
    OTHER = "G8", "Other relationship"


class Coverage(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="coverages")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    order = models.PositiveSmallIntegerField(choices=CoverageOrder.choices)
    member_id = models.CharField(max_length=80)
    group_number = models.CharField(max_length=50, blank=True)
    plan_name = models.CharField(max_length=60, blank=True)
    relationship = models.CharField(
        max_length=2, choices=Relationship.choices, default=Relationship.SELF
    )
    # The subscriber, when it is someone other than the patient.
    subscriber_first_name = models.CharField(max_length=35, blank=True)
    subscriber_last_name = models.CharField(max_length=60, blank=True)
    subscriber_birth_date = models.DateField(null=True, blank=True)
    subscriber_sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)  # exclusive: [start_date, end_date)
    copay_cents = models.BigIntegerField(null=True, blank=True)
    coinsurance_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    deductible_cents = models.BigIntegerField(null=True, blank=True)
    # Auto/PIP and workers' comp.
    claim_number = models.CharField(max_length=50, blank=True)
    adjuster_name = models.CharField(max_length=60, blank=True)
    adjuster_phone = models.CharField(max_length=15, blank=True)
    accident_date = models.DateField(null=True, blank=True)
    accident_state = models.CharField(max_length=2, blank=True)
    employer_name = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["order", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="coverage_period_order",
            ),
            models.CheckConstraint(
                condition=Q(copay_cents__isnull=True) | Q(copay_cents__gte=0),
                name="coverage_copay_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(deductible_cents__isnull=True) | Q(deductible_cents__gte=0),
                name="coverage_deductible_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(coinsurance_percent__isnull=True) | Q(coinsurance_percent__lte=100),
                name="coverage_coinsurance_percent",
            ),
            models.CheckConstraint(
                condition=Q(relationship="18") | ~Q(subscriber_last_name=""),
                name="coverage_subscriber_named_when_not_self",
            ),
            models.UniqueConstraint(
                fields=["patient", "order", "start_date"], name="coverage_order_per_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer} ({self.get_order_display().lower()}) {self.member_id}"


class AuthorizationKind(models.TextChoices):
    AUTHORIZATION = "authorization", "Prior authorization"
    PRESCRIPTION = "prescription", "Prescription"
    REFERRAL = "referral", "Referral"


class Authorization(models.Model):
    """An authorization, prescription or referral. What has been used is computed from claims
    (``patients.usage``), never typed in."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="authorizations")
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="authorizations")
    kind = models.CharField(max_length=16, choices=AuthorizationKind.choices)
    number = models.CharField(max_length=50, blank=True)
    referring_provider_name = models.CharField(max_length=80, blank=True)
    referring_provider_npi = models.CharField(max_length=10, blank=True)
    codes = models.JSONField(default=list, blank=True, help_text="Codes covered; empty = any")
    visits_allowed = models.PositiveIntegerField(null=True, blank=True)
    units_allowed = models.JSONField(default=dict, blank=True, help_text='e.g. {"97124": 24}')
    dollars_allowed_cents = models.BigIntegerField(null=True, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)  # exclusive
    notes = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="authorization_period_order",
            ),
            models.CheckConstraint(
                condition=Q(dollars_allowed_cents__isnull=True) | Q(dollars_allowed_cents__gt=0),
                name="authorization_dollars_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="authorization") | ~Q(number=""),
                name="authorization_has_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}".strip()
