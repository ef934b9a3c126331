"""Money at a glance: the sums behind the dashboard and the reports.

Every function takes the practice and returns plain values (integer cents, counts); each is a
few set-based queries that the database groups and sums, never a loop over claims in Python,
so the numbers come back as fast at 100,000 claims as at 300.

Definitions (docs/dashboard.md says the same for users):

- **A/R** is the net debit of the two receivable ledger accounts (A/R insurance per payer and
  A/R patient) — what payers and patients still owe, credits included.
- **Aging** counts from the claim's date of service (how billers age claims); an amount not
  tied to a claim ages from its ledger date. Buckets: 0–30, 31–60, 61–90, 91–120, over 120.
- **Charges** are the net credits of the charges account; **payments** the net debits of the
  cash account, split into insurance (payer payments, provider-level interest and
  recoupments) and patient (patient payments; refunds count against the side they came from).
- **Denials** are the CAS amounts of posted 835s that deny rather than price: every
  adjustment the posting plan left on the payer as a denial, and patient-responsibility
  reasons other than deductible (PR-1), coinsurance (PR-2) and copay (PR-3), e.g. PR-119 or
  PR-204.
- **Clean-claim rate**: of the original claims that have had an answer (a 999/277CA
  rejection or an 835), the share paid in full on their first submission — never rejected, no
  line denied, not replaced by a corrected claim.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from handbill.claims.models import Claim, ClaimLine, Status
from handbill.ledger.models import (
    RECEIVABLE_KINDS,
    Account,
    AccountKind,
    ClaimReceivable,
    DailyTotal,
    LedgerTransaction,
    Leg,
    TransactionKind,
)
from handbill.practice.models import Payer, Practice
from handbill.remittance.models import Acknowledgement, Adjustment, ClaimPayment

# (label, first day, last day); None = no upper end.
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–30", 0, 30),
    ("31–60", 31, 60),
    ("61–90", 61, 90),
    ("91–120", 91, 120),
    ("over 120", 121, None),
)
PATIENTS = "Patients"  # the A/R row of what patients owe
# Patient-responsibility reasons that are cost share, not a denial.
COST_SHARE = ("1", "2", "3")
# Claims whose units do not count: still a draft (may change), or voided.
NOT_BILLED = (Status.DRAFT, Status.VOID)


def period_end(to: date) -> date:
    """Reports take an inclusive "to" date from the user; queries use ``[from, to)``."""
    return to + timedelta(days=1)


# -- A/R and aging -------------------------------------------------------------------------


@dataclass(frozen=True)
class AgingRow:
    label: str  # a payer's name, or PATIENTS
    payer_id: int | None
    buckets: tuple[int, ...]  # cents per AGING_BUCKETS

    @property
    def total(self) -> int:
        return sum(self.buckets)


@dataclass(frozen=True)
class Aging:
    rows: tuple[AgingRow, ...]
    as_of: date

    @property
    def buckets(self) -> tuple[int, ...]:
        return tuple(sum(r.buckets[i] for r in self.rows) for i in range(len(AGING_BUCKETS)))

    @property
    def total(self) -> int:
        return sum(self.buckets)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label, _, _ in AGING_BUCKETS)


def _bucket_case(date_sql: str) -> str:
    return "CASE " + " ".join(
        f"WHEN {date_sql} >= %s THEN {index}"
        for index, (_label, _first, last) in enumerate(AGING_BUCKETS) if last is not None
    ) + f" ELSE {len(AGING_BUCKETS) - 1} END"


def _aging_sql() -> str:
    """The open receivable rows (kept per account and claim by the ledger's triggers), each
    joined once to its claim's date of service and bucketed: only the claims still owed are
    read, however long the practice's history.

    Written as SQL because the ledger has no foreign key to claims (rows name the claim by its
    number): the join on (practice, number) uses the claim's unique index."""
    qn = connection.ops.quote_name
    receivable, account = qn(ClaimReceivable._meta.db_table), qn(Account._meta.db_table)
    claim = qn(Claim._meta.db_table)
    # Table names come from the models and values go as parameters: nothing from input.
    return (
        f"SELECT a.payer_id, {_bucket_case('COALESCE(c.date_of_service, r.first_date)')} "  # noqa: S608
        f"AS bucket, SUM(r.balance_cents) FROM {receivable} r "
        f"JOIN {account} a ON a.id = r.account_id "
        f"LEFT JOIN {claim} c ON c.practice_id = r.practice_id AND c.number = r.claim_ref "
        "AND r.claim_ref <> '' "
        # The same predicate as the partial index of open rows, so the planner uses it.
        "WHERE r.practice_id = %s AND NOT (r.balance_cents = 0) AND a.kind IN (%s, %s) "
        "GROUP BY a.payer_id, bucket"
    )


def _aging_sql_as_of() -> str:
    """Aging on a past day: receivable legs with a ledger date up to that day, summed per
    account and claim (the kept rows hold today's balances, not a past day's)."""
    qn = connection.ops.quote_name
    leg, account = qn(Leg._meta.db_table), qn(Account._meta.db_table)
    txn, claim = qn(LedgerTransaction._meta.db_table), qn(Claim._meta.db_table)
    return (
        f"SELECT a.payer_id, {_bucket_case('COALESCE(c.date_of_service, x.first_date)')} "  # noqa: S608
        "AS bucket, SUM(x.balance) FROM ("
        "  SELECT l.account_id, l.claim_ref, MIN(t.effective_date) AS first_date, "
        "  SUM(l.debit_cents) - SUM(l.credit_cents) AS balance "
        f"  FROM {leg} l JOIN {txn} t ON t.id = l.transaction_id AND t.effective_date <= %s "
        # Driven from the practice's receivable accounts (the legs' account index).
        f"  WHERE l.account_id IN (SELECT id FROM {account} WHERE practice_id = %s "
        "  AND kind IN (%s, %s)) "
        "  GROUP BY l.account_id, l.claim_ref) x "
        f"JOIN {account} a ON a.id = x.account_id "
        f"LEFT JOIN {claim} c ON c.practice_id = a.practice_id AND c.number = x.claim_ref "
        "AND x.claim_ref <> '' "
        "WHERE x.balance <> 0 "
        "GROUP BY a.payer_id, bucket"
    )


def ar_aging(practice: Practice, *, as_of: date) -> Aging:
    """What payers and patients owe on ``as_of``, by payer and age bucket."""
    bounds = [as_of - timedelta(days=last) for _label, _first, last in AGING_BUCKETS
              if last is not None]
    # The kept rows are today's balances: right for any day on or after the practice's
    # latest ledger date, which is the dashboard's case. An earlier day sums the legs.
    dated = LedgerTransaction.objects.filter(
        practice=practice, effective_date__gt=as_of).exists()
    if dated:
        sql, params = _aging_sql_as_of(), [*bounds, as_of, practice.pk, *RECEIVABLE_KINDS]
    else:
        sql, params = _aging_sql(), [*bounds, practice.pk, *RECEIVABLE_KINDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = dict(Payer.objects.filter(practice=practice).values_list("pk", "name"))
    by_payer: dict[int | None, list[int]] = {}
    for payer, bucket, cents in rows:
        by_payer.setdefault(payer, [0] * len(AGING_BUCKETS))[bucket] += int(cents or 0)

    def label(payer: int | None) -> str:
        return PATIENTS if payer is None else names.get(payer, "")

    ordered = sorted(by_payer, key=lambda p: (p is None, label(p).lower()))
    return Aging(
        rows=tuple(
            AgingRow(label(p), p, tuple(by_payer[p])) for p in ordered if any(by_payer[p])
        ),
        as_of=as_of,
    )


# -- charges and payments ------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    charges: int
    insurance_payments: int
    patient_payments: int
    receivable: int

    @property
    def payments(self) -> int:
        return self.insurance_payments + self.patient_payments


def _in_period(practice: Practice, start: date, end: date,
               kind: str | None = None) -> QuerySet[Leg]:
    # The practice's transactions of the period (of one kind) first, then their legs.
    period = LedgerTransaction.objects.filter(
        practice=practice, effective_date__gte=start, effective_date__lt=end
    )
    if kind is not None:
        period = period.filter(kind=kind)
    return Leg.objects.filter(transaction_id__in=period.values("pk"))


def _accounts(practice: Practice, kind: str) -> QuerySet[Account]:
    return Account.objects.filter(practice=practice, kind=kind).values("pk")


def _days(practice: Practice, start: date, end: date, *kinds: str) -> QuerySet[DailyTotal]:
    """The ledger's kept daily totals of the practice's accounts of ``kinds`` in ``[start,
    end)``, without the cash of refunds: whether a refund went to a patient or a payer is on
    its other leg, so :func:`_refunds` reads those legs instead (refunds are few)."""
    return (DailyTotal.objects.filter(practice=practice, effective_date__gte=start,
                                      effective_date__lt=end, account__kind__in=kinds)
            .exclude(Q(kind=TransactionKind.REFUND) & Q(account__kind=AccountKind.CASH)))


def _refunds(practice: Practice, start: date, end: date) -> QuerySet[Leg]:
    """The cash legs of the period's refunds, with their side (see :func:`_side`)."""
    return (_in_period(practice, start, end, TransactionKind.REFUND)
            .filter(account_id__in=_accounts(practice, AccountKind.CASH))
            .annotate(side=_side()))


def _day_side(kind: str) -> str:
    # Cash in from a patient payment is the patient's; everything else reaching cash (835
    # payments, interest, recoupments, reversals) is the insurance side, as in _side().
    return "patient" if kind == TransactionKind.PATIENT_PAYMENT else "insurance"


def totals(practice: Practice, *, start: date, end: date, receivable: int) -> Totals:
    """Charges and payments with a ledger date in ``[start, end)``, from the ledger's daily
    totals (a row per account, day and kind, however many legs); ``receivable`` is the A/R
    the caller already summed (the aging's total)."""
    rows = (
        _days(practice, start, end, AccountKind.CHARGES, AccountKind.CASH)
        .values("account__kind", "kind")
        .annotate(debit=Sum("debit_cents"), credit=Sum("credit_cents"))
        .order_by()
    )
    charges, cash = 0, {"insurance": 0, "patient": 0}
    for row in rows:
        if row["account__kind"] == AccountKind.CHARGES:
            charges += row["credit"] - row["debit"]
        else:
            cash[_day_side(row["kind"])] += row["debit"] - row["credit"]
    for side, cents in _cash_by_side(_refunds(practice, start, end)).items():
        cash[side] += cents
    return Totals(
        charges=charges,
        insurance_payments=cash["insurance"],
        patient_payments=cash["patient"],
        receivable=receivable,
    )


def _side() -> Case:
    # A patient payment, or a refund paid out of the patient's account, is the patient's side;
    # everything else reaching cash (835 payments, interest, recoupments) is insurance.
    patient_refund = Exists(
        Leg.objects.filter(
            transaction_id=OuterRef("transaction_id"), account__kind=AccountKind.AR_PATIENT
        )
    )
    return Case(
        When(transaction__kind=TransactionKind.PATIENT_PAYMENT, then=Value("patient")),
        When(Q(transaction__kind=TransactionKind.REFUND) & Q(patient_refund),
             then=Value("patient")),
        default=Value("insurance"),
        output_field=CharField(),
    )


def _cash_by_side(legs: QuerySet[Leg]) -> dict[str, int]:
    rows = (
        legs.values("side")
        .annotate(cents=Sum("debit_cents") - Sum("credit_cents"))
        .order_by()
    )
    return {row["side"]: row["cents"] for row in rows}


@dataclass(frozen=True)
class PaymentPeriod:
    start: date
    insurance: int
    patient: int

    @property
    def total(self) -> int:
        return self.insurance + self.patient


def payments_by_period(
    practice: Practice, *, start: date, end: date, period: str = "month"
) -> list[PaymentPeriod]:
    """Money in per calendar month (or ISO week, Monday first) with a date in ``[start,
    end)``, insurance and patient apart."""
    trunc = TruncWeek if period == "week" else TruncMonth
    grouped: dict[date, dict[str, int]] = {}

    def add(begins: Any, side: str, cents: int) -> None:
        if hasattr(begins, "date"):
            begins = begins.date()
        sides = grouped.setdefault(begins, {})
        sides[side] = sides.get(side, 0) + cents

    days = (_days(practice, start, end, AccountKind.CASH)
            .annotate(period=trunc("effective_date"))
            .values("period", "kind")
            .annotate(cents=Sum("debit_cents") - Sum("credit_cents"))
            .order_by())
    for row in days:
        add(row["period"], _day_side(row["kind"]), row["cents"])
    refunds = (_refunds(practice, start, end)
               .annotate(period=trunc("transaction__effective_date"))
               .values("period", "side")
               .annotate(cents=Sum("debit_cents") - Sum("credit_cents"))
               .order_by())
    for row in refunds:
        add(row["period"], row["side"], row["cents"])
    return [
        PaymentPeriod(begins, sides.get("insurance", 0), sides.get("patient", 0))
        for begins, sides in sorted(grouped.items())
    ]


# -- denials -------------------------------------------------------------------------------

DENIAL = Q(effect="denied") | (Q(group="PR") & ~Q(reason__in=COST_SHARE) & ~Q(effect="contractual"))


@dataclass(frozen=True)
class DenialRow:
    payer: str
    group: str
    reason: str
    claims: int
    cents: int

    @property
    def code(self) -> str:
        return f"{self.group}-{self.reason}"


def _denials(practice: Practice, start: date | None, end: date | None) -> QuerySet[Adjustment]:
    adjustments = Adjustment.objects.filter(
        DENIAL, claim_payment__practice=practice, claim_payment__era__status="posted"
    )
    if start is not None:
        adjustments = adjustments.filter(claim_payment__era__payment_date__gte=start)
    if end is not None:
        adjustments = adjustments.filter(claim_payment__era__payment_date__lt=end)
    return adjustments


def denials_by_payer(
    practice: Practice, *, start: date | None = None, end: date | None = None
) -> list[DenialRow]:
    """Denied amounts and the claims they hit, per payer and reason (835 payment date in
    ``[start, end)``), the costliest first."""
    rows = (
        _denials(practice, start, end)
        .annotate(payer_name=Coalesce("claim_payment__era__payer__name",
                                      "claim_payment__era__payer_name"))
        .values("payer_name", "group", "reason")
        .annotate(claims=Count("claim_payment__claim_id", distinct=True),
                  cents=Sum("amount_cents"))
        .order_by("-cents", "payer_name", "group", "reason")
    )
    return [
        DenialRow(r["payer_name"] or "", r["group"], r["reason"], r["claims"], r["cents"])
        for r in rows
    ]


def denials_by_reason(
    practice: Practice, *, start: date | None = None, end: date | None = None
) -> list[DenialRow]:
    """The same, all payers together: one row per reason."""
    rows = (
        _denials(practice, start, end)
        .values("group", "reason")
        .annotate(claims=Count("claim_payment__claim_id", distinct=True),
                  cents=Sum("amount_cents"))
        .order_by("-claims", "-cents", "group", "reason")
    )
    return [DenialRow("", r["group"], r["reason"], r["claims"], r["cents"]) for r in rows]


# -- units ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitsRow:
    code: str
    provider: str
    provider_id: int
    lines: int
    units: int
    charge: int


def units_by_code_and_provider(
    practice: Practice, *, start: date, end: date
) -> list[UnitsRow]:
    """Units on claims past draft (ready, sent or answered; not voided) with a date of
    service in ``[start, end)``, per code and rendering provider."""
    rows = (
        ClaimLine.objects.filter(
            claim__practice=practice,
            claim__date_of_service__gte=start,
            claim__date_of_service__lt=end,
        )
        .exclude(claim__status__in=NOT_BILLED)
        .values("code", "claim__provider_id", "claim__provider__last_name",
                "claim__provider__first_name")
        .annotate(lines=Count("pk"), units=Sum("units"), charge=Sum("charge_cents"))
        .order_by("code", "claim__provider__last_name", "claim__provider__first_name")
    )
    return [
        UnitsRow(
            r["code"],
            f"{r['claim__provider__first_name']} {r['claim__provider__last_name']}".strip(),
            r["claim__provider_id"], r["lines"], r["units"] or 0, r["charge"] or 0,
        )
        for r in rows
    ]


# -- clean claims --------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanRate:
    answered: int
    clean: int

    @property
    def percent(self) -> int | None:
        if not self.answered:
            return None
        return round(100 * self.clean / self.answered)


def clean_claim_rate(practice: Practice, *, start: date | None = None,
                     end: date | None = None) -> CleanRate:
    """Original claims (date of service in ``[start, end)``) with an answer, and how many
    of them were paid in full the first time (see the module's definition)."""
    # Rejections as the 999/277CA reported them (indexed by practice and result).
    rejected = Acknowledgement.objects.filter(
        practice=practice, result="rejected", claim__isnull=False).values("claim_id")
    answered = ClaimPayment.objects.filter(practice=practice).exclude(
        outcome="unmatched").values("claim_id")
    cut = ClaimPayment.objects.filter(practice=practice).exclude(
        outcome__in=["paid", "unmatched"]).values("claim_id")
    replaced = Claim.objects.filter(practice=practice, replaces__isnull=False).values(
        "replaces_id")
    claims = Claim.objects.filter(practice=practice, frequency="1")
    if start is not None:
        claims = claims.filter(date_of_service__gte=start)
    if end is not None:
        claims = claims.filter(date_of_service__lt=end)
    # One pass over the claims; each subquery runs once (IN (SELECT …)), not once per claim.
    was_rejected = Q(pk__in=rejected)
    counts = claims.filter(Q(pk__in=answered) | was_rejected).aggregate(
        answered=Count("pk"),
        clean=Count("pk", filter=Q(pk__in=answered) & ~was_rejected & ~Q(pk__in=cut)
                    & ~Q(pk__in=replaced)),
    )
    return CleanRate(counts["answered"], counts["clean"])


def percent_of(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def scale(values: Iterable[int]) -> list[int]:
    """Each value as a percentage of the largest (for bar lengths), at least 0."""
    values = list(values)
    top = max((v for v in values if v > 0), default=0)
    return [percent_of(max(v, 0), top) for v in values]


@dataclass
class Chart:
    """A horizontal bar chart, drawn as inline SVG by the ``bar_chart`` template."""

    title: str
    description: str
    labels: list[str]
    values: list[int]
    display: list[str]  # the value as the reader sees it ("$1,234.00", "3 claims")
    links: list[str] = field(default_factory=list)

    @property
    def bars(self) -> list[dict[str, Any]]:
        widths = scale(self.values)
        links = self.links or [""] * len(self.labels)
        return [
            {"label": label, "value": value, "display": shown, "width": width,
             "y": 10 + index * 34, "link": link}
            for index, (label, value, shown, width, link) in enumerate(
                zip(self.labels, self.values, self.display, widths, links, strict=True))
        ]

    @property
    def height(self) -> int:
        return 20 + 34 * len(self.labels)
