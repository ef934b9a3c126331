"""What the note pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from handbill.claims.actions import billing_coverage
from handbill.claims.models import Claim, Status
from handbill.core.codes import icd10
from handbill.patients.models import Coverage
from handbill.practice.access import scoped
from handbill.practice.models import Practice
from handbill.visits.models import Addendum, ServiceEntry, Visit


@dataclass(frozen=True)
class DiagnosisShown:
    """A diagnosis code with its title, for the read-only note and the form's hints."""

    code: str
    description: str


def describe(code: str, on: date | None = None) -> DiagnosisShown:
    found = icd10.lookup(code, date_of_service=on)
    return DiagnosisShown(found.code, found.description or found.reason or "")


def find_visits(
    practice: Practice, *, signed: bool | None, provider_id: int | None, unbilled: bool = False
) -> QuerySet[Visit]:
    """Notes, newest first; ``unbilled`` keeps signed notes that have no claim yet."""
    visits = scoped(Visit.objects.all(), practice)
    if signed is not None:
        visits = visits.filter(signed_at__isnull=not signed)
    if unbilled:
        visits = visits.filter(signed_at__isnull=False, claims__isnull=True)
    if provider_id is not None:
        visits = visits.filter(provider_id=provider_id)
    return visits.select_related("patient", "provider").order_by("-date_of_service", "-pk")


@dataclass(frozen=True)
class SignedNote:
    visit: Visit
    diagnoses: list[DiagnosisShown]
    services: list[ServiceEntry]
    addenda: list[Addendum]
    claims: list[Claim]
    coverage: Coverage | None  # what a new claim would bill
    can_build: bool  # no live claim for that coverage yet


def signed_note(visit: Visit) -> SignedNote:
    claims = list(visit.claims.select_related("payer").order_by("-pk"))
    coverage = billing_coverage(visit)
    coverage_id = coverage.pk if coverage is not None else None
    taken = any(
        c.coverage_id == coverage_id and c.status not in (Status.VOID, Status.REJECTED)
        for c in claims
    )
    return SignedNote(
        visit=visit,
        diagnoses=[describe(d.code, visit.date_of_service) for d in visit.diagnoses.all()],
        services=list(visit.services.all()),
        addenda=list(visit.addenda.select_related("written_by")),
        claims=claims,
        coverage=coverage,
        can_build=visit.signed and not taken,
    )
