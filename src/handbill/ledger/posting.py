"""The only way money gets into the ledger.

Every function here is keyword-only and atomic: it validates everything first, then writes the
transaction, its legs and an audit row together, or nothing. :func:`post` is the general
form; the ``post_*`` helpers name the everyday billing events so callers do not pick accounts
by hand:

=======================  ==================================  ==================================
helper                   debit                               credit
=======================  ==================================  ==================================
post_charge              A/R insurance (payer) or A/R        charges
                         patient when self-pay
post_insurance_payment   cash                                A/R insurance (payer)
post_contractual_adj.    contractual adjustment (payer)      A/R insurance (payer)
post_transfer_to_patient A/R patient                         A/R insurance (payer)
post_transfer_to_payer   A/R insurance (next payer)          A/R insurance (payer) or patient
post_patient_payment     cash                                A/R patient
post_write_off           write-off                           A/R insurance (payer) or patient
post_refund              A/R insurance (payer) or patient    cash
post_provider_adjustment provider adjustment (payer) / cash  cash / interest or provider adj.
=======================  ==================================  ==================================
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from handbill.audit.context import current_source
from handbill.audit.models import AuditEvent
from handbill.audit.record import record
from handbill.core.money import Cents
from handbill.ledger.models import (
    NORMAL_SIDE,
    PAYER_FORBIDDEN,
    PAYER_REQUIRED,
    REF_MAX_LENGTH,
    Account,
    AccountKind,
    LedgerTransaction,
    Leg,
    TransactionKind,
)
from handbill.ledger.rules import LedgerError, Side, check_entry

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from handbill.practice.models import Payer, Practice

__all__ = [
    "LedgerError",
    "LegSpec",
    "Side",
    "account_for",
    "credit",
    "debit",
    "post",
    "post_charge",
    "post_contractual_adjustment",
    "post_insurance_payment",
    "post_patient_payment",
    "post_provider_adjustment",
    "post_refund",
    "post_transfer_to_patient",
    "post_transfer_to_payer",
    "post_write_off",
    "reverse",
    "Entry",
    "post_many",
]

# PLB reason code for prompt-pay interest; it goes to interest income, not adjustments.
PLB_INTEREST = "L6"


@dataclass(frozen=True, slots=True)
class LegSpec:
    """One leg to post. ``amount`` is positive Cents; the side says which way it moves."""

    account: Account
    side: Side
    amount: Cents
    claim_ref: str = ""
    line_ref: str = ""
    patient_ref: str = ""


def debit(
    account: Account, amount: Cents, *, claim_ref: str = "", line_ref: str = "",
    patient_ref: str = "",
) -> LegSpec:
    return LegSpec(account, Side.DEBIT, amount, claim_ref, line_ref, patient_ref)


def credit(
    account: Account, amount: Cents, *, claim_ref: str = "", line_ref: str = "",
    patient_ref: str = "",
) -> LegSpec:
    return LegSpec(account, Side.CREDIT, amount, claim_ref, line_ref, patient_ref)


def account_for(practice: Practice, kind: str, payer: Payer | None = None) -> Account:
    """The practice's account of this kind (and payer), created on first use."""
    try:
        kind = AccountKind(kind)
    except ValueError:
        choices = ", ".join(AccountKind.values)
        raise LedgerError(f"{kind!r} is not an account kind; use one of {choices}") from None
    if payer is not None and payer.practice_id != practice.pk:
        raise LedgerError(
            f"payer {payer} belongs to another practice; use a payer of {practice}"
        )
    if kind in PAYER_REQUIRED and payer is None:
        raise LedgerError(f"{kind.label} is kept per payer; pass the payer")
    if kind in PAYER_FORBIDDEN and payer is not None:
        raise LedgerError(f"{kind.label} is one account per practice; do not pass a payer")
    name = f"{kind.label} — {payer.name}" if payer is not None else kind.label
    account, _ = Account.objects.get_or_create(
        practice=practice,
        kind=kind,
        payer=payer,
        defaults={"name": name, "normal_side": NORMAL_SIDE[kind].value},
    )
    return account


def _check_at(at: object) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise LedgerError(
            f"at must be a timezone-aware datetime, got {at!r}; pass e.g. "
            "datetime(..., tzinfo=UTC)"
        )
    return at


