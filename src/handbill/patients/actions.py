"""Writing patient records: register a patient, add a coverage, record an authorization.

Validation happens here, once, so the admin, the web pages, the API and the demo all refuse
the same bad input with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from handbill.audit.record import record
from handbill.core.codes import cpt
from handbill.core.codes.npi import check_npi
from handbill.patients.models import (
    Authorization,
    AuthorizationKind,
    Coverage,
    Patient,
    Relationship,
)
from handbill.practice.access import authorize, same_practice
from handbill.practice.models import Payer, PayerType, Practice

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class RecordError(ValueError):
    """A record that cannot be saved as given; the message names the field and the fix."""


@dataclass(frozen=True)
class PatientInput:
    account_number: str
    first_name: str
    last_name: str
    birth_date: date
    address_line1: str
    city: str
    state: str
    postal_code: str
    sex: str = "U"
    middle_initial: str = ""
    address_line2: str = ""
    phone: str = ""
    email: str = ""


@transaction.atomic
def register_patient(
    *, practice: Practice, data: PatientInput, by: AbstractBaseUser | None, at: datetime
) -> Patient:
    authorize(by, practice, "edit_patients")
    _check_patient(practice, data, at)
    patient = Patient.objects.create(practice=practice, created_at=at, **data.__dict__)
    record(action="patient.create", at=at, by=by, practice=practice, target=patient)
    return patient


def _check_patient(
    practice: Practice, data: PatientInput, at: datetime, patient_pk: int | None = None
) -> None:
    for name in (
        "account_number",
        "first_name",
        "last_name",
        "address_line1",
        "city",
        "state",
        "postal_code",
    ):
        if not str(getattr(data, name)).strip():
            raise RecordError(f"patient {name.replace('_', ' ')} is required")
    if data.birth_date > at.date():
        raise RecordError("birth date is in the future")
    taken = Patient.objects.filter(practice=practice, account_number=data.account_number)
    if patient_pk is not None:
        taken = taken.exclude(pk=patient_pk)
    if taken.exists():
        raise RecordError(f"account number {data.account_number} is already used in this practice")


@transaction.atomic
def update_patient(
    *, patient: Patient, data: PatientInput, by: AbstractBaseUser | None, at: datetime
) -> Patient:
    """Correct a patient's demographics (a new address, a misspelt name)."""
    practice = patient.practice
    authorize(by, practice, "edit_patients")
    _check_patient(practice, data, at, patient_pk=patient.pk)
    changed = sorted(k for k, v in data.__dict__.items() if getattr(patient, k) != v)
    Patient.objects.filter(pk=patient.pk).update(**data.__dict__)
    patient.refresh_from_db()
    record(action="patient.update", at=at, by=by, practice=practice, target=patient,
           fields=changed)
    return patient


@dataclass(frozen=True)
class CoverageInput:
    order: int
    member_id: str
    start_date: date
    end_date: date | None = None
    group_number: str = ""
    plan_name: str = ""
    relationship: str = Relationship.SELF
    subscriber_first_name: str = ""
    subscriber_last_name: str = ""
    subscriber_birth_date: date | None = None
    subscriber_sex: str = ""
    copay_cents: int | None = None
    coinsurance_percent: int | None = None
    deductible_cents: int | None = None
    claim_number: str = ""
    adjuster_name: str = ""
    adjuster_phone: str = ""
    accident_date: date | None = None
    accident_state: str = ""
    employer_name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


@transaction.atomic
def add_coverage(
    *,
    patient: Patient,
    payer: Payer,
    data: CoverageInput,
    by: AbstractBaseUser | None,
    at: datetime,
) -> Coverage:
    practice = patient.practice
    authorize(by, practice, "edit_patients")
    same_practice(practice, payer)
    _check_coverage(payer, data)
    if Coverage.objects.filter(
        patient=patient, order=data.order, start_date=data.start_date
    ).exists():
        raise RecordError(
            f"the patient already has a coverage of order {data.order} starting "
            f"{data.start_date.isoformat()}; correct that one, or give this one another order"
        )
    values = {k: v for k, v in data.__dict__.items() if k != "extra"}
    coverage = Coverage.objects.create(practice=practice, patient=patient, payer=payer, **values)
    record(action="coverage.create", at=at, by=by, practice=practice, target=coverage)
    return coverage


