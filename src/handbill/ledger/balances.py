"""Balances: sums of legs, or, for A/R per claim, the rows the leg triggers keep.

``as_of`` counts legs whose transaction's effective date is on or before that day.
:func:`open_receivables` reads :class:`~handbill.ledger.models.ClaimReceivable` (what is owed
today, claim by claim); :func:`receivable_drift` sums the legs again and names any row that
disagrees, which should never happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from handbill.core.money import Cents, total
from handbill.ledger.models import (
    RECEIVABLE_KINDS,
    Account,
    AccountKind,
    ClaimReceivable,
    DailyTotal,
    Leg,
)
from handbill.ledger.rules import Side

if TYPE_CHECKING:
    from handbill.practice.models import Practice


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    account: Account
    debits: Cents
    credits: Cents

    @property
    def balance(self) -> Cents:
        """On the account's normal side: what an A/R account is owed, what revenue earned."""
        net = self.debits - self.credits
        return net if self.account.normal_side == Side.DEBIT else -net


@dataclass(frozen=True, slots=True)
class TrialBalance:
    rows: tuple[TrialBalanceRow, ...]

    @property
    def total_debits(self) -> Cents:
        return total(row.debits for row in self.rows)

    @property
    def total_credits(self) -> Cents:
        return total(row.credits for row in self.rows)

    @property
    def is_balanced(self) -> bool:
        return self.total_debits == self.total_credits


def _scoped(legs: QuerySet[Any], as_of: date | None) -> QuerySet[Any]:
    if as_of is not None:
        legs = legs.filter(transaction__effective_date__lte=as_of)
    return legs


def _sums(legs: QuerySet[Any]) -> tuple[Cents, Cents]:
    # PostgreSQL sums bigint into numeric (a Decimal here); int() keeps it exact.
    sums = legs.aggregate(
        debits=Coalesce(Sum("debit_cents"), 0), credits=Coalesce(Sum("credit_cents"), 0)
    )
    return Cents(int(sums["debits"])), Cents(int(sums["credits"]))


def _net_debit(legs: QuerySet[Any]) -> Cents:
    debits, credits = _sums(legs)
    return debits - credits


def account_balance(account: Account, *, as_of: date | None = None) -> Cents:
    """The account's balance on its normal side (positive: an A/R is owed money)."""
    net = _net_debit(_scoped(Leg.objects.filter(account=account), as_of))
    return net if account.normal_side == Side.DEBIT else -net


def claim_balance(
    practice: Practice,
    claim_ref: str,
    *,
    line_ref: str | None = None,
    kinds: Iterable[str] = RECEIVABLE_KINDS,
    as_of: date | None = None,
) -> Cents:
    """What is still owed on a claim (or one line of it): its A/R, insurance plus patient.

    Narrow ``kinds`` to ``[AccountKind.AR_INSURANCE]`` for what payers still owe. Negative
    means a credit balance: something was overpaid and may need a refund.
    """
    legs = Leg.objects.filter(practice=practice, claim_ref=claim_ref, account__kind__in=kinds)
    if line_ref is not None:
        legs = legs.filter(line_ref=line_ref)
    return _net_debit(_scoped(legs, as_of))


def patient_balance(
    practice: Practice,
    patient_ref: str,
    *,
    kinds: Iterable[str] = (AccountKind.AR_PATIENT,),
    as_of: date | None = None,
) -> Cents:
    """What the patient owes (A/R patient); pass both receivable kinds for the whole A/R."""
    legs = Leg.objects.filter(
        practice=practice, patient_ref=patient_ref, account__kind__in=kinds
    )
    return _net_debit(_scoped(legs, as_of))


def trial_balance(practice: Practice, *, as_of: date | None = None) -> TrialBalance:
    """Debits and credits of every account that has legs; they must total the same."""
    sums = (
        _scoped(Leg.objects.filter(practice=practice), as_of)
        .values("account")
        .annotate(debits=Sum("debit_cents"), credits=Sum("credit_cents"))
        .order_by("account")
    )
    by_id = {row["account"]: row for row in sums}
    accounts = Account.objects.filter(pk__in=by_id).select_related("payer").order_by("kind", "pk")
    return TrialBalance(
        rows=tuple(
            TrialBalanceRow(
                account=account,
                debits=Cents(int(by_id[account.pk]["debits"])),
                credits=Cents(int(by_id[account.pk]["credits"])),
            )
            for account in accounts
        )
    )