def _check_effective_date(effective_date: object) -> date:
    if isinstance(effective_date, datetime) or not isinstance(effective_date, date):
        raise LedgerError(
            f"effective_date must be a date (not a datetime), got {effective_date!r}"
        )
    return effective_date


def _check_ref(value: object, *, name: str, where: str) -> str:
    if not isinstance(value, str):
        raise LedgerError(f"{where}: {name} must be text, got {type(value).__name__}")
    if len(value) > REF_MAX_LENGTH:
        raise LedgerError(
            f"{where}: {name} {value[:20]!r}… is {len(value)} characters; "
            f"at most {REF_MAX_LENGTH} fit"
        )
    return value


def _check_source(source: tuple[str, str | int] | None) -> tuple[str, str]:
    if source is None:
        return "", ""
    if not isinstance(source, tuple) or len(source) != 2:
        raise LedgerError(f"source must be a (type, id) pair or None, got {source!r}")
    source_type, source_id = source[0], str(source[1])
    if not isinstance(source_type, str) or not source_type or not source_id:
        raise LedgerError(f"source needs both a type and an id, got {source!r}")
    if len(source_type) > 64 or len(source_id) > 64:
        raise LedgerError(f"source {source!r} is too long; type and id fit 64 characters each")
    return source_type, source_id


def _check_legs(practice: Practice, legs: Sequence[LegSpec]) -> Cents:
    if isinstance(legs, LegSpec) or not isinstance(legs, Sequence):
        raise LedgerError("legs must be a list of LegSpec (use debit(...) and credit(...))")
    for index, leg in enumerate(legs, start=1):
        if not isinstance(leg, LegSpec):
            raise LedgerError(f"leg {index}: expected a LegSpec, got {type(leg).__name__}")
        if not isinstance(leg.account, Account) or leg.account.pk is None:
            raise LedgerError(f"leg {index}: account must be a saved Account (see account_for)")
        if leg.account.practice_id != practice.pk:
            raise LedgerError(
                f"leg {index}: account {leg.account} (#{leg.account.pk}) belongs to another "
                f"practice; every leg must use an account of {practice}"
            )
        refs = (leg.claim_ref, leg.line_ref, leg.patient_ref)
        # The common case checked in one step; the slow path names the field at fault.
        if not all(type(ref) is str and len(ref) <= REF_MAX_LENGTH for ref in refs):
            for name in ("claim_ref", "line_ref", "patient_ref"):
                _check_ref(getattr(leg, name), name=name, where=f"leg {index}")
    return check_entry([(leg.side, leg.amount) for leg in legs])


def _leg_rows(txn: LedgerTransaction) -> list[tuple[int, int, int, str, str, str]]:
    return sorted(
        (leg.account_id, leg.debit_cents, leg.credit_cents, leg.claim_ref, leg.line_ref,
         leg.patient_ref)
        for leg in txn.legs.all()
    )


def _spec_rows(legs: Sequence[LegSpec]) -> list[tuple[int, int, int, str, str, str]]:
    return sorted(
        (
            leg.account.pk,
            leg.amount.value if leg.side is Side.DEBIT else 0,
            leg.amount.value if leg.side is Side.CREDIT else 0,
            leg.claim_ref,
            leg.line_ref,
            leg.patient_ref,
        )
        for leg in legs
    )


def _replay(
    existing: LedgerTransaction, *, kind: str, legs: Sequence[LegSpec], effective_date: date,
    source: tuple[str, str], reverses: LedgerTransaction | None,
) -> LedgerTransaction:
    """The transaction an idempotency key already produced, if it is the same posting.

    Memo, time and user are allowed to differ: posting the same 835 again next week by a
    different biller is still the same posting.
    """
    differences = []
    if existing.kind != kind:
        differences.append(f"kind {existing.kind} vs {kind}")
    if existing.effective_date != effective_date:
        differences.append(f"effective date {existing.effective_date} vs {effective_date}")
    if (existing.source_type, existing.source_id) != source:
        differences.append("source")
    if existing.reverses_id != (reverses.pk if reverses is not None else None):
        differences.append("reversed transaction")
    if _leg_rows(existing) != _spec_rows(legs):
        differences.append("legs")
    if differences:
        raise LedgerError(
            f"idempotency key {existing.idempotency_key!r} was already used for transaction "
            f"#{existing.pk} with different content ({', '.join(differences)}); "
            "use a new key for a different posting"
        )
    return existing


