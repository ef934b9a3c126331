"""The worklists, built from what is stored: acknowledgements, remittances, the ledger, claims
and payer policies. ``handbill.core.followup`` says what each item means and what to do.

Keys (``WorkItem.key``) name each item's reason exactly:

- ``ack:<id>``: a 999 or 277CA rejection (one acknowledgement row); ``rejected:<claim id>``
  for a rejected claim with no acknowledgement row (the reason is on its claim event);
- ``denial:<service payment id>`` or ``denial:cp<claim payment id>``: a denied line, or a
  claim denied without line detail, in the claim's latest remittance;
- ``underpaid:<service payment id>``;
- ``timely:<claim id>`` and ``followup:<claim id>``: per claim.

Only a claim's latest adjudication counts (a reversal and re-adjudication leave the newer
one), and only while the claim is still denied, partially paid or paid: once a biller has
corrected, appealed or closed it, its denial is off the list. A denial also leaves the list
once its money is settled in the ledger: written off or billed to the patient (held amounts),
or paid by the patient (their share).

An item a biller marked worked leaves its list. Timely-filing and A/R follow-up items are about
an unpaid claim, not one event, so they come back ``FOLLOW_UP_AGAIN_DAYS`` after being worked
if the money is still out. A snoozed item is hidden until its date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import F, Q, Sum

from handbill.claims.models import Claim, ClaimEvent
from handbill.core import followup as fu
from handbill.core.money import Cents, total
from handbill.core.policy import PayerPolicy
from handbill.followup.models import ProposalStatus, RuleProposal, WorkItem
from handbill.ledger.balances import open_receivables
from handbill.ledger.models import Account, AccountKind, ClaimReceivable
from handbill.policies.actions import practice_today
from handbill.policies.store import versions_of
from handbill.practice.models import Payer, Practice
from handbill.remittance.models import (
    Acknowledgement,
    AckResult,
    Adjustment,
    ClaimPayment,
    ServicePayment,
)

FOLLOW_UP_AGAIN_DAYS = 14
# A claim with the payer and no answer for this long needs a status check.
NO_ANSWER_DAYS = 30

# Statuses in which the payer has not (yet) received a claim it can adjudicate: the filing
# clock is still running for them.
NOT_WITH_PAYER = frozenset({"draft", "ready", "rejected", "corrected"})
# A denied line is fixed with a corrected claim, and most payers hold a correction to the same
# filing limit: the clock matters for these too while the payer still owes something.
RESUBMIT_PENDING = frozenset({"denied", "partially_paid"})
CLOCK_RUNNING = NOT_WITH_PAYER | RESUBMIT_PENDING
ADJUDICATED = frozenset({"denied", "partially_paid", "paid"})
REVERSAL = "22"


@dataclass
class QueueRow:
    key: str
    kind: fu.WorkKind
    # A LightClaim only while ``light`` (see ``hydrate``).
    claim: Claim | LightClaim
    payer_name: str
    line: str  # the line's code (and control number) or "" for the whole claim
    step: fu.NextStep
    at_risk: Cents  # the open money this item is about
    age_days: int
    filing: fu.FilingClock | None = None
    score: int = 0
    difference: Cents | None = None  # underpayments: expected − allowed
    service_payment_id: int | None = None
    state: WorkItem | None = None
    more_steps: list[fu.NextStep] = field(default_factory=list)
    # The claim was read with only what ordering needs (``hydrate`` reads the rest).
    light: bool = False

    @property
    def action(self) -> str:
        return self.step.action.value

    @property
    def clock_running(self) -> bool:
        """Whether the filing deadline still binds (the claim, or its correction, has yet to
        reach the payer); otherwise the countdown is for information."""
        return self.claim.status in CLOCK_RUNNING

    def as_dict(self) -> dict[str, Any]:
        state = self.state
        return {
            "key": self.key,
            "kind": self.kind.value,
            "claim": self.claim.number,
            "claim_id": self.claim.pk,
            "status": self.claim.status,
            "patient": f"{self.claim.patient.last_name}, {self.claim.patient.first_name}",
            "payer": self.payer_name,
            "date_of_service": self.claim.date_of_service.isoformat(),
            "line": self.line,
            "codes": self.step.codes,
            "meaning": self.step.meaning,
            "next_step": self.step.step,
            "action": self.step.action.value,
            "more": [{"codes": s.codes, "meaning": s.meaning, "next_step": s.step}
                     for s in self.more_steps],
            "at_risk": str(self.at_risk),
            "score": self.score,
            "age_days": self.age_days,
            "filing": self.filing.as_dict() if self.filing is not None else None,
            "filing_clock_running": self.clock_running,
            "difference": str(self.difference) if self.difference is not None else None,
            "assigned_to": state.assigned_to.get_username() if state and state.assigned_to
            else None,
            "snoozed_until": state.snoozed_until.isoformat() if state and state.snoozed_until
            else None,
            "worked_at": state.worked_at.isoformat() if state and state.worked_at else None,
            "note": state.note if state else "",
        }


class _Context:
    """What several lists share: today, balances, policies (looked up once each)."""

    def __init__(self, practice: Practice, at: datetime) -> None:
        self.practice = practice
        self.today = practice_today(practice, at)
        self._policies: dict[tuple[int, date], PayerPolicy | None] = {}
        self._versions: dict[int, list[PayerPolicy]] = {}
        self._balances: dict[str, dict[str, Cents]] = {}
        self._payers: dict[int, Payer] = {}
        self._clocks: dict[tuple[int | None, date], fu.FilingClock | None] = {}

    def policy(self, payer: Payer | None, on: date) -> PayerPolicy | None:
        """The payer's rules on ``on``: its versions are read once, each checked once."""
        if payer is None:
            return None
        key = (payer.pk, on)
        if key not in self._policies:
            self._policies[key] = next(
                (p for p in self.versions(payer) if p.in_force(on)), None)
        return self._policies[key]

    def payers(self) -> list[Payer]:
        """The practice's payers (read once)."""
        if not self._payers:
            self._payers = {p.pk: p for p in Payer.objects.filter(practice=self.practice)}
        return list(self._payers.values())

    def payer(self, pk: int) -> Payer:
        """The practice's payer ``pk`` (all of them read once)."""
        self.payers()
        if pk not in self._payers:
            self._payers[pk] = Payer.objects.get(pk=pk)
        return self._payers[pk]

    def versions(self, payer: Payer) -> list[PayerPolicy]:
        """Every policy version of the payer (read once)."""
        if payer.pk not in self._versions:
            self._versions[payer.pk] = [version.as_policy() for version in versions_of(payer)]
        return self._versions[payer.pk]

    def _claim_balances(self, kind: str) -> dict[str, Cents]:
        if kind not in self._balances:
            # Only the claims whose balance is not zero: most of a large practice's claims
            # are settled, and a settled claim is read as 0 (``.get(number, Cents(0))``).
            self._balances[kind] = {
                ref: Cents(int(open_)) for ref, open_ in _open_balances(self.practice, kind)
                .values_list("claim_ref", "open")}
        return self._balances[kind]

    def insurance_balances(self) -> dict[str, Cents]:
        """What payers still owe, per claim number (claims with a balance other than 0)."""
        return self._claim_balances(AccountKind.AR_INSURANCE)

    def patient_balances(self) -> dict[str, Cents]:
        """What patients still owe, per claim number (claims with a balance other than 0)."""
        return self._claim_balances(AccountKind.AR_PATIENT)

    def age(self, claim: Claim | LightClaim) -> int:
        return fu.age_in_days(claim.date_of_service, self.today)

    def clock(self, claim: Claim | LightClaim, *,
              any_status: bool = False) -> fu.FilingClock | None:
        """The filing countdown of a claim whose clock still matters (``any_status``: of
        any unpaid claim, for information)."""
        if not any_status and claim.status not in CLOCK_RUNNING:
            return None
        # Claims of one payer and day share a clock (the value is immutable): tens of
        # thousands of open claims fall on a few hundred days.
        key = (claim.payer.pk if claim.payer is not None else None, claim.date_of_service)
        if key not in self._clocks:
            policy = self.policy(claim.payer, claim.date_of_service)
            self._clocks[key] = None if policy is None else fu.filing_clock(
                claim.date_of_service, policy.timely_filing_days, as_of=self.today)
        return self._clocks[key]


