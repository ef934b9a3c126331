"""The submit page's payer filter and the form that starts a submission."""

from __future__ import annotations

from typing import Any

from django import forms

from handbill.practice.access import scoped
from handbill.practice.models import Payer, Practice
from handbill.web.queries.submit import clearinghouses


class ReadyFilterForm(forms.Form):
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(), required=False, empty_label="Every payer"
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = scoped(Payer.objects.all(), practice).order_by("name")  # type: ignore[attr-defined]

    def payer_id(self) -> int | None:
        if not self.is_bound or not self.is_valid():
            return None
        payer = self.cleaned_data.get("payer")
        return payer.pk if payer else None


class SubmitForm(forms.Form):
    """Either the claims ticked on the page, or every ready claim of the filter ("all")."""

    clearinghouse = forms.ModelChoiceField(queryset=None, empty_label=None)  # type: ignore[arg-type]
    claims = forms.TypedMultipleChoiceField(coerce=int, required=False)
    everything = forms.BooleanField(required=False)
    payer = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clearinghouse"].queryset = clearinghouses(practice)  # type: ignore[attr-defined]
        # The ids are checked against the practice by the action; any integer is accepted here.
        self.fields["claims"].valid_value = lambda value: True  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("everything") and not cleaned.get("claims"):
            self.add_error("claims", "tick the claims to send, or choose “Submit all”")
        return cleaned