def _write(
    *, practice: Practice, kind: str, legs: Sequence[LegSpec], memo: str, effective_date: date,
    at: datetime, by: AbstractBaseUser | None, source: tuple[str, str],
    idempotency_key: str | None, reverses: LedgerTransaction | None, total: Cents,
    audit: dict[str, Any],
) -> LedgerTransaction:
    if idempotency_key is not None:
        existing = LedgerTransaction.objects.filter(
            practice=practice, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return _replay(existing, kind=kind, legs=legs, effective_date=effective_date,
                           source=source, reverses=reverses)
    try:
        # A savepoint, so a concurrent poster winning the race on the same key (or the same
        # reversal) leaves this transaction usable for the look-up below.
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(
                practice=practice,
                kind=kind,
                memo=memo,
                occurred_at=at,
                effective_date=effective_date,
                created_by=by if by is not None and by.is_authenticated else None,
                source_type=source[0],
                source_id=source[1],
                reverses=reverses,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if idempotency_key is not None:
            existing = LedgerTransaction.objects.filter(
                practice=practice, idempotency_key=idempotency_key
            ).first()
            if existing is not None:
                return _replay(existing, kind=kind, legs=legs, effective_date=effective_date,
                               source=source, reverses=reverses)
        if reverses is not None:
            raise LedgerError(f"transaction #{reverses.pk} has already been reversed") from None
        raise
    Leg.objects.bulk_create(
        Leg(
            transaction=txn,
            practice=practice,
            account=leg.account,
            debit_cents=leg.amount.value if leg.side is Side.DEBIT else 0,
            credit_cents=leg.amount.value if leg.side is Side.CREDIT else 0,
            claim_ref=leg.claim_ref,
            line_ref=leg.line_ref,
            patient_ref=leg.patient_ref,
        )
        for leg in legs
    )
    record(
        action="ledger.reverse" if reverses is not None else "ledger.post",
        at=at,
        by=by,
        practice=practice,
        target=txn,
        kind=str(kind),
        total_cents=total.value,
        effective_date=effective_date.isoformat(),
        legs=len(legs),
        idempotency_key=idempotency_key,
        **audit,
    )
    return txn


@transaction.atomic
def post(
    *,
    practice: Practice,
    kind: str,
    legs: Sequence[LegSpec],
    memo: str,
    effective_date: date,
    at: datetime,
    by: AbstractBaseUser | None,
    source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction, or raise :class:`LedgerError` having written nothing.

    With an ``idempotency_key`` this practice has used before, returns the transaction that
    key produced (after checking it is the same posting) and writes nothing.
    """
    try:
        kind = TransactionKind(kind)
    except ValueError:
        choices = ", ".join(TransactionKind.values)
        raise LedgerError(f"{kind!r} is not a transaction kind; use one of {choices}") from None
    if kind == TransactionKind.REVERSAL:
        raise LedgerError("reversals are posted with reverse(transaction, ...), not post()")
    at = _check_at(at)
    effective_date = _check_effective_date(effective_date)
    if not isinstance(memo, str) or len(memo) > 200:
        raise LedgerError("memo must be text of at most 200 characters")
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str) or not idempotency_key or len(idempotency_key) > 128
    ):
        raise LedgerError("idempotency_key must be None or non-empty text up to 128 characters")
    source_pair = _check_source(source)
    total = _check_legs(practice, legs)
    return _write(
        practice=practice, kind=kind, legs=legs, memo=memo, effective_date=effective_date,
        at=at, by=by, source=source_pair, idempotency_key=idempotency_key, reverses=None,
        total=total, audit={},
    )


@transaction.atomic
def reverse(
    original: LedgerTransaction,
    *,
    by: AbstractBaseUser | None,
    at: datetime,
    reason: str,
    effective_date: date | None = None,
    source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """Cancel a transaction with its mirror image: same accounts and refs, sides swapped.

    The reversal counts on ``effective_date``, by default the day of ``at`` in the practice's
    time zone: a correction belongs to the period it was made in, not the original's.
    """
    if not isinstance(original, LedgerTransaction) or original.pk is None:
        raise LedgerError("reverse() takes a saved LedgerTransaction")
    at = _check_at(at)
    if not isinstance(reason, str) or not reason.strip():
        raise LedgerError("a reversal needs a reason (e.g. 'posted to the wrong claim')")
    if original.kind == TransactionKind.REVERSAL:
        raise LedgerError(
            f"transaction #{original.pk} is itself a reversal and cannot be reversed; "
            "post the original transaction again instead"
        )
    practice = original.practice
    if effective_date is None:
        effective_date = at.astimezone(ZoneInfo(practice.timezone)).date()
    effective_date = _check_effective_date(effective_date)
    source_pair = _check_source(source)
    if idempotency_key is None and LedgerTransaction.objects.filter(reverses=original).exists():
        raise LedgerError(f"transaction #{original.pk} has already been reversed")
    legs = [
        LegSpec(
            account=leg.account,
            side=leg.side.opposite,
            amount=Cents(leg.amount_cents),
            claim_ref=leg.claim_ref,
            line_ref=leg.line_ref,
            patient_ref=leg.patient_ref,
        )
        for leg in original.legs.select_related("account").order_by("pk")
    ]
    total = _check_legs(practice, legs)
    memo = f"Reversal of #{original.pk}: {reason.strip()}"[:200]
    return _write(
        practice=practice, kind=TransactionKind.REVERSAL, legs=legs, memo=memo,
        effective_date=effective_date, at=at, by=by, source=source_pair,
        idempotency_key=idempotency_key, reverses=original, total=total,
        audit={"reverses": original.pk, "reason": reason.strip()},
    )


# --- Many at once ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One transaction for :func:`post_many`: what :func:`post` takes, as a value."""

    kind: str
    legs: Sequence[LegSpec]
    memo: str
    effective_date: date
    source: tuple[str, str | int] | None = None
    idempotency_key: str | None = None


# Keys per look-up query, within every backend's parameter limit.
_KEY_CHUNK = 900


def _checked_entry(practice: Practice, entry: Entry, index: int) -> tuple[str, Cents,
                                                                          tuple[str, str]]:
    where = f"entry {index}"
    if not isinstance(entry, Entry):
        raise LedgerError(f"{where}: expected an Entry, got {type(entry).__name__}")
    try:
        kind = TransactionKind(entry.kind)
    except ValueError:
        choices = ", ".join(TransactionKind.values)
        raise LedgerError(
            f"{where}: {entry.kind!r} is not a transaction kind; use one of {choices}"
        ) from None
    if kind == TransactionKind.REVERSAL:
        raise LedgerError(f"{where}: reversals are posted with reverse(), not post_many()")
    _check_effective_date(entry.effective_date)
    if not isinstance(entry.memo, str) or len(entry.memo) > 200:
        raise LedgerError(f"{where}: memo must be text of at most 200 characters")
    key = entry.idempotency_key
    if key is not None and (not isinstance(key, str) or not key or len(key) > 128):
        raise LedgerError(
            f"{where}: idempotency_key must be None or non-empty text up to 128 characters"
        )
    source = _check_source(entry.source)
    try:
        amount = _check_legs(practice, entry.legs)
    except LedgerError as exc:
        raise LedgerError(f"{where} ({entry.memo[:60]}): {exc}") from None
    return kind.value, amount, source


def _existing_by_key(practice: Practice, keys: list[str]) -> dict[str, LedgerTransaction]:
    from django.db import connection

    # PostgreSQL takes the keys as one array; SQLite in chunks within its parameter limit.
    size = len(keys) if connection.vendor == "postgresql" else _KEY_CHUNK
    found: dict[str, LedgerTransaction] = {}
    for start in range(0, len(keys), size):
        chunk = keys[start:start + size]
        rows = LedgerTransaction.objects.filter(
            practice=practice, idempotency_key__in=chunk
        ).prefetch_related("legs")
        found.update((txn.idempotency_key, txn) for txn in rows if txn.idempotency_key)
    return found


@transaction.atomic
def post_many(
    *,
    practice: Practice,
    entries: Sequence[Entry],
    at: datetime,
    by: AbstractBaseUser | None,
) -> list[int]:
    """Post many balanced transactions together, as :func:`post` would one by one.

    The same checks run on every entry before anything is written, every transaction gets its
    audit row, and an idempotency key the practice has used before returns the transaction it
    produced (after checking it is the same posting) instead of writing again. The difference
    is speed: rows go in with bulk inserts (see :mod:`handbill.ledger.bulk`), so an 835 of
    thousands of claims posts in one database transaction without a round trip per row.
    Returns the transaction ids in the order of ``entries``. Any refusal raises
    :class:`LedgerError` with nothing written.
    """
    from handbill.ledger.bulk import insert_rows

    at = _check_at(at)
    if isinstance(entries, Entry) or not isinstance(entries, Sequence):
        raise LedgerError("entries must be a list of Entry values")
    checked = [_checked_entry(practice, entry, index) for index, entry in
               enumerate(entries, start=1)]
    keys = [entry.idempotency_key for entry in entries if entry.idempotency_key is not None]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise LedgerError(f"idempotency key {key!r} appears twice in one posting")
        seen.add(key)
    existing = _existing_by_key(practice, keys) if keys else {}
    results: list[int] = []
    fresh: list[tuple[int, Entry, str, Cents, tuple[str, str]]] = []
    for index, (entry, (kind, amount, source)) in enumerate(zip(entries, checked, strict=True)):
        earlier = existing.get(entry.idempotency_key) if entry.idempotency_key else None
        if earlier is not None:
            results.append(_replay(earlier, kind=kind, legs=entry.legs,
                                   effective_date=entry.effective_date, source=source,
                                   reverses=None).pk)
            continue
        results.append(0)
        fresh.append((index, entry, kind, amount, source))
    if not fresh:
        return results
    user_id = by.pk if by is not None and by.is_authenticated else None
    try:
        # A savepoint: a concurrent poster that took one of these keys first leaves this
        # transaction usable, and the caller's retry then finds every key and writes nothing.
        with transaction.atomic():
            ids = insert_rows(
                LedgerTransaction,
                ("practice_id", "kind", "memo", "occurred_at", "effective_date",
                 "created_by_id", "source_type", "source_id", "reverses_id", "idempotency_key"),
                [(practice.pk, kind, entry.memo, at, entry.effective_date, user_id, source[0],
                  source[1], None, entry.idempotency_key)
                 for _index, entry, kind, _amount, source in fresh],
                with_ids=True,
            )
    except IntegrityError:
        raise LedgerError(
            "another posting wrote some of these idempotency keys at the same moment; "
            "nothing was written here — run it again and the keys already posted are skipped"
        ) from None
    legs: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    label = LedgerTransaction._meta.label_lower
    source = current_source()
    address, channel = (source.address, source.channel) if source else (None, "cli")
    for txn_id, (index, entry, kind, amount, _source) in zip(ids, fresh, strict=True):
        results[index] = txn_id
        for leg in entry.legs:
            value = leg.amount.value
            debit_side = leg.side is Side.DEBIT
            legs.append((txn_id, practice.pk, leg.account.pk, value if debit_side else 0,
                         0 if debit_side else value, leg.claim_ref, leg.line_ref,
                         leg.patient_ref))
        # The same row record() writes for post(), built here so it can go in bulk.
        events.append((practice.pk, user_id, "ledger.post", label, str(txn_id), json.dumps({
            "kind": kind, "total_cents": amount.value,
            "effective_date": entry.effective_date.isoformat(), "legs": len(entry.legs),
            "idempotency_key": entry.idempotency_key}), at, address, channel))
    insert_rows(Leg, ("transaction_id", "practice_id", "account_id", "debit_cents",
                      "credit_cents", "claim_ref", "line_ref", "patient_ref"), legs)
    insert_rows(AuditEvent, ("practice_id", "actor_id", "action", "object_type", "object_id",
                             "detail", "occurred_at", "source_address", "channel"), events)
    return results


# --- The everyday events -------------------------------------------------------------------


def _receivable(practice: Practice, payer: Payer | None) -> Account:
    """The payer's A/R insurance, or A/R patient when no payer is responsible."""
    if payer is None:
        return account_for(practice, AccountKind.AR_PATIENT)
    return account_for(practice, AccountKind.AR_INSURANCE, payer)


def _pair(
    *, practice: Practice, kind: str, debit_account: Account, credit_account: Account,
    amount: Cents, claim_ref: str, line_ref: str, patient_ref: str, memo: str,
    effective_date: date, at: datetime, by: AbstractBaseUser | None,
    source: tuple[str, str | int] | None, idempotency_key: str | None,
) -> LedgerTransaction:
    refs = {"claim_ref": claim_ref, "line_ref": line_ref, "patient_ref": patient_ref}
    return post(
        practice=practice,
        kind=kind,
        legs=[debit(debit_account, amount, **refs), credit(credit_account, amount, **refs)],
        memo=memo,
        effective_date=effective_date,
        at=at,
        by=by,
        source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_charge(
    *, practice: Practice, payer: Payer | None, amount: Cents, claim_ref: str,
    patient_ref: str, line_ref: str = "", effective_date: date, at: datetime,
    by: AbstractBaseUser | None, memo: str = "", source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """A billed charge: owed by the payer, or by the patient when ``payer`` is None."""
    return _pair(
        practice=practice, kind=TransactionKind.CHARGE,
        debit_account=_receivable(practice, payer),
        credit_account=account_for(practice, AccountKind.CHARGES),
        amount=amount, claim_ref=claim_ref, line_ref=line_ref, patient_ref=patient_ref,
        memo=memo, effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_insurance_payment(
    *, practice: Practice, payer: Payer, amount: Cents, claim_ref: str, patient_ref: str,
    line_ref: str = "", effective_date: date, at: datetime, by: AbstractBaseUser | None,
    memo: str = "", source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """Money a payer paid on a claim (CLP04 / SVC03)."""
    return _pair(
        practice=practice, kind=TransactionKind.INSURANCE_PAYMENT,
        debit_account=account_for(practice, AccountKind.CASH),
        credit_account=account_for(practice, AccountKind.AR_INSURANCE, payer),
        amount=amount, claim_ref=claim_ref, line_ref=line_ref, patient_ref=patient_ref,
        memo=memo, effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_contractual_adjustment(
    *, practice: Practice, payer: Payer, amount: Cents, claim_ref: str, patient_ref: str,
    line_ref: str = "", effective_date: date, at: datetime, by: AbstractBaseUser | None,
    memo: str = "", source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """The part of a charge the payer's contract says we may not collect (CAS group CO)."""
    return _pair(
        practice=practice, kind=TransactionKind.CONTRACTUAL_ADJUSTMENT,
        debit_account=account_for(practice, AccountKind.CONTRACTUAL_ADJUSTMENT, payer),
        credit_account=account_for(practice, AccountKind.AR_INSURANCE, payer),
        amount=amount, claim_ref=claim_ref, line_ref=line_ref, patient_ref=patient_ref,
        memo=memo, effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_transfer_to_patient(
    *, practice: Practice, payer: Payer, amount: Cents, claim_ref: str, patient_ref: str,
    line_ref: str = "", effective_date: date, at: datetime, by: AbstractBaseUser | None,
    memo: str = "", source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """Deductible, coinsurance or copay the payer assigned to the patient (CAS group PR)."""
    return _pair(
        practice=practice, kind=TransactionKind.TRANSFER_TO_PATIENT,
        debit_account=account_for(practice, AccountKind.AR_PATIENT),
        credit_account=account_for(practice, AccountKind.AR_INSURANCE, payer),
        amount=amount, claim_ref=claim_ref, line_ref=line_ref, patient_ref=patient_ref,
        memo=memo, effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_transfer_to_payer(
    *, practice: Practice, from_payer: Payer | None, to_payer: Payer, amount: Cents,
    claim_ref: str, patient_ref: str, line_ref: str = "", effective_date: date, at: datetime,
    by: AbstractBaseUser | None, memo: str = "", source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """Move a balance to the next payer (secondary coverage), from a payer or the patient."""
    if from_payer is not None and from_payer.pk == to_payer.pk:
        raise LedgerError("a transfer to a payer needs two different payers")
    return _pair(
        practice=practice, kind=TransactionKind.TRANSFER_TO_PAYER,
        debit_account=account_for(practice, AccountKind.AR_INSURANCE, to_payer),
        credit_account=_receivable(practice, from_payer),
        amount=amount, claim_ref=claim_ref, line_ref=line_ref, patient_ref=patient_ref,
        memo=memo, effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_patient_payment(
    *, practice: Practice, amount: Cents, patient_ref: str, claim_ref: str = "",
    line_ref: str = "", effective_date: date, at: datetime, by: AbstractBaseUser | None,
    memo: str = "", source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """Money the patient paid: at the front desk, by card, by check."""
    return _pair(
        practice=practice, kind=TransactionKind.PATIENT_PAYMENT,
        debit_account=account_for(practice, AccountKind.CASH),
        credit_account=account_for(practice, AccountKind.AR_PATIENT),
        amount=amount, claim_ref=claim_ref, line_ref=line_ref, patient_ref=patient_ref,
        memo=memo, effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_write_off(
    *, practice: Practice, payer: Payer | None, amount: Cents, claim_ref: str,
    patient_ref: str, line_ref: str = "", effective_date: date, at: datetime,
    by: AbstractBaseUser | None, memo: str = "", source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """A balance the practice will not collect, from the payer's A/R or (None) the patient's."""
    return _pair(
        practice=practice, kind=TransactionKind.WRITE_OFF,
        debit_account=account_for(practice, AccountKind.WRITE_OFF),
        credit_account=_receivable(practice, payer),
        amount=amount, claim_ref=claim_ref, line_ref=line_ref, patient_ref=patient_ref,
        memo=memo, effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_refund(
    *, practice: Practice, payer: Payer | None, amount: Cents, claim_ref: str,
    patient_ref: str, line_ref: str = "", effective_date: date, at: datetime,
    by: AbstractBaseUser | None, memo: str = "", source: tuple[str, str | int] | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """Money paid back for an overpayment, to the payer or (None) to the patient.

    The overpayment shows as a credit balance on that A/R; the refund brings it back to zero.
    """
    return _pair(
        practice=practice, kind=TransactionKind.REFUND,
        debit_account=_receivable(practice, payer),
        credit_account=account_for(practice, AccountKind.CASH),
        amount=amount, claim_ref=claim_ref, line_ref=line_ref, patient_ref=patient_ref,
        memo=memo, effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def post_provider_adjustment(
    *, practice: Practice, payer: Payer, amount: Cents, reason_code: str, reference: str = "",
    effective_date: date, at: datetime, by: AbstractBaseUser | None, memo: str = "",
    source: tuple[str, str | int] | None = None, idempotency_key: str | None = None,
) -> LedgerTransaction:
    """A PLB amount, signed as in PLB04: positive reduces the payment, negative adds to it.

    Interest (reason L6) is income; every other reason goes to the payer's provider-level
    adjustment account, from where a biller can move it to the claim it concerns.
    """
    if not isinstance(amount, Cents):
        raise LedgerError(f"amount must be Cents, not {type(amount).__name__} {amount!r}")
    if not amount:
        raise LedgerError("a provider-level adjustment of zero changes nothing; skip it")
    if not isinstance(reason_code, str) or not reason_code.strip():
        raise LedgerError("a provider-level adjustment needs its PLB reason code (e.g. WO, L6)")
    reason_code = reason_code.strip().upper()
    cash = account_for(practice, AccountKind.CASH)
    if amount.value > 0:
        debit_account = account_for(practice, AccountKind.PROVIDER_ADJUSTMENT, payer)
        credit_account = cash
    else:
        debit_account = cash
        credit_kind = (
            AccountKind.INTEREST if reason_code == PLB_INTEREST
            else AccountKind.PROVIDER_ADJUSTMENT
        )
        credit_account = account_for(practice, credit_kind, payer)
    return _pair(
        practice=practice, kind=TransactionKind.PROVIDER_ADJUSTMENT,
        debit_account=debit_account, credit_account=credit_account, amount=abs(amount),
        claim_ref="", line_ref="", patient_ref="",
        memo=memo or f"PLB {reason_code} {reference}".strip(),
        effective_date=effective_date, at=at, by=by, source=source,
        idempotency_key=idempotency_key,
    )