def _check_coverage(payer: Payer, data: CoverageInput) -> None:
    if data.order not in (1, 2, 3):
        raise RecordError("coverage order must be 1 (primary), 2 (secondary) or 3 (tertiary)")
    if not data.member_id.strip():
        raise RecordError("member ID is required (as printed on the insurance card)")
    if data.end_date is not None and data.end_date <= data.start_date:
        raise RecordError("coverage end date must be after its start date")
    if data.relationship != Relationship.SELF and not data.subscriber_last_name.strip():
        raise RecordError("name the subscriber when the patient is not the subscriber")
    if data.coinsurance_percent is not None and not 0 <= data.coinsurance_percent <= 100:
        raise RecordError("coinsurance is a percentage from 0 to 100")
    for name in ("copay_cents", "deductible_cents"):
        value = getattr(data, name)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise RecordError(f"{name.removesuffix('_cents')} must be whole cents, 0 or more")
    if payer.payer_type in (PayerType.AUTO, PayerType.WORKERS_COMP):
        # A claim number of spaces is no claim number: the carrier will reject the bill.
        missing = [
            label
            for label, value in (
                ("claim number", data.claim_number.strip()),
                ("date of accident or injury", data.accident_date),
                ("state of accident or injury", data.accident_state.strip()),
            )
            if not value
        ]
        if missing:
            raise RecordError(
                f"{payer.get_payer_type_display()} coverage needs the {', '.join(missing)} "
                "(from the carrier's acknowledgement letter)"
            )


@transaction.atomic
def update_coverage(
    *,
    coverage: Coverage,
    payer: Payer,
    data: CoverageInput,
    by: AbstractBaseUser | None,
    at: datetime,
) -> Coverage:
    """Correct a coverage (a new card, an end date, primary and secondary swapped).

    When the new order is already held by another coverage of the patient starting the same
    day, the two swap places, so "make this one primary" is one step.
    """
    practice = coverage.practice
    authorize(by, practice, "edit_patients")
    same_practice(practice, payer)
    _check_coverage(payer, data)
    locked = Coverage.objects.select_for_update().get(pk=coverage.pk)
    holder = (
        Coverage.objects.select_for_update()
        .filter(patient_id=locked.patient_id, order=data.order, start_date=data.start_date)
        .exclude(pk=locked.pk)
        .first()
    )
    if holder is not None:
        # Park this one on an order no coverage uses, so the unique (patient, order, start)
        # constraint holds at every statement of the swap.
        Coverage.objects.filter(pk=locked.pk).update(order=0)
        Coverage.objects.filter(pk=holder.pk).update(order=locked.order)
        record(action="coverage.update", at=at, by=by, practice=practice, target=holder,
               order=locked.order)
    values = {k: v for k, v in data.__dict__.items() if k != "extra"}
    Coverage.objects.filter(pk=locked.pk).update(payer=payer, **values)
    locked.refresh_from_db()
    record(action="coverage.update", at=at, by=by, practice=practice, target=locked)
    return locked


@dataclass(frozen=True)
class AuthorizationInput:
    kind: str
    start_date: date
    end_date: date | None = None
    number: str = ""
    referring_provider_name: str = ""
    referring_provider_npi: str = ""
    codes: Sequence[str] = ()
    visits_allowed: int | None = None
    units_allowed: Mapping[str, int] = field(default_factory=dict)
    dollars_allowed_cents: int | None = None
    notes: str = ""


@transaction.atomic
def add_authorization(
    *, coverage: Coverage, data: AuthorizationInput, by: AbstractBaseUser | None, at: datetime
) -> Authorization:
    practice = coverage.practice
    authorize(by, practice, "edit_patients")
    if data.kind not in AuthorizationKind.values:
        raise RecordError(f"kind must be one of {', '.join(AuthorizationKind.values)}")
    if data.kind == AuthorizationKind.AUTHORIZATION and not data.number.strip():
        raise RecordError("a prior authorization needs the number the payer gave")
    if data.end_date is not None and data.end_date <= data.start_date:
        raise RecordError("end date must be after the start date")
    if data.referring_provider_npi:
        result = check_npi(data.referring_provider_npi)
        if not result.valid:
            raise RecordError(f"referring provider NPI: {result.reason}")
    codes = []
    for code in list(data.codes) + list(data.units_allowed):
        try:
            codes.append(cpt.get(code).code)
        except cpt.UnknownCodeError as exc:
            raise RecordError(str(exc)) from None
    for code, units in data.units_allowed.items():
        if not isinstance(units, int) or units <= 0:
            raise RecordError(f"units allowed for {code} must be a whole number above 0")
    if data.dollars_allowed_cents is not None and data.dollars_allowed_cents <= 0:
        raise RecordError("the dollar cap must be above 0")
    authorization = Authorization.objects.create(
        practice=practice,
        coverage=coverage,
        kind=data.kind,
        number=data.number.strip(),
        referring_provider_name=data.referring_provider_name,
        referring_provider_npi=data.referring_provider_npi,
        codes=sorted(set(data.codes)),
        visits_allowed=data.visits_allowed,
        units_allowed=dict(data.units_allowed),
        dollars_allowed_cents=data.dollars_allowed_cents,
        start_date=data.start_date,
        end_date=data.end_date,
        notes=data.notes,
    )
    record(action="authorization.create", at=at, by=by, practice=practice, target=authorization)
    return authorization
