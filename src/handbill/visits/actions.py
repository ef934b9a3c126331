"""Writing notes: create, edit while unsigned, sign (which locks), and add addenda.

Each action is keyword-only, atomic, checks the caller's access to the practice, and leaves an
audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from django.db import transaction

from handbill.audit.record import record
from handbill.core.codes import cpt, icd10
from handbill.patients.models import Coverage, Patient
from handbill.practice.access import authorize_own, same_practice
from handbill.practice.models import Location, Practice, Provider
from handbill.visits.models import Addendum, NoteLockedError, ServiceEntry, Visit, VisitDiagnosis

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class NoteError(ValueError):
    """A note that cannot be saved as given; the message names the field and the fix."""


@dataclass(frozen=True)
class ServiceInput:
    code: str
    minutes: int
    technique: str = ""
    body_region: str = ""
    start_time: time | None = None


@dataclass(frozen=True)
class NoteInput:
    subjective: str = ""
    objective: str = ""
    assessment: str = ""
    plan: str = ""
    medical_necessity: str = ""
    response_to_treatment: str = ""


def _check_diagnoses(codes: Sequence[str], on: date) -> list[str]:
    if len(codes) > 12:
        raise NoteError(f"{len(codes)} diagnoses given; a claim carries at most 12 (A-L)")
    cleaned: list[str] = []
    for raw in codes:
        found = icd10.lookup(raw, date_of_service=on)
        if not found.valid or not found.billable:
            raise NoteError(f"diagnosis {raw!r}: {found.reason or 'not a billable ICD-10-CM code'}")
        if found.code in cleaned:
            raise NoteError(f"diagnosis {found.code} is listed twice")
        cleaned.append(found.code)
    return cleaned


def _check_services(services: Sequence[ServiceInput]) -> None:
    for index, service in enumerate(services, start=1):
        try:
            cpt.get(service.code)
        except cpt.UnknownCodeError as exc:
            raise NoteError(f"service {index}: {exc}") from None
        if not isinstance(service.minutes, int) or service.minutes < 0:
            raise NoteError(f"service {index} ({service.code}): minutes must be 0 or more")
        if service.minutes > 480:
            raise NoteError(
                f"service {index} ({service.code}): {service.minutes} minutes is "
                "more than a working day; check the entry"
            )


def _write_parts(visit: Visit, diagnoses: list[str], services: Sequence[ServiceInput]) -> None:
    visit.diagnoses.all().delete()
    visit.services.all().delete()
    VisitDiagnosis.objects.bulk_create(
        VisitDiagnosis(visit=visit, position=position, code=code)
        for position, code in enumerate(diagnoses, start=1)
    )
    ServiceEntry.objects.bulk_create(
        ServiceEntry(
            visit=visit,
            position=position,
            code=cpt.get(s.code).code,
            minutes=s.minutes,
            technique=s.technique.strip(),
            body_region=s.body_region.strip(),
            start_time=s.start_time,
        )
        for position, s in enumerate(services, start=1)
    )


@transaction.atomic
def create_visit(
    *,
    practice: Practice,
    patient: Patient,
    provider: Provider,
    date_of_service: date,
    note: NoteInput,
    diagnoses: Sequence[str],
    services: Sequence[ServiceInput],
    by: AbstractBaseUser | None,
    at: datetime,
    coverage: Coverage | None = None,
    location: Location | None = None,
    place_of_service: str = "11",
) -> Visit:
    authorize_own(by, practice, "write_notes", provider.pk)
    same_practice(practice, patient, provider, coverage, location)
    if coverage is not None and coverage.patient_id != patient.pk:
        raise NoteError("the coverage belongs to another patient")
    cleaned = _check_diagnoses(diagnoses, date_of_service)
    _check_services(services)
    visit = Visit.objects.create(
        practice=practice,
        patient=patient,
        provider=provider,
        location=location,
        coverage=coverage,
        date_of_service=date_of_service,
        place_of_service=place_of_service,
        created_at=at,
        **note.__dict__,
    )
    _write_parts(visit, cleaned, services)
    record(action="visit.create", at=at, by=by, practice=practice, target=visit)
    return visit


@transaction.atomic
def update_note(
    *,
    visit: Visit,
    note: NoteInput,
    diagnoses: Sequence[str],
    services: Sequence[ServiceInput],
    by: AbstractBaseUser | None,
    at: datetime,
) -> Visit:
    authorize_own(by, visit.practice, "write_notes", visit.provider_id)
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    if locked.signed:
        raise NoteLockedError("this note is signed and locked; add an addendum instead")
    cleaned = _check_diagnoses(diagnoses, locked.date_of_service)
    _check_services(services)
    for name, value in note.__dict__.items():
        setattr(locked, name, value)
    locked.save()
    _write_parts(locked, cleaned, services)
    record(action="visit.update", at=at, by=by, practice=locked.practice, target=locked)
    return locked


@transaction.atomic
def sign_visit(*, visit: Visit, by: AbstractBaseUser | None, at: datetime) -> Visit:
    authorize_own(by, visit.practice, "sign_notes", visit.provider_id)
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    if locked.signed:
        raise NoteLockedError("this note is already signed")
    if not locked.services.exists():
        raise NoteError("a note without services cannot be signed; add what you did")
    if not locked.diagnoses.exists():
        raise NoteError("a note without a diagnosis cannot be signed; add at least one")
    # The update goes through the queryset: the model's own save() refuses signed notes.
    Visit.objects.filter(pk=locked.pk).update(
        signed_at=at, signed_by=by if by is not None and by.is_authenticated else None
    )
    locked.refresh_from_db()
    record(action="visit.sign", at=at, by=by, practice=locked.practice, target=locked)
    return locked


@transaction.atomic
def add_addendum(*, visit: Visit, text: str, by: AbstractBaseUser | None, at: datetime) -> Addendum:
    authorize_own(by, visit.practice, "write_notes", visit.provider_id)
    if not visit.signed:
        raise NoteError("the note is not signed yet; edit it directly")
    if not text.strip():
        raise NoteError("an addendum needs text")
    addendum = Addendum.objects.create(
        visit=visit,
        text=text.strip(),
        written_by=by if by is not None and by.is_authenticated else None,
        written_at=at,
    )
    record(action="visit.addendum", at=at, by=by, practice=visit.practice, target=visit)
    return addendum