def _claims() -> Any:
    return Claim.objects.select_related("patient", "payer", "provider")


# What a list needs of a claim to decide and order its rows; the patient and provider are read
# by ``hydrate`` for the rows shown (a large practice has tens of thousands of open claims).
_LIGHT_FIELDS = ("pk", "practice_id", "number", "status", "date_of_service",
                 "total_charge_cents", "payer_id", "patient_id", "provider_id")


@dataclass(slots=True)
class LightClaim:
    """A claim as a per-claim list reads it to decide and order its rows: plain values, so
    ten thousand open claims cost milliseconds, not a model instance each. ``hydrate``
    replaces it with the whole :class:`Claim` before a row is shown or serialised."""

    pk: int
    practice_id: int
    number: str
    status: str
    date_of_service: date
    total_charge_cents: int
    payer_id: int | None
    patient_id: int
    provider_id: int
    payer: Payer | None = None


def _light(ctx: _Context, claims: Any) -> Iterable[LightClaim]:
    """The claims as :class:`LightClaim`, with their payer (read once per payer)."""
    for values in claims.values_list(*_LIGHT_FIELDS):
        claim = LightClaim(*values)
        if claim.payer_id is not None:
            claim.payer = ctx.payer(claim.payer_id)
        yield claim


def hydrate(rows: Iterable[QueueRow]) -> None:
    """Give the rows read light their whole claim, with patient, payer and provider (one
    query for all of them): before showing or serialising them."""
    todo = [row for row in rows if row.light]
    if not todo:
        return
    full = _claims().in_bulk([row.claim.pk for row in todo])
    for row in todo:
        row.claim = full[row.claim.pk]
        row.light = False


