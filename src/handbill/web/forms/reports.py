"""The reports' filters: a date range and, for payments, the period to group by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms

from handbill.web.forms.fields import DateInput

DEFAULT_DAYS = 90
MAX_DAYS = 366 * 5


@dataclass(frozen=True)
class ReportRange:
    start: date  # first day, inclusive
    end: date  # the day after the last: queries take [start, end)
    last: date  # the last day as the user typed it
    period: str  # "month" or "week"


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label="From", required=False, widget=DateInput(),
        help_text="first day (date of service, payment or 835 date)",
    )
    to = forms.DateField(
        label="To", required=False, widget=DateInput(),
        help_text="last day, included; A/R aging is as of this day",
    )
    period = forms.ChoiceField(
        label="Payments by", required=False,
        choices=[("month", "Month"), ("week", "Week")],
    )

    def __init__(self, data: Any, *, today: date) -> None:
        # The default range shows in the fields, so the user sees what the page covers.
        super().__init__(data, initial={
            "start": today - timedelta(days=DEFAULT_DAYS - 1), "to": today, "period": "month",
        })
        self.today = today

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, to = cleaned.get("start"), cleaned.get("to")
        if start and to and to < start:
            self.add_error("to", "the last day is before the first day: swap them or pick "
                           "a later day")
        elif start and to and (to - start).days > MAX_DAYS:
            self.add_error("start", "pick a range of five years or less")
        return cleaned

    def range(self) -> ReportRange:
        """The range asked for, or the default (the last 90 days) for what is missing or
        invalid; call after ``is_valid()``."""
        cleaned = self.cleaned_data if self.is_bound and not self.errors else {}
        last = cleaned.get("to") or self.today
        start = cleaned.get("start") or last - timedelta(days=DEFAULT_DAYS - 1)
        period = cleaned.get("period") or "month"
        return ReportRange(start=start, end=last + timedelta(days=1), last=last, period=period)
