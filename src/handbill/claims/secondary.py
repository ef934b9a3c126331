"""Billing the patient's second plan after the first one answered.

``build_secondary`` reads the primary payer's posted 835 answer for a claim, checks that it
left the patient something to pay and that the patient has a secondary coverage in force on
the date of service, and makes the secondary claim: the same lines, billed to the secondary
payer, with the primary's adjudication attached (``handbill.core.secondary``). The new claim is
a scrubbed draft; when it becomes ready the patient's share moves from the patient's A/R to the
secondary payer's (``claims.actions.post_ready_effects``), and it is submitted like any claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q

from handbill.audit.record import record
from handbill.claims.actions import (
    ClaimError,
    _active_authorization,
    _event,
    _next_number,
    _scrub,
    _store_findings,
)
from handbill.claims.corrections import copied_lines
from handbill.claims.models import Claim, ClaimLine, Status
from handbill.claims.outbound import read_claim
from handbill.core import outbound as ob
from handbill.core.money import Cents
from handbill.core.secondary import (
    ADJUDICATED,
    PrimaryRemittance,
    RemittedLine,
    SecondaryError,
    medicare_secondary_problem,
    prior_payer,
    prior_payer_to_json,
)
from handbill.patients.models import AuthorizationKind, Coverage
from handbill.practice.access import authorize

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from handbill.core.edits import EditTables
    from handbill.remittance.models import ClaimPayment

# The primary's answers a secondary can follow.
BILLABLE_AFTER = frozenset({Status.PAID, Status.PARTIALLY_PAID, Status.DENIED})


def secondary_coverage(claim: Claim) -> Coverage | None:
    """The patient's next plan in force on the date of service, after the claim's own."""
    on = claim.date_of_service
    after = claim.coverage.order if claim.coverage is not None else 1
    return (
        Coverage.objects.filter(patient_id=claim.patient_id, order__gt=after,
                                start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .exclude(pk=claim.coverage_id)
        .select_related("payer")
        .order_by("order", "-start_date")
        .first()
    )


def latest_answer(claim: Claim) -> ClaimPayment | None:
    """The primary's last posted adjudication of the claim (not a reversal)."""
    from handbill.remittance.models import ClaimPayment, EraStatus

    return (
        ClaimPayment.objects.filter(claim=claim, era__status=EraStatus.POSTED,
                                    status_code__in=sorted(ADJUDICATED))
        .select_related("era")
        .order_by("-era__posted_at", "-pk")
        .first()
    )


