"""/worklists and /reports — kept small and apart on purpose.

They read only what main already has (claim statuses, scrub findings, ledger balances). When
the follow-up and report query modules land, these routes should call those instead: each
route here is one call to swap.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.http import HttpRequest
from ninja import Query, Router, Schema

from handbill.api.access import need, practice_of
from handbill.api.errors import responses
from handbill.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, page
from handbill.api.routes.claims import ClaimPage
from handbill.claims.models import Claim, ClaimFinding, Status
from handbill.ledger.balances import payer_receivable, trial_balance
from handbill.practice.access import scoped
from handbill.practice.models import Payer, Practice

router = Router(tags=["worklists and reports"])

Worklist = Literal["denied", "rejected", "blocked", "ready"]


def _worklist(practice: Practice, name: str) -> QuerySet[Claim]:
    claims = scoped(Claim.objects.all(), practice)
    if name == "blocked":
        # Drafts the scrubber stopped: a blocking finding (overridden or not) on a draft.
        blocking = ClaimFinding.objects.filter(claim=OuterRef("pk"), severity="blocking")
        claims = claims.filter(status=Status.DRAFT).filter(Exists(blocking))
    else:
        claims = claims.filter(status=name)
    # Oldest first: what waits longest is worked first (timely filing).
    return claims.order_by("date_of_service", "pk")


@router.get("/worklists/{name}", response=responses({200: ClaimPage}),
            summary="Claims waiting on a person: denied, rejected, blocked drafts, ready to send")
def worklist(
    request: HttpRequest,
    name: Worklist,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0, le=MAX_OFFSET),  # type: ignore[type-arg]
) -> dict[str, object]:
    need(request, "bill")
    return page(request, _worklist(practice_of(request), name), limit=limit, offset=offset)


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
