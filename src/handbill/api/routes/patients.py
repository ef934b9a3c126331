"""/patients: search, read, register, correct."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import field_validator

from handbill.api.access import by_of, get_scoped, need, practice_of
from handbill.api.errors import naming, responses
from handbill.api.fields import Id, required_text, text
from handbill.api.pagination import PageMeta, Paging, page
from handbill.patients.actions import PatientInput, register_patient, update_patient
from handbill.patients.models import Patient
from handbill.web.queries.patients import search_patients

router = Router(tags=["patients"])


class PatientIn(Schema):
    account_number: required_text(20)  # type: ignore[valid-type]
    first_name: required_text(35)  # type: ignore[valid-type]
    last_name: required_text(60)  # type: ignore[valid-type]
    birth_date: date
    address_line1: required_text(55)  # type: ignore[valid-type]
    city: required_text(30)  # type: ignore[valid-type]
    state: required_text(2)  # type: ignore[valid-type]
    postal_code: required_text(10)  # type: ignore[valid-type]
    sex: Literal["F", "M", "U"] = "U"
    middle_initial: text(1) = ""  # type: ignore[valid-type]
    address_line2: text(55) = ""  # type: ignore[valid-type]
    phone: text(15) = ""  # type: ignore[valid-type]
    email: text(254) = ""  # type: ignore[valid-type]

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value:
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValueError("not an e-mail address") from None
        return value

    def to_input(self) -> PatientInput:
        return PatientInput(**self.model_dump())


class PatientOut(Schema):
    id: int
    account_number: str
    first_name: str
    middle_initial: str
    last_name: str
    birth_date: date
    sex: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    phone: str
    email: str
    created_at: datetime


class PatientPage(PageMeta):
    results: list[PatientOut]




@router.get("", response=responses({200: PatientPage}), summary="Search patients")
def list_patients(
    request: HttpRequest,
    paging: Query[Paging],  # type: ignore[type-arg]
    q: text(100) = "",  # type: ignore[valid-type]
) -> dict[str, object]:
    """By name words, account number or date of birth (1980-05-17 or 05/17/1980)."""
    found = search_patients(practice_of(request), q)
    return page(request, found, paging)


@router.get("/{patient_id}", response=responses({200: PatientOut}), summary="Read a patient")
def get_patient(request: HttpRequest, patient_id: Id) -> Patient:
    return get_scoped(Patient, request, "patient", pk=patient_id)


@router.post("", response=responses({201: PatientOut}), summary="Register a patient")
def create_patient(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    need(request, "edit_patients")
    with naming(PatientIn):
        patient = register_patient(
            practice=practice_of(request), data=payload.to_input(), by=by_of(request),
            at=timezone.now(),
        )
    return Status(201, patient)


@router.put("/{patient_id}", response=responses({200: PatientOut}),
            summary="Correct a patient's demographics")
def put_patient(request: HttpRequest, patient_id: Id, payload: PatientIn) -> Patient:
    need(request, "edit_patients")
    patient = get_scoped(Patient, request, "patient", pk=patient_id)
    with naming(PatientIn):
        return update_patient(
            patient=patient, data=payload.to_input(), by=by_of(request), at=timezone.now()
        )