def _quantity(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


def remittance_values(answer: ClaimPayment, claim: Claim) -> PrimaryRemittance:
    """The stored 835 answer as the core's plain values."""
    claim_level: list[ob.Adjustment] = []
    by_line: dict[int, list[ob.Adjustment]] = {}
    for adjustment in answer.adjustments.order_by("pk"):
        value = ob.Adjustment(adjustment.group, adjustment.reason,
                              Cents(adjustment.amount_cents), _quantity(adjustment.quantity))
        if adjustment.service_payment_id is None:
            claim_level.append(value)
        else:
            by_line.setdefault(adjustment.service_payment_id, []).append(value)
    lines: list[RemittedLine] = []
    unmatched = 0
    for service in answer.lines.select_related("claim_line").order_by("position"):
        if service.claim_line is None:
            unmatched += 1
            continue
        lines.append(RemittedLine(
            line_number=service.claim_line.number, code=service.code,
            modifiers=tuple(str(m) for m in service.modifiers),
            units=int(service.units), charge=Cents(service.charge_cents),
            paid=Cents(service.paid_cents),
            adjustments=tuple(by_line.get(service.pk, ())),
        ))
    era = answer.era
    adjudicated_on = era.payment_date or claim.practice.local_date(
        era.posted_at or era.imported_at)
    return PrimaryRemittance(
        status=answer.status_code, charge=Cents(answer.charge_cents),
        paid=Cents(answer.paid_cents),
        patient_responsibility=Cents(answer.patient_responsibility_cents),
        payer_claim_number=answer.payer_claim_number, adjudicated_on=adjudicated_on,
        claim_adjustments=tuple(claim_level), lines=tuple(lines), unmatched_lines=unmatched,
    )


@transaction.atomic
def build_secondary(
    *,
    claim: Claim,
    by: AbstractBaseUser | None,
    at: datetime,
    msp_type: str = "",
    edits: EditTables | None = None,
) -> Claim:
    """The secondary claim for ``claim`` (the primary's), a scrubbed draft; ClaimError says why
    not (no patient share left, no secondary coverage, no posted answer, Medicare without an
    MSP type …)."""
    authorize(by, claim.practice, "bill")
    primary = Claim.objects.select_for_update(of=("self",)).select_related(
        "practice", "coverage", "payer", "patient").get(pk=claim.pk)
    msp_type = msp_type.strip()
    if primary.primary_claim_id is not None:
        raise ClaimError(
            f"claim {primary.number} is itself a secondary claim; Handbill bills one "
            "secondary plan per visit (a tertiary goes on paper)")
    if primary.status not in BILLABLE_AFTER:
        raise ClaimError(
            f"claim {primary.number} is {primary.get_status_display().lower()}; a secondary "
            "claim follows the primary's payment or denial (its 835 posted)")
    standing = primary.secondary_claims.exclude(status=Status.VOID).first()
    if standing is not None:
        raise ClaimError(
            f"claim {primary.number} already has secondary claim {standing.number} "
            f"({standing.get_status_display().lower()})")
    coverage = secondary_coverage(primary)
    if coverage is None:
        raise ClaimError(
            f"the patient has no secondary coverage in force on "
            f"{primary.date_of_service.isoformat()}; add it on the patient's page first")
    if coverage.payer_id == primary.payer_id:
        raise ClaimError(
            f"the secondary coverage is with the same payer ({coverage.payer.name}) as the "
            "primary claim; the payer coordinates its own plans, nothing to send")
    problem = medicare_secondary_problem(coverage.payer.claim_filing_indicator, msp_type)
    if problem:
        raise ClaimError(problem)
    answer = latest_answer(primary)
    if answer is None:
        raise ClaimError(
            f"no posted 835 answer for claim {primary.number}; post the primary's remittance "
            "before billing the secondary")
    remit = remittance_values(answer, primary)
    _billing, out = read_claim(primary)
    number = _next_number(primary.practice)
    originals = list(primary.lines.all())
    controls = {line.number: f"{number}-{line.number}" for line in originals}
    try:
        adjudication = prior_payer(
            remit, payer=out.payer, subscriber=out.subscriber,
            relationship=primary.coverage.relationship if primary.coverage else "18",
            controls=controls, total_charge=primary.total_charge)
    except SecondaryError as exc:
        raise ClaimError(f"claim {primary.number}: {exc}") from None
    codes = {line.code for line in originals}
    on = primary.date_of_service
    secondary = Claim.objects.create(
        practice=primary.practice, number=number, visit=primary.visit, patient=primary.patient,
        provider=primary.provider, coverage=coverage, payer=coverage.payer,
        authorization=_active_authorization(
            coverage, on, {AuthorizationKind.AUTHORIZATION}, codes),
        referral=_active_authorization(
            coverage, on, {AuthorizationKind.PRESCRIPTION, AuthorizationKind.REFERRAL}, codes),
        frequency="1", primary_claim=primary,
        prior_payers=[prior_payer_to_json(adjudication)], msp_type=msp_type,
        date_of_service=on, place_of_service=primary.place_of_service,
        diagnoses=list(primary.diagnoses), total_charge_cents=primary.total_charge_cents,
        rationale=(f"Secondary to claim {primary.number}: the same lines, with "
                   f"{primary.payer.name if primary.payer else 'the primary'}'s adjudication "
                   f"(paid {adjudication.paid}, left the patient "
                   f"{adjudication.remaining_patient_liability})."),
        policy_profile=coverage.payer.policy_profile,
        created_at=at, created_by=by if by is not None and by.is_authenticated else None,
    )
    ClaimLine.objects.bulk_create(copied_lines(secondary, originals))
    _event(secondary, to=Status.DRAFT, by=by, at=at,
           note=f"secondary to claim {primary.number}, billed to {coverage.payer.name}")
    record(action="claim.secondary", at=at, by=by, practice=primary.practice,
           target=secondary, primary=primary.number, payer=coverage.payer.name,
           primary_paid=adjudication.paid.value,
           patient_share=(adjudication.remaining_patient_liability or Cents(0)).value,
           msp_type=msp_type)
    _store_findings(secondary, _scrub(secondary, at=at, edits=edits), at)
    return secondary
