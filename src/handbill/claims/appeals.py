"""Appeals: the letter for a denied or underpaid claim, and the claim's move to *appealed*.

``appeal_letter`` gathers what the letter cites from our records — the claim and its lines,
the payer's posted answer (each line's payment, CARCs and RARCs), the signed note's evidence
and the authorization on file — and hands them to ``handbill.documents.appeal`` as plain
values. Making the letter writes nothing; ``mark_appealed`` records that it was sent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from handbill.claims.actions import ClaimError
from handbill.claims.actions import transition as move_claim
from handbill.claims.models import Claim, Status
from handbill.claims.outbound import provider_ref, read_claim
from handbill.core import outbound as ob
from handbill.core.claim_status import ClaimStatus
from handbill.core.money import Cents
from handbill.documents._pdf import person_name
from handbill.documents.appeal import (
    AppealedLine,
    AppealLetter,
    NoteEvidence,
    ServiceEvidence,
    render_appeal,
)
from handbill.patients.models import Authorization

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from handbill.remittance.models import ClaimPayment

# A letter needs the payer's answer to argue with.
APPEALABLE = frozenset({Status.DENIED, Status.PARTIALLY_PAID, Status.PAID, Status.APPEALED})


def _answer(claim: Claim) -> ClaimPayment | None:
    """The payer's last posted answer on the claim (paid or denied; not a reversal)."""
    from handbill.remittance.models import ClaimPayment, EraStatus

    return (
        ClaimPayment.objects.filter(claim=claim, era__status=EraStatus.POSTED)
        .exclude(status_code__in=["22", "23", "25"])
        .select_related("era")
        .order_by("-era__posted_at", "-pk")
        .first()
    )


def _on_file(authorization: Authorization | None) -> str:
    if authorization is None:
        return ""
    parts = [f"{authorization.get_kind_display().lower()} {authorization.number}".strip()]
    if authorization.referring_provider_name:
        parts.append(f"from {authorization.referring_provider_name}")
    if authorization.visits_allowed:
        parts.append(f"{authorization.visits_allowed} visits")
    return ", ".join(parts)


def letter_values(claim: Claim, *, argument: str = "") -> AppealLetter:
    """The letter's values for ``claim``; ClaimError says why there is nothing to appeal."""
    if claim.status not in APPEALABLE:
        raise ClaimError(
            f"claim {claim.number} is {claim.get_status_display().lower()}; an appeal answers "
            "the payer's denial or payment, so the claim needs its remittance posted first")
    answer = _answer(claim)
    if answer is None:
        raise ClaimError(
            f"no posted remittance for claim {claim.number}; an appeal cites the payer's answer")
    visit = claim.visit
    if visit.signed_at is None:
        raise ClaimError(f"the note of claim {claim.number} is not signed")
    billing, out = read_claim(claim)
    paid: dict[int, int] = defaultdict(int)
    adjustments: dict[int, list[ob.Adjustment]] = defaultdict(list)
    remarks: dict[int, list[str]] = defaultdict(list)
    by_service: dict[int, int] = {}
    for service_pk, line_id, cents, codes in (
        answer.lines.exclude(claim_line=None).order_by("position")
        .values_list("pk", "claim_line_id", "paid_cents", "remarks")
    ):
        by_service[service_pk] = line_id
        paid[line_id] += cents
        remarks[line_id].extend(str(code) for code in codes or ())
    claim_level: list[ob.Adjustment] = []
    for adjustment in answer.adjustments.order_by("pk"):
        value = ob.Adjustment(adjustment.group, adjustment.reason,
                              Cents(adjustment.amount_cents))
        line_id = by_service.get(adjustment.service_payment_id or 0)
        if line_id is None:
            claim_level.append(value)
        else:
            adjustments[line_id].append(value)
    lines = tuple(
        AppealedLine(
            number=line.number, date_of_service=claim.date_of_service, code=line.code,
            modifiers=tuple(line.modifiers), units=line.units, charge=Cents(line.charge_cents),
            paid=Cents(paid[line.pk]), adjustments=tuple(adjustments[line.pk]),
            remarks=tuple(remarks[line.pk]),
        )
        for line in claim.lines.all()
    )
    submitted = (claim.events.filter(to_status=Status.SUBMITTED).order_by("at", "pk")
                 .values_list("at", flat=True).first())
    practice = claim.practice
    patient = claim.patient
    evidence = NoteEvidence(
        date_of_service=visit.date_of_service,
        signed_on=practice.local_date(visit.signed_at),
        signed_by=str(visit.provider),
        diagnoses=tuple(d.code for d in visit.diagnoses.all()),
        services=tuple(ServiceEvidence(s.code, s.minutes, s.technique, s.body_region)
                       for s in visit.services.all()),
        medical_necessity=visit.medical_necessity, assessment=visit.assessment,
        plan=visit.plan, response_to_treatment=visit.response_to_treatment,
        authorization="; ".join(text for text in (
            _on_file(claim.authorization), _on_file(claim.referral)) if text),
    )
    return AppealLetter(
        claim_id=claim.number,
        payer_claim_number=claim.payer_claim_number or answer.payer_claim_number,
        payer_name=out.payer.name, payer_address=out.payer.address,
        patient_name=person_name(ob.PersonName(
            last=patient.last_name, first=patient.first_name)),
        patient_birth_date=patient.birth_date,
        member_id=out.subscriber.member_id, group_number=out.subscriber.group_number,
        date_of_service=claim.date_of_service, billed=claim.total_charge,
        paid=Cents(answer.paid_cents), remittance_date=answer.era.payment_date,
        submitted_on=practice.local_date(submitted) if submitted else None,
        lines=lines, claim_adjustments=tuple(claim_level), claim_remarks=(),
        evidence=evidence, billing=billing, provider=provider_ref(claim.provider),
        argument=argument,
    )


def appeal_letter(claim: Claim, *, at: datetime, argument: str = "") -> bytes:
    """The appeal letter PDF for ``claim``, dated the practice's day at ``at``."""
    values = letter_values(claim, argument=argument)
    try:
        return render_appeal(values, issued_on=claim.practice.local_date(at))
    except ob.OutboundError as exc:
        raise ClaimError(str(exc)) from None


@transaction.atomic
def mark_appealed(
    *, claim: Claim, by: AbstractBaseUser | None, at: datetime, note: str
) -> Claim:
    """Record that the appeal went to the payer: the claim waits as *appealed*."""
    if not note.strip():
        raise ClaimError("say how and when the appeal was sent (it goes in the history)")
    return move_claim(claim=claim, to=ClaimStatus.APPEALED, by=by, at=at,
                      note=f"appeal sent: {note.strip()}")
