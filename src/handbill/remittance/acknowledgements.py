"""Reading 999 and 277CA acknowledgements into claim statuses.

- 999: a transaction set rejected (IK5 R, M, W, X) rejects every claim it carried — found by
  re-reading the 837 we sent (AK1 names our group, AK2 our ST02). Accepted sets leave the
  claims alone: a 999 checks syntax, not whether the payer takes the claim.
- 277CA: A3/A6/A7/A8 reject the claim with the STC in words; A1/A2 (and A5) accept it and keep
  the payer's claim number (REF*1K); pending and other categories are recorded only.

Each verdict becomes an :class:`Acknowledgement` row, with what Handbill did about it. Status
moves go through ``claims.actions.transition`` (a ClaimEvent and an audit row each). Reading
the same file twice changes nothing: the inbox file is locked and marked read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from handbill.audit.record import record
from handbill.claims import actions as claim_actions
from handbill.claims.models import Claim
from handbill.core.claim_status import TRANSITIONS, ClaimStatus
from handbill.practice.access import authorize
from handbill.remittance.models import AckKind, Acknowledgement, AckResult
from handbill.remittance.reading import (
    AcknowledgementUnreadable,
    ClaimVerdict,
    TransactionVerdict,
    read_277cas,
    read_999s,
)
from handbill.submissions.models import InboxFile, InboxKind, SubmissionBatch
from handbill.x12.tokens import X12Error, iter_transactions

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from handbill.practice.models import Practice

__all__ = ["AcknowledgementError", "AcknowledgementUnreadable", "process_acknowledgements"]


class AcknowledgementError(ValueError):
    """An acknowledgement that cannot be processed; the message says why."""


def _can_move(current: str, target: ClaimStatus) -> bool:
    return target in TRANSITIONS.get(ClaimStatus(current), frozenset())


def _move(claim: Claim, target: ClaimStatus, *, note: str, by: AbstractBaseUser | None,
          at: datetime) -> str:
    """Move the claim when its life allows it; say what was done either way."""
    if claim.status == target.value:
        return f"already {target.value}"
    if not _can_move(claim.status, target):
        return f"left {claim.status}: a {claim.status} claim cannot become {target.value}"
    claim_actions.transition(claim=claim, to=target, by=by, at=at, note=note[:2000])
    claim.status = target.value
    return target.value


def _claims_by_transaction(batch: SubmissionBatch) -> dict[int, list[str]]:
    """CLM01 of each claim in the 837 we sent, per ST02 (as a number)."""
    found: dict[int, list[str]] = defaultdict(list)
    try:
        for sent in iter_transactions(batch.x12):
            control = int(sent.control_number) if sent.control_number.isdigit() else -1
            found[control].extend(seg[1] for seg in sent.segments
                                  if seg[0] == "CLM" and len(seg) > 1)
    except X12Error:
        # Our own stored file: if it does not read, the claims are named by the batch items.
        pass
    return found


def _batch_for(practice: Practice, group_control: str) -> SubmissionBatch | None:
    if not group_control.isdigit():
        return None
    return (SubmissionBatch.objects.filter(practice=practice, group_control=int(group_control))
            .order_by("-created_at", "-pk").first())


def _process_999(
    practice: Practice, inbox_file: InboxFile, verdicts: list[TransactionVerdict], *,
    by: AbstractBaseUser | None, at: datetime,
) -> list[Acknowledgement]:
    rows: list[Acknowledgement] = []
    batches: dict[str, SubmissionBatch | None] = {}
    for verdict in verdicts:
        if verdict.group_control not in batches:
            batches[verdict.group_control] = _batch_for(practice, verdict.group_control)
        batch = batches[verdict.group_control]
        result = (AckResult.ACCEPTED if verdict.status == "A" else
                  AckResult.ACCEPTED_WITH_ERRORS if verdict.accepted else AckResult.REJECTED)
        base = {"practice": practice, "inbox_file": inbox_file, "kind": AckKind.IMPLEMENTATION,
                "batch": batch, "transaction_control": verdict.transaction_control[:9],
                "result": result, "code": verdict.status[:30], "message": verdict.words,
                "received_at": at}
        if batch is None:
            rows.append(Acknowledgement(
                position=len(rows), action_taken=f"no batch of ours has group control "
                f"number {verdict.group_control!r}; nothing changed", **base))
            continue
        st02 = int(verdict.transaction_control) if verdict.transaction_control.isdigit() else -2
        numbers = _claims_by_transaction(batch).get(st02, [])
        claims = {c.number: c for c in Claim.objects.filter(practice=practice,
                                                            number__in=numbers)}
        if not numbers:
            rows.append(Acknowledgement(
                position=len(rows), action_taken=f"batch {batch.file_name} has no transaction "
                f"set {verdict.transaction_control}; nothing changed", **base))
        for number in numbers:
            claim = claims.get(number)
            if claim is None:
                action = f"claim {number} is not in this practice"
            elif verdict.accepted:
                action = "none: a 999 acceptance checks the file's syntax, not the claim"
            else:
                action = _move(claim, ClaimStatus.REJECTED, by=by, at=at,
                               note=f"{batch.file_name}: {verdict.words}")
            rows.append(Acknowledgement(position=len(rows), claim=claim, claim_number=number,
                                        action_taken=action[:200], **base))
    return rows


_RESULT_TARGET = {"accepted": ClaimStatus.ACCEPTED, "rejected": ClaimStatus.REJECTED}


def _process_277ca(
    practice: Practice, inbox_file: InboxFile, verdicts: list[ClaimVerdict], *,
    by: AbstractBaseUser | None, at: datetime,
) -> list[Acknowledgement]:
    numbers = sorted({v.claim_number for v in verdicts if v.claim_number})
    claims = {c.number: c for c in Claim.objects.filter(practice=practice, number__in=numbers)}
    rows: list[Acknowledgement] = []
    for verdict in verdicts:
        claim = claims.get(verdict.claim_number)
        target = _RESULT_TARGET.get(verdict.result)
        if claim is None:
            action = f"no claim {verdict.claim_number!r} in this practice; nothing changed"
        elif target is None:
            action = f"recorded only: {verdict.result}"
        else:
            action = _move(claim, target, by=by, at=at, note=f"277CA: {verdict.words}")
            if target is ClaimStatus.ACCEPTED and verdict.payer_claim_number and (
                    claim.payer_claim_number != verdict.payer_claim_number):
                claim.payer_claim_number = verdict.payer_claim_number[:50]
                Claim.objects.filter(pk=claim.pk).update(
                    payer_claim_number=claim.payer_claim_number)
                action += f"; payer claim number {claim.payer_claim_number} kept"
        rows.append(Acknowledgement(
            practice=practice, inbox_file=inbox_file, position=len(rows),
            kind=AckKind.CLAIM, claim=claim, claim_number=verdict.claim_number[:50],
            result=AckResult(verdict.result), code=verdict.code[:30], message=verdict.words,
            payer_claim_number=verdict.payer_claim_number[:50], action_taken=action[:200],
            received_at=at))
    return rows


@transaction.atomic
def process_acknowledgements(
    *, practice: Practice, inbox_file: InboxFile, by: AbstractBaseUser | None, at: datetime
) -> list[Acknowledgement]:
    """Read a downloaded 999 or 277CA, move its claims, and mark the file read.

    Reading a file already read returns the rows it made and changes nothing. A file that
    cannot be read raises :class:`AcknowledgementUnreadable` with nothing changed.
    """
    authorize(by, practice, "post_payments")
    if at.tzinfo is None:
        raise AcknowledgementError("at must be a timezone-aware datetime")
    if inbox_file.practice_id != practice.pk:
        raise AcknowledgementError("that inbox file belongs to another practice")
    locked = InboxFile.objects.select_for_update().get(pk=inbox_file.pk)
    if locked.processed_at is not None:
        return list(Acknowledgement.objects.filter(inbox_file=locked).order_by("position"))
    if locked.kind == InboxKind.ACK_999:
        rows = _process_999(practice, locked, read_999s(locked.content), by=by, at=at)
    elif locked.kind == InboxKind.CLAIM_ACK_277CA:
        rows = _process_277ca(practice, locked, read_277cas(locked.content), by=by, at=at)
    else:
        raise AcknowledgementError(
            f"{locked.name} is a {locked.get_kind_display()}, not a 999 or 277CA")
    Acknowledgement.objects.bulk_create(rows)
    InboxFile.objects.filter(pk=locked.pk).update(processed_at=at)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.result] += 1
    record(action=f"acknowledgement.{locked.kind}", at=at, by=by, practice=practice,
           target=locked, file=locked.name, results=dict(counts))
    return rows
