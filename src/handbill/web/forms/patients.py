"""Patient, coverage and authorization forms."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from handbill.core.codes import cpt
from handbill.core.codes.npi import check_npi
from handbill.patients.actions import AuthorizationInput, CoverageInput, PatientInput
from handbill.patients.models import (
    AuthorizationKind,
    Coverage,
    CoverageOrder,
    Relationship,
    Sex,
)
from handbill.practice.access import scoped
from handbill.practice.models import Payer, PayerType, Practice
from handbill.web.forms.fields import DateInput, DollarsField, end_after_start

_BLANK = [("", "—")]


class PatientForm(forms.Form):
    account_number = forms.CharField(max_length=20, help_text="The practice's own number")
    first_name = forms.CharField(max_length=35)
    middle_initial = forms.CharField(max_length=1, required=False)
    last_name = forms.CharField(max_length=60)
    birth_date = forms.DateField(widget=DateInput(), label="Date of birth")
    sex = forms.ChoiceField(choices=Sex.choices, initial=Sex.UNKNOWN)
    address_line1 = forms.CharField(max_length=55, label="Address")
    address_line2 = forms.CharField(max_length=55, required=False, label="Address, line 2")
    city = forms.CharField(max_length=30)
    state = forms.CharField(max_length=2, help_text="Two letters, e.g. WA")
    postal_code = forms.CharField(max_length=10, label="ZIP code")
    phone = forms.CharField(max_length=15, required=False)
    email = forms.EmailField(required=False)

    def clean_state(self) -> str:
        state = str(self.cleaned_data["state"]).strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", state):
            raise forms.ValidationError("use the two-letter state code, e.g. WA")
        return state

    def to_input(self) -> PatientInput:
        return PatientInput(**self.cleaned_data)


def _code_list(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


class CoverageForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none(), empty_label=None)
    order = forms.TypedChoiceField(
        choices=CoverageOrder.choices, coerce=int, initial=CoverageOrder.PRIMARY
    )
    member_id = forms.CharField(max_length=80, label="Member ID", help_text="As on the card")
    group_number = forms.CharField(max_length=50, required=False)
    plan_name = forms.CharField(max_length=60, required=False)
    relationship = forms.ChoiceField(
        choices=Relationship.choices, initial=Relationship.SELF,
        label="Patient's relationship to the subscriber",
    )
    subscriber_first_name = forms.CharField(max_length=35, required=False)
    subscriber_last_name = forms.CharField(max_length=60, required=False)
    subscriber_birth_date = forms.DateField(
        required=False, widget=DateInput(), label="Subscriber's date of birth"
    )
    subscriber_sex = forms.ChoiceField(choices=_BLANK + list(Sex.choices), required=False)
    start_date = forms.DateField(widget=DateInput(), label="Covered from")
    end_date = forms.DateField(
        required=False, widget=DateInput(), label="Covered until (first day not covered)"
    )
    copay_cents = DollarsField(required=False, label="Copay ($)")
    coinsurance_percent = forms.IntegerField(
        required=False, min_value=0, max_value=100, label="Coinsurance (%)"
    )
    deductible_cents = DollarsField(required=False, label="Deductible ($)")
    claim_number = forms.CharField(
        max_length=50, required=False, label="Carrier's claim number", help_text="Auto and WC"
    )
    adjuster_name = forms.CharField(max_length=60, required=False)
    adjuster_phone = forms.CharField(max_length=15, required=False)
    accident_date = forms.DateField(
        required=False, widget=DateInput(), label="Date of accident or injury"
    )
    accident_state = forms.CharField(max_length=2, required=False, label="State of accident")
    employer_name = forms.CharField(max_length=60, required=False)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = scoped(Payer.objects.all(), practice).order_by(  # type: ignore[attr-defined]
            "name"
        )

    @classmethod
    def initial_from(cls, coverage: Coverage) -> dict[str, Any]:
        names = [name for name in cls.base_fields if name != "payer"]
        initial = {name: getattr(coverage, name) for name in names}
        initial["payer"] = coverage.payer_id
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        end_after_start(self)
        relationship = cleaned.get("relationship")
        if relationship and relationship != Relationship.SELF and not str(
            cleaned.get("subscriber_last_name", "")
        ).strip():
            self.add_error(
                "subscriber_last_name",
                "name the subscriber when the patient is not the subscriber",
            )
        payer = cleaned.get("payer")
        if payer is not None and payer.payer_type in (PayerType.AUTO, PayerType.WORKERS_COMP):
            for name, words in (
                ("claim_number", "the carrier's claim number"),
                ("accident_date", "the date of the accident or injury"),
                ("accident_state", "the state where it happened"),
            ):
                if not cleaned.get(name):
                    self.add_error(
                        name,
                        f"{payer.get_payer_type_display()} coverage needs {words} "
                        "(from the carrier's acknowledgement letter)",
                    )
        state = str(cleaned.get("accident_state") or "").strip().upper()
        cleaned["accident_state"] = state
        return cleaned

    def to_input(self) -> CoverageInput:
        values = {k: v for k, v in self.cleaned_data.items() if k != "payer"}
        for name, value in list(values.items()):
            if value is None and name in (
                "group_number", "plan_name", "subscriber_first_name", "subscriber_last_name",
                "subscriber_sex", "claim_number", "adjuster_name", "adjuster_phone",
                "accident_state", "employer_name",
            ):
                values[name] = ""
        return CoverageInput(**values)


class AuthorizationForm(forms.Form):
    kind = forms.ChoiceField(choices=AuthorizationKind.choices)
    number = forms.CharField(
        max_length=50, required=False, help_text="Required for a prior authorization"
    )
    referring_provider_name = forms.CharField(max_length=80, required=False)
    referring_provider_npi = forms.CharField(
        max_length=20, required=False, label="Referring provider NPI"
    )
    codes = forms.CharField(
        required=False, label="Codes covered", help_text="e.g. 97124, 97140; empty = any code"
    )
    visits_allowed = forms.IntegerField(required=False, min_value=1)
    units_allowed = forms.CharField(
        required=False, label="Units allowed per code", help_text="e.g. 97124=24, 97140=12"
    )
    dollars_allowed_cents = DollarsField(
        required=False, allow_zero=False, label="Dollar cap ($)"
    )
    start_date = forms.DateField(widget=DateInput(), label="Valid from")
    end_date = forms.DateField(
        required=False, widget=DateInput(), label="Valid until (first day no longer valid)"
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_referring_provider_npi(self) -> str:
        text = str(self.cleaned_data.get("referring_provider_npi") or "").strip()
        if text:
            result = check_npi(text)
            if not result.valid:
                raise forms.ValidationError(result.reason or "not a valid NPI")
        return text

    def clean_codes(self) -> list[str]:
        found = []
        for code in _code_list(str(self.cleaned_data.get("codes") or "")):
            try:
                found.append(cpt.get(code).code)
            except cpt.UnknownCodeError as exc:
                raise forms.ValidationError(str(exc)) from None
        return found

    def clean_units_allowed(self) -> dict[str, int]:
        units: dict[str, int] = {}
        for part in _code_list(str(self.cleaned_data.get("units_allowed") or "")):
            code, sep, count = part.partition("=")
            if not sep or not count.strip().isdigit() or int(count) <= 0:
                raise forms.ValidationError(
                    f"{part!r}: write each code with its units as CODE=UNITS, e.g. 97124=24"
                )
            try:
                units[cpt.get(code).code] = int(count)
            except cpt.UnknownCodeError as exc:
                raise forms.ValidationError(str(exc)) from None
        return units

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        end_after_start(self)
        if cleaned.get("kind") == AuthorizationKind.AUTHORIZATION and not str(
            cleaned.get("number") or ""
        ).strip():
            self.add_error("number", "a prior authorization needs the number the payer gave")
        return cleaned

    def to_input(self) -> AuthorizationInput:
        return AuthorizationInput(**self.cleaned_data)
