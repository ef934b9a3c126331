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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from handbill.audit.record import record
from handbill.claims.models import Claim
from handbill.core.posting_plan import PostingPlan, build_plan
from handbill.practice.access import authorize, same_practice
from handbill.practice.models import Practice
from handbill.remittance import ourclaims, writing
from handbill.remittance.acknowledgements import process_acknowledgements
from handbill.remittance.models import EraFile, EraStatus, ManualMatch
from handbill.remittance.reading import ReadPayment, RemittanceRefused, read_payments
from handbill.remittance.writing import RemittanceError
from handbill.submissions.models import InboxFile

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


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
    "resolve_unmatched",
]

_SUMMARY_LIMIT = 200


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


def _local_date(practice: Practice, at: datetime) -> date:
    return at.astimezone(ZoneInfo(practice.timezone)).date()


# The last plan made, with everything it was made from. ``build_plan`` is a pure function, so
# when the payment, our claims (as read now), the payer and the date are all the same, the plan
# is too: previewing and then posting in one process plans once.
_PLAN_CACHE: dict[str, tuple[tuple[object, ...], PostingPlan]] = {}


def _plan(era: EraFile, payment: ReadPayment, *, lock: bool = False) -> PostingPlan:
    remit = payment.remit
    cited = [p.reference.strip() for p in remit.provider_adjustments if p.reference.strip()]
    # Claims a biller chose for CLP01s that name none of ours (resolve_unmatched).
    aliases = dict(ManualMatch.objects.filter(era=era).values_list(
        "patient_control_number", "claim__number")) if era.pk else {}
    claims = ourclaims.our_claims(
        era.practice, [*(c.claim_id for c in remit.claims), *aliases.values()], cited,
        lock=lock)
    default_date = _local_date(era.practice, era.imported_at)
    inputs = (era.sha256, era.transaction_index, era.payer_id, default_date, claims,
              tuple(sorted(aliases.items())))
    cached = _PLAN_CACHE.get("last")
    if cached is not None and cached[0] == inputs:
        return cached[1]
    plan = build_plan(remit, claims, era_payer_key=era.payer_id, default_date=default_date,
                      aliases=aliases)
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
        payer = ourclaims.resolve_payer(practice, payment)
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


@transaction.atomic
def resolve_unmatched(
    *, era: EraFile, patient_control_number: str, claim: Claim, by: AbstractBaseUser | None,
    at: datetime,
) -> PostingPlan:
    """A biller says which of our claims an unmatched CLP01 means, before posting; returns the
    plan made again with that choice (and keeps its summary on the ERA)."""
    authorize(by, era.practice, "post_payments")
    _check_at(at)
    locked = EraFile.objects.select_for_update().select_related("practice").get(pk=era.pk)
    same_practice(locked.practice, claim)
    if locked.status not in (EraStatus.IMPORTED, EraStatus.PLANNED):
        raise RemittanceError(
            f"ERA #{locked.pk} is {locked.get_status_display().lower()}; only a remittance "
            "not posted yet takes a claim chosen by hand")
    payment = _read_era(locked)
    before = _plan(locked, payment)
    wanted = patient_control_number.strip()
    if not any(u.claim_id == wanted and not u.line for u in before.unmatched):
        raise RemittanceError(
            f"CLP01 {wanted!r} is not an unmatched claim of ERA #{locked.pk}; nothing to resolve")
    if claim.status in ("draft", "void") or claim.payer_id is None:
        raise RemittanceError(
            f"claim {claim.number} is {claim.get_status_display().lower()}"
            f"{' and self-pay' if claim.payer_id is None else ''}; a payment can only go to a "
            "claim that was sent to a payer")
    ManualMatch.objects.create(era=locked, patient_control_number=wanted, claim=claim,
                               by=_user(by), at=at)
    plan = _plan(locked, payment)
    locked.status = EraStatus.PLANNED
    locked.plan_summary = plan.summary(limit=_SUMMARY_LIMIT)
    locked.warnings = [*payment.warnings, *plan.warnings[:_SUMMARY_LIMIT]]
    locked.save(update_fields=["status", "plan_summary", "warnings"])
    record(action="remittance.resolve_unmatched", at=at, by=by, practice=locked.practice,
           target=locked, patient_control_number=wanted, claim=claim.number,
           trace=locked.trace_number)
    return plan


# --------------------------------------------------------------------------------------------
# Commit
# --------------------------------------------------------------------------------------------


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
    rows = writing.write_rows(locked, plan)
    posted, reversals = writing.post_ledger(locked, plan, rows, by=by, at=at)
    _moved, numbers = writing.update_claims(plan, practice=locked.practice, by=by, at=at)
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
                    # "accepted; payer claim number … kept" is a move too.
                    moved = sum(1 for r in rows
                                if r.action_taken.partition(";")[0] in ("rejected", "accepted"))
                    outcome = InboxOutcome(locked.name, locked.kind, "read",
                                           f"{len(rows)} verdicts, {moved} claims moved")
        except ValueError as exc:
            outcome = InboxOutcome(inbox_file.name, inbox_file.kind, "failed", str(exc))
        outcomes.append(outcome)
    return outcomes