def payer_receivable(practice: Practice, *, as_of: date | None = None) -> dict[int, Cents]:
    """A/R insurance per payer id, for aging and follow-up lists."""
    sums = (
        _scoped(
            Leg.objects.filter(practice=practice, account__kind=AccountKind.AR_INSURANCE), as_of
        )
        .values("account__payer")
        .annotate(debits=Sum("debit_cents"), credits=Sum("credit_cents"))
        .order_by("account__payer")
    )
    return {
        row["account__payer"]: Cents(int(row["debits"]) - int(row["credits"])) for row in sums
    }


def open_receivables(
    practice: Practice, kinds: Iterable[str] = RECEIVABLE_KINDS
) -> QuerySet[ClaimReceivable]:
    """The practice's receivable rows with a balance other than zero (of ``kinds``): what
    is owed now, or overpaid, claim by claim and account by account. Reads only open rows
    (a partial index), however long the practice's history."""
    return (ClaimReceivable.objects.filter(practice=practice, account__kind__in=list(kinds))
            .exclude(balance_cents=0))


@dataclass(frozen=True, slots=True)
class Drift:
    account_id: int
    claim_ref: str
    kept: Cents  # the ClaimReceivable row (0 when there is none)
    summed: Cents  # the legs


def receivable_drift(practice: Practice) -> list[Drift]:
    """Every account and claim whose kept receivable differs from the sum of its legs.

    The triggers make this empty; the tests call it to prove so. It sums every receivable leg
    of the practice, so it is as slow as the ledger is long.
    """
    summed = {
        (row["account_id"], row["claim_ref"]): int(row["debits"]) - int(row["credits"])
        for row in Leg.objects.filter(practice=practice, account__kind__in=RECEIVABLE_KINDS)
        .values("account_id", "claim_ref")
        .annotate(debits=Sum("debit_cents"), credits=Sum("credit_cents"))
        .order_by()
    }
    kept = {
        (account_id, claim_ref): balance
        for account_id, claim_ref, balance in ClaimReceivable.objects.filter(practice=practice)
        .values_list("account_id", "claim_ref", "balance_cents")
    }
    return [
        Drift(key[0], key[1], Cents(kept.get(key, 0)), Cents(summed.get(key, 0)))
        for key in sorted(summed.keys() | kept.keys())
        if kept.get(key, 0) != summed.get(key, 0)
    ]


def daily_total_drift(practice: Practice) -> list[tuple[int, date, str, int, int, int, int]]:
    """Every account, day and transaction kind whose kept totals differ from its legs, as
    (account id, day, kind, kept debits, kept credits, summed debits, summed credits). The
    triggers make this empty; like :func:`receivable_drift` it reads the whole ledger."""
    summed = {
        (row["account_id"], row["transaction__effective_date"], row["transaction__kind"]):
        (int(row["debits"]), int(row["credits"]))
        for row in Leg.objects.filter(practice=practice)
        .values("account_id", "transaction__effective_date", "transaction__kind")
        .annotate(debits=Sum("debit_cents"), credits=Sum("credit_cents"))
        .order_by()
    }
    kept = {
        (account_id, day, kind): (debits, credits)
        for account_id, day, kind, debits, credits in DailyTotal.objects.filter(
            practice=practice).values_list("account_id", "effective_date", "kind",
                                           "debit_cents", "credit_cents")
    }
    return [
        (*key, *kept.get(key, (0, 0)), *summed.get(key, (0, 0)))
        for key in sorted(summed.keys() | kept.keys())
        if kept.get(key, (0, 0)) != summed.get(key, (0, 0))
    ]


__all__ = [
    "daily_total_drift",
    "Drift",
    "open_receivables",
    "receivable_drift",
    "TrialBalance",
    "TrialBalanceRow",
    "account_balance",
    "claim_balance",
    "patient_balance",
    "payer_receivable",
    "trial_balance",
]
