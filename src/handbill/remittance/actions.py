"""Posting what comes back: import an 835, preview its plan, commit it; read 999s and 277CAs.

Every function is keyword-only, checks the caller's role (``post_payments``), and writes in
one database transaction with its audit rows. The rules:

- **Import** refuses an 835 that cannot be read or does not balance, naming the segment and
  the reason, and stores nothing. A file already imported returns the rows it made; a
  payment (trace number + payer) already imported from another file is refused.
- **Commit** posts one payment in one transaction: the claim/line/adjustment rows, every
  ledger entry (bulk, each with an idempotency key from trace, payer, CLP01 and effect), the
  claim status moves and the audit rows — all or nothing. The ERA row is locked first and its
  status re-read, so two workers committing the same payment post it once; committing a
  posted payment again changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q

from handbill.audit.models import AuditEvent
from handbill.audit.record import record
from handbill.claims.models import Claim, ClaimEvent, ClaimLine
from handbill.core.claim_status import check_transition
from handbill.core.money import Cents
from handbill.core.posting_plan import (
    OurClaim,
    OurLine,
    Outcome,
    PlannedEntry,
    PostingPlan,
    StatusMove,
    build_plan,
)
from handbill.ledger import posting
from handbill.ledger.models import Account, LedgerTransaction
from handbill.ledger.rules import Side
from handbill.practice.access import authorize
from handbill.practice.models import Payer, Practice
from handbill.remittance.models import (
    Adjustment,
    ClaimPayment,
    EraFile,
    EraStatus,
    ProviderAdjustment,
    ServicePayment,
)
from handbill.remittance.reading import ReadPayment, RemittanceRefused, read_payments

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from handbill.submissions.models import InboxFile


def process_acknowledgements(
    *, practice: Practice, inbox_file: InboxFile, by: AbstractBaseUser | None, at: datetime
) -> Any:
    """Read a downloaded 999 or 277CA (see :mod:`handbill.remittance.acknowledgements`)."""
    from handbill.remittance.acknowledgements import process_acknowledgements as process

    return process(practice=practice, inbox_file=inbox_file, by=by, at=at)

__all__ = [
    "InboxOutcome",
    "RemittanceError",
    "RemittanceRefused",
    "commit_posting",
    "import_835",
    "plan_posting",
    "process_acknowledgements",
    "process_inbox",
    "refuse_posting",
]

CLAIM_PAYMENT_SOURCE = "remittance.claimpayment"
PROVIDER_ADJUSTMENT_SOURCE = "remittance.provideradjustment"
# Rows per bulk INSERT and ids per IN (...) query: within SQLite's parameter limit.
_BATCH = 900
_SUMMARY_LIMIT = 200


class RemittanceError(ValueError):
    """A remittance action that cannot go ahead; the message says why and what to do."""


def _user(by: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return by if by is not None and by.is_authenticated else None


def _check_at(at: datetime) -> None:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise RemittanceError("at must be a timezone-aware datetime")


def _chunks(items: Sequence[Any], size: int = _BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --------------------------------------------------------------------------------------------
# Our claims, as the planner takes them
# --------------------------------------------------------------------------------------------


def _our_claims(
    practice: Practice, numbers: Iterable[str], payer_numbers: Iterable[str] = (),
    *, lock: bool = False,
) -> list[OurClaim]:
    """The practice's claims named by CLP01 (``numbers``) or by a PLB reference, with lines."""
    wanted = sorted(set(numbers))
    cited = sorted(set(payer_numbers))
    rows: dict[int, dict[str, Any]] = {}
    fields = ("pk", "number", "status", "payer_id", "patient__account_number",
              "date_of_service")
    queries = [Q(number__in=chunk) for chunk in _chunks(wanted)]
    queries += [Q(number__in=chunk) | Q(payer_claim_number__in=chunk)
                for chunk in _chunks(cited)]
    for query in queries:
        claims = Claim.objects.filter(query, practice=practice)
        if lock:
            # Locks the claims (PostgreSQL) so nothing moves them between planning and posting.
            list(claims.select_for_update().values_list("pk", flat=True))
        for row in claims.values(*fields):
            rows[row["pk"]] = row
    lines: dict[int, list[OurLine]] = defaultdict(list)
    for chunk in _chunks(sorted(rows)):
        for line in ClaimLine.objects.filter(claim_id__in=chunk).values_list(
                "pk", "claim_id", "control_number", "code", "modifiers", "units",
                "charge_cents").order_by("claim_id", "number"):
            pk, claim_id, control, code, modifiers, units, charge = line
            lines[claim_id].append(OurLine(pk, control, code, tuple(modifiers), units,
                                           Cents(charge), rows[claim_id]["date_of_service"]))
    return [
        OurClaim(pk, row["number"], row["status"], row["patient__account_number"],
                 row["payer_id"], tuple(lines[pk]))
        for pk, row in rows.items()
    ]