def _open_balances(practice: Practice, *kinds: str) -> Any:
    """Per claim number (and account kind), what is owed as ``open``, for the claims whose
    balance on those accounts is not zero. Read from the receivable rows the ledger keeps, so
    only open claims are read (a payer's and a secondary payer's rows add up per kind)."""
    return (open_receivables(practice, kinds)
            .exclude(claim_ref="")
            .values("claim_ref", "account__kind")
            .annotate(open=Sum("balance_cents"))
            .exclude(open=0))


# --- rejections -------------------------------------------------------------------------------


def _rejections(ctx: _Context) -> list[QueueRow]:
    acks = (Acknowledgement.objects.filter(practice=ctx.practice, result=AckResult.REJECTED,
                                           claim__status="rejected")
            .select_related("claim", "claim__patient", "claim__payer")
            .order_by("claim_id", "received_at", "pk"))
    balances = ctx.insurance_balances()
    # A rejected claim never charged to the payer's A/R is at risk for its whole charge; one
    # whose A/R legs net to zero is at risk for nothing (the balances leave out zeros).
    # (By the payers' A/R accounts, so the rows are found by their account-and-claim index.)
    booked = set(ClaimReceivable.objects.filter(
        account_id__in=list(Account.objects.filter(
            practice=ctx.practice, kind=AccountKind.AR_INSURANCE).values_list("pk", flat=True)),
        claim_ref__in=Claim.objects.filter(practice=ctx.practice, status="rejected")
        .values("number")).values_list("claim_ref", flat=True).distinct())

    def risk_of(claim: Claim) -> Cents:
        return balances.get(claim.number,
                            Cents(0) if claim.number in booked
                            else Cents(claim.total_charge_cents))

    rows = []
    for ack in acks:
        claim = ack.claim
        assert claim is not None  # noqa: S101 - filtered above
        if ack.kind == "277ca" and ack.code.split(":")[0] not in fu.REJECTING_CATEGORIES:
            continue
        step = fu.rejection_step(ack.kind, ack.code, ack.message)
        risk = risk_of(claim)
        rows.append(QueueRow(f"ack:{ack.pk}", fu.WorkKind.REJECTION, claim,
                             claim.payer.name if claim.payer else "", "", step, risk,
                             ctx.age(claim), ctx.clock(claim)))
    # A claim marked rejected by hand, or by an import, has no acknowledgement row: the
    # reason is the note on the move to rejected.
    covered = {row.claim.pk for row in rows}
    uncovered = [claim for claim in _claims().filter(practice=ctx.practice, status="rejected")
                 if claim.pk not in covered]
    # The latest move to rejected of each, read at once (not a query per claim).
    notes: dict[int, str] = {}
    for claim_id, note in (ClaimEvent.objects
                           .filter(claim__practice=ctx.practice, claim__status="rejected",
                                   to_status="rejected")
                           .order_by("claim_id", "-at", "-pk")
                           .values_list("claim_id", "note")):
        notes.setdefault(claim_id, note)
    for claim in uncovered:
        step = fu.rejection_step("claim", "", notes.get(claim.pk, ""))
        rows.append(QueueRow(f"rejected:{claim.pk}", fu.WorkKind.REJECTION, claim,
                             claim.payer.name if claim.payer else "", "", step,
                             risk_of(claim), ctx.age(claim), ctx.clock(claim)))
    return rows


# --- denials and underpayments ----------------------------------------------------------------


# What the lists read of a payment and its claim, as plain values (thousands of rows are read
# at once): the payment, then the claim's ``_LIGHT_FIELDS``, then its provider's taxonomy.
_PAYMENT_FIELDS = (
    "pk", "status_code", "claim__pk", "claim__practice_id", "claim__number", "claim__status",
    "claim__date_of_service", "claim__total_charge_cents", "claim__payer_id",
    "claim__patient_id", "claim__provider_id", "claim__provider__taxonomy",
)
_LINE_FIELDS = (
    "pk", "claim_payment_id", "code", "modifiers", "units", "paid_cents", "allowed_cents",
    "service_date", "control_number", "remarks", "claim_line_id", "claim_line__code",
    "claim_line__modifiers", "claim_line__control_number",
)
_ADJUSTMENT_FIELDS = ("claim_payment_id", "service_payment_id", "group", "reason",
                      "amount_cents", "effect")


