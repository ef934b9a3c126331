"""/visits: notes with their service entries; create, read, sign."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from handbill.api.access import by_of, field_ref, get_scoped, need, practice_of
from handbill.api.errors import naming, responses
from handbill.api.fields import Id, required_text, text
from handbill.api.pagination import PageMeta, Paging, page
from handbill.patients.models import Coverage, Patient
from handbill.practice.models import Location, Provider
from handbill.visits.actions import NoteInput, ServiceInput, create_visit, sign_visit
from handbill.visits.models import Visit
from handbill.web.queries.visits import find_visits

router = Router(tags=["visits"])

NOTE = 10_000  # characters in one SOAP section: a long note is a few thousand


class ServiceIn(Schema):
    code: required_text(5)  # type: ignore[valid-type]
    minutes: Annotated[int, Field(ge=0, le=480)]
    technique: text(200) = ""  # type: ignore[valid-type]
    body_region: text(60) = ""  # type: ignore[valid-type]
    start_time: time | None = None


class VisitIn(Schema):
    patient_id: Id
    provider_id: Id
    coverage_id: Id | None = None
    location_id: Id | None = None
    date_of_service: date
    place_of_service: Annotated[str, Field(pattern=r"^[0-9]{2}$")] = "11"
    subjective: text(NOTE) = ""  # type: ignore[valid-type]
    objective: text(NOTE) = ""  # type: ignore[valid-type]
    assessment: text(NOTE) = ""  # type: ignore[valid-type]
    plan: text(NOTE) = ""  # type: ignore[valid-type]
    medical_necessity: text(NOTE) = ""  # type: ignore[valid-type]
    response_to_treatment: text(NOTE) = ""  # type: ignore[valid-type]
    diagnoses: list[text(10)] = Field(default_factory=list, max_length=12)  # type: ignore[valid-type]
    services: list[ServiceIn] = Field(default_factory=list, max_length=20)


class ServiceOut(Schema):
    position: int
    code: str
    minutes: int
    technique: str
    body_region: str
    start_time: time | None


class VisitOut(Schema):
    id: int
    patient_id: int
    provider_id: int
    coverage_id: int | None
    location_id: int | None
    date_of_service: date
    place_of_service: str
    subjective: str
    objective: str
    assessment: str
    plan: str
    medical_necessity: str
    response_to_treatment: str
    diagnoses: list[str]
    services: list[ServiceOut]
    created_at: datetime
    signed_at: datetime | None

    @staticmethod
    def resolve_diagnoses(obj: Visit) -> list[str]:
        return [d.code for d in obj.diagnoses.all()]

    @staticmethod
    def resolve_services(obj: Visit) -> list[Any]:
        return list(obj.services.all())


class VisitSummary(Schema):
    id: int
    patient_id: int
    provider_id: int
    date_of_service: date
    signed_at: datetime | None


class VisitPage(PageMeta):
    results: list[VisitSummary]


@router.get("", response=responses({200: VisitPage}), summary="Notes, newest first")
def list_visits(
    request: HttpRequest,
    paging: Query[Paging],  # type: ignore[type-arg]
    signed: bool | None = None,
    provider_id: Id | None = None,
    unbilled: bool = False,
) -> dict[str, object]:
    """``unbilled=true`` keeps signed notes without a claim yet."""
    found = find_visits(
        practice_of(request), signed=signed, provider_id=provider_id, unbilled=unbilled
    )
    return page(request, found, paging)


_VISIT = Visit.objects.prefetch_related("diagnoses", "services")


@router.get("/{visit_id}", response=responses({200: VisitOut}), summary="Read a note")
def get_visit(request: HttpRequest, visit_id: Id) -> Visit:
    return get_scoped(_VISIT, request, "visit", pk=visit_id)


@router.post("", response=responses({201: VisitOut}),
             summary="Write a note with its diagnoses and service entries (unsigned)")
def create(request: HttpRequest, payload: VisitIn) -> Status[Visit]:
    need(request, "write_notes")
    patient = field_ref(Patient, request, "patient_id", payload.patient_id)
    provider = field_ref(Provider, request, "provider_id", payload.provider_id)
    coverage = field_ref(Coverage, request, "coverage_id", payload.coverage_id)
    location = field_ref(Location, request, "location_id", payload.location_id)
    assert patient is not None and provider is not None  # noqa: S101 - required fields
    note = NoteInput(**payload.model_dump(include=set(NoteInput.__dataclass_fields__)))
    services = [ServiceInput(**s.model_dump()) for s in payload.services]
    with naming(VisitIn, ServiceIn):
        visit = create_visit(
            practice=practice_of(request), patient=patient, provider=provider,
            coverage=coverage, location=location, place_of_service=payload.place_of_service,
            date_of_service=payload.date_of_service, note=note,
            diagnoses=payload.diagnoses, services=services, by=by_of(request),
            at=timezone.now(),
        )
    return Status(201, _VISIT.get(pk=visit.pk))


@router.post("/{visit_id}/sign", response=responses({200: VisitOut}),
             summary="Sign a note: it is locked from then on (changes become addenda)")
def sign(request: HttpRequest, visit_id: Id) -> Visit:
    need(request, "sign_notes")
    visit = get_scoped(Visit, request, "visit", pk=visit_id)
    with naming():
        sign_visit(visit=visit, by=by_of(request), at=timezone.now())
    return _VISIT.get(pk=visit.pk)
