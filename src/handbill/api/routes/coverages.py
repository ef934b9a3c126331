"""/patients/{id}/coverages and /coverages/{id}/authorizations."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from handbill.api.access import by_of, field_ref, get_scoped, need
from handbill.api.errors import naming, responses
from handbill.api.fields import Cents, Id, required_text, text
from handbill.api.pagination import PageMeta, Paging, page
from handbill.patients.actions import (
    AuthorizationInput,
    CoverageInput,
    add_authorization,
    add_coverage,
    update_coverage,
)
from handbill.patients.models import Authorization, Coverage, Patient
from handbill.practice.models import Payer

router = Router(tags=["coverages"])

Relationship = Literal["18", "01", "19", "20", "G8"]
Percent = Annotated[int, Field(ge=0, le=100)]
Count = Annotated[int, Field(ge=0, le=100_000)]


class CoverageIn(Schema):
    payer_id: Id
    order: Annotated[int, Field(ge=1, le=3)]
    member_id: required_text(80)  # type: ignore[valid-type]
    start_date: date
    end_date: date | None = None
    group_number: text(50) = ""  # type: ignore[valid-type]
    plan_name: text(60) = ""  # type: ignore[valid-type]
    relationship: Relationship = "18"
    subscriber_first_name: text(35) = ""  # type: ignore[valid-type]
    subscriber_last_name: text(60) = ""  # type: ignore[valid-type]
    subscriber_birth_date: date | None = None
    subscriber_sex: Literal["", "F", "M", "U"] = ""
    copay_cents: Cents | None = None
    coinsurance_percent: Percent | None = None
    deductible_cents: Cents | None = None
    claim_number: text(50) = ""  # type: ignore[valid-type]
    adjuster_name: text(60) = ""  # type: ignore[valid-type]
    adjuster_phone: text(15) = ""  # type: ignore[valid-type]
    accident_date: date | None = None
    accident_state: text(2) = ""  # type: ignore[valid-type]
    employer_name: text(60) = ""  # type: ignore[valid-type]

    def to_input(self) -> CoverageInput:
        return CoverageInput(**self.model_dump(exclude={"payer_id"}))


class CoverageOut(Schema):
    id: int
    patient_id: int
    payer_id: int
    payer_name: str = Field(alias="payer.name")
    order: int
    member_id: str
    group_number: str
    plan_name: str
    relationship: str
    subscriber_first_name: str
    subscriber_last_name: str
    subscriber_birth_date: date | None
    subscriber_sex: str
    start_date: date
    end_date: date | None
    copay_cents: int | None
    coinsurance_percent: int | None
    deductible_cents: int | None
    claim_number: str
    adjuster_name: str
    adjuster_phone: str
    accident_date: date | None
    accident_state: str
    employer_name: str


class CoveragePage(PageMeta):
    results: list[CoverageOut]


class AuthorizationIn(Schema):
    kind: Literal["authorization", "prescription", "referral"]
    start_date: date
    end_date: date | None = None
    number: text(50) = ""  # type: ignore[valid-type]
    referring_provider_name: text(80) = ""  # type: ignore[valid-type]
    referring_provider_npi: text(10) = ""  # type: ignore[valid-type]
    codes: list[text(5)] = Field(default_factory=list, max_length=20)  # type: ignore[valid-type]
    visits_allowed: Count | None = None
    units_allowed: dict[text(5), Count] = Field(  # type: ignore[valid-type]
        default_factory=dict, max_length=20
    )
    dollars_allowed_cents: Cents | None = None
    notes: text(2000) = ""  # type: ignore[valid-type]

    def to_input(self) -> AuthorizationInput:
        return AuthorizationInput(**self.model_dump())


class AuthorizationOut(Schema):
    id: int
    coverage_id: int
    kind: str
    number: str
    referring_provider_name: str
    referring_provider_npi: str
    codes: list[str]
    visits_allowed: int | None
    units_allowed: dict[str, int]
    dollars_allowed_cents: int | None
    start_date: date
    end_date: date | None
    notes: str


class AuthorizationPage(PageMeta):
    results: list[AuthorizationOut]


_COVERAGES = Coverage.objects.select_related("payer")


@router.get("/patients/{patient_id}/coverages", response=responses({200: CoveragePage}),
            summary="A patient's coverages, primary first")
def list_coverages(
    request: HttpRequest,
    paging: Query[Paging],  # type: ignore[type-arg]
    patient_id: Id,
) -> dict[str, object]:
    patient = get_scoped(Patient, request, "patient", pk=patient_id)
    found = _COVERAGES.filter(patient=patient).order_by("order", "-start_date", "pk")
    return page(request, found, paging)


@router.post("/patients/{patient_id}/coverages", response=responses({201: CoverageOut}),
             summary="Add a coverage to a patient")
def create_coverage(
    request: HttpRequest, patient_id: Id, payload: CoverageIn
) -> Status[Coverage]:
    need(request, "edit_patients")
    patient = get_scoped(Patient, request, "patient", pk=patient_id)
    payer = field_ref(Payer, request, "payer_id", payload.payer_id)
    assert payer is not None  # noqa: S101 - payer_id is required by the schema
    with naming(CoverageIn):
        coverage = add_coverage(
            patient=patient, payer=payer, data=payload.to_input(), by=by_of(request),
            at=timezone.now(),
        )
    return Status(201, _COVERAGES.get(pk=coverage.pk))


@router.put("/coverages/{coverage_id}", response=responses({200: CoverageOut}),
            summary="Correct a coverage (a new card, an end date, primary and secondary swapped)")
def put_coverage(request: HttpRequest, coverage_id: Id, payload: CoverageIn) -> Coverage:
    need(request, "edit_patients")
    coverage = get_scoped(Coverage, request, "coverage", pk=coverage_id)
    payer = field_ref(Payer, request, "payer_id", payload.payer_id)
    assert payer is not None  # noqa: S101 - payer_id is required by the schema
    with naming(CoverageIn):
        update_coverage(
            coverage=coverage, payer=payer, data=payload.to_input(), by=by_of(request),
            at=timezone.now(),
        )
    return _COVERAGES.get(pk=coverage.pk)


@router.get("/coverages/{coverage_id}/authorizations",
            response=responses({200: AuthorizationPage}),
            summary="A coverage's authorizations, prescriptions and referrals")
def list_authorizations(
    request: HttpRequest,
    paging: Query[Paging],  # type: ignore[type-arg]
    coverage_id: Id,
) -> dict[str, object]:
    coverage = get_scoped(Coverage, request, "coverage", pk=coverage_id)
    found = Authorization.objects.filter(coverage=coverage).order_by("-start_date", "-pk")
    return page(request, found, paging)


@router.post("/coverages/{coverage_id}/authorizations",
             response=responses({201: AuthorizationOut}),
             summary="Record an authorization, prescription or referral")
def create_authorization(
    request: HttpRequest, coverage_id: Id, payload: AuthorizationIn
) -> Status[Authorization]:
    need(request, "edit_patients")
    coverage = get_scoped(Coverage, request, "coverage", pk=coverage_id)
    with naming(AuthorizationIn):
        found = add_authorization(
            coverage=coverage, data=payload.to_input(), by=by_of(request), at=timezone.now()
        )
    return Status(201, found)