@dataclass(slots=True)
class PaidAdjustment:
    """One CAS reason as the lists read it (plain values: thousands are read at once)."""

    claim_payment_id: int
    service_payment_id: int | None
    group: str
    reason: str
    amount_cents: int
    effect: str


@dataclass(slots=True)
class PaidService:
    """One SVC line as the lists read it, with our line's code, modifiers and REF*6R."""

    pk: int
    claim_payment_id: int
    code: str
    modifiers: list[str]
    units: Any  # Decimal
    paid_cents: int
    allowed_cents: int | None
    service_date: date | None
    payer_control_number: str
    remarks: list[str]
    claim_line_id: int | None
    our_code: str | None
    our_modifiers: list[str] | None
    our_control_number: str | None
    adjs: list[PaidAdjustment] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.claim_line_id is not None


@dataclass(slots=True)
class Adjudication:
    """A claim's latest adjudication: the CLP (its id and status code), the claim read light
    (``hydrate`` the rows made from it), its SVC lines (each with ``adjs``, its CAS rows) and
    the claim-level CAS rows."""

    payment_id: int
    status_code: str
    claim: LightClaim
    taxonomy: str  # the rendering provider's, for rule proposals
    lines: list[PaidService] = field(default_factory=list)
    claim_adjustments: list[PaidAdjustment] = field(default_factory=list)


# At most this many ids go into a statement as a list: SQLite takes 32,766 parameters (since
# 3.32), and PostgreSQL plans one list better than many.
_MAX_IDS = 10_000


def latest_payments(practice: Practice, statuses: Iterable[str] = ADJUDICATED, *,
                    claims: Any = None) -> list[Adjudication]:
    """Each claim's latest adjudication (not a reversal), with its lines and adjustments
    (``claims``: a list or a subquery of claim ids, to read only those claims).

    A list is read ``_MAX_IDS`` claims at a time, each part found by index: a large
    practice's list is more than SQLite takes in one statement.
    """
    if isinstance(claims, list) and len(claims) > _MAX_IDS:
        return [found for start in range(0, len(claims), _MAX_IDS)
                for found in latest_payments(practice, statuses,
                                             claims=claims[start:start + _MAX_IDS])]
    wanted = list(statuses)
    # Scoped through the claim (its practice-and-status index), so a list of ids is found
    # by the payments' claim index rather than by scanning the practice's payments.
    scope: dict[str, Any] = {"claim__practice": practice, "claim__status__in": wanted}
    if claims is not None:
        scope["claim_id__in"] = claims
    payers = {payer.pk: payer for payer in Payer.objects.filter(practice=practice)}
    payments = (ClaimPayment.objects.filter(**scope).exclude(status_code=REVERSAL)
                # Not the ERA row: it carries the whole 835 text.
                .order_by("claim_id", "-era__posted_at", "-era_id", "-position")
                .values_list(*_PAYMENT_FIELDS))
    chosen: dict[int, Adjudication] = {}
    seen: set[int] = set()
    for payment_id, status_code, *light, taxonomy in payments:
        claim = LightClaim(*light)
        if claim.pk in seen:  # an older adjudication of the same claim
            continue
        seen.add(claim.pk)
        claim.payer = payers.get(claim.payer_id) if claim.payer_id is not None else None
        chosen[payment_id] = Adjudication(payment_id, status_code, claim, taxonomy)
    inner = {f"claim_payment__{key}": value for key, value in scope.items()}
    lines: dict[int, PaidService] = {}
    for values in (ServicePayment.objects.filter(**inner).order_by("claim_payment_id",
                                                                   "position")
                   .values_list(*_LINE_FIELDS)):
        found = chosen.get(values[1])
        if found is not None:
            line = PaidService(*values)
            found.lines.append(line)
            lines[line.pk] = line
    for values in (Adjustment.objects.filter(**inner).order_by("pk")
                   .values_list(*_ADJUSTMENT_FIELDS)):
        found = chosen.get(values[0])
        if found is None:
            continue
        adjustment = PaidAdjustment(*values)
        if adjustment.service_payment_id is None:
            found.claim_adjustments.append(adjustment)
        elif adjustment.service_payment_id in lines:
            lines[adjustment.service_payment_id].adjs.append(adjustment)
    return list(chosen.values())


def _work_adjustments(adjustments: Iterable[Any]) -> list[Any]:
    found = [a for a in adjustments if fu.is_work(a.group, a.reason) and a.amount_cents > 0]
    return sorted(found, key=lambda a: (-a.amount_cents, a.group, a.reason))


