"""The 835 upload and the form that chooses our claim for an unmatched one."""

from __future__ import annotations

from typing import Any

from django import forms

from handbill.claims.models import Claim
from handbill.practice.access import scoped
from handbill.practice.models import Practice
from handbill.submissions.inbox import decode

# A year of a busy practice's remittances fits in far less; this only stops a wrong file.
MAX_835_BYTES = 50 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(
        label="835 file",
        help_text="The remittance advice (ERA) as the payer or clearinghouse sent it",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_835_BYTES:
            raise forms.ValidationError("this file is larger than 50 MB; it is not an 835")
        text = decode(upload.read())
        if not text.lstrip("\ufeff \t\r\n").startswith("ISA"):
            raise forms.ValidationError(
                "this is not an X12 file: an 835 starts with an ISA segment. Choose the ERA "
                "file itself, not a PDF or a report of it")
        self.text = text
        return upload


class ResolveForm(forms.Form):
    clp01 = forms.CharField(widget=forms.HiddenInput, max_length=38)
    claim = forms.CharField(label="Our claim number", max_length=30,
                            help_text="The claim this payment is for, e.g. HB0000123")

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice

    def clean_claim(self) -> Claim:
        number = self.cleaned_data["claim"].strip().upper()
        found = scoped(Claim.objects.all(), self.practice).filter(number__iexact=number).first()
        if found is None:
            raise forms.ValidationError(
                f"there is no claim {number} in this practice; copy the number from the claim "
                "page")
        return found
