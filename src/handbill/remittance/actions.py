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

import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction

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
    build_plan,
)
from handbill.ledger import posting
from handbill.ledger.bulk import insert_rows
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a remittance is read and posted.

    An 835 of 10,000 claims is some half a million small immutable values; each collection
    pass would walk all of them again, which more than doubles the time to read a file. They
    hold no reference cycles, so nothing is lost by collecting once afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chunks(items: Sequence[Any], size: int = _BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --------------------------------------------------------------------------------------------
# Our claims, as the planner takes them
# --------------------------------------------------------------------------------------------


def _in_groups(values: Sequence[Any]) -> Iterable[tuple[str, list[Any]]]:
    """(SQL condition placeholder, parameters) covering ``values``: one array on PostgreSQL,
    chunks of IN lists within SQLite's parameter limit."""
    if connection.vendor == "postgresql":
        yield "= ANY(%s)", [list(values)]
        return
    for chunk in _chunks(values):
        yield f"IN ({', '.join(['%s'] * len(chunk))})", list(chunk)


def _our_claims(
    practice: Practice, numbers: Iterable[str], payer_numbers: Iterable[str] = (),
    *, lock: bool = False,
) -> list[OurClaim]:
    """The practice's claims named by CLP01 (``numbers``) or by a PLB reference, with lines.

    Plain SQL: this reads every claim of a large remittance, and the ORM's per-row work would
    cost more than the planning itself.
    """
    qn = connection.ops.quote_name
    claim_table, line_table = qn(Claim._meta.db_table), qn(ClaimLine._meta.db_table)
    patient_table = qn(Claim._meta.get_field("patient").related_model._meta.db_table)
    # Locks the claims (PostgreSQL) so nothing moves them between planning and posting.
    suffix = " FOR UPDATE OF c" if lock and connection.vendor == "postgresql" else ""
    select = (f"SELECT c.id, c.number, c.status, c.payer_id, p.account_number, "  # noqa: S608
              f"c.date_of_service FROM {claim_table} c JOIN {patient_table} p "
              f"ON p.id = c.patient_id WHERE c.practice_id = %s AND ")
    rows: dict[int, tuple[Any, ...]] = {}
    with connection.cursor() as cursor:
        for column, values in (("c.number", sorted(set(numbers))),
                               ("c.payer_claim_number", sorted(set(payer_numbers))),
                               ("c.number", sorted(set(payer_numbers)))):
            for condition, params in _in_groups(values) if values else ():
                cursor.execute(f"{select}{column} {condition}{suffix}", [practice.pk, *params])
                for row in cursor.fetchall():
                    rows[row[0]] = row
        lines: dict[int, list[OurLine]] = defaultdict(list)
        for condition, params in _in_groups(sorted(rows)) if rows else ():
            cursor.execute(
                f"SELECT id, claim_id, control_number, code, modifiers, units, "  # noqa: S608
                f"charge_cents FROM {line_table} WHERE claim_id {condition} "
                f"ORDER BY claim_id, number", params)
            for pk, claim_id, control, code, modifiers, units, charge in cursor.fetchall():
                if isinstance(modifiers, str):
                    modifiers = json.loads(modifiers)
                day = rows[claim_id][5]
                lines[claim_id].append(OurLine(
                    pk, control, code, tuple(modifiers), units, Cents(charge),
                    date.fromisoformat(day) if isinstance(day, str) else day))
    return [
        OurClaim(pk, number, status, account, payer_id, tuple(lines[pk]))
        for pk, (_pk, number, status, payer_id, account, _day) in rows.items()
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
    numbers = sorted({c.claim_id for c in payment.remit.claims})
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


# The last plan made, with everything it was made from. ``build_plan`` is a pure function, so
# when the payment, our claims (as read now), the payer and the date are all the same, the plan
# is too: previewing and then posting in one process plans once.
_PLAN_CACHE: dict[str, tuple[tuple[object, ...], PostingPlan]] = {}


def _plan(era: EraFile, payment: ReadPayment, *, lock: bool = False) -> PostingPlan:
    remit = payment.remit
    cited = [p.reference.strip() for p in remit.provider_adjustments if p.reference.strip()]
    claims = _our_claims(era.practice, (c.claim_id for c in remit.claims), cited, lock=lock)
    default_date = _local_date(era.practice, era.imported_at)
    inputs = (era.sha256, era.transaction_index, era.payer_id, default_date, claims)
    cached = _PLAN_CACHE.get("last")
    if cached is not None and cached[0] == inputs:
        return cached[1]
    plan = build_plan(remit, claims, era_payer_key=era.payer_id, default_date=default_date)
    _PLAN_CACHE["last"] = (inputs, plan)
    return plan


# The payments of the last file read, by (file digest, place in the file). Importing and
# posting in one process (the inbox, ``remit import --commit``) then reads the file once; the
# values are immutable and the key is the content itself, so sharing them is safe.
_READ_CACHE: dict[tuple[str, int], ReadPayment] = {}


def _remember(digest: str, payments: list[ReadPayment]) -> None:
    _READ_CACHE.clear()
    _READ_CACHE.update(((digest, p.index), p) for p in payments)


def _read_era(era: EraFile) -> ReadPayment:
    cached = _READ_CACHE.get((era.sha256, era.transaction_index))
    if cached is not None:
        return cached
    try:
        payments = read_payments(era.raw)
    except RemittanceRefused as exc:
        # It read when imported; only a change to the reader can get here.
        raise RemittanceError(f"ERA #{era.pk} no longer reads: {exc}") from None
    _remember(era.sha256, payments)
    for payment in payments:
        if payment.index == era.transaction_index:
            return payment
    raise RemittanceError(f"ERA #{era.pk}: its file has no transaction {era.transaction_index}")


# --------------------------------------------------------------------------------------------
# Import and preview
# --------------------------------------------------------------------------------------------


@transaction.atomic
@_collector_paused()
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
    _remember(digest, payments)
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


@_collector_paused()
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
    claim_payments: list[int]  # ids, in the plan's claim order
    provider_adjustments: list[int]


def _json(value: object) -> str:
    return json.dumps(value)


_LIST_JSON: dict[tuple[str, ...], str] = {}


def _json_list(values: tuple[str, ...]) -> str:
    """JSON for a short list of codes; a remittance repeats the same few thousands of times."""
    found = _LIST_JSON.get(values)
    if found is None:
        if len(_LIST_JSON) > 10_000:
            _LIST_JSON.clear()
        found = _LIST_JSON[values] = json.dumps(list(values))
    return found


def _write_rows(era: EraFile, plan: PostingPlan) -> _Rows:
    claim_ids = insert_rows(
        ClaimPayment,
        ("era_id", "practice_id", "position", "claim_id", "patient_control_number",
         "status_code", "charge_cents", "paid_cents", "patient_responsibility_cents",
         "payer_claim_number", "outcome", "unmatched_reason"),
        [(era.pk, era.practice_id, pc.position, pc.claim_key, pc.remit.claim_id[:38],
          pc.remit.status[:2], pc.remit.charge.value, pc.remit.paid.value,
          pc.remit.patient_responsibility.value, pc.remit.payer_claim_number[:50],
          pc.outcome.value, pc.unmatched_reason)
         for pc in plan.claims],
        with_ids=True,
    )
    line_rows = []
    for pc, claim_id in zip(plan.claims, claim_ids, strict=True):
        for line in pc.lines:
            r = line.remit
            line_rows.append((
                claim_id, line.position, line.line_key, line.matched_by.value, r.code[:48],
                _json_list(r.modifiers), r.original_code[:48], r.units, r.original_units,
                r.charge.value, r.paid.value,
                r.allowed.value if r.allowed is not None else None, r.service_date,
                r.control_number[:50], _json_list(r.remarks), "; ".join(line.notes)))
    line_ids = insert_rows(
        ServicePayment,
        ("claim_payment_id", "position", "claim_line_id", "matched_by", "code", "modifiers",
         "original_code", "units", "original_units", "charge_cents", "paid_cents",
         "allowed_cents", "service_date", "control_number", "remarks", "note"),
        line_rows, with_ids=True,
    )
    adjustments: list[tuple[object, ...]] = []
    next_line = iter(line_ids)
    for pc, claim_id in zip(plan.claims, claim_ids, strict=True):
        adjustments.extend(
            (claim_id, None, a.group[:2], a.reason[:5], a.amount.value, a.quantity[:15],
             a.effect.value) for a in pc.adjustments)
        for line in pc.lines:
            line_id = next(next_line)
            adjustments.extend(
                (claim_id, line_id, a.group[:2], a.reason[:5], a.amount.value,
                 a.quantity[:15], a.effect.value) for a in line.adjustments)
    insert_rows(Adjustment, ("claim_payment_id", "service_payment_id", "group", "reason",
                             "amount_cents", "quantity", "effect"), adjustments)
    cited = {c.number: c.key for c in _claims_by_number(era.practice, plan)}
    provider_ids = insert_rows(
        ProviderAdjustment,
        ("era_id", "position", "provider_id", "fiscal_period_date", "reason", "reference",
         "amount_cents", "claim_id"),
        [(era.pk, p.position, p.remit.provider_id[:50], p.remit.fiscal_period_date,
          p.remit.reason[:2], p.remit.reference[:50], p.remit.amount.value,
          cited.get(p.claim_number))
         for p in plan.provider_adjustments],
        with_ids=True,
    )
    return _Rows(claim_ids, provider_ids)


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


_SIDES = {side.value: side for side in Side}


def _legs(entry: PlannedEntry, accounts: _Accounts) -> list[posting.LegSpec]:
    return [
        posting.LegSpec(accounts.get(leg.account, leg.payer_key), _SIDES[leg.side], leg.amount,
                        entry.claim_ref, "", entry.patient_ref)
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
    sources = {str(pk) for pk in rows.claim_payments}
    entries: list[posting.Entry] = []
    reversals = 0
    takeback_reason = f"835 trace {plan.trace} from {plan.payer_name or plan.payer_identifier}"
    planned: list[tuple[PlannedEntry, tuple[str, int]]] = []
    for pc, row_id in zip(plan.claims, rows.claim_payments, strict=True):
        planned.extend((entry, (CLAIM_PAYMENT_SOURCE, row_id)) for entry in pc.entries)
    for pa, row_id in zip(plan.provider_adjustments, rows.provider_adjustments, strict=True):
        if pa.entry is not None:
            planned.append((pa.entry, (PROVIDER_ADJUSTMENT_SOURCE, row_id)))
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


def _update_claims(
    plan: PostingPlan, *, practice: Practice, by: AbstractBaseUser | None, at: datetime,
) -> tuple[int, int]:
    """The plan's status moves and the payer claim numbers (CLP07, kept for REF*F8 on later
    replacements and voids), in one update per claim; returns (moved, numbers stored).

    Each move gets the same bookkeeping as ``claims.actions.transition`` — checked against the
    claim-status table, a ClaimEvent and a ``claim.<status>`` audit row — done in bulk, because
    an 835 moves thousands of claims at once. The claims were locked when the plan was made.
    """
    numbers: dict[int, str] = {}
    for pc in plan.claims:
        number = pc.remit.payer_claim_number.strip()
        if pc.claim_key is not None and number and pc.outcome is not Outcome.REVERSED:
            numbers[pc.claim_key] = number[:50]
    moves = {m.claim_key: m for m in plan.moves}
    keys = sorted(numbers.keys() | moves.keys())
    current: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(keys):
        current.update((pk, (status, number)) for pk, status, number in Claim.objects.filter(
            pk__in=chunk).values_list("pk", "status", "payer_claim_number"))
    changes: list[tuple[str, str, int]] = []
    stored = 0
    for pk in keys:
        status, number = current[pk]
        move = moves.get(pk)
        if move is not None:
            # The claims are locked, so this only fails if the plan was made from stale rows.
            if status != move.from_status:
                raise RemittanceError(
                    f"claim {move.claim_number} changed while the remittance was being posted; "
                    "nothing was posted — post it again")
            check_transition(move.from_status, move.to_status)
        new_status = move.to_status if move is not None else status
        new_number = numbers.get(pk, number)
        stored += new_number != number
        if (new_status, new_number) != (status, number):
            changes.append((new_status, new_number, pk))
    if changes:
        table = connection.ops.quote_name(Claim._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {table} AS c SET status = v.status, "  # noqa: S608
                    "payer_claim_number = v.number FROM unnest(%s::text[], %s::text[], "
                    "%s::bigint[]) AS v(status, number, id) WHERE c.id = v.id",
                    [list(column) for column in zip(*changes, strict=True)])
            else:
                cursor.executemany(
                    f"UPDATE {table} SET status = %s, payer_claim_number = %s "  # noqa: S608
                    "WHERE id = %s", changes)
    if moves:
        user_id = by.pk if by is not None and by.is_authenticated else None
        insert_rows(ClaimEvent, ("claim_id", "from_status", "to_status", "note", "by_id", "at"),
                    [(m.claim_key, m.from_status, m.to_status, m.note, user_id, at)
                     for m in plan.moves])
        label = Claim._meta.label_lower
        insert_rows(AuditEvent, ("practice_id", "actor_id", "action", "object_type",
                                 "object_id", "detail", "occurred_at"),
                    [(practice.pk, user_id, f"claim.{m.to_status}", label, str(m.claim_key),
                      _json({"from_status": m.from_status, "note": m.note}), at)
                     for m in plan.moves])
    return len(moves), stored


@transaction.atomic
@_collector_paused()
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
    _moved, numbers = _update_claims(plan, practice=locked.practice, by=by, at=at)
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