def _resolve_payer(practice: Practice, payment: ReadPayment) -> Payer | None:
    """The practice's payer the file names (REF*2U, N1*PR id, TRN03), else the one payer of
    every claim the file pays."""
    if payment.payer_ids:
        found = {p.payer_id: p for p in Payer.objects.filter(
            practice=practice, payer_id__in=list(payment.payer_ids))}
        for identifier in payment.payer_ids:
            if identifier in found:
                return found[identifier]
    numbers = sorted({c.id for c in payment.remit.claims})
    payer_ids: set[int] = set()
    for chunk in _chunks(numbers):
        payer_ids.update(
            Claim.objects.filter(practice=practice, number__in=chunk, payer__isnull=False)
            .values_list("payer_id", flat=True).distinct())
    if len(payer_ids) == 1:
        return Payer.objects.get(pk=payer_ids.pop())
    return None


def _local_date(practice: Practice, at: datetime) -> date:
    return at.astimezone(ZoneInfo(practice.timezone)).date()


def _plan(era: EraFile, payment: ReadPayment, *, lock: bool = False) -> PostingPlan:
    remit = payment.remit
    cited = [p.reference.strip() for p in remit.provider_adjustments if p.reference.strip()]
    claims = _our_claims(era.practice, (c.id for c in remit.claims), cited, lock=lock)
    return build_plan(remit, claims, era_payer_key=era.payer_id,
                      default_date=_local_date(era.practice, era.imported_at))


def _read_era(era: EraFile) -> ReadPayment:
    try:
        payments = read_payments(era.raw)
    except RemittanceRefused as exc:
        # It read when imported; only a change to the reader can get here.
        raise RemittanceError(f"ERA #{era.pk} no longer reads: {exc}") from None
    for payment in payments:
        if payment.index == era.transaction_index:
            return payment
    raise RemittanceError(f"ERA #{era.pk}: its file has no transaction {era.transaction_index}")


# --------------------------------------------------------------------------------------------
# Import and preview
# --------------------------------------------------------------------------------------------


