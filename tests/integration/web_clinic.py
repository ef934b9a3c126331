"""A small clinic for the web tests: staff in every role, payers with their shipped policies, a
patient with coverage and a prescription, and a second practice whose rows must stay out of
reach. Synthetic people only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.test import Client

from handbill.claims import actions as claim_actions
from handbill.claims.models import Claim
from handbill.patients.models import Authorization, Coverage, Patient
from handbill.policies.actions import load_shipped_policies
from handbill.practice.models import Payer, Practice, Provider, Role
from handbill.visits.models import Visit
from tests.conftest import FIXED_NOW
from tests.factories import records as f

PASSWORD = "synthetic-pass-123"  # the factories' password for every user


@dataclass
class Clinic:
    practice: Practice
    provider: Provider
    payers: dict[str, Payer]
    users: dict[str, Any]  # role value → user
    patient: Patient
    coverage: Coverage
    prescription: Authorization

    def client_for(self, role: str) -> Client:
        client = Client()
        client.force_login(self.users[role])
        return client


def make_clinic(name: str = "Alder Creek Massage", patient_last: str = "Fairweather") -> Clinic:
    # A full ZIP+4 and a phone: the 837P wants both for the billing provider.
    practice = f.make_practice(legal_name=name, postal_code="985014321", phone="3605550100")
    load_shipped_policies(practice=practice, by=None, at=FIXED_NOW)
    payers = {p.policy_profile: p for p in Payer.objects.filter(practice=practice)}
    provider = f.make_provider(practice, first_name="Mara", last_name="Quill")
    for payer in payers.values():
        f.enroll(provider, payer)
    f.set_fees(practice)
    users = {
        Role.OWNER.value: f.make_user(practice, Role.OWNER),
        Role.BILLER.value: f.make_user(practice, Role.BILLER),
        Role.THERAPIST.value: f.make_user(practice, Role.THERAPIST, provider=provider),
        Role.FRONT_DESK.value: f.make_user(practice, Role.FRONT_DESK),
        Role.AUDITOR.value: f.make_user(practice, Role.AUDITOR),
    }
    patient = f.make_patient(practice, first_name="Jordan", last_name=patient_last,
                             account_number="A10001")
    coverage = f.make_coverage(patient, payers["rainier-uniform-plan"], member_id="RU5550001")
    prescription = f.make_authorization(
        coverage, kind="prescription", visits_allowed=12, units_allowed={"97124": 24},
        start_date=date(2026, 1, 1), end_date=date(2027, 1, 1),
    )
    return Clinic(practice, provider, payers, users, patient, coverage, prescription)


def signed_visit(clinic: Clinic, **overrides: Any) -> Visit:
    overrides.setdefault("coverage", clinic.coverage)
    return f.make_signed_visit(clinic.provider, clinic.patient, **overrides)


def draft_claim(clinic: Clinic, visit: Visit | None = None) -> Claim:
    visit = visit or signed_visit(clinic)
    return claim_actions.build_claim(
        visit=visit, by=clinic.users[Role.BILLER.value], at=FIXED_NOW
    )
