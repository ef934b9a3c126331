"""The visit note: the SOAP fields, the diagnoses and the service entries, as one form.

Diagnoses and services are formsets whose rows are added and removed by a round trip to the
server (a plain submit button; htmx swaps just the rows when it is loaded), so the page works
without JavaScript and the server always decides what a row means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from django import forms
from django.db.models import Q
from django.http import QueryDict

from handbill.core.codes import cpt, icd10, pos
from handbill.patients.models import Coverage, Patient
from handbill.practice.access import scoped
from handbill.practice.models import Location, Practice, Provider
from handbill.visits.actions import NoteInput, ServiceInput
from handbill.visits.models import Visit
from handbill.web.forms.fields import DateInput, TimeInput

MAX_DIAGNOSES = 12
MAX_SERVICES = 20
DX_PREFIX, SERVICE_PREFIX = "dx", "svc"
NOTE_FIELDS = (
    "subjective", "objective", "assessment", "plan", "medical_necessity",
    "response_to_treatment",
)


def _note_area(rows: int, hint: str) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "placeholder": hint})


class NoteForm(forms.Form):
    date_of_service = forms.DateField(widget=DateInput())
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(), empty_label=None, label="Therapist"
    )
    coverage = forms.ModelChoiceField(
        queryset=Coverage.objects.none(), required=False,
        empty_label="The primary coverage in force that day", label="Bill to",
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="—"
    )
    place_of_service = forms.ChoiceField(
        choices=[(p.code, f"{p.code} {p.name}") for p in pos.PLACES.values()], initial="11"
    )
    subjective = forms.CharField(
        required=False, widget=_note_area(3, "What the patient reports: pain, function, goals")
    )
    objective = forms.CharField(
        required=False, widget=_note_area(3, "What you found: palpation, range of motion, tests")
    )
    assessment = forms.CharField(required=False, widget=_note_area(2, "Your assessment"))
    plan = forms.CharField(required=False, widget=_note_area(2, "Frequency, duration, home care"))
    medical_necessity = forms.CharField(
        required=False,
        widget=_note_area(2, "Why treatment is needed, tied to the diagnoses"),
    )
    response_to_treatment = forms.CharField(
        required=False, widget=_note_area(2, "How the patient responded today")
    )

    def __init__(
        self, *args: Any, practice: Practice, patient: Patient, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        providers = scoped(Provider.objects.all(), practice)
        chosen = self.initial.get("provider")
        # An inactive therapist stays choosable on her own older notes.
        self.fields["provider"].queryset = providers.filter(  # type: ignore[attr-defined]
            Q(active=True) | Q(pk=chosen if isinstance(chosen, int) else None)
        ).order_by("last_name", "first_name")
        self.fields["coverage"].queryset = (  # type: ignore[attr-defined]
            scoped(Coverage.objects.all(), practice)
            .filter(patient=patient)
            .select_related("payer")
            .order_by("order", "-start_date")
        )
        self.fields["location"].queryset = scoped(  # type: ignore[attr-defined]
            Location.objects.all(), practice
        ).order_by("name")

    def note_input(self) -> NoteInput:
        return NoteInput(**{name: self.cleaned_data[name] for name in NOTE_FIELDS})


class DiagnosisForm(forms.Form):
    code = forms.CharField(
        required=False, max_length=12, label="ICD-10-CM",
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "icd10-options",
                                      "spellcheck": "false"}),
    )


class ServiceForm(forms.Form):
    code = forms.ChoiceField(
        required=False,
        choices=[("", "—")] + [
            (entry.code, f"{entry.code} {entry.label}")
            for entry in sorted(cpt.CATALOGUE.values(), key=lambda e: e.code)
        ],
    )
    minutes = forms.IntegerField(
        required=False, max_value=480,
        error_messages={
            "invalid": "enter whole minutes, e.g. 38",
            "max_value": "over 480 minutes is more than a working day; check the entry",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1", "max": "480"}),
    )
    technique = forms.CharField(required=False, max_length=200)
    body_region = forms.CharField(required=False, max_length=60)
    start_time = forms.TimeField(required=False, widget=TimeInput(), label="Start time")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code, minutes = cleaned.get("code"), cleaned.get("minutes")
        typed = any(cleaned.get(name) for name in ("technique", "body_region", "start_time"))
        if minutes is not None and minutes <= 0:
            self.add_error(
                "minutes", f"enter 1 minute or more, not {minutes} (or remove the row)"
            )
        if code and minutes is None and "minutes" not in self.errors:
            self.add_error("minutes", "enter the minutes of direct treatment")
        if not code and (minutes is not None or typed):
            self.add_error("code", "choose the code for this service, or remove the row")
        return cleaned

    @property
    def blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) for name in ("code", "technique", "body_region")) and (
            data.get("minutes") is None and data.get("start_time") is None
        )


DiagnosisFormSet = forms.formset_factory(
    DiagnosisForm, extra=0, max_num=MAX_DIAGNOSES, absolute_max=MAX_DIAGNOSES
)
ServiceFormSet = forms.formset_factory(
    ServiceForm, extra=0, max_num=MAX_SERVICES, absolute_max=MAX_SERVICES
)


def _rows(data: QueryDict, prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        count = int(data.get(f"{prefix}-TOTAL_FORMS", "0"))
    except ValueError:
        count = 0
    count = max(0, min(count, 50))
    return [
        {name: data.get(f"{prefix}-{index}-{name}", "") for name in fields}
        for index in range(count)
    ]


_DX_FIELDS = ("code",)
_SERVICE_FIELDS = ("code", "minutes", "technique", "body_region", "start_time")


@dataclass(frozen=True)
class RowEdit:
    """The rows after an add-row or remove-row button, with everything typed kept as typed."""

    note: dict[str, str]
    diagnoses: list[dict[str, str]]
    services: list[dict[str, str]]


def row_edit(data: QueryDict) -> RowEdit | None:
    """Apply the add-row or remove-row button in ``data``; None when another button was used.

    Buttons are named ``row`` with values ``add-dx``, ``add-svc``, ``del-dx:N``, ``del-svc:N``.
    """
    button = data.get("row")
    if not button:
        return None
    dx = _rows(data, DX_PREFIX, _DX_FIELDS)
    services = _rows(data, SERVICE_PREFIX, _SERVICE_FIELDS)
    kind, _, where = button.partition(":")
    if kind == "add-dx" and len(dx) < MAX_DIAGNOSES:
        dx.append(dict.fromkeys(_DX_FIELDS, ""))
    elif kind == "add-svc" and len(services) < MAX_SERVICES:
        services.append(dict.fromkeys(_SERVICE_FIELDS, ""))
    elif kind in ("del-dx", "del-svc") and where.isdigit():
        rows = dx if kind == "del-dx" else services
        if int(where) < len(rows):
            del rows[int(where)]
    note = {name: data.get(name, "") for name in NoteForm.base_fields}
    return RowEdit(note=note, diagnoses=dx, services=services)


class VisitNoteForms:
    """The note form with its two formsets, validated together (a diagnosis is checked
    against the date of service)."""

    def __init__(
        self,
        data: QueryDict | None,
        *,
        practice: Practice,
        patient: Patient,
        visit: Visit | None = None,
        initial: dict[str, Any] | None = None,
        rows: RowEdit | None = None,
    ) -> None:
        self.patient = patient
        if rows is not None:
            # Shown again after a row was added or removed: unbound, so no errors yet.
            self.note = NoteForm(initial=rows.note, practice=practice, patient=patient)
            self.diagnoses = DiagnosisFormSet(prefix=DX_PREFIX, initial=rows.diagnoses)
            self.services = ServiceFormSet(prefix=SERVICE_PREFIX, initial=rows.services)
        elif data is None:
            dx_initial, service_initial, note_initial = self._initial(visit, initial or {})
            self.note = NoteForm(initial=note_initial, practice=practice, patient=patient)
            self.diagnoses = DiagnosisFormSet(prefix=DX_PREFIX, initial=dx_initial)
            self.services = ServiceFormSet(prefix=SERVICE_PREFIX, initial=service_initial)
        else:
            self.note = NoteForm(data, practice=practice, patient=patient)
            self.diagnoses = DiagnosisFormSet(data, prefix=DX_PREFIX)
            self.services = ServiceFormSet(data, prefix=SERVICE_PREFIX)
        self._dx_checked = False

    @staticmethod
    def _initial(
        visit: Visit | None, initial: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        if visit is None:
            # A fresh note starts with one empty diagnosis and two empty services.
            return [{}], [{}, {}], initial
        note = {name: getattr(visit, name) for name in NOTE_FIELDS}
        note.update(
            date_of_service=visit.date_of_service,
            provider=visit.provider_id,
            coverage=visit.coverage_id,
            location=visit.location_id,
            place_of_service=visit.place_of_service,
        )
        dx = [{"code": d.code} for d in visit.diagnoses.all()] or [{}]
        services = [
            {
                "code": s.code,
                "minutes": s.minutes,
                "technique": s.technique,
                "body_region": s.body_region,
                "start_time": s.start_time,
            }
            for s in visit.services.all()
        ] or [{}]
        return dx, services, note

    def is_valid(self) -> bool:
        valid = self.note.is_valid()
        valid = self.diagnoses.is_valid() and valid
        valid = self.services.is_valid() and valid
        self._check_diagnoses()
        return valid and not any(form.errors for form in self.diagnoses.forms)

    def _check_diagnoses(self) -> None:
        if self._dx_checked:
            return
        self._dx_checked = True
        on = self.note.cleaned_data.get("date_of_service") if self.note.is_bound else None
        seen: set[str] = set()
        for form in self.diagnoses.forms:
            raw = str(form.cleaned_data.get("code") or "").strip() if form.is_valid() else ""
            if not raw:
                continue
            found = icd10.lookup(raw, date_of_service=on)
            if not found.valid or not found.billable:
                reason = found.reason or f"{raw} is not a billable ICD-10-CM code"
                if found.suggestions:
                    reason += f" (try {', '.join(found.suggestions[:3])})"
                form.add_error("code", reason)
            elif found.code in seen:
                form.add_error("code", f"{found.code} is already listed; remove one of them")
            else:
                seen.add(found.code)
                form.cleaned_data["code"] = found.code

    def note_input_so_far(self) -> NoteInput:
        """The SOAP text as typed (text fields are never invalid)."""
        data = self.note.data if self.note.is_bound else {}
        return NoteInput(**{name: str(data.get(name, "")) for name in NOTE_FIELDS})

    @property
    def date_of_service(self) -> date | None:
        data = getattr(self.note, "cleaned_data", {})
        found = data.get("date_of_service")
        return found if isinstance(found, date) else None

    def diagnosis_codes(self) -> list[str]:
        """The valid diagnoses typed so far, in order (usable before the whole form is valid)."""
        self.is_valid()
        return [
            str(form.cleaned_data["code"])
            for form in self.diagnoses.forms
            if not form.errors and getattr(form, "cleaned_data", {}).get("code")
        ]

    def service_inputs(self) -> list[ServiceInput]:
        self.is_valid()
        found = []
        for form in self.services.forms:
            data = getattr(form, "cleaned_data", {})
            if form.errors or form.blank:
                continue
            start: time | None = data.get("start_time")
            found.append(
                ServiceInput(
                    code=data["code"],
                    minutes=int(data["minutes"]),
                    technique=data.get("technique") or "",
                    body_region=data.get("body_region") or "",
                    start_time=start,
                )
            )
        return found

    def problems(self) -> list[str]:
        """Every error as a sentence, for the preview panel (the form shows them by field)."""
        self.is_valid()
        found = []
        for name, errors in self.note.errors.items():
            label = self.note[name].label if name in self.note.fields else "Note"
            found.extend(f"{label}: {e}" for e in errors)
        for index, form in enumerate(self.diagnoses.forms, start=1):
            found.extend(f"Diagnosis {index}: {e}" for e in form.errors.get("code", []))
        for index, form in enumerate(self.services.forms, start=1):
            for name, errors in form.errors.items():
                found.extend(f"Service {index} {name.replace('_', ' ')}: {e}" for e in errors)
        return found