@transaction.atomic
def import_835(
    *,
    practice: Practice,
    text: str,
    by: AbstractBaseUser | None,
    at: datetime,
    file_name: str = "",
    inbox_file: InboxFile | None = None,
) -> list[EraFile]:
    """Store each payment of an 835 file as an :class:`EraFile`, planned and ready to post.

    A file normally carries one payment; one with several gives one row each, in file order.
    Raises :class:`RemittanceRefused` (nothing stored) when the file cannot be read, does not
    balance, or carries a payment already imported from another file.
    """
    authorize(by, practice, "post_payments")
    _check_at(at)
    if not isinstance(text, str):
        raise RemittanceError("pass the 835 as text (decode the file first)")
    payments = read_payments(text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    earlier = list(EraFile.objects.filter(practice=practice, sha256=digest)
                   .order_by("transaction_index"))
    if earlier:
        return earlier
    eras = []
    for payment in payments:
        remit = payment.remit
        twin = EraFile.objects.filter(
            practice=practice, payer_identifier=remit.payer_identifier,
            trace_number=remit.trace,
        ).exclude(status=EraStatus.REFUSED).first()
        if twin is not None:
            raise RemittanceRefused([
                f"payment {remit.trace} from {remit.payer_name or remit.payer_identifier} "
                f"was already imported as ERA #{twin.pk} ({twin.status}) from another file; "
                "it is not imported twice"])
        payer = _resolve_payer(practice, payment)
        try:
            with transaction.atomic():
                era = EraFile.objects.create(
                    practice=practice, inbox_file=inbox_file, file_name=file_name[:255],
                    sha256=digest, transaction_index=payment.index, raw=text, payer=payer,
                    payer_identifier=remit.payer_identifier[:80],
                    payer_name=remit.payer_name[:60], trace_number=remit.trace[:50],
                    payment_amount_cents=remit.amount.value,
                    payment_method=remit.method[:3], payment_date=remit.payment_date,
                    claim_count=len(remit.claims), status=EraStatus.IMPORTED,
                    warnings=list(payment.warnings), imported_at=at, imported_by=_user(by),
                )
        except IntegrityError:
            raise RemittanceRefused([
                f"payment {remit.trace} was imported by someone else a moment ago; "
                "refresh the list of remittances"]) from None
        plan = _plan(era, payment)
        era.status = EraStatus.PLANNED
        era.plan_summary = plan.summary(limit=_SUMMARY_LIMIT)
        era.warnings = [*payment.warnings, *plan.warnings[:_SUMMARY_LIMIT]]
        era.save(update_fields=["status", "plan_summary", "warnings"])
        record(action="remittance.import", at=at, by=by, practice=practice, target=era,
               trace=era.trace_number, payer=era.payer_identifier,
               amount_cents=era.payment_amount_cents, claims=era.claim_count,
               file=file_name)
        eras.append(era)
    return eras


def plan_posting(era: EraFile) -> PostingPlan:
    """What committing ``era`` would do, computed now from its text and our claims."""
    return _plan(era, _read_era(era))


@transaction.atomic
def refuse_posting(
    *, era: EraFile, by: AbstractBaseUser | None, at: datetime, reason: str
) -> EraFile:
    """A biller decides not to post a payment (not ours, sent in error); kept with the reason."""
    authorize(by, era.practice, "post_payments")
    _check_at(at)
    if not reason.strip():
        raise RemittanceError("say why this remittance is not posted")
    locked = EraFile.objects.select_for_update().get(pk=era.pk)
    if locked.status == EraStatus.POSTED:
        raise RemittanceError(f"ERA #{locked.pk} is posted; reverse its entries instead")
    locked.status = EraStatus.REFUSED
    locked.errors = [*locked.errors, reason.strip()]
    locked.save(update_fields=["status", "errors"])
    record(action="remittance.refuse", at=at, by=by, practice=locked.practice, target=locked,
           reason=reason.strip())
    return locked


# --------------------------------------------------------------------------------------------
# Commit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rows:
    claim_payments: list[ClaimPayment]
    provider_adjustments: list[ProviderAdjustment]


def _write_rows(era: EraFile, plan: PostingPlan) -> _Rows:
    claim_rows = [
        ClaimPayment(
            era=era, practice_id=era.practice_id, position=pc.position,
            claim_id=pc.claim_key, patient_control_number=pc.remit.id[:38],
            status_code=pc.remit.status[:2], charge_cents=pc.remit.charge.value,
            paid_cents=pc.remit.paid.value,
            patient_responsibility_cents=pc.remit.patient_responsibility.value,
            payer_claim_number=pc.remit.payer_claim_number[:50], outcome=pc.outcome.value,
            unmatched_reason=pc.unmatched_reason,
        )
        for pc in plan.claims
    ]
    ClaimPayment.objects.bulk_create(claim_rows, batch_size=_BATCH)
    line_rows: list[ServicePayment] = []
    for pc, row in zip(plan.claims, claim_rows, strict=True):
        for line in pc.lines:
            r = line.remit
            line_rows.append(ServicePayment(
                claim_payment_id=row.pk, position=line.position, claim_line_id=line.line_key,
                matched_by=line.matched_by.value, code=r.code[:48], modifiers=list(r.modifiers),
                original_code=r.original_code[:48], units=r.units,
                original_units=r.original_units, charge_cents=r.charge.value,
                paid_cents=r.paid.value,
                allowed_cents=r.allowed.value if r.allowed is not None else None,
                service_date=r.service_date, control_number=r.control_number[:50],
                remarks=list(r.remarks), note="; ".join(line.notes),
            ))
    ServicePayment.objects.bulk_create(line_rows, batch_size=_BATCH)
    adjustments: list[Adjustment] = []
    lines = iter(line_rows)
    for pc, row in zip(plan.claims, claim_rows, strict=True):
        adjustments.extend(
            Adjustment(claim_payment_id=row.pk, group=a.group[:2], reason=a.reason[:5],
                       amount_cents=a.amount.value, quantity=a.quantity[:15],
                       effect=a.effect.value)
            for a in pc.adjustments)
        for line in pc.lines:
            line_row = next(lines)
            adjustments.extend(
                Adjustment(claim_payment_id=row.pk, service_payment_id=line_row.pk,
                           group=a.group[:2], reason=a.reason[:5], amount_cents=a.amount.value,
                           quantity=a.quantity[:15], effect=a.effect.value)
                for a in line.adjustments)
    Adjustment.objects.bulk_create(adjustments, batch_size=_BATCH)
    cited = {c.number: c.key for c in _claims_by_number(era.practice, plan)}
    provider_rows = [
        ProviderAdjustment(
            era=era, position=p.position, provider_id=p.remit.provider_id[:50],
            fiscal_period_date=p.remit.fiscal_date, reason=p.remit.reason[:2],
            reference=p.remit.reference[:50], amount_cents=p.remit.amount.value,
            claim_id=cited.get(p.claim_number),
        )
        for p in plan.provider_adjustments
    ]
    ProviderAdjustment.objects.bulk_create(provider_rows, batch_size=_BATCH)
    return _Rows(claim_rows, provider_rows)


@dataclass(frozen=True, slots=True)
class _Cited:
    number: str
    key: int


def _claims_by_number(practice: Practice, plan: PostingPlan) -> list[_Cited]:
    numbers = sorted({p.claim_number for p in plan.provider_adjustments if p.claim_number})
    if not numbers:
        return []
    return [_Cited(number, pk) for pk, number in Claim.objects.filter(
        practice=practice, number__in=numbers).values_list("pk", "number")]


class _Accounts:
    """Ledger accounts by (kind, payer), looked up once each."""

    def __init__(self, practice: Practice) -> None:
        self.practice = practice
        self.found: dict[tuple[str, int | None], Account] = {}
        self.payers: dict[int, Payer] = {}

    def get(self, kind: str, payer_key: int | None) -> Account:
        account = self.found.get((kind, payer_key))
        if account is None:
            payer = None
            if payer_key is not None:
                payer = self.payers.get(payer_key)
                if payer is None:
                    payer = self.payers[payer_key] = Payer.objects.get(pk=payer_key)
            account = self.found[(kind, payer_key)] = posting.account_for(
                self.practice, kind, payer)
        return account


def _legs(entry: PlannedEntry, accounts: _Accounts) -> list[posting.LegSpec]:
    return [
        posting.LegSpec(
            account=accounts.get(leg.account, leg.payer_key),
            side=Side(leg.side),
            amount=leg.amount,
            claim_ref=entry.claim_ref,
            line_ref=leg.line_ref,
            patient_ref=entry.patient_ref,
        )
        for leg in entry.legs
    ]


def _mirror_rows(legs: Sequence[posting.LegSpec]) -> list[tuple[int, int, int, str, str, str]]:
    """The leg rows of the transaction these legs would undo (sides swapped)."""
    return sorted(
        (leg.account.pk,
         leg.amount.value if leg.side is Side.CREDIT else 0,
         leg.amount.value if leg.side is Side.DEBIT else 0,
         leg.claim_ref, leg.line_ref, leg.patient_ref)
        for leg in legs
    )


def _original_of(
    entry: PlannedEntry, legs: Sequence[posting.LegSpec], practice: Practice,
    this_era_sources: set[str],
) -> LedgerTransaction | None:
    """The earlier posting a takeback mirrors exactly, still unreversed, if there is one."""
    candidates = (
        LedgerTransaction.objects.filter(
            practice=practice, kind=entry.kind, source_type=CLAIM_PAYMENT_SOURCE,
            reversed_by__isnull=True, legs__claim_ref=entry.claim_ref,
        )
        .exclude(source_id__in=this_era_sources)
        .distinct()
        .prefetch_related("legs")
        .order_by("-pk")
    )
    wanted = _mirror_rows(legs)
    for candidate in candidates:
        rows = sorted((leg.account_id, leg.debit_cents, leg.credit_cents, leg.claim_ref,
                       leg.line_ref, leg.patient_ref) for leg in candidate.legs.all())
        if rows == wanted:
            return candidate
    return None


def _post_ledger(
    era: EraFile, plan: PostingPlan, rows: _Rows, *, by: AbstractBaseUser | None,
    at: datetime,
) -> tuple[int, int]:
    """Every entry of the plan; returns (transactions posted, of which reversals)."""
    practice = era.practice
    accounts = _Accounts(practice)
    sources = {str(row.pk) for row in rows.claim_payments}
    entries: list[posting.Entry] = []
    reversals = 0
    takeback_reason = f"835 trace {plan.trace} from {plan.payer_name or plan.payer_identifier}"
    planned: list[tuple[PlannedEntry, tuple[str, int]]] = []
    for pc, row in zip(plan.claims, rows.claim_payments, strict=True):
        planned.extend((entry, (CLAIM_PAYMENT_SOURCE, row.pk)) for entry in pc.entries)
    for pa, row in zip(plan.provider_adjustments, rows.provider_adjustments, strict=True):
        if pa.entry is not None:
            planned.append((pa.entry, (PROVIDER_ADJUSTMENT_SOURCE, row.pk)))
    # Takebacks first: a reversal must find the earlier file's posting, never one this file
    # is about to make for the same claim.
    for entry, source in planned:
        legs = _legs(entry, accounts)
        original = (_original_of(entry, legs, practice, sources)
                    if entry.takeback and entry.claim_ref else None)
        if original is not None:
            posting.reverse(original, by=by, at=at, reason=takeback_reason,
                            effective_date=plan.effective_date, source=source,
                            idempotency_key=entry.key)
            reversals += 1
            continue
        entries.append(posting.Entry(kind=entry.kind, legs=legs, memo=entry.memo,
                                     effective_date=plan.effective_date, source=source,
                                     idempotency_key=entry.key))
    posting.post_many(practice=practice, entries=entries, at=at, by=by)
    return len(entries) + reversals, reversals


def _move_claims(
    moves: Sequence[StatusMove], *, practice: Practice, by: AbstractBaseUser | None,
    at: datetime,
) -> None:
    """The plan's status moves, each a legal move with its ClaimEvent and audit row.

    The same bookkeeping as ``claims.actions.transition`` — checked against the claim-status
    table, a ClaimEvent and a ``claim.<status>`` audit row per claim — done in bulk, because
    an 835 moves thousands of claims at once. The claims were locked when the plan was made.
    """
    if not moves:
        return
    current = {}
    for chunk in _chunks([m.claim_key for m in moves]):
        current.update(Claim.objects.filter(pk__in=chunk).values_list("pk", "status"))
    by_target: dict[str, list[int]] = defaultdict(list)
    for move in moves:
        # The claims are locked, so this only fails if the plan was made from stale rows.
        if current.get(move.claim_key) != move.from_status:
            raise RemittanceError(
                f"claim {move.claim_number} changed while the remittance was being posted; "
                "nothing was posted — post it again")
        check_transition(move.from_status, move.to_status)
        by_target[move.to_status].append(move.claim_key)
    for target, keys in by_target.items():
        for chunk in _chunks(keys):
            Claim.objects.filter(pk__in=chunk).update(status=target)
    user = _user(by)
    ClaimEvent.objects.bulk_create(
        (ClaimEvent(claim_id=m.claim_key, from_status=m.from_status, to_status=m.to_status,
                    note=m.note, by=user, at=at) for m in moves),
        batch_size=_BATCH)
    AuditEvent.objects.bulk_create(
        (AuditEvent(practice=practice, actor=user, action=f"claim.{m.to_status}",
                    object_type=Claim._meta.label_lower, object_id=str(m.claim_key),
                    detail={"from_status": m.from_status, "note": m.note}, occurred_at=at)
         for m in moves),
        batch_size=_BATCH)


def _store_payer_claim_numbers(plan: PostingPlan) -> int:
    """Keep CLP07 on the claim for later replacements and voids (REF*F8)."""
    latest: dict[int, str] = {}
    for pc in plan.claims:
        number = pc.remit.payer_claim_number.strip()
        if pc.claim_key is not None and number and pc.outcome is not Outcome.REVERSED:
            latest[pc.claim_key] = number[:50]
    if not latest:
        return 0
    changed: list[Claim] = []
    for chunk in _chunks(sorted(latest)):
        for pk, current in Claim.objects.filter(pk__in=chunk).values_list(
                "pk", "payer_claim_number"):
            if current != latest[pk]:
                changed.append(Claim(pk=pk, payer_claim_number=latest[pk]))
    Claim.objects.bulk_update(changed, ["payer_claim_number"], batch_size=_BATCH)
    return len(changed)


@transaction.atomic
def commit_posting(*, era: EraFile, by: AbstractBaseUser | None, at: datetime) -> EraFile:
    """Post ``era``: rows, ledger entries and claim statuses in one transaction.

    Committing a posted ERA again returns it unchanged. A refused ERA cannot be posted.
    """
    authorize(by, era.practice, "post_payments")
    _check_at(at)
    # Two workers on one ERA queue here; the second sees it posted and does nothing.
    locked = EraFile.objects.select_for_update().select_related("practice").get(pk=era.pk)
    if locked.status == EraStatus.POSTED:
        return locked
    if locked.status == EraStatus.REFUSED:
        raise RemittanceError(f"ERA #{locked.pk} was refused; there is nothing to post")
    payment = _read_era(locked)
    plan = _plan(locked, payment, lock=True)
    rows = _write_rows(locked, plan)
    posted, reversals = _post_ledger(locked, plan, rows, by=by, at=at)
    _move_claims(plan.moves, practice=locked.practice, by=by, at=at)
    numbers = _store_payer_claim_numbers(plan)
    locked.status = EraStatus.POSTED
    locked.posted_at = at
    locked.posted_by = _user(by)
    locked.plan_summary = plan.summary(limit=_SUMMARY_LIMIT)
    locked.warnings = [*payment.warnings, *plan.warnings[:_SUMMARY_LIMIT]]
    locked.save(update_fields=["status", "posted_at", "posted_by", "plan_summary",
                               "warnings"])
    record(action="remittance.post", at=at, by=by, practice=locked.practice, target=locked,
           trace=locked.trace_number, claims=len(plan.claims), transactions=posted,
           reversals=reversals, status_changes=len(plan.moves),
           unmatched=len(plan.unmatched), payer_claim_numbers=numbers)
    return locked


# --------------------------------------------------------------------------------------------
# The inbox
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxOutcome:
    """What reading one downloaded file did."""

    file: str
    kind: str
    result: str  # read, posted, planned, refused, failed, skipped
    detail: str = ""
    eras: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "kind": self.kind, "result": self.result,
                "detail": self.detail, "eras": list(self.eras)}


