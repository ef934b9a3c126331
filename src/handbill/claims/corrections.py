"""Getting a claim right after it left: replacements, voids, and rejected claims sent again.

Two different situations, which payers treat differently (reference §5.2, §7.2):

- **The payer adjudicated the claim** (paid, partly paid or denied). It is never edited. A
  *replacement* (CLM05-3 = 7) or a *void* (8) is a new claim that names the original through
  REF*F8 = the payer's claim number (CLP07 of its 835, or REF*1K of its 277CA), and box 22 on
  paper. The original waits as *corrected*. A replacement is coded again from the note as it
  reads today and goes through scrub → ready → submit like any claim; a void repeats the
  original's lines and only cancels it.
- **The payer rejected the claim before adjudication** (999 R, 277CA A3/A6/A7/A8). The payer
  has no claim to correct, so a replacement would be rejected too: the claim is *reopened*
  (back to draft, its charge reversed, released from its batch), fixed, scrubbed and sent
  again as a new original (frequency 1).

The ledger side (charges reversed and posted as the claims become ready) is in
``claims.actions.post_ready_effects``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from handbill.audit.record import record
from handbill.claims.actions import (
    ClaimError,
    _active_authorization,
    _event,
    _move,
    _next_number,
    _scrub,
    _store_findings,
    code_visit,
    undo_ready_effects,
)
from handbill.claims.models import Claim, ClaimLine, Frequency, Status
from handbill.core.claim_status import ClaimStatus
from handbill.patients.models import AuthorizationKind
from handbill.practice.access import authorize

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from handbill.core.edits import EditTables

# What a payer has adjudicated and can therefore replace or void.
CORRECTABLE = frozenset({Status.PAID, Status.PARTIALLY_PAID, Status.DENIED})
# Statuses of a correction that still stands (a voided correction no longer does).
_ABANDONED = frozenset({Status.VOID})

KINDS = {"replace": Frequency.REPLACEMENT, "void": Frequency.VOID}


@transaction.atomic
def correct_claim(
    *,
    claim: Claim,
    kind: str,
    by: AbstractBaseUser | None,
    at: datetime,
    reason: str,
    payer_claim_number: str = "",
    edits: EditTables | None = None,
) -> Claim:
    """Make a replacement (``kind="replace"``, frequency 7) or a void (``"void"``, 8) of an
    adjudicated claim. Returns the new claim, a scrubbed draft; the original becomes corrected.

    ``payer_claim_number`` is needed only when the original has none on file (no 835 or 277CA
    gave it); it is then kept on the original, where REF*F8 reads it.
    """
    authorize(by, claim.practice, "bill")
    frequency = KINDS.get(kind)
    if frequency is None:
        raise ClaimError(f"a correction is 'replace' (frequency 7) or 'void' (8), not {kind!r}")
    if not reason.strip():
        raise ClaimError("say why the claim is corrected (it goes in the claim's history)")
    original = Claim.objects.select_for_update(of=("self",)).select_related(
        "practice", "visit", "coverage", "payer", "patient").get(pk=claim.pk)
    standing = Claim.objects.filter(replaces=original).exclude(status__in=_ABANDONED).first()
    if standing is not None:
        raise ClaimError(
            f"claim {original.number} already has a {standing.get_frequency_display().lower()}"
            f", {standing.number} ({standing.get_status_display().lower()}); work that one, "
            "or void it first")
    if original.status not in CORRECTABLE:
        if original.status == Status.REJECTED:
            raise ClaimError(
                f"claim {original.number} was rejected before adjudication, so the payer has "
                "no claim to replace or void: reopen it, fix it and send it again as a new "
                "original (handbill claims reopen)")
        raise ClaimError(
            f"claim {original.number} is {original.get_status_display().lower()}; only a "
            "paid, partially paid or denied claim is replaced or voided")
    if original.frequency == Frequency.VOID:
        raise ClaimError(f"claim {original.number} is itself a void; it cannot be corrected")
    given = payer_claim_number.strip()
    on_file = original.payer_claim_number.strip()
    if given and on_file and given != on_file:
        raise ClaimError(
            f"claim {original.number} already carries the payer's claim number {on_file} "
            f"(from its remittance); {given} differs. Leave it out to use the one on file")
    if not (given or on_file):
        raise ClaimError(
            f"claim {original.number} has no payer claim number on file: a "
            f"{frequency.label.lower()} must name it (REF*F8, box 22). Take it from the "
            "payer's remittance (CLP07) or claim acknowledgement and give it "
            "(--payer-claim-number)")
    if given and not on_file:
        Claim.objects.filter(pk=original.pk).update(payer_claim_number=given[:50])
        original.payer_claim_number = given[:50]
        record(action="claim.payer_claim_number", at=at, by=by, practice=original.practice,
               target=original, payer_claim_number=original.payer_claim_number,
               source="entered for a correction")

    correction = _new_correction(original, frequency, at=at, by=by, edits=edits)
    label = frequency.label.lower()
    _event(correction, to=Status.DRAFT, by=by, at=at,
           note=f"{label} of claim {original.number} (payer claim "
           f"{original.payer_claim_number}): {reason.strip()}")
    _move(original, ClaimStatus.CORRECTED, by=by, at=at,
          note=f"{label} {correction.number}: {reason.strip()}")
    record(action="claim.correct", at=at, by=by, practice=original.practice, target=correction,
           original=original.number, frequency=frequency.value,
           payer_claim_number=original.payer_claim_number, reason=reason.strip())
    _store_findings(correction, _scrub(correction, at=at, edits=edits), at)
    return correction


def _new_correction(
    original: Claim, frequency: Frequency, *, at: datetime, by: AbstractBaseUser | None,
    edits: EditTables | None,
) -> Claim:
    fields = {
        "practice": original.practice, "visit": original.visit, "patient": original.patient,
        "provider": original.provider, "coverage": original.coverage, "payer": original.payer,
        "authorization": original.authorization, "referral": original.referral,
        "frequency": frequency.value, "replaces": original,
        "primary_claim": original.primary_claim, "prior_payers": original.prior_payers,
        "msp_type": original.msp_type, "date_of_service": original.date_of_service,
        "place_of_service": original.place_of_service, "policy_profile":
        original.policy_profile, "created_at": at,
        "created_by": by if by is not None and by.is_authenticated else None,
    }
    lines: list[ClaimLine]
    # A void cancels exactly what was sent; a secondary claim's lines must stay the ones the
    # primary adjudicated (its 2430 loops answer them): both keep the original's lines.
    if frequency == Frequency.VOID or original.primary_claim_id is not None:
        why = ("the same lines, to cancel it" if frequency == Frequency.VOID else
               "the same lines the primary adjudicated, with the corrected claim data")
        claim = Claim.objects.create(
            number=_next_number(original.practice), diagnoses=list(original.diagnoses),
            total_charge_cents=original.total_charge_cents,
            rationale=f"{frequency.label} of claim {original.number}: {why}.", **fields)
        lines = copied_lines(claim, original.lines.all())
        if original.prior_payers:
            # The earlier payers' line adjudications follow the lines to their new numbers.
            renumber = {f"{original.number}-{line.number}": line.control_number
                        for line in lines}
            claim.prior_payers = [
                {**prior, "lines": [{**item, "control_number": renumber.get(
                    item["control_number"], item["control_number"])}
                    for item in prior.get("lines", ())]}
                for prior in original.prior_payers
            ]
            Claim.objects.filter(pk=claim.pk).update(prior_payers=claim.prior_payers)
    else:
        # A replacement says what should have been billed: the note coded again, with the
        # payer's policy as it reads today (the usual reason for a correction).
        built, _policy, _tables = code_visit(original.visit, original.coverage, edits)
        from handbill.claims.actions import _finding_to_json

        claim = Claim.objects.create(
            number=_next_number(original.practice), diagnoses=list(built.diagnoses),
            total_charge_cents=sum(line.charge.value for line in built.lines),
            rationale=built.rationale,
            build_findings=[_finding_to_json(flag) for flag in built.flags], **fields)
        lines = [
            ClaimLine(claim=claim, number=line.number, code=line.code,
                      modifiers=list(line.modifiers), units=line.units, minutes=line.minutes,
                      pointers=list(line.pointers), charge_cents=line.charge.value,
                      rationale=line.rationale, body_region=line.body_region,
                      control_number=f"{claim.number}-{line.number}")
            for line in built.lines
        ]
    ClaimLine.objects.bulk_create(lines)
    return claim


def copied_lines(claim: Claim, lines: Iterable[ClaimLine]) -> list[ClaimLine]:
    """``lines`` as they were billed, for ``claim`` (a void, a secondary), with its own line
    control numbers (REF*6R) so its payer's 835 matches its lines."""
    return [
        ClaimLine(claim=claim, number=line.number, code=line.code,
                  modifiers=list(line.modifiers), units=line.units, minutes=line.minutes,
                  pointers=list(line.pointers), charge_cents=line.charge_cents,
                  rationale=line.rationale, body_region=line.body_region,
                  control_number=f"{claim.number}-{line.number}")
        for line in lines
    ]


