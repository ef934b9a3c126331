"""The claim list's filters and the override form."""

from __future__ import annotations

from typing import Any

from django import forms

from handbill.claims.models import Status
from handbill.practice.access import scoped
from handbill.practice.models import Payer, Practice, Provider
from handbill.web.forms.fields import DateInput
from handbill.web.queries.claims import ClaimFilters


class ClaimFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Claim or account number")
    status = forms.ChoiceField(required=False, choices=[("", "Any status")] + Status.choices)
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(), required=False, empty_label="Any payer"
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(), required=False, empty_label="Any therapist",
        label="Therapist",
    )
    date_from = forms.DateField(required=False, widget=DateInput(), label="Service from")
    date_to = forms.DateField(required=False, widget=DateInput(), label="Service to")
    rule = forms.ChoiceField(required=False, label="Finding")

    def __init__(self, *args: Any, practice: Practice, rules: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = scoped(Payer.objects.all(), practice).order_by("name")  # type: ignore[attr-defined]
        self.fields["provider"].queryset = scoped(  # type: ignore[attr-defined]
            Provider.objects.all(), practice
        ).order_by("last_name", "first_name")
        self.fields["rule"].choices = [("", "Any finding")] + [(r, r) for r in rules]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", "the last date of service comes before the first")
        return cleaned

    def filters(self) -> ClaimFilters:
        """The valid filters (an invalid one is shown with its message and not applied)."""
        data = getattr(self, "cleaned_data", None) or {}
        if not self.is_bound:
            return ClaimFilters()
        payer, provider = data.get("payer"), data.get("provider")
        return ClaimFilters(
            status=data.get("status") or "",
            payer=payer.pk if payer else None,
            provider=provider.pk if provider else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to") if "date_to" not in self.errors else None,
            rule=data.get("rule") or "",
            text=data.get("q") or "",
        )


class OverrideForm(forms.Form):
    rule = forms.CharField(widget=forms.HiddenInput)
    line = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the claim may go out anyway, in words a payer's auditor would accept",
    )