# 999s first (a rejected batch never reaches the payer), then 277CAs, then the money.
_INBOX_ORDER = {"999": 0, "277ca": 1, "835": 2}


def _refuse_inbox_835(practice: Practice, inbox_file: InboxFile, problems: list[str], *,
                      by: AbstractBaseUser | None, at: datetime) -> EraFile:
    """Keep the refusal (not the money) so the file is not read again and a biller sees why."""
    digest = hashlib.sha256(inbox_file.content.encode("utf-8")).hexdigest()
    era = EraFile.objects.create(
        practice=practice, inbox_file=inbox_file, file_name=inbox_file.name[:255],
        sha256=digest, raw=inbox_file.content, status=EraStatus.REFUSED, errors=problems,
        imported_at=at, imported_by=_user(by),
    )
    record(action="remittance.refuse", at=at, by=by, practice=practice, target=era,
           file=inbox_file.name, problems=problems[:20])
    return era


def _process_835(practice: Practice, inbox_file: InboxFile, *, by: AbstractBaseUser | None,
                 at: datetime, post: bool) -> InboxOutcome:
    try:
        eras = import_835(practice=practice, text=inbox_file.content, by=by, at=at,
                          file_name=inbox_file.name, inbox_file=inbox_file)
    except RemittanceRefused as exc:
        era = _refuse_inbox_835(practice, inbox_file, exc.problems, by=by, at=at)
        return InboxOutcome(inbox_file.name, "835", "refused", str(exc), (era.pk,))
    waiting = []
    for era in eras:
        clean = bool(era.plan_summary.get("summary", {}).get("clean"))
        if post and clean and era.status != EraStatus.POSTED:
            commit_posting(era=era, by=by, at=at)
        elif era.status != EraStatus.POSTED:
            waiting.append(era.pk)
    if waiting:
        detail = (f"ERA {', '.join(f'#{pk}' for pk in waiting)} need a look before posting: "
                  "handbill remit plan ERA_ID, then handbill remit post ERA_ID"
                  if post else "imported; post with handbill remit post ERA_ID")
        return InboxOutcome(inbox_file.name, "835", "planned", detail,
                            tuple(e.pk for e in eras))
    return InboxOutcome(inbox_file.name, "835", "posted", "", tuple(e.pk for e in eras))