@transaction.atomic
def reopen_claim(
    *,
    claim: Claim,
    by: AbstractBaseUser | None,
    at: datetime,
    reason: str,
    edits: EditTables | None = None,
) -> Claim:
    """A rejected claim back to draft, to be fixed and sent again as a new original.

    Its charge is reversed (it posts again when the claim is ready), it is released from the
    batch that carried it so a new batch may take it, and its authorization and prescription
    are looked up again (a missing authorization is a common rejection). Then it is scrubbed.
    """
    authorize(by, claim.practice, "bill")
    if not reason.strip():
        raise ClaimError("say what the rejection was about (it goes in the claim's history)")
    locked = Claim.objects.select_for_update(of=("self",)).select_related(
        "practice", "coverage", "payer", "patient").get(pk=claim.pk)
    if locked.status != Status.REJECTED:
        hint = ""
        if locked.status in CORRECTABLE:
            hint = ("; the payer adjudicated it, so send a replacement or a void instead "
                    "(handbill claims correct)")
        raise ClaimError(
            f"claim {locked.number} is {locked.get_status_display().lower()}, not rejected; "
            f"only a rejected claim is reopened{hint}")
    move = _move(locked, ClaimStatus.DRAFT, by=by, at=at,
                 note=f"reopened after rejection: {reason.strip()}")
    undo_ready_effects(move.claim, by=by, at=at,
                       reason=f"claim {locked.number} rejected; reopened to fix")
    from handbill.submissions.models import SubmissionItem

    released = SubmissionItem.objects.filter(claim=locked, live=True).update(live=False)
    codes = set(locked.lines.values_list("code", flat=True))
    on = locked.date_of_service
    authorization = _active_authorization(
        locked.coverage, on, {AuthorizationKind.AUTHORIZATION}, codes)
    referral = _active_authorization(
        locked.coverage, on, {AuthorizationKind.PRESCRIPTION, AuthorizationKind.REFERRAL}, codes)
    if (authorization, referral) != (locked.authorization, locked.referral):
        Claim.objects.filter(pk=locked.pk).update(authorization=authorization, referral=referral)
        locked.authorization, locked.referral = authorization, referral
    record(action="claim.reopen", at=at, by=by, practice=locked.practice, target=locked,
           reason=reason.strip(), released_from_batches=released)
    locked.status = Status.DRAFT
    _store_findings(locked, _scrub(locked, at=at, edits=edits), at)
    return locked


@transaction.atomic
def withdraw_claim(
    *, claim: Claim, by: AbstractBaseUser | None, at: datetime, reason: str
) -> Claim:
    """Void a claim that has not been sent (draft or ready): a correction or secondary claim
    not needed after all. Its ledger entries are reversed; a correction's original goes back
    to what the payer said."""
    from handbill.claims.actions import transition

    if not reason.strip():
        raise ClaimError("say why the claim is withdrawn (it goes in the claim's history)")
    if claim.status not in (Status.DRAFT, Status.READY):
        raise ClaimError(
            f"claim {claim.number} is {claim.get_status_display().lower()}; only a claim "
            "not sent yet (draft or ready) is withdrawn. A sent claim is voided with a void "
            "claim (frequency 8) once the payer has adjudicated it")
    return transition(claim=claim, to=ClaimStatus.VOID, by=by, at=at,
                      note=f"withdrawn: {reason.strip()}")