def _line_label(line: PaidService) -> str:
    mods = ":".join(line.modifiers or [])
    code = f"{line.code}:{mods}" if mods else line.code
    control = line.our_control_number or line.payer_control_number
    return f"{code} ({control})" if control else code


def _open_part(amounts: Iterable[Any], still_open: Cents | None) -> Cents:
    wanted = total(Cents(a.amount_cents) for a in amounts)
    return min(wanted, max(still_open or Cents(0), Cents(0)))


def _at_risk(ctx: _Context, claim: Claim | LightClaim, work: list[Any]) -> Cents:
    """What of the adjustments is still open on the books: held amounts while the payer's
    A/R still carries them, the patient's share while the patient still owes it. Written off,
    billed to the patient or paid, the item is done and leaves the list."""
    held = [a for a in work if a.group != "PR"]
    patient = [a for a in work if a.group == "PR"]
    return (_open_part(held, ctx.insurance_balances().get(claim.number))
            + _open_part(patient, ctx.patient_balances().get(claim.number)))


def _denials(ctx: _Context, adjudications: list[Adjudication]) -> list[QueueRow]:
    rows = []
    for found in adjudications:
        claim = found.claim
        payer = claim.payer.name if claim.payer else ""
        claim_level = found.claim_adjustments
        lines_listed = len(rows)
        for line in found.lines:
            if line.paid_cents != 0:
                continue
            work = _work_adjustments(line.adjs)
            if not work:
                continue
            risk = _at_risk(ctx, claim, work)
            if not risk:
                continue
            remarks = [str(r) for r in (line.remarks or [])]
            steps = [fu.next_step(a.group, a.reason, remarks) for a in work]
            rows.append(QueueRow(f"denial:{line.pk}", fu.WorkKind.DENIAL, claim, payer,
                                 _line_label(line), steps[0], risk, ctx.age(claim),
                                 service_payment_id=line.pk, more_steps=steps[1:],
                                 light=True))
        # A claim denied whole is listed as one item unless its lines already are.
        if found.status_code == "4" and len(rows) == lines_listed:
            work = _work_adjustments(claim_level)
            steps = [fu.next_step(a.group, a.reason) for a in work] or [fu.denied_claim_step()]
            risk = (_at_risk(ctx, claim, work) if work else
                    max(ctx.insurance_balances().get(claim.number, Cents(0)), Cents(0)))
            if not risk:
                continue
            rows.append(QueueRow(f"denial:cp{found.payment_id}", fu.WorkKind.DENIAL, claim,
                                 payer, "", steps[0], risk, ctx.age(claim),
                                 more_steps=steps[1:], light=True))
    return rows


def _ids(ids: Any) -> list[int]:
    """The claim ids of ``ids`` (a flat ``values_list``), read once: ``latest_payments`` then
    finds those claims by index instead of running the subquery in each of its reads."""
    return list(ids.distinct())


def _may_be_denied(ctx: _Context) -> list[int]:
    """The claims (ids) that can have a denial on the list: a remittance paid one of their
    lines nothing or denied the whole claim, and someone still owes on them (a denial is
    listed only while its money is open). The zero-paid lines and denied claims are read from
    the remittances (one pass each, by practice), and checked against the open balances the
    worklist has already read from the ledger's receivable rows."""
    practice = ctx.practice
    zero_paid = (ServicePayment.objects.filter(claim_payment__practice=practice, paid_cents=0)
                 .values_list("claim_payment__claim_id", "claim_payment__claim__number"))
    denied = (ClaimPayment.objects.filter(practice=practice, status_code="4")
              .values_list("claim_id", "claim__number"))
    insurance, patient = ctx.insurance_balances(), ctx.patient_balances()
    owing = {number for number, cents in (*insurance.items(), *patient.items())
             if cents.value > 0}
    found = {pk for rows in (zero_paid, denied) for pk, number in rows
             if pk is not None and number in owing}
    return sorted(found)


def _may_be_underpaid(ctx: _Context) -> list[int]:
    """The claims (ids) with a paid line, matched to ours, that some fee schedule of its
    payer could call underpaid: the payer allowed less than the highest fee any of its policy
    versions gives the code, times the units (or sent no allowed amount). The database picks
    those lines; ``_underpaid`` then judges each against the policy of its date."""
    could_be = Q(pk__in=[])
    for payer in ctx.payers():
        highest: dict[str, int] = {}
        for policy in ctx.versions(payer):
            for code, fee in policy.fees.items():
                highest[code] = max(highest.get(code, 0), fee.expected_allowed.value)
        for code, cents in highest.items():
            could_be |= Q(claim_payment__claim__payer_id=payer.pk, code=code) & (
                Q(allowed_cents__isnull=True) | Q(allowed_cents__lt=F("units") * cents))
    return _ids(ServicePayment.objects
                .filter(could_be, claim_payment__practice=ctx.practice, paid_cents__gt=0,
                        claim_line__isnull=False)
                .values_list("claim_payment__claim_id", flat=True))


