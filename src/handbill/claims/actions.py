"""The claim's write path: build from a signed note, scrub, override, move through its life.

Every function is keyword-only and atomic, checks the caller's role in the practice, and
leaves both a ClaimEvent (for status moves) and an audit row in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q

from handbill.audit.record import record
from handbill.claims import snapshot
from handbill.claims.models import (
    Claim,
    ClaimEvent,
    ClaimFinding,
    ClaimLine,
    FindingOverride,
    Status,
)
from handbill.core import claimdata as cd
from handbill.core.claim_builder import BuildError, BuiltClaim, build_lines
from handbill.core.claim_status import ClaimStatus, TransitionError, check_transition
from handbill.core.money import Cents
from handbill.core.scrub import scrub as run_scrub
from handbill.patients.models import Authorization, AuthorizationKind, Coverage
from handbill.practice.access import authorize
from handbill.practice.models import Practice
from handbill.visits.models import Visit

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from handbill.core.edits import EditTables
    from handbill.core.policy import PayerPolicy


class ClaimError(ValueError):
    """A claim action that cannot go ahead; the message says why and what to do."""


class BlockedError(ClaimError):
    def __init__(self, findings: list[ClaimFinding]) -> None:
        self.findings = findings
        listed = "; ".join(f"{f.rule}: {f.message}" for f in findings)
        super().__init__(
            f"{len(findings)} blocking finding(s) stop this claim: {listed}. Fix them, or record "
            "an override with a reason."
        )


def _policy_for(payer_id: int | None, on: date) -> PayerPolicy | None:
    if payer_id is None:
        return None
    from handbill.policies.store import policy_for
    from handbill.practice.models import Payer

    return policy_for(Payer.objects.get(pk=payer_id), on)


def _edit_tables(on: date, codes: set[str], payer_type: str | None) -> EditTables:
    """The NCCI rows that can matter for these codes (Medicaid claims use the Medicaid set)."""
    from handbill.coding.store import load_tables
    from handbill.core.edits import Program

    program = Program.MEDICAID if payer_type == "medicaid" else Program.MEDICARE
    return load_tables(on, codes=codes, program=program)


def billing_coverage(visit: Visit) -> Coverage | None:
    """The coverage a visit bills first: the one chosen on the visit, else the primary in force."""
    if visit.coverage_id is not None:
        return visit.coverage
    on = visit.date_of_service
    return (
        Coverage.objects.filter(patient_id=visit.patient_id, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("order", "-start_date")
        .select_related("payer")
        .first()
    )


def _active_authorization(
    coverage: Coverage | None, on: date, kinds: set[str], codes: set[str]
) -> Authorization | None:
    if coverage is None:
        return None
    candidates = (
        coverage.authorizations.filter(kind__in=kinds, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("-start_date", "-pk")
    )
    for auth in candidates:
        if not auth.codes or codes & set(auth.codes):
            return auth
    return None


def _next_number(practice: Practice) -> str:
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    locked.claim_sequence += 1
    Practice.objects.filter(pk=locked.pk).update(claim_sequence=locked.claim_sequence)
    return f"HB{locked.claim_sequence:07d}"


def _event(
    claim: Claim,
    *,
    to: str,
    by: AbstractBaseUser | None,
    at: datetime,
    note: str = "",
    from_status: str = "",
) -> None:
    ClaimEvent.objects.create(
        claim=claim,
        from_status=from_status,
        to_status=to,
        note=note,
        by=by if by is not None and by.is_authenticated else None,
        at=at,
    )


def code_visit(
    visit: Visit, coverage: Coverage | None, edits: EditTables | None
) -> tuple[BuiltClaim, PayerPolicy | None, EditTables]:
    """The note's services coded for this coverage's payer as its policy reads today."""
    on = visit.date_of_service
    payer = coverage.payer if coverage is not None else None
    policy = _policy_for(payer.pk if payer else None, on)
    tables = (
        edits
        if edits is not None
        else _edit_tables(
            on,
            {entry.code for entry in visit.services.all()},
            payer.payer_type if payer else None,
        )
    )
    fees = {fee.code: Cents(fee.charge_cents) for fee in visit.practice.fees.all()}
    try:
        built = build_lines(
            note=snapshot.note_of(visit),
            policy=policy,
            taxonomy=visit.provider.taxonomy,
            fee_schedule=fees,
            edits=tables,
            payer_type=payer.payer_type if payer else "self_pay",
        )
    except BuildError as exc:
        raise ClaimError(str(exc)) from None
    if not built.lines:
        raise ClaimError(
            "nothing on this note is billable to this payer: "
            + "; ".join(flag.message for flag in built.flags)
            if built.flags
            else "the note has no services"
        )
    return built, policy, tables


@transaction.atomic
def build_claim(
    *,
    visit: Visit,
    by: AbstractBaseUser | None,
    at: datetime,
    coverage: Coverage | None = None,
    edits: EditTables | None = None,
) -> Claim:
    """Code a signed note into a draft claim, then scrub it."""
    practice = visit.practice
    authorize(by, practice, "bill")
    if not visit.signed:
        raise ClaimError("the note is not signed; the therapist signs it before it is billed")
    coverage = coverage if coverage is not None else billing_coverage(visit)
    if coverage is not None and coverage.patient_id != visit.patient_id:
        raise ClaimError("that coverage belongs to another patient")
    existing = (
        Claim.objects.filter(visit=visit, coverage=coverage)
        .exclude(status__in=[Status.VOID, Status.REJECTED])
        .first()
    )
    if existing is not None:
        raise ClaimError(
            f"claim {existing.number} already exists for this visit and coverage "
            f"({existing.get_status_display().lower()}); rebuild or void it instead"
        )
    on = visit.date_of_service
    payer = coverage.payer if coverage is not None else None
    built, policy, tables = code_visit(visit, coverage, edits)
    codes = {line.code for line in built.lines}
    claim = Claim.objects.create(
        practice=practice,
        number=_next_number(practice),
        visit=visit,
        patient=visit.patient,
        provider=visit.provider,
        coverage=coverage,
        payer=payer,
        authorization=_active_authorization(coverage, on, {AuthorizationKind.AUTHORIZATION}, codes),
        referral=_active_authorization(
            coverage, on, {AuthorizationKind.PRESCRIPTION, AuthorizationKind.REFERRAL}, codes
        ),
        date_of_service=on,
        place_of_service=visit.place_of_service,
        diagnoses=list(built.diagnoses),
        total_charge_cents=sum(line.charge.value for line in built.lines),
        rationale=built.rationale,
        build_findings=[_finding_to_json(flag) for flag in built.flags],
        policy_profile=policy.profile if policy else "",
        created_at=at,
        created_by=by if by is not None and by.is_authenticated else None,
    )
    ClaimLine.objects.bulk_create(
        ClaimLine(
            claim=claim,
            number=line.number,
            code=line.code,
            modifiers=list(line.modifiers),
            units=line.units,
            minutes=line.minutes,
            pointers=list(line.pointers),
            charge_cents=line.charge.value,
            rationale=line.rationale,
            body_region=line.body_region,
            control_number=f"{claim.number}-{line.number}",
        )
        for line in built.lines
    )
    _event(claim, to=Status.DRAFT, by=by, at=at, note=built.rationale)
    record(
        action="claim.build",
        at=at,
        by=by,
        practice=practice,
        target=claim,
        number=claim.number,
        lines=len(built.lines),
    )
    _store_findings(claim, _scrub(claim, at=at, edits=tables), at)
    return claim


def claim_snapshot(claim: Claim) -> cd.Claim:
    visit = claim.visit
    return cd.Claim(
        claim_id=claim.number,
        date_of_service=claim.date_of_service,
        place_of_service=claim.place_of_service,
        diagnoses=tuple(claim.diagnoses),
        lines=tuple(
            cd.ClaimLine(
                number=line.number,
                code=line.code,
                units=line.units,
                modifiers=tuple(line.modifiers),
                pointers=tuple(line.pointers),
                charge=Cents(line.charge_cents),
                minutes=line.minutes,
                rationale=line.rationale,
                body_region=line.body_region,
                control_number=line.control_number,
            )
            for line in claim.lines.all()
        ),
        note=snapshot.note_of(visit),
        coverage=snapshot.coverage_of(claim.coverage),
        policy=_policy_for(claim.payer_id, claim.date_of_service),
        provider=snapshot.provider_of(claim.provider, claim.payer_id, claim.date_of_service),
        practice_state=claim.practice.state,
        authorizations=snapshot.authorizations_of(
            claim.coverage, claim.date_of_service, excluding_claim_id=claim.pk
        ),
        history=snapshot.history_of(visit, claim.coverage, excluding_claim_id=claim.pk),
        frequency=claim.frequency,
        secondary_to=claim.primary_claim.number if claim.primary_claim_id else "",
        # Eligibility (issue 8): the latest answered 271 of this coverage, for the scrubber.
        eligibility=_eligibility_of(claim.coverage),
    )


def _eligibility_of(coverage: Coverage | None) -> cd.EligibilitySummary | None:
    # Imported here: the eligibility app builds on submissions, which imports this module.
    from handbill.eligibility.display import latest_summary

    return latest_summary(coverage)


def _finding_to_json(finding: cd.Finding) -> dict[str, object]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "message": finding.message,
        "fix": finding.fix,
        "line": finding.line,
        "code": finding.code,
    }


def _finding_from_json(data: dict[str, object]) -> cd.Finding:
    line = data.get("line")
    code = data.get("code")
    return cd.Finding(
        rule=str(data["rule"]),
        severity=cd.Severity(str(data["severity"])),
        message=str(data["message"]),
        fix=str(data["fix"]),
        line=int(line) if isinstance(line, int) else None,
        code=str(code) if code else None,
    )


def _scrub(claim: Claim, *, at: datetime, edits: EditTables | None) -> list[cd.Finding]:
    tables = (
        edits
        if edits is not None
        else _edit_tables(
            claim.date_of_service,
            {line.code for line in claim.lines.all()},
            claim.payer.payer_type if claim.payer else None,
        )
    )
    # Deadlines (timely filing) count in the practice's own calendar day.
    as_of = claim.practice.local_date(at)
    found = list(run_scrub(claim_snapshot(claim), as_of=as_of, edits=tables))
    seen = {(f.rule, f.line) for f in found}
    # Builder notes the scrubber does not repeat (a dropped 97010, a flagged code) are kept.
    found.extend(
        flag
        for flag in map(_finding_from_json, claim.build_findings)
        if (flag.rule, flag.line) not in seen
    )
    return found


def _store_findings(claim: Claim, findings: list[cd.Finding], at: datetime) -> list[ClaimFinding]:
    claim.findings.all().delete()
    return ClaimFinding.objects.bulk_create(
        ClaimFinding(
            claim=claim,
            rule=f.rule,
            severity=f.severity.value,
            message=f.message,
            fix=f.fix,
            line=f.line,
            code=f.code or "",
            scrubbed_at=at,
        )
        for f in findings
    )


@transaction.atomic
def scrub_claim(
    *, claim: Claim, by: AbstractBaseUser | None, at: datetime, edits: EditTables | None = None
) -> list[ClaimFinding]:
    authorize(by, claim.practice, "view")
    stored = _store_findings(claim, _scrub(claim, at=at, edits=edits), at)
    record(
        action="claim.scrub",
        at=at,
        by=by,
        practice=claim.practice,
        target=claim,
        blocking=sum(1 for f in stored if f.severity == "blocking"),
        findings=len(stored),
    )
    return stored


def unresolved_blocking(claim: Claim) -> list[ClaimFinding]:
    overridden = {(o.rule, o.line) for o in claim.overrides.all()}
    return [
        f
        for f in claim.findings.filter(severity="blocking")
        if (f.rule, f.line) not in overridden and (f.rule, None) not in overridden
    ]


def unresolved_blocking_by_claim(claim_ids: list[int]) -> dict[int, list[ClaimFinding]]:
    """:func:`unresolved_blocking` for many claims in two queries (a batch holds thousands)."""
    overridden = set(
        FindingOverride.objects.filter(claim_id__in=claim_ids).values_list(
            "claim_id", "rule", "line")
    )
    found: dict[int, list[ClaimFinding]] = {}
    for finding in ClaimFinding.objects.filter(claim_id__in=claim_ids, severity="blocking"):
        key = (finding.claim_id, finding.rule)
        if (*key, finding.line) in overridden or (*key, None) in overridden:
            continue
        found.setdefault(finding.claim_id, []).append(finding)
    return found


@transaction.atomic
def override_finding(
    *,
    claim: Claim,
    rule: str,
    line: int | None,
    reason: str,
    by: AbstractBaseUser | None,
    at: datetime,
) -> FindingOverride:
    authorize(by, claim.practice, "bill")
    if not reason.strip():
        raise ClaimError("an override needs a reason a payer auditor would accept")
    if not claim.findings.filter(rule=rule, line=line, severity="blocking").exists():
        raise ClaimError(
            f"claim {claim.number} has no blocking finding {rule!r}"
            + (f" on line {line}" if line else "")
        )
    override = FindingOverride.objects.create(
        claim=claim,
        rule=rule,
        line=line,
        reason=reason.strip(),
        by=by if by is not None and by.is_authenticated else None,
        at=at,
    )
    record(
        action="claim.override",
        at=at,
        by=by,
        practice=claim.practice,
        target=claim,
        rule=rule,
        line=line,
        reason=reason.strip(),
    )
    return override


@dataclass(frozen=True)
class Move:
    claim: Claim
    from_status: str
    to_status: str


def _move(
    claim: Claim, to: ClaimStatus, *, by: AbstractBaseUser | None, at: datetime, note: str
) -> Move:
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    try:
        check_transition(locked.status, to)
    except TransitionError as exc:
        raise ClaimError(str(exc)) from None
    before = locked.status
    Claim.objects.filter(pk=locked.pk).update(status=to.value)
    locked.status = to.value
    _event(locked, from_status=before, to=to.value, by=by, at=at, note=note)
    record(
        action=f"claim.{to.value}",
        at=at,
        by=by,
        practice=locked.practice,
        target=locked,
        from_status=before,
        note=note,
    )
    return Move(locked, before, to.value)


@transaction.atomic
def mark_ready(
    *, claim: Claim, by: AbstractBaseUser | None, at: datetime, edits: EditTables | None = None
) -> Claim:
    """Scrub again; with no unresolved blocking finding the claim is ready and its charge posts."""
    authorize(by, claim.practice, "bill")
    _store_findings(claim, _scrub(claim, at=at, edits=edits), at)
    blocking = unresolved_blocking(claim)
    if blocking:
        raise BlockedError(blocking)
    move = _move(claim, ClaimStatus.READY, by=by, at=at, note="scrubbed clean or overridden")
    post_ready_effects(move.claim, by=by, at=at)
    return move.claim


@transaction.atomic
def transition(
    *,
    claim: Claim,
    to: ClaimStatus | str,
    by: AbstractBaseUser | None,
    at: datetime,
    note: str = "",
) -> Claim:
    """Any other legal move (submitted, accepted, denied, appealed, closed …), with its reason."""
    authorize(by, claim.practice, "bill")
    target = ClaimStatus(to)
    if target is ClaimStatus.READY:
        raise ClaimError("use mark_ready: a claim becomes ready only through the scrubber")
    move = _move(claim, target, by=by, at=at, note=note)
    if move.from_status == ClaimStatus.READY and target in (ClaimStatus.DRAFT, ClaimStatus.VOID):
        undo_ready_effects(move.claim, by=by, at=at,
                           reason=note or f"claim back to {target.value}")
    if target is ClaimStatus.VOID and move.claim.replaces_id is not None:
        _restore_original(move.claim, by=by, at=at)
    return move.claim


def _post_charge(claim: Claim, *, by: AbstractBaseUser | None, at: datetime) -> None:
    from handbill.ledger import posting

    posting.post_charge(
        practice=claim.practice,
        payer=claim.payer,
        amount=claim.total_charge,
        claim_ref=claim.number,
        patient_ref=claim.patient.account_number,
        effective_date=claim.date_of_service,
        at=at,
        by=by,
        memo=f"Charge for claim {claim.number}",
        source=("claim", claim.pk),
    )


def _open_postings(claim: Claim, kinds: list[str]) -> list[Any]:
    from handbill.ledger.models import LedgerTransaction

    return list(
        LedgerTransaction.objects.filter(
            practice_id=claim.practice_id,
            kind__in=kinds,
            source_type="claim",
            source_id=str(claim.pk),
            reversed_by__isnull=True,
        ).order_by("pk")
    )


def post_ready_effects(claim: Claim, *, by: AbstractBaseUser | None, at: datetime) -> None:
    """What a claim puts on the books when it becomes ready to send.

    - an original: its charge, owed by its payer;
    - a replacement (7): its own charge, and the original's charge is reversed, so the visit is
      charged once (the payer's reversal of the original's payment arrives on its 835);
    - a void (8): no charge of its own; the original's charge is reversed;
    - a secondary claim: no new charge (the visit was charged on the primary claim); what the
      primary left the patient moves from the patient's A/R to the secondary payer's.
    """
    if claim.frequency in ("7", "8") and claim.replaces_id is not None:
        original = Claim.objects.get(pk=claim.replaces_id)
        _reverse_open(original, by=by, at=at,
                      reason=f"{claim.get_frequency_display().lower()} {claim.number} "
                      f"corrects claim {original.number}")
        if claim.frequency == "8":
            return
    if claim.primary_claim_id is not None:
        _transfer_to_secondary(claim, by=by, at=at)
        return
    _post_charge(claim, by=by, at=at)


def undo_ready_effects(
    claim: Claim, *, by: AbstractBaseUser | None, at: datetime, reason: str
) -> None:
    """Take back what :func:`post_ready_effects` posted (the claim went back to draft or void):
    reversing entries, never edits; a correction's original gets its charge again."""
    _reverse_open(claim, by=by, at=at, reason=reason)
    if claim.frequency in ("7", "8") and claim.replaces_id is not None:
        from handbill.ledger.models import TransactionKind

        original = Claim.objects.select_related("practice", "payer", "patient").get(
            pk=claim.replaces_id)
        if not _open_postings(original, [TransactionKind.CHARGE]):
            _post_charge(original, by=by, at=at)


