"""Writing a planned payment: the remittance rows, the ledger entries, the claim updates.

Called by ``remittance.actions.commit_posting`` inside its one database transaction, after it
has locked the ERA and the claims; each step writes in bulk (see ``handbill.ledger.bulk``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection

from handbill.audit.models import AuditEvent
from handbill.claims.models import Claim, ClaimEvent
from handbill.core.claim_status import check_transition
from handbill.core.posting_plan import Outcome, PlannedEntry, PostingPlan
from handbill.ledger import posting
from handbill.ledger.bulk import insert_rows
from handbill.ledger.models import Account, LedgerTransaction
from handbill.ledger.rules import Side
from handbill.practice.models import Payer, Practice
from handbill.remittance.models import (
    Adjustment,
    ClaimPayment,
    EraFile,
    ProviderAdjustment,
    ServicePayment,
)
from handbill.remittance.ourclaims import chunks

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

CLAIM_PAYMENT_SOURCE = "remittance.claimpayment"
PROVIDER_ADJUSTMENT_SOURCE = "remittance.provideradjustment"


class RemittanceError(ValueError):
    """A remittance action that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Rows:
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


def write_rows(era: EraFile, plan: PostingPlan) -> Rows:
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
    return Rows(claim_ids, provider_ids)


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


def post_ledger(
    era: EraFile, plan: PostingPlan, rows: Rows, *, by: AbstractBaseUser | None,
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
    # Takebacks reverse their original as they come; everything else goes in one bulk posting
    # afterwards, so a reversal can only ever find an earlier file's posting to undo.
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


def update_claims(
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
    for chunk in chunks(keys):
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