def _underpaid(ctx: _Context, adjudications: list[Adjudication]) -> list[QueueRow]:
    rows = []
    for found_claim in adjudications:
        claim = found_claim.claim
        for line in found_claim.lines:
            if line.paid_cents <= 0 or not line.matched:
                continue
            on = line.service_date or claim.date_of_service
            policy = ctx.policy(claim.payer, on)
            share = total(Cents(a.amount_cents) for a in line.adjs if a.group == "PR")
            allowed = Cents(line.allowed_cents) if line.allowed_cents is not None else None
            units = int(line.units) if line.units == int(line.units) else 0
            paid = fu.PaidLine(claim.number, line.our_control_number or "", line.code, units,
                               Cents(line.paid_cents), allowed, share)
            found = fu.underpayment(paid, policy)
            if found is None:
                continue
            name = claim.payer.name if claim.payer else ""
            step = fu.NextStep(
                f"{line.code} underpaid",
                f"{name} allowed {found.allowed.display()} for {units} unit(s) of {line.code}; "
                f"its fee schedule in Handbill says {found.expected_allowed.display()}",
                "Check the contract's fee for this date of service; if Handbill's fee is right, "
                "ask the payer to reprocess the line (call, or a corrected claim / appeal with "
                "the fee schedule); if the contract changed, update the payer's fees",
                fu.StepAction.CALL_PAYER)
            rows.append(QueueRow(f"underpaid:{line.pk}", fu.WorkKind.UNDERPAID, claim, name,
                                 _line_label(line), step, found.difference, ctx.age(claim),
                                 difference=found.difference, service_payment_id=line.pk,
                                 light=True))
    return rows


# --- timely filing and A/R follow-up ----------------------------------------------------------


def _timely(ctx: _Context) -> list[QueueRow]:
    running = Claim.objects.filter(practice=ctx.practice, status__in=list(CLOCK_RUNNING),
                                   payer__isnull=False)
    # A claim is listed once its deadline is within the warning window: with the shortest
    # filing limit of any payer's policy, a later date of service cannot be yet.
    limits = [policy.timely_filing_days
              for payer in ctx.payers()
              for policy in ctx.versions(payer)]
    if not limits:
        return []
    running = running.filter(date_of_service__lte=ctx.today + timedelta(
        days=fu.DEFAULT_WARN_DAYS - min(limits)))
    claims = _light(ctx, running)
    owed = ctx.insurance_balances()
    rows = []
    for claim in claims:
        clock = ctx.clock(claim)
        if clock is None or clock.state is fu.FilingState.OK:
            continue
        if claim.status in RESUBMIT_PENDING:
            if owed.get(claim.number, Cents(0)).value <= 0:
                continue
            if clock.state is fu.FilingState.PAST:
                words = (f"The filing limit passed on {clock.deadline.isoformat()} "
                         f"({clock.days_past} days ago)")
                todo = ("A corrected claim now will likely be denied CO-29: appeal the denial "
                        "instead, or write it off")
                action = fu.StepAction.APPEAL
            else:
                words = (f"{clock.days_left} days left: a corrected claim must reach the payer "
                         f"by {clock.deadline.isoformat()}")
                todo = "Work the denial now (Denials tab) and send the corrected claim in time"
                action = fu.StepAction.CORRECTED_CLAIM
        elif clock.state is fu.FilingState.PAST:
            words = (f"The filing limit passed on {clock.deadline.isoformat()} "
                     f"({clock.days_past} days ago)")
            if claim.status in ("draft", "ready"):
                todo = ("Never sent in time: the payer will deny it CO-29. Write it off; an "
                        "in-network patient may not be billed for a late claim")
                action = fu.StepAction.WRITE_OFF
            else:
                todo = ("Send it only with proof of an earlier timely submission (the "
                        "clearinghouse's report of the first file); otherwise write it off — "
                        "an in-network patient may not be billed for a late claim")
                action = fu.StepAction.APPEAL
        else:
            words = (f"{clock.days_left} days left to file: the payer must receive it by "
                     f"{clock.deadline.isoformat()}")
            todo = ("Fix what holds the claim (scrub findings, rejection) and send it now"
                    if claim.status != "draft" else "Finish the claim and send it now")
            action = fu.StepAction.NEW_ORIGINAL
        step = fu.NextStep(f"Timely filing ({claim.status})", words, todo, action)
        risk = (owed.get(claim.number, Cents(0)) if claim.status in RESUBMIT_PENDING
                else Cents(claim.total_charge_cents))
        rows.append(QueueRow(f"timely:{claim.pk}", fu.WorkKind.TIMELY, claim,
                             claim.payer.name if claim.payer else "", "", step,
                             risk, ctx.age(claim), clock, light=True))
    return rows