def _reverse_open(
    claim: Claim, *, by: AbstractBaseUser | None, at: datetime, reason: str
) -> None:
    """Reverse the charge (or the transfer to a secondary payer) a claim posted when ready."""
    from handbill.ledger import posting
    from handbill.ledger.models import TransactionKind

    for txn in _open_postings(
        claim, [TransactionKind.CHARGE, TransactionKind.TRANSFER_TO_PAYER]
    ):
        posting.reverse(txn, by=by, at=at, reason=reason)


def _transfer_to_secondary(claim: Claim, *, by: AbstractBaseUser | None, at: datetime) -> None:
    """Move the patient's share of the primary claim to the secondary payer's A/R.

    The legs name each claim: the patient's A/R is credited on the primary claim (its balance
    there drops), the secondary payer's A/R is debited on the secondary claim, where that
    payer's 835 will post. Only what the patient still owes on the primary claim moves, up to
    the primary's remaining patient liability (a copay paid at the desk stays paid).
    """
    from handbill.core.secondary import prior_payer_from_json
    from handbill.ledger import posting
    from handbill.ledger.balances import claim_balance
    from handbill.ledger.models import AccountKind, TransactionKind

    primary = Claim.objects.select_related("practice").get(pk=claim.primary_claim_id)
    liability = Cents(0)
    for data in claim.prior_payers:
        remaining = prior_payer_from_json(data).remaining_patient_liability
        if remaining is not None:
            liability = liability + remaining
    owed = claim_balance(primary.practice, primary.number, kinds=[AccountKind.AR_PATIENT])
    amount = Cents(min(owed.value, liability.value))
    if amount.value <= 0 or claim.payer is None:
        return
    patient_ref = claim.patient.account_number
    posting.post(
        practice=claim.practice,
        kind=TransactionKind.TRANSFER_TO_PAYER,
        legs=[
            posting.debit(
                posting.account_for(claim.practice, AccountKind.AR_INSURANCE, claim.payer),
                amount, claim_ref=claim.number, patient_ref=patient_ref),
            posting.credit(
                posting.account_for(claim.practice, AccountKind.AR_PATIENT),
                amount, claim_ref=primary.number, patient_ref=patient_ref),
        ],
        memo=f"Patient's share of claim {primary.number} billed to {claim.payer.name} "
        f"on secondary claim {claim.number}"[:200],
        effective_date=claim.practice.local_date(at),
        at=at,
        by=by,
        source=("claim", claim.pk),
    )


def _restore_original(correction: Claim, *, by: AbstractBaseUser | None, at: datetime) -> None:
    """A correction abandoned before it was sent: its original goes back to the status it had
    when the correction was made (the payer's answer still stands)."""
    original = Claim.objects.get(pk=correction.replaces_id)
    if original.status != ClaimStatus.CORRECTED:
        return
    if correction.submission_items.filter(batch__status="uploaded").exists():
        return  # it reached the payer; the payer's answer decides the original's status
    before = (
        original.events.filter(to_status=ClaimStatus.CORRECTED).order_by("-at", "-pk")
        .values_list("from_status", flat=True).first()
    )
    if before:
        _move(original, ClaimStatus(before), by=by, at=at,
              note=f"correction {correction.number} was voided before it was sent")
