"""Small form fields shared by the pages."""

from __future__ import annotations

from typing import Any

from django import forms

from handbill.core.money import Cents, MoneyError


class DollarsField(forms.CharField):
    """An amount typed in dollars ("25", "25.50", "$1,200"), cleaned to whole cents."""

    def __init__(self, *, allow_zero: bool = True, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        try:
            cents = Cents.parse(str(text).replace("$", "").replace(",", ""))
        except MoneyError:
            raise forms.ValidationError(
                f"{text!r} is not an amount: type dollars and cents, e.g. 25.00"
            ) from None
        if cents.value < 0 or (cents.value == 0 and not self.allow_zero):
            raise forms.ValidationError(
                "enter an amount above 0" if not self.allow_zero else "enter 0 or more"
            )
        return cents.value

    def prepare_value(self, value: Any) -> Any:
        # Initial values come from the model in cents; what the user typed stays as typed.
        if isinstance(value, int) and not isinstance(value, bool):
            return Cents(value).to_decimal_string()
        return value


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%H:%M")
        super().__init__(**kwargs)


def end_after_start(form: forms.Form, start: str = "start_date", end: str = "end_date") -> None:
    """Periods are [start, end): the end date must come after the start date."""
    first, last = form.cleaned_data.get(start), form.cleaned_data.get(end)
    if first is not None and last is not None and last <= first:
        form.add_error(
            end,
            f"the end date ({last:%m/%d/%Y}) must be after the start date ({first:%m/%d/%Y}); "
            "the end date is the first day it no longer applies",
        )
