"""Admin for setup data (practice, locations, providers, payers, enrolments, fees).

Day-to-day work happens in Handbill's own pages; the admin is for the owner's setup.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm

from handbill.core.codes import cpt
from handbill.practice.models import (
    FeeScheduleEntry,
    Location,
    Membership,
    Payer,
    PayerEnrollment,
    Practice,
    Provider,
)


def _validate_npi(value: str) -> None:
    from handbill.core.codes.npi import check_npi

    result = check_npi(value)
    if not result.valid:
        raise ValidationError(f"NPI {value}: {result.reason}")


class PracticeForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Practice
        fields = [
            "legal_name", "slug", "billing_npi", "tax_id_kind", "tax_id", "taxonomy",
            "address_line1", "address_line2", "city", "state", "postal_code", "phone",
            "timezone", "submitter_id", "created_at",
        ]

    def clean_billing_npi(self) -> str:
        value = str(self.cleaned_data["billing_npi"])
        _validate_npi(value)
        return value

    def clean_address_line1(self) -> str:
        value = str(self.cleaned_data["address_line1"])
        compact = value.upper().replace(".", "").replace(" ", "")
        if compact.startswith("POBOX") or compact.startswith("BOX") or "POBOX" in compact:
            raise ValidationError(
                "the billing address must be a street address; payers reject a PO box here "
                "(put a PO box in the pay-to address instead)"
            )
        return value


class ProviderForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Provider
        fields = [
            "practice", "first_name", "last_name", "credentials", "npi", "taxonomy",
            "license_number", "license_state", "license_expires_date", "active",
        ]

    def clean_npi(self) -> str:
        value = str(self.cleaned_data["npi"])
        _validate_npi(value)
        return value


class FeeForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = FeeScheduleEntry
        fields = ["practice", "code", "charge_cents"]

    def clean_code(self) -> str:
        try:
            return cpt.get(str(self.cleaned_data["code"])).code
        except cpt.UnknownCodeError as exc:
            raise ValidationError(str(exc)) from None


class LocationInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Location
    extra = 0


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = PracticeForm
    list_display = ("legal_name", "billing_npi", "state", "timezone")
    inlines = [LocationInline]
    readonly_fields = ("claim_sequence",)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ProviderForm
    list_display = ("__str__", "practice", "npi", "taxonomy", "license_state",
                    "license_expires_date", "active")
    list_filter = ("practice", "active")


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "practice", "payer_id", "payer_type", "claim_filing_indicator",
                    "policy_profile")
    list_filter = ("practice", "payer_type")


@admin.register(PayerEnrollment)
class PayerEnrollmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("provider", "payer", "status", "effective_date", "end_date")
    list_filter = ("status",)


@admin.register(FeeScheduleEntry)
class FeeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = FeeForm
    list_display = ("code", "practice", "charge_cents")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "practice", "role", "provider")
    list_filter = ("role", "practice")
