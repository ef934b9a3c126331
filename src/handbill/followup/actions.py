"""The write path of follow-up: working items, billing the patient, and policy proposals.

Each function is keyword-only and atomic, takes ``by`` (None: the operator's command line)
and leaves an audit row in the same transaction. Bad input raises :class:`FollowupError`
with the problem and the fix; nothing is written then.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction

from handbill.audit.record import record
from handbill.core import followup as fu
from handbill.core.money import Cents, total
from handbill.core.policy import PolicyError, rules_of
from handbill.followup import queries
from handbill.followup.models import ProposalStatus, RuleProposal, WorkItem
from handbill.ledger import posting
from handbill.ledger.balances import claim_balance
from handbill.ledger.models import AccountKind
from handbill.policies.actions import practice_today, save_policy_version
from handbill.policies.store import policy_for
from handbill.practice.access import authorize
from handbill.practice.models import Membership, Payer, Practice
from handbill.remittance.models import ServicePayment

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

MAX_SNOOZE_DAYS = 365


class FollowupError(ValueError):
    """A follow-up action that cannot be done; the message says why and what to do."""


def _check_at(at: datetime) -> None:
    if at.tzinfo is None:
        raise FollowupError("at must be a timezone-aware datetime")


def _item(practice: Practice, key: str, *, at: datetime) -> tuple[WorkItem, queries.QueueRow]:
    row = queries.find_row(practice, key, at=at)
    if row is None:
        raise FollowupError(
            f"no open worklist item {key!r} in this practice; list them with "
            "handbill followup worklist")
    item, _ = WorkItem.objects.select_for_update().get_or_create(
        practice=practice, key=key,
        defaults={"claim": row.claim, "kind": row.kind.value, "created_at": at,
                  "updated_at": at})
    return item, row


def _note(existing: str, by: AbstractBaseUser | None, at: datetime, note: str) -> str:
    note = note.strip()
    if not note:
        return existing
    who = by.get_username() if by is not None else "system"
    line = f"{at:%Y-%m-%d} {who}: {note}"
    return f"{existing}\n{line}" if existing else line


@transaction.atomic
def mark_worked(*, practice: Practice, key: str, by: AbstractBaseUser | None, at: datetime,
                note: str = "") -> WorkItem:
    """Take the item off its list (follow-up and timely items return after
    ``queries.FOLLOW_UP_AGAIN_DAYS`` if the money is still out)."""
    authorize(by, practice, "bill")
    _check_at(at)
    item, _row = _item(practice, key, at=at)
    item.worked_at = at
    item.worked_by = by if by is not None and by.is_authenticated else None
    item.snoozed_until = None
    item.note = _note(item.note, by, at, note)
    item.updated_at = at
    item.save()
    record(action="followup.worked", at=at, by=by, practice=practice, target=item, key=key,
           claim=item.claim.number, note=note.strip())
    return item


@transaction.atomic
def snooze(*, practice: Practice, key: str, until: date, by: AbstractBaseUser | None,
           at: datetime, note: str = "") -> WorkItem:
    """Hide the item until ``until`` (a day after today, within a year)."""
    authorize(by, practice, "bill")
    _check_at(at)
    today = practice_today(practice, at)
    if not isinstance(until, date) or until <= today:
        raise FollowupError(f"snooze until a day after today ({today.isoformat()})")
    if until > today + timedelta(days=MAX_SNOOZE_DAYS):
        raise FollowupError(f"snooze for at most {MAX_SNOOZE_DAYS} days; pick an earlier date")
    item, _row = _item(practice, key, at=at)
    item.snoozed_until = until
    item.note = _note(item.note, by, at, note)
    item.updated_at = at
    item.save()
    record(action="followup.snoozed", at=at, by=by, practice=practice, target=item, key=key,
           until=until.isoformat(), note=note.strip())
    return item


@transaction.atomic
def assign(*, practice: Practice, key: str, to: AbstractBaseUser | None,
           by: AbstractBaseUser | None, at: datetime) -> WorkItem:
    """Give the item to a biller of this practice (``to`` None: nobody)."""
    authorize(by, practice, "bill")
    _check_at(at)
    if to is not None:
        try:
            authorize(to, practice, "bill")
        except Exception:
            raise FollowupError(
                f"{to.get_username()} cannot work claims in this practice; assign it to an "
                "owner or biller of the practice") from None
    item, _row = _item(practice, key, at=at)
    item.assigned_to = to
    item.updated_at = at
    item.save()
    record(action="followup.assigned", at=at, by=by, practice=practice, target=item, key=key,
           to=to.get_username() if to is not None else None)
    return item


def assignable_users(practice: Practice) -> list[Any]:
    """Who an item can be given to: the practice's owners and billers."""
    members = Membership.objects.filter(practice=practice, role__in=["owner", "biller"])
    return [m.user for m in members.select_related("user").order_by("user__username")]


