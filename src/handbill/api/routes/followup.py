"""/worklists and /reports — kept small and apart: each route is one call into the follow-up
queries (``handbill.followup.queries``, the same lists as the web's /queues/) or the ledger's
balances, shaped for the API (money in cents)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.db.models import Count, Sum
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from handbill.api.access import need, practice_of
from handbill.api.errors import responses
from handbill.api.pagination import PageMeta, Paging, page
from handbill.claims.models import Claim
from handbill.core.followup import BUCKET_LABELS
from handbill.followup import queries as followup
from handbill.ledger.balances import payer_receivable, trial_balance
from handbill.practice.access import scoped
from handbill.practice.models import Payer

router = Router(tags=["worklists and reports"])

Worklist = Literal["followup", "denials", "rejections", "underpaid", "timely"]


class FilingOut(Schema):
    deadline: date
    days_left: int
    state: str


class WorkItemOut(Schema):
    key: str
    kind: str
    claim_id: int
    claim_number: str
    status: str
    payer: str
    date_of_service: date
    line: str
    codes: str
    meaning: str
    next_step: str
    action: str
    at_risk_cents: int
    score: int
    age_days: int
    filing: FilingOut | None
    difference_cents: int | None
    assigned_to: str | None
    snoozed_until: date | None
    worked_at: str | None
    note: str


class WorkItemPage(PageMeta):
    results: list[WorkItemOut]


def _item(row: followup.QueueRow) -> dict[str, Any]:
    shown = row.as_dict()
    filing = row.filing
    return {
        **{k: shown[k] for k in ("key", "kind", "status", "payer", "line", "codes", "meaning",
                                 "next_step", "action", "score", "age_days", "assigned_to",
                                 "snoozed_until", "worked_at", "note")},
        "claim_id": row.claim.pk,
        "claim_number": row.claim.number,
        "date_of_service": row.claim.date_of_service,
        "at_risk_cents": row.at_risk.value,
        "difference_cents": row.difference.value if row.difference is not None else None,
        "filing": ({"deadline": filing.deadline, "days_left": filing.days_left,
                    "state": filing.state.value} if filing is not None else None),
    }


@router.get("/worklists/{kind}", response=responses({200: WorkItemPage}),
            summary="A follow-up queue, most money at risk first (as on the Queues page)")
def worklist(request: HttpRequest, paging: Query[Paging], kind: Worklist  # type: ignore[type-arg]
             ) -> dict[str, object]:
    """Each item names the claim (and line), what the payer said in plain words, the next
    step, the money at risk and, for timely filing, the clock. Worked and snoozed items are
    left out, as on the page."""
    need(request, "bill")
    rows = followup.worklist(practice_of(request), at=timezone.now(), kind=kind)
    return page(request, rows, paging, convert=_item)


class AgingRowOut(Schema):
    payer: str
    buckets_cents: dict[str, int]
    total_cents: int
    claims: int


class AgingOut(Schema):
    as_of: date
    aged_from: str
    buckets: list[str]
    payers: list[AgingRowOut]
    totals_cents: dict[str, int]
    total_cents: int


@router.get("/reports/aging", response=responses({200: AgingOut}),
            summary="A/R by payer (and patients) in 0-30 … >120 day buckets")
def aging_report(request: HttpRequest) -> dict[str, Any]:
    need(request, "bill")
    report = followup.aging(practice_of(request), at=timezone.now())
    return {
        "as_of": report.as_of,
        "aged_from": "date_of_service",
        "buckets": list(BUCKET_LABELS),
        "payers": [
            {"payer": row.payer, "claims": row.claims, "total_cents": row.total.value,
             "buckets_cents": {label: row.buckets[label].value for label in BUCKET_LABELS}}
            for row in report.rows
        ],
        "totals_cents": {label: report.totals[label].value for label in BUCKET_LABELS},
        "total_cents": report.total.value,
    }


class StatusCount(Schema):
    status: str
    claims: int
    charges_cents: int


class ClaimStatusReport(Schema):
    statuses: list[StatusCount]


@router.get("/reports/claim-status", response=responses({200: ClaimStatusReport}),
            summary="Claims and their charges per status")
def claim_status_report(request: HttpRequest) -> dict[str, Any]:
    rows = (
        scoped(Claim.objects.all(), practice_of(request))
        .values("status")
        .annotate(claims=Count("pk"), charges=Sum("total_charge_cents"))
        .order_by("status")
    )
    return {"statuses": [
        {"status": r["status"], "claims": r["claims"], "charges_cents": int(r["charges"] or 0)}
        for r in rows
    ]}


class AccountBalance(Schema):
    account: str
    kind: str
    payer_id: int | None
    debits_cents: int
    credits_cents: int
    balance_cents: int


class PayerOwes(Schema):
    payer_id: int
    payer_name: str
    owes_cents: int


class BalancesReport(Schema):
    as_of: date | None
    balanced: bool
    accounts: list[AccountBalance]
    insurance_receivable: list[PayerOwes]


@router.get("/reports/balances", response=responses({200: BalancesReport}),
            summary="Ledger trial balance and what each payer still owes")
def balances_report(request: HttpRequest, as_of: date | None = None) -> dict[str, Any]:
    need(request, "post_payments")
    practice = practice_of(request)
    trial = trial_balance(practice, as_of=as_of)
    owed = payer_receivable(practice, as_of=as_of)
    names = dict(scoped(Payer.objects.filter(pk__in=owed), practice).values_list("pk", "name"))
    return {
        "as_of": as_of,
        "balanced": trial.is_balanced,
        "accounts": [
            {"account": row.account.name, "kind": row.account.kind,
             "payer_id": row.account.payer_id, "debits_cents": row.debits.value,
             "credits_cents": row.credits.value, "balance_cents": row.balance.value}
            for row in trial.rows
        ],
        "insurance_receivable": [
            {"payer_id": pk, "payer_name": names.get(pk, ""), "owes_cents": cents.value}
            for pk, cents in sorted(owed.items()) if pk is not None
        ],
    }
