"""The counts on the start page: what is waiting for whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from handbill.claims.models import Claim, ClaimFinding, Status
from handbill.core.claim_status import LIVE
from handbill.patients.models import Authorization
from handbill.policies.store import policy_for
from handbill.practice.access import scoped
from handbill.practice.models import Payer, Practice
from handbill.visits.models import Visit
from handbill.web.queries import money


@dataclass(frozen=True)
class Today:
    notes_to_sign: int
    notes_to_bill: int
    claims_blocked: int
    claims_draft: int
    claims_ready: int
    claims_rejected: int
    claims_denied: int
    claims_partially_paid: int = 0


def today(practice: Practice, *, provider_id: int | None = None) -> Today:
    """``provider_id`` narrows the notes to one therapist's own."""
    visits = scoped(Visit.objects.all(), practice)
    if provider_id is not None:
        visits = visits.filter(provider_id=provider_id)
    # Two counts, the second an anti-join by the claims' visit index: counting both over a
    # join of every visit to every claim took 70 ms on PostgreSQL at 100,000 claims.
    to_sign = visits.filter(signed_at__isnull=True).count()
    to_bill = (visits.filter(signed_at__isnull=False)
               .exclude(Exists(Claim.objects.filter(visit_id=OuterRef("pk")))).count())
    claims = scoped(Claim.objects.all(), practice)
    by_status = dict(
        claims.filter(status__in=[Status.DRAFT, Status.READY, Status.REJECTED, Status.DENIED,
                                 Status.PARTIALLY_PAID])
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
        notes_to_sign=to_sign,
        notes_to_bill=to_bill,
        claims_blocked=blocked,
        claims_draft=by_status.get(Status.DRAFT, 0),
        claims_ready=by_status.get(Status.READY, 0),
        claims_rejected=by_status.get(Status.REJECTED, 0),
        claims_denied=by_status.get(Status.DENIED, 0),
        claims_partially_paid=by_status.get(Status.PARTIALLY_PAID, 0),
    )


# -- the dashboard: money and what needs work ----------------------------------------------

TIMELY_WARNING_DAYS = 14  # a claim not yet with the payer this close to its limit is flagged
AUTHORIZATION_VISITS_LEFT = 2
AUTHORIZATION_DAYS_LEFT = 14
PERIOD_DAYS = 30  # charges and payments: the last 30 days


@dataclass(frozen=True)
class RunningOut:
    authorization: Authorization
    visits_left: int | None
    days_left: int | None


@dataclass(frozen=True)
class Dashboard:
    today: Today
    as_of: date
    period_start: date
    totals: money.Totals
    aging: money.Aging
    denials: list[money.DenialRow]
    clean: money.CleanRate
    near_timely_limit: int
    running_out: list[RunningOut]


def timely_filing_limits(practice: Practice, on: date) -> dict[int, int]:
    """Each payer's filing limit in days on ``on`` (a handful of payers: one query each)."""
    limits: dict[int, int] = {}
    for payer in Payer.objects.filter(practice=practice):
        policy = policy_for(payer, on)
        if policy is not None:
            limits[payer.pk] = policy.timely_filing_days
    return limits


def near_timely_limit(practice: Practice, *, as_of: date) -> QuerySet[Claim]:
    """Claims not yet with the payer (draft, ready, rejected) within TIMELY_WARNING_DAYS of
    the payer's filing limit, or past it. One query: a date bound per payer."""
    near = Q(pk__in=[])
    for payer_id, days in timely_filing_limits(practice, as_of).items():
        # days left = date of service + limit - as_of <= warning
        latest = as_of - timedelta(days=days - TIMELY_WARNING_DAYS)
        near |= Q(payer_id=payer_id, date_of_service__lte=latest)
    return scoped(Claim.objects.all(), practice).filter(
        near, status__in=[Status.DRAFT, Status.READY, Status.REJECTED]
    )


def authorizations_running_out(practice: Practice, *, as_of: date) -> list[RunningOut]:
    """Authorizations and prescriptions in force on ``as_of`` with two visits or fewer left,
    or ending within two weeks; the visits used counted from live claims in the database."""
    live = Claim.objects.filter(status__in=[s.value for s in LIVE]).order_by()

    def drawn(column: str) -> Subquery:
        # One indexed count per column: an OR of the two would scan the claims.
        return Subquery(
            live.filter(**{column: OuterRef("pk")}).values(column).annotate(n=Count("pk"))
            .values("n")
        )

    rows = (
        scoped(Authorization.objects.all(), practice)
        .filter(start_date__lte=as_of)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=as_of))
        .annotate(used=Coalesce(drawn("authorization_id"), 0) + Coalesce(drawn("referral_id"), 0))
        .filter(
            Q(visits_allowed__isnull=False,
              visits_allowed__lte=F("used") + AUTHORIZATION_VISITS_LEFT)
            | Q(end_date__lte=as_of + timedelta(days=AUTHORIZATION_DAYS_LEFT))
        )
        .select_related("coverage__patient", "coverage__payer")
        .order_by("end_date", "pk")
    )
    return [
        RunningOut(
            authorization=a,
            visits_left=None if a.visits_allowed is None else a.visits_allowed - a.used,
            days_left=None if a.end_date is None else (a.end_date - as_of).days,
        )
        for a in rows
    ]


def dashboard(practice: Practice, *, as_of: date, provider_id: int | None = None) -> Dashboard:
    start = as_of - timedelta(days=PERIOD_DAYS - 1)
    end = money.period_end(as_of)
    aging = money.ar_aging(practice, as_of=as_of)
    return Dashboard(
        today=today(practice, provider_id=provider_id),
        as_of=as_of,
        period_start=start,
        totals=money.totals(practice, start=start, end=end, receivable=aging.total),
        aging=aging,
        denials=money.denials_by_reason(practice),
        clean=money.clean_claim_rate(practice),
        near_timely_limit=near_timely_limit(practice, as_of=as_of).count(),
        running_out=authorizations_running_out(practice, as_of=as_of),
    )