# --- bill the patient --------------------------------------------------------------------------


@transaction.atomic
def bill_patient(*, practice: Practice, key: str, by: AbstractBaseUser | None, at: datetime,
                 patient_agreed: bool = False, note: str = "") -> Any:
    """Move what a denied line still holds on the payer's A/R to the patient's account.

    The amount is the line's denied or held adjustments, never more than the claim still owes
    on that payer's A/R. Under group CO the contract forbids billing the patient unless they
    agreed in writing before the service (a waiver): ``patient_agreed`` records that.
    Returns the ledger transaction; the item is marked worked.
    """
    authorize(by, practice, "post_payments")
    _check_at(at)
    if not key.startswith("denial:") or key.startswith("denial:cp"):
        raise FollowupError("bill the patient from a denied line (a denial:<line> item)")
    item, row = _item(practice, key, at=at)
    line = (ServicePayment.objects.select_related("claim_line", "claim_payment")
            .prefetch_related("adjustments").get(pk=row.service_payment_id))
    claim = row.claim
    payer = claim.payer
    if payer is None:
        raise FollowupError(f"claim {claim.number} has no payer; nothing is on a payer's A/R")
    held = [a for a in line.adjustments.all()
            if a.effect in ("denied", "review") and a.amount_cents > 0]
    if not held:
        raise FollowupError(
            f"nothing on line {row.line} is still with {payer.name}: the patient's share was "
            "moved when the remittance was posted; send the patient a statement")
    if any(a.group in ("CO", "PI") for a in held) and not patient_agreed:
        groups = ", ".join(sorted({f"{a.group}-{a.reason}" for a in held}))
        raise FollowupError(
            f"{groups}: the contract forbids billing the patient for this unless they agreed "
            "in writing before the service; confirm the signed waiver (patient_agreed) or "
            "write it off instead")
    wanted = total(Cents(a.amount_cents) for a in held)
    owed = claim_balance(practice, claim.number, kinds=[AccountKind.AR_INSURANCE])
    amount = min(wanted, owed)
    if amount.value <= 0:
        raise FollowupError(f"claim {claim.number} owes nothing more on {payer.name}'s A/R")
    control = line.claim_line.control_number if line.claim_line else ""
    reasons = ", ".join(f"{a.group}-{a.reason}" for a in held)
    txn = posting.post_transfer_to_patient(
        practice=practice, payer=payer, amount=amount, claim_ref=claim.number,
        line_ref=control, patient_ref=claim.patient.account_number,
        effective_date=practice_today(practice, at), at=at, by=by,
        memo=f"Billed to patient after denial {reasons} on {claim.number}"[:200],
        source=("followup", item.pk), idempotency_key=f"followup:bill-patient:{line.pk}")
    item.worked_at = at
    item.worked_by = by if by is not None and by.is_authenticated else None
    item.note = _note(item.note, by, at, note or f"billed {amount.display()} to the patient")
    item.updated_at = at
    item.save()
    record(action="followup.bill_patient", at=at, by=by, practice=practice, target=item,
           key=key, claim=claim.number, line=control, amount_cents=amount.value,
           reasons=reasons, patient_agreed=patient_agreed, transaction=txn.pk)
    return txn


# --- rule proposals ----------------------------------------------------------------------------


def _change_key(change: dict[str, Any]) -> str:
    return json.dumps(change, sort_keys=True, separators=(",", ":"))[:200]


