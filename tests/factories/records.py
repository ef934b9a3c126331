"""Factories for practice records: synthetic people only, valid NPIs, sensible defaults.

Each function takes keyword overrides so a test states only what it cares about.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model

from handbill.patients.models import Authorization, Coverage, Patient
from handbill.practice.models import (
    FeeScheduleEntry,
    Membership,
    Payer,
    PayerEnrollment,
    Practice,
    Provider,
    Role,
)
from handbill.visits import actions as visit_actions
from handbill.visits.models import Visit
from tests.conftest import FIXED_NOW

_seq = itertools.count(1)


def npi_with_check_digit(first_nine: str) -> str:
    """Append the Luhn check digit over 80840 + the nine digits (reference §9.1)."""
    digits = [int(d) for d in "80840" + first_nine]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return first_nine + str((10 - total % 10) % 10)


def unique_npi() -> str:
    return npi_with_check_digit(f"1{next(_seq):08d}")


def make_practice(**overrides: Any) -> Practice:
    n = next(_seq)
    values: dict[str, Any] = {
        "legal_name": f"Test Massage Clinic {n}",
        "slug": f"clinic-{n}",
        "billing_npi": unique_npi(),
        "tax_id": "123456789",
        "address_line1": "100 Main St",
        "city": "Olympia",
        "state": "WA",
        "postal_code": "98501",
        "created_at": FIXED_NOW,
    }
    values.update(overrides)
    return Practice.objects.create(**values)


def make_user(practice: Practice | None = None, role: Role = Role.OWNER, **overrides: Any) -> Any:
    n = next(_seq)
    user = get_user_model().objects.create_user(
        username=overrides.pop("username", f"user{n}"), password="synthetic-pass-123"
    )
    if practice is not None:
        Membership.objects.create(user=user, practice=practice, role=role, **overrides)
    return user


def make_provider(practice: Practice, **overrides: Any) -> Provider:
    values: dict[str, Any] = {
        "first_name": "Anna",
        "last_name": f"Tester{next(_seq)}",
        "credentials": "LMT",
        "npi": unique_npi(),
        "license_number": "MA60000001",
        "license_state": "WA",
        "license_expires_date": date(2028, 1, 1),
    }
    values.update(overrides)
    return Provider.objects.create(practice=practice, **values)


def make_payer(practice: Practice, **overrides: Any) -> Payer:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Synthetic Health Plan {n}",
        "payer_id": f"SYN{n:05d}",
        "payer_type": "commercial",
        "claim_filing_indicator": "CI",
    }
    values.update(overrides)
    return Payer.objects.create(practice=practice, **values)


def enroll(provider: Provider, payer: Payer, status: str = "in_network") -> PayerEnrollment:
    return PayerEnrollment.objects.create(
        practice=provider.practice,
        provider=provider,
        payer=payer,
        status=status,
        effective_date=date(2020, 1, 1),
    )


def make_patient(practice: Practice, **overrides: Any) -> Patient:
    n = next(_seq)
    values: dict[str, Any] = {
        "account_number": f"A{n:05d}",
        "first_name": "Jordan",
        "last_name": f"Sample{n}",
        "birth_date": date(1980, 5, 17),
        "sex": "F",
        "address_line1": "12 Alder Ln",
        "city": "Olympia",
        "state": "WA",
        "postal_code": "98501",
        "created_at": FIXED_NOW,
    }
    values.update(overrides)
    return Patient.objects.create(practice=practice, **values)


def make_coverage(patient: Patient, payer: Payer, **overrides: Any) -> Coverage:
    values: dict[str, Any] = {
        "order": 1,
        "member_id": f"M{next(_seq):08d}",
        "start_date": date(2025, 1, 1),
    }
    values.update(overrides)
    return Coverage.objects.create(
        practice=patient.practice, patient=patient, payer=payer, **values
    )


def make_authorization(coverage: Coverage, **overrides: Any) -> Authorization:
    values: dict[str, Any] = {
        "kind": "prescription",
        "number": f"RX{next(_seq)}",
        "referring_provider_name": "Dr. Pat Example",
        "referring_provider_npi": npi_with_check_digit("198765432"),
        "visits_allowed": 12,
        "start_date": date(2026, 1, 1),
        "end_date": date(2027, 1, 1),
    }
    values.update(overrides)
    return Authorization.objects.create(practice=coverage.practice, coverage=coverage, **values)


def set_fees(practice: Practice, fees: dict[str, int] | None = None) -> None:
    defaults = {
        "97124": 3000,
        "97140": 3500,
        "97112": 3500,
        "97110": 3000,
        "97530": 3500,
        "97010": 1500,
        "97035": 2000,
    }
    for code, cents in (fees or defaults).items():
        FeeScheduleEntry.objects.create(practice=practice, code=code, charge_cents=cents)


FULL_NOTE = visit_actions.NoteInput(
    subjective="Low back pain 6/10 after lifting at work; neck stiff in the mornings.",
    objective="Hypertonic lumbar paraspinals bilaterally; cervical rotation limited to 60 degrees.",
    assessment="Muscle spasm of the back with cervicalgia, improving slowly.",
    plan="Continue weekly sessions for 4 weeks; home stretching reviewed.",
    medical_necessity="Treatment of M62.830 and M54.2 to restore lifting tolerance for work.",
    response_to_treatment="Pain 3/10 after session; rotation improved to 75 degrees.",
)


def make_signed_visit(
    provider: Provider,
    patient: Patient,
    *,
    services: list[visit_actions.ServiceInput] | None = None,
    diagnoses: list[str] | None = None,
    on: date = date(2026, 11, 2),
    note: visit_actions.NoteInput = FULL_NOTE,
    coverage: Coverage | None = None,
    at: datetime = FIXED_NOW,
    sign: bool = True,
) -> Visit:
    visit = visit_actions.create_visit(
        practice=provider.practice,
        patient=patient,
        provider=provider,
        date_of_service=on,
        note=note,
        diagnoses=diagnoses or ["M62.830", "M54.2"],
        services=services
        or [
            visit_actions.ServiceInput("97124", 38, "Swedish massage", "low back"),
            visit_actions.ServiceInput("97140", 15, "Myofascial release", "neck"),
        ],
        coverage=coverage,
        by=None,
        at=at,
    )
    if sign:
        visit = visit_actions.sign_visit(visit=visit, by=None, at=at)
    return visit