def process_inbox(
    *, practice: Practice, by: AbstractBaseUser | None, at: datetime, post: bool = True
) -> list[InboxOutcome]:
    """Read every downloaded 999, 277CA and 835 not read yet, each file in its own transaction.

    Rejections and acceptances move claims; 835s are imported and, with ``post``, posted when
    their plan is clean (everything matched, no warnings) — the rest wait for a person. A file
    that fails is reported and left unread, so the next run tries it again.
    """
    from handbill.remittance.acknowledgements import process_acknowledgements
    from handbill.submissions.models import InboxFile

    authorize(by, practice, "post_payments")
    _check_at(at)
    pending = sorted(
        InboxFile.objects.filter(practice=practice, processed_at__isnull=True),
        key=lambda f: (_INBOX_ORDER.get(f.kind, 3), f.received_at, f.pk),
    )
    outcomes: list[InboxOutcome] = []
    for inbox_file in pending:
        if inbox_file.kind not in _INBOX_ORDER:
            outcomes.append(InboxOutcome(inbox_file.name, inbox_file.kind, "skipped",
                                         "not a 999, 277CA or 835"))
            continue
        try:
            with transaction.atomic():
                locked = InboxFile.objects.select_for_update().get(pk=inbox_file.pk)
                if locked.processed_at is not None:
                    continue
                if locked.kind == "835":
                    outcome = _process_835(practice, locked, by=by, at=at, post=post)
                    InboxFile.objects.filter(pk=locked.pk).update(processed_at=at)
                else:
                    rows = process_acknowledgements(practice=practice, inbox_file=locked,
                                                    by=by, at=at)
                    moved = sum(1 for r in rows if r.action_taken in ("rejected", "accepted"))
                    outcome = InboxOutcome(locked.name, locked.kind, "read",
                                           f"{len(rows)} verdicts, {moved} claims moved")
        except ValueError as exc:
            outcome = InboxOutcome(inbox_file.name, inbox_file.kind, "failed", str(exc))
        outcomes.append(outcome)
    return outcomes
