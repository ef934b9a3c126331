"""Editing a payer's policy: the rules of a new version, field by field, from a date.

The form only turns fields into the rules table of ``docs/policies.md`` and back; the rules
are checked by ``handbill.policies.actions.check_rules`` and ``check_start``, the same checks
the save runs, and each message is shown next to the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms

from handbill.core.policy import PolicyError
from handbill.policies.actions import check_rules, check_start
from handbill.practice.models import Payer
from handbill.web.forms.fields import DateInput
from handbill.web.queries.payers import (
    LINE_STYLES,
    MODIFIER_STYLES,
    REFERRALS,
    THERAPY_MODIFIERS,
    UNIT_RULES,
)

_OPTIONAL_COUNTS = ("visit_cap_per_year", "daily_unit_cap", "authorization_after_visits")


def _pairs(text: str, field: str) -> list[tuple[str, str]]:
    """Lines of "key: value" (or "key = value"); blank lines are skipped."""
    pairs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":") if ":" in line else line.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(
                f"line {number} ({line!r}) needs a colon: write it as {field}")
        pairs.append((key.strip().strip('"'), value.strip()))
    return pairs


class PolicyVersionForm(forms.Form):
    effective_date = forms.DateField(
        widget=DateInput(), help_text="The first day the new rules apply; the version in force "
        "then ends the day before, with its rules unchanged")
    unit_rule = forms.ChoiceField(choices=UNIT_RULES, label="Minutes to units")
    timely_filing_days = forms.IntegerField(min_value=1, label="Timely filing (days)")
    referral = forms.ChoiceField(choices=REFERRALS, label="Referral")
    authorization_after_visits = forms.IntegerField(
        required=False, min_value=0, label="Authorization needed after visits",
        help_text="0: from the first visit; leave empty if never")
    prior_authorization_codes = forms.CharField(
        required=False, label="Codes needing authorization from the first visit",
        help_text="Separated by commas, e.g. 97112")
    visit_cap_per_year = forms.IntegerField(required=False, min_value=1,
                                            label="Visits paid per year",
                                            help_text="Leave empty for no cap")
    daily_unit_cap = forms.IntegerField(required=False, min_value=1, label="Units paid per day",
                                        help_text="Leave empty for no cap")
    modifier_style = forms.ChoiceField(choices=MODIFIER_STYLES, label="Distinct-procedure "
                                       "modifier")
    therapy_modifier = forms.ChoiceField(choices=THERAPY_MODIFIERS, required=False,
                                         label="Therapy modifier")
    line_style = forms.ChoiceField(choices=LINE_STYLES, label="Claim lines")
    bills_97010 = forms.BooleanField(required=False, label="Pays hot/cold packs (97010)")
    requires_claim_number = forms.BooleanField(
        required=False, label="Needs the accident or injury claim number (auto, workers' comp)")
    allowed_codes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        label="Codes paid per provider taxonomy",
        help_text="One taxonomy a line: 225700000X: 97124, 97140. A taxonomy not listed may "
        "bill any code; one with nothing after the colon is paid nothing")
    expected_allowed = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        label="Expected allowed per unit",
        help_text="One code a line: 97124: 28.10 (used to spot underpayments)")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            label="What changed in this version")

    def __init__(self, *args: Any, payer: Payer, today: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payer, self.today = payer, today

    @staticmethod
    def initial_from(rules: dict[str, Any]) -> dict[str, Any]:
        """Form values from a stored version's rules (to start the next version from)."""
        initial = {k: v for k, v in rules.items() if k not in ("allowed_codes",
                                                                "expected_allowed")}
        initial["prior_authorization_codes"] = ", ".join(rules.get("prior_authorization_codes",
                                                                   []))
        initial["allowed_codes"] = "\n".join(
            f"{taxonomy}: {', '.join(codes)}"
            for taxonomy, codes in rules.get("allowed_codes", {}).items())
        initial["expected_allowed"] = "\n".join(
            f"{code}: {amount}" for code, amount in rules.get("expected_allowed", {}).items())
        return initial

    def clean_allowed_codes(self) -> dict[str, list[str]]:
        field = "225700000X: 97124, 97140"
        return {taxonomy: [c.strip() for c in codes.split(",") if c.strip()]
                for taxonomy, codes in _pairs(self.cleaned_data["allowed_codes"], field)}

    def clean_expected_allowed(self) -> dict[str, str]:
        return dict(_pairs(self.cleaned_data["expected_allowed"], "97124: 28.10"))

    def clean_prior_authorization_codes(self) -> list[str]:
        text = self.cleaned_data["prior_authorization_codes"]
        return [code.strip() for code in text.split(",") if code.strip()]

    def rules(self) -> dict[str, Any]:
        data = self.cleaned_data
        rules = {name: data[name] for name in (
            "unit_rule", "allowed_codes", "bills_97010", "modifier_style", "therapy_modifier",
            "referral", "timely_filing_days", "line_style", "requires_claim_number",
            "prior_authorization_codes", "expected_allowed", "notes")}
        rules["therapy_modifier"] = rules["therapy_modifier"] or ""
        rules.update({name: data[name] for name in _OPTIONAL_COUNTS if data.get(name) is not None})
        return rules

    def _place(self, message: str) -> None:
        """Show a rules error next to the field it names (else above the form)."""
        named = [name for name in self.fields if name != "effective_date" and name in message]
        self.add_error(max(named, key=len) if named else None, message)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            check_rules(payer=self.payer, rules=self.rules(),
                        effective_date=cleaned["effective_date"])
        except PolicyError as exc:
            self._place(str(exc))
        try:
            check_start(payer=self.payer, effective_date=cleaned["effective_date"],
                        today=self.today)
        except PolicyError as exc:
            self.add_error("effective_date", str(exc))
        return cleaned