def _status_step(claim: Claim, age: int) -> fu.NextStep:
    status = claim.status
    if status in ("submitted", "accepted"):
        if age >= NO_ANSWER_DAYS:
            return fu.NextStep(f"No answer ({status})",
                               f"Sent and unanswered {age} days after the date of service",
                               "Check the claim's status with the payer (portal or phone) and "
                               "note the reference; resend only if the payer has no record",
                               fu.StepAction.CALL_PAYER)
        return fu.NextStep(f"Waiting ({status})", "With the payer, within the usual time",
                           "Nothing yet; the payer usually answers within 30 days",
                           fu.StepAction.REVIEW)
    if status in ("denied", "partially_paid"):
        return fu.NextStep(f"Open after adjudication ({status})",
                           "The payer adjudicated the claim and money is still open",
                           "Work its denial lines (Denials tab): correct, appeal, bill the "
                           "patient or write off", fu.StepAction.REVIEW)
    if status == "rejected":
        return fu.NextStep("Rejected", "The claim never reached adjudication",
                           "Fix the rejected field and send it as a new original",
                           fu.StepAction.NEW_ORIGINAL)
    if status in ("ready", "draft", "corrected"):
        return fu.NextStep(f"Not sent ({status})", "The claim has not reached the payer",
                           "Send it before the filing limit", fu.StepAction.NEW_ORIGINAL)
    return fu.NextStep(f"Balance open ({status})",
                       "Money is still on the payer's account for this claim",
                       "Read the remittance: an OA or other adjustment waits for a decision",
                       fu.StepAction.REVIEW)


def _followup(ctx: _Context) -> list[QueueRow]:
    owed = {number: cents for number, cents in ctx.insurance_balances().items()
            if cents.value > 0}
    # Only the claims a payer still owes on, chosen in the database by a subquery (a list of
    # numbers can be more than SQLite takes in one statement).
    owing = (_open_balances(ctx.practice, AccountKind.AR_INSURANCE).filter(open__gt=0)
             .values("claim_ref"))
    claims = _light(ctx, Claim.objects.filter(practice=ctx.practice, number__in=owing)
                    .exclude(status__in=["void", "draft"]))
    rows = []
    steps: dict[tuple[str, int], fu.NextStep] = {}  # one per status and age (immutable)
    for claim in claims:
        if claim.number not in owed:
            continue
        age = ctx.age(claim)
        clock = ctx.clock(claim, any_status=True)
        running = clock if claim.status in CLOCK_RUNNING else None
        balance = owed[claim.number]
        step = steps.get((claim.status, age))
        if step is None:
            step = steps[(claim.status, age)] = _status_step(claim, age)
        rows.append(QueueRow(f"followup:{claim.pk}", fu.WorkKind.FOLLOWUP, claim,
                             claim.payer.name if claim.payer else "", "",
                             step, balance, age, clock,
                             score=fu.money_at_risk(balance, age,
                                                    running.days_left if running else None),
                             light=True))
    return rows


# --- the lists --------------------------------------------------------------------------------


def _hidden(row: QueueRow, today: date) -> bool:
    state = row.state
    if state is None:
        return False
    if state.snoozed_until is not None and state.snoozed_until > today:
        return True
    if state.worked_at is None:
        return False
    if row.kind in (fu.WorkKind.FOLLOWUP, fu.WorkKind.TIMELY):
        return state.worked_at.date() + timedelta(days=FOLLOW_UP_AGAIN_DAYS) > today
    return True


def worklist(practice: Practice, *, at: datetime, kind: fu.WorkKind | str | None = None,
             include_done: bool = False, full: bool = True) -> list[QueueRow]:
    """The items of one list (or all lists), most money at risk first.

    Every row has a score: the follow-up formula (``core.followup.money_at_risk``) on the
    item's money, age and filing clock, so each tab is ordered the same way.

    ``full=False`` leaves the claims of the per-claim lists light (see ``hydrate``): for
    counting, or for a page that hydrates only the rows it shows.
    """
    wanted = fu.WorkKind(kind) if kind is not None else None
    ctx = _Context(practice, at)
    rows: list[QueueRow] = []
    for this in fu.WorkKind:
        if wanted is not None and this is not wanted:
            continue
        if this is fu.WorkKind.REJECTION:
            rows += _rejections(ctx)
        elif this is fu.WorkKind.DENIAL:
            rows += _denials(ctx, latest_payments(practice, claims=_may_be_denied(ctx)))
        elif this is fu.WorkKind.UNDERPAID:
            rows += _underpaid(ctx, latest_payments(practice, claims=_may_be_underpaid(ctx)))
        elif this is fu.WorkKind.TIMELY:
            rows += _timely(ctx)
        else:
            rows += _followup(ctx)
    states = {item.key: item for item in WorkItem.objects.filter(
        practice=practice).select_related("assigned_to")}
    for row in rows:
        row.state = states.get(row.key)
        if not row.score:
            row.score = fu.money_at_risk(row.at_risk, row.age_days,
                                         row.filing.days_left if row.filing else None)
    if not include_done:
        rows = [row for row in rows if not _hidden(row, ctx.today)]
    rows.sort(key=lambda r: (-r.score, -r.age_days, r.claim.number, r.key))
    if full:
        hydrate(rows)
    return rows


