"""The counts on the start page: what is waiting for whom."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q

from handbill.claims.models import Claim, ClaimFinding, Status
from handbill.practice.access import scoped
from handbill.practice.models import Practice
from handbill.visits.models import Visit


@dataclass(frozen=True)
class Today:
    notes_to_sign: int
    notes_to_bill: int
    claims_blocked: int
    claims_draft: int
    claims_ready: int
    claims_rejected: int
    claims_denied: int


def today(practice: Practice, *, provider_id: int | None = None) -> Today:
    """``provider_id`` narrows the notes to one therapist's own."""
    visits = scoped(Visit.objects.all(), practice)
    if provider_id is not None:
        visits = visits.filter(provider_id=provider_id)
    notes = visits.aggregate(
        to_sign=Count("pk", filter=Q(signed_at__isnull=True), distinct=True),
        to_bill=Count(
            "pk", filter=Q(signed_at__isnull=False, claims__isnull=True), distinct=True
        ),
    )
    claims = scoped(Claim.objects.all(), practice)
    by_status = dict(
        claims.filter(status__in=[Status.DRAFT, Status.READY, Status.REJECTED, Status.DENIED])
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    blocked = (
        claims.filter(status=Status.DRAFT)
        .filter(Exists(ClaimFinding.objects.filter(claim=OuterRef("pk"), severity="blocking")))
        .count()
    )
    return Today(
        notes_to_sign=notes["to_sign"],
        notes_to_bill=notes["to_bill"],
        claims_blocked=blocked,
        claims_draft=by_status.get(Status.DRAFT, 0),
        claims_ready=by_status.get(Status.READY, 0),
        claims_rejected=by_status.get(Status.REJECTED, 0),
        claims_denied=by_status.get(Status.DENIED, 0),
    )
