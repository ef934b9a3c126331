"""The form a biller edits a policy version with (used by the admin).

It checks the rules with the same code the action uses, so the admin shows the same messages
as the command line and the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from handbill.core.policy import PolicyError
from handbill.policies.actions import check_rules, check_start, practice_today
from handbill.policies.models import PayerPolicyVersion


class PolicyVersionForm(forms.ModelForm):
    class Meta:
        model = PayerPolicyVersion
        fields = ["payer", "effective_date", "rules"]
        help_texts = {
            "rules": (
                "The version's rules as JSON, with the fields of a policy file's [[version]] "
                "table (see docs/policies.md). Saving stores a new version from the "
                "effective date; the version it follows keeps its rules."
            ),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is not None and not self.has_changed():
            return cleaned
        payer = cleaned.get("payer") or (
            self.instance.payer if self.instance.payer_id is not None else None
        )
        rules = cleaned.get("rules")
        effective_date = cleaned.get("effective_date")
        if payer is None or rules is None or effective_date is None:
            return cleaned  # the field errors already say what is missing
        try:
            check_rules(payer=payer, rules=rules, effective_date=effective_date)
        except PolicyError as exc:
            self.add_error("rules", str(exc))
        try:
            today = practice_today(payer.practice, timezone.now())
            check_start(payer=payer, effective_date=effective_date, today=today)
        except PolicyError as exc:
            self.add_error("effective_date", str(exc))
        return cleaned

    def validate_unique(self) -> None:
        # The action closes the version in force and places the new one; the table's own
        # constraints would refuse the unsaved row against the version it is about to close.
        return None