@transaction.atomic
def refresh_proposals(*, practice: Practice, by: AbstractBaseUser | None, at: datetime,
                      threshold: int = fu.DEFAULT_THRESHOLD) -> list[RuleProposal]:
    """Look at the practice's denials and store the policy changes they call for.

    A change already proposed gets its count brought up to date; one already accepted or
    dismissed is not proposed again. Returns the proposals still open.
    """
    authorize(by, practice, "bill")
    _check_at(at)
    if threshold < 1:
        raise FollowupError(f"the threshold is at least 1, not {threshold}")
    today = practice_today(practice, at)
    payers = {str(p.pk): p for p in Payer.objects.filter(practice=practice)}
    policies = {}
    for key, payer in payers.items():
        policy = policy_for(payer, today)
        if policy is not None:
            policies[key] = policy
    found = fu.propose_rules(queries.denial_events(practice), policies, threshold=threshold)
    created = []
    for proposal in found:
        change = dict(proposal.change)
        payer = payers[proposal.payer]
        row, made = RuleProposal.objects.get_or_create(
            practice=practice, payer=payer, code=proposal.code, carc=proposal.carc,
            change_key=_change_key(change),
            defaults={"count": proposal.count, "change": change, "reason": proposal.reason,
                      "claims": list(proposal.claims), "created_at": at})
        if made:
            created.append(row)
        elif row.status == ProposalStatus.PROPOSED and row.count != proposal.count:
            row.count = proposal.count
            row.claims = list(proposal.claims)
            row.save(update_fields=["count", "claims"])
    if created:
        record(action="followup.proposals", at=at, by=by, practice=practice,
               created=[p.pk for p in created], threshold=threshold)
    return list(RuleProposal.objects.filter(practice=practice, status=ProposalStatus.PROPOSED)
                .select_related("payer"))


def _open_proposal(practice: Practice, proposal_id: int) -> RuleProposal:
    proposal = (RuleProposal.objects.select_for_update()
                .filter(practice=practice, pk=proposal_id).first())
    if proposal is None:
        raise FollowupError(f"no proposal {proposal_id} in this practice")
    if proposal.status != ProposalStatus.PROPOSED:
        raise FollowupError(f"proposal {proposal_id} is already {proposal.status}")
    return proposal


@transaction.atomic
def accept_proposal(*, practice: Practice, proposal_id: int, by: AbstractBaseUser | None,
                    at: datetime, effective_date: date | None = None) -> RuleProposal:
    """Apply the change as a new version of the payer's policy from ``effective_date``
    (default: today in the practice), through ``policies.actions.save_policy_version``."""
    authorize(by, practice, "edit_policy")
    _check_at(at)
    proposal = _open_proposal(practice, proposal_id)
    start = effective_date or practice_today(practice, at)
    current = policy_for(proposal.payer, start)
    if current is None:
        raise FollowupError(
            f"{proposal.payer.name} has no policy in force on {start.isoformat()}; load or "
            "write its policy first")
    try:
        rules = fu.apply_change(rules_of(current), proposal.change)
        version = save_policy_version(payer=proposal.payer, rules=rules, effective_date=start,
                                      by=by, at=at)
    except (fu.ChangeError, PolicyError) as exc:
        raise FollowupError(str(exc)) from None
    proposal.status = ProposalStatus.ACCEPTED
    proposal.decided_at = at
    proposal.decided_by = by if by is not None and by.is_authenticated else None
    proposal.policy_version = version
    proposal.save()
    record(action="followup.proposal.accepted", at=at, by=by, practice=practice,
           target=proposal, change=proposal.change, policy_version=version.pk,
           effective_date=start.isoformat())
    return proposal


@transaction.atomic
def dismiss_proposal(*, practice: Practice, proposal_id: int, by: AbstractBaseUser | None,
                     at: datetime, note: str = "") -> RuleProposal:
    """Decline the change; it is not proposed again."""
    authorize(by, practice, "edit_policy")
    _check_at(at)
    proposal = _open_proposal(practice, proposal_id)
    proposal.status = ProposalStatus.DISMISSED
    proposal.decided_at = at
    proposal.decided_by = by if by is not None and by.is_authenticated else None
    proposal.save()
    record(action="followup.proposal.dismissed", at=at, by=by, practice=practice,
           target=proposal, note=note.strip())
    return proposal
