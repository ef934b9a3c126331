"""What the remittance pages show: the list, a plan in a biller's words, a posted payment.

A plan is the pure :class:`~handbill.core.posting_plan.PostingPlan`; this module only says what
each part of it does to the two balances a biller watches — what the insurance still owes on
the claim and what the patient owes — and pages it (a remittance can carry thousands of claims).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from handbill.core.money import Cents
from handbill.core.posting_plan import (
    Effect,
    MatchedBy,
    Outcome,
    PlannedAdjustment,
    PlannedClaim,
    PostingPlan,
)
from handbill.practice.access import scoped
from handbill.practice.models import Practice
from handbill.remittance.models import ClaimPayment, EraFile, EraStatus, ManualMatch

# What one adjustment does, in words, for the preview.
EFFECT_WORDS = {
    Effect.CONTRACTUAL: "written off under the contract: insurance owes {amount} less",
    Effect.PATIENT: "moved to the patient ({label}): insurance owes {amount} less, the patient "
                    "{amount} more",
    Effect.DENIED: "denied: {amount} stays on the insurance balance and goes to the denials "
                   "queue; nothing is written off",
    Effect.REVIEW: "held for review: {amount} stays on the insurance balance",
    Effect.PRIOR_PAYER: "the earlier payer's part: already on the books, no entry",
}


def eras(practice: Practice, status: str = "") -> QuerySet[EraFile]:
    found = scoped(EraFile.objects.select_related("payer"), practice).defer("raw")
    if status in EraStatus.values:
        found = found.filter(status=status)
    return found.order_by("-imported_at", "-pk")


@dataclass(frozen=True)
class AdjustmentShown:
    adjustment: PlannedAdjustment
    words: str


def _shown(adjustments: tuple[PlannedAdjustment, ...]) -> list[AdjustmentShown]:
    return [
        AdjustmentShown(a, EFFECT_WORDS[a.effect].format(amount=a.amount.display(),
                                                         label=a.label))
        for a in adjustments
    ]


@dataclass(frozen=True)
class ClaimShown:
    planned: PlannedClaim
    adjustments: list[AdjustmentShown]
    lines: list[tuple[object, list[AdjustmentShown]]]  # (PlannedLine, its adjustments)
    insurance_change: Cents  # negative: the insurance owes this much less
    patient_change: Cents
    fallback: bool  # a line matched by code/modifier/units, not by REF*6R

    @property
    def outcome_label(self) -> str:
        return self.planned.outcome.value.replace("_", " ").capitalize()

    @property
    def unmatched(self) -> bool:
        return self.planned.outcome is Outcome.UNMATCHED


def show_claim(planned: PlannedClaim) -> ClaimShown:
    patient = planned.totals.get(Effect.PATIENT, 0)
    moved = 0
    if planned.outcome in (Outcome.UNMATCHED, Outcome.NOT_POSTED):
        patient = 0  # nothing of it reaches our claim's balances
    else:
        moved = planned.remit.paid.value + planned.totals.get(Effect.CONTRACTUAL, 0) + patient
    return ClaimShown(
        planned=planned,
        adjustments=_shown(planned.adjustments),
        lines=[(line, _shown(line.adjustments)) for line in planned.lines],
        insurance_change=Cents(-moved),
        patient_change=Cents(patient),
        fallback=any(line.matched_by is MatchedBy.CODE_FALLBACK for line in planned.lines),
    )


@dataclass(frozen=True)
class PlanPage:
    plan: PostingPlan
    page: Page
    claims: list[ClaimShown]
    totals: dict[str, Cents]
    fallback_lines: int
    manual: list[ManualMatch]


def plan_page(era: EraFile, plan: PostingPlan, number: str | int | None,
              per_page: int = 25) -> PlanPage:
    """One page of the plan's claims, unmatched ones first (they are what needs a person)."""
    ordered = sorted(plan.claims, key=lambda c: (c.outcome is not Outcome.UNMATCHED,
                                                 not any(line.matched_by is MatchedBy.CODE_FALLBACK
                                                         for line in c.lines),
                                                 c.position))
    page = Paginator(ordered, per_page).get_page(number)
    return PlanPage(
        plan=plan, page=page, claims=[show_claim(c) for c in page.object_list],
        totals=plan.totals(),
        fallback_lines=sum(1 for c in plan.claims for line in c.lines
                           if line.matched_by is MatchedBy.CODE_FALLBACK),
        manual=list(era.manual_matches.select_related("claim", "by")),
    )


def posted_claims(era: EraFile) -> QuerySet[ClaimPayment]:
    return (era.claim_payments.select_related("claim", "claim__patient")
            .prefetch_related("lines", "adjustments").order_by("position"))
