"""The tenant and who may act for it.

Every row that holds patient or money data points at one Practice; every query in actions and
views goes through the practice a membership grants.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models

from handbill.core.money import Cents


class TaxIdKind(models.TextChoices):
    EIN = "ein", "Employer identification number"
    SSN = "ssn", "Social security number (sole proprietor)"


class Practice(models.Model):
    legal_name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    # The NPI that bills: the clinic's type 2, or a solo therapist's own type 1.
    billing_npi = models.CharField(max_length=10)
    tax_id_kind = models.CharField(max_length=3, choices=TaxIdKind.choices, default=TaxIdKind.EIN)
    tax_id = models.CharField(max_length=9, help_text="Nine digits, no dash")
    taxonomy = models.CharField(max_length=10, default="225700000X")
    address_line1 = models.CharField(max_length=55)
    address_line2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=15, blank=True)
    timezone = models.CharField(max_length=40, default="America/Los_Angeles")
    # X12 submitter identity (ETIN) as the clearinghouse knows this practice.
    submitter_id = models.CharField(max_length=15, blank=True)
    # Last claim number handed out (CLM01); taken under a row lock so numbers never repeat.
    claim_sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    # Owners and billers of this practice sign in with a one-time code too (TOTP); changed
    # only through handbill.practice.actions.set_two_factor_requirement, which audits it.
    require_two_factor = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(billing_npi__regex=r"^[12][0-9]{9}$"),
                name="practice_billing_npi_shape",
            ),
            models.CheckConstraint(
                condition=models.Q(tax_id__regex=r"^[0-9]{9}$"), name="practice_tax_id_shape"
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name

    def local_date(self, at: datetime) -> date:
        """The practice's calendar day at ``at``: deadlines count in the clinic's time zone."""
        if at.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        return at.astimezone(ZoneInfo(self.timezone)).date()


class Location(models.Model):
    """A place services are given; its address is the service facility when it differs."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=60)
    npi = models.CharField(max_length=10, blank=True)
    address_line1 = models.CharField(max_length=55)
    address_line2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    default_place_of_service = models.CharField(max_length=2, default="11")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="location_name_per_practice")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.practice})"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    BILLER = "biller", "Biller"
    THERAPIST = "therapist", "Therapist"
    FRONT_DESK = "front_desk", "Front desk"
    AUDITOR = "auditor", "Read-only auditor"


class Membership(models.Model):
    """A user's access to one practice; a billing company's staff hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    # A therapist member is linked to her provider record so she sees her own notes.
    provider = models.ForeignKey(
        "practice.Provider", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="memberships",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="one_membership_per_practice")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.practice} ({self.role})"


class Provider(models.Model):
    """A rendering therapist."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="providers")
    first_name = models.CharField(max_length=35)
    last_name = models.CharField(max_length=60)
    credentials = models.CharField(max_length=20, blank=True, help_text="e.g. LMT")
    npi = models.CharField(max_length=10)
    taxonomy = models.CharField(max_length=10, default="225700000X")
    license_number = models.CharField(max_length=30, blank=True)
    license_state = models.CharField(max_length=2, blank=True)
    license_expires_date = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "npi"], name="provider_npi_per_practice"),
            models.CheckConstraint(
                condition=models.Q(npi__regex=r"^[12][0-9]{9}$"), name="provider_npi_shape"
            ),
        ]

    def __str__(self) -> str:
        suffix = f", {self.credentials}" if self.credentials else ""
        return f"{self.first_name} {self.last_name}{suffix}"


class PayerType(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    MEDICARE = "medicare", "Original Medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage"
    MEDICAID = "medicaid", "Medicaid"
    AUTO = "auto", "Auto / PIP"
    WORKERS_COMP = "workers_comp", "Workers' compensation"
    OTHER = "other", "Other"


class Payer(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="payers")
    name = models.CharField(max_length=60)
    # The electronic payer ID the clearinghouse routes on (NM109 of 2010BB).
    payer_id = models.CharField(max_length=80)
    payer_type = models.CharField(max_length=24, choices=PayerType.choices)
    # SBR09: CI commercial, BL BCBS, HM HMO, MB Medicare B, 16 MA HMO, MC Medicaid, AM, WC …
    claim_filing_indicator = models.CharField(max_length=2)
    address_line1 = models.CharField(max_length=55, blank=True)
    address_line2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=15, blank=True)
    # Which shipped policy profile this payer follows (see handbill/policies/data).
    policy_profile = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "payer_id"], name="payer_id_per_practice")
        ]

    def __str__(self) -> str:
        return self.name


class EnrollmentStatus(models.TextChoices):
    IN_NETWORK = "in_network", "In network"
    OUT_OF_NETWORK = "out_of_network", "Out of network, allowed"
    PENDING = "pending", "Credentialing pending"
    NOT_ENROLLED = "not_enrolled", "Not enrolled"


class PayerEnrollment(models.Model):
    """Credentialing of one provider with one payer over ``[effective_date, end_date)``."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="enrollments")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="enrollments")
    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(max_length=16, choices=EnrollmentStatus.choices)
    effective_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gt=models.F("effective_date")),
                name="enrollment_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} / {self.payer}: {self.get_status_display()}"


class FeeScheduleEntry(models.Model):
    """The practice's own charge per unit of a code (what goes on the claim)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="fees")
    code = models.CharField(max_length=5)
    charge_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "code"], name="one_fee_per_code"),
            models.CheckConstraint(condition=models.Q(charge_cents__gt=0), name="fee_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {Cents(self.charge_cents).display()}"