def find_row(practice: Practice, key: str, *, at: datetime) -> QueueRow | None:
    """The current row for ``key`` (done or not), or None when nothing open has that key."""
    prefix = key.split(":", 1)[0]
    kinds = {"ack": fu.WorkKind.REJECTION, "rejected": fu.WorkKind.REJECTION,
             "denial": fu.WorkKind.DENIAL,
             "underpaid": fu.WorkKind.UNDERPAID, "timely": fu.WorkKind.TIMELY,
             "followup": fu.WorkKind.FOLLOWUP}
    kind = kinds.get(prefix)
    if kind is None:
        return None
    found = next((row for row in worklist(practice, at=at, kind=kind, include_done=True,
                                          full=False) if row.key == key), None)
    if found is not None:
        hydrate([found])
    return found


def counts(practice: Practice, *, at: datetime) -> dict[str, int]:
    """How many open items each list has (for the tabs)."""
    found: dict[str, int] = defaultdict(int)
    for row in worklist(practice, at=at, full=False):
        found[row.kind.value] += 1
    return {kind.value: found.get(kind.value, 0) for kind in fu.WorkKind}


# --- aging ------------------------------------------------------------------------------------

PATIENTS = "Patients"


def aging(practice: Practice, *, at: datetime) -> fu.AgingReport:
    """A/R by payer (and the patients' share) in the 0-30 … >120 day buckets, aged from the
    date of service (see ``core.followup``)."""
    today = practice_today(practice, at)
    rows = list(open_receivables(practice).exclude(claim_ref="")
                .values_list("claim_ref", "account__kind", "account__payer__name",
                             "balance_cents"))
    # The open claims' dates of service, read by the same filter (not a list of numbers).
    dates = dict(Claim.objects.filter(
        practice=practice, number__in=open_receivables(practice).values("claim_ref"))
        .values_list("number", "date_of_service"))
    balances = []
    for claim_ref, kind, payer_name, cents in rows:
        on = dates.get(claim_ref)
        if on is None:
            continue
        payer = (payer_name or "") if kind == AccountKind.AR_INSURANCE else PATIENTS
        balances.append(fu.OpenBalance(claim_ref, payer, on, Cents(int(cents))))
    return fu.age_receivables(balances, as_of=today)


# --- proposals --------------------------------------------------------------------------------


def denial_events(practice: Practice) -> list[fu.DenialEvent]:
    """Every denied line of every claim's latest adjudication, for rule proposals.

    Unlike the worklist this keeps denials a biller has already worked: a corrected claim
    does not make the payer's rule go away.
    """
    statuses = ADJUDICATED | {"corrected", "appealed", "closed"}
    events = []
    for found in latest_payments(practice, statuses):
        claim = found.claim
        if claim.payer_id is None:
            continue
        lines = found.lines
        codes = tuple(sorted({line.code for line in lines}))
        for line in lines:
            if line.paid_cents != 0 or not line.matched:
                continue
            ours = line.our_code or line.code
            for adjustment in _work_adjustments(line.adjs):
                events.append(fu.DenialEvent(
                    str(claim.payer_id), claim.number, line.our_control_number or "",
                    ours, adjustment.group, adjustment.reason,
                    line.service_date or claim.date_of_service,
                    tuple(line.our_modifiers or ()), found.taxonomy,
                    tuple(c for c in codes if c != ours)))
    return events


# --- rule proposals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalShown:
    proposal: RuleProposal
    in_words: str  # the change as a biller says it


def open_proposals(practice: Practice, *, payer: Payer | None = None) -> list[ProposalShown]:
    """The practice's undecided proposals (one payer's when given), most denials first."""
    rows = RuleProposal.objects.filter(practice=practice, status=ProposalStatus.PROPOSED)
    if payer is not None:
        rows = rows.filter(payer=payer)
    return [ProposalShown(p, fu.describe_change(p.change))
            for p in rows.select_related("payer").order_by("-count", "code", "pk")]
