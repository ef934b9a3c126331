"""What the claim page's "Get paid" panel offers: the moves the claim's state allows now
(replace or void, reopen, bill the secondary plan, appeal) and the claims it is linked to."""

from __future__ import annotations

from dataclasses import dataclass, field

from handbill.claims.appeals import APPEALABLE
from handbill.claims.corrections import CORRECTABLE
from handbill.claims.models import Claim, Status
from handbill.claims.secondary import BILLABLE_AFTER, secondary_coverage
from handbill.core.money import Cents
from handbill.core.secondary import MEDICARE_FILING_INDICATORS, MSP_TYPES, prior_payer_from_json


@dataclass
class GetPaid:
    related: list[tuple[str, Claim]] = field(default_factory=list)  # (how, claim)
    can_correct: bool = False
    needs_payer_claim_number: bool = False
    can_reopen: bool = False
    secondary_payer: str = ""  # the plan a secondary claim would go to, when one can
    msp_types: list[tuple[str, str]] = field(default_factory=list)  # Medicare as secondary
    can_appeal: bool = False
    can_mark_appealed: bool = False
    # A correction or secondary claim not sent yet can be withdrawn.
    can_withdraw: bool = False
    # On a secondary claim: what each earlier payer did, in one line each.
    prior_payers: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.related or self.can_correct or self.can_reopen
                    or self.secondary_payer or self.can_appeal or self.can_withdraw)


def get_paid(claim: Claim) -> GetPaid:
    panel = GetPaid()
    if claim.replaces is not None:
        label = "Replaces" if claim.frequency == "7" else "Voids"
        panel.related.append((label, claim.replaces))
    corrections = list(claim.replaced_by.order_by("pk"))
    for correction in corrections:
        panel.related.append((f"{correction.get_frequency_display()} of this claim", correction))
    if claim.primary_claim is not None:
        panel.related.append(("Secondary to", claim.primary_claim))
    for data in claim.prior_payers:
        prior = prior_payer_from_json(data)
        left = prior.remaining_patient_liability or Cents(0)
        panel.prior_payers.append(
            f"{prior.payer.name} paid {prior.paid.display()} and left the patient "
            f"{left.display()} (its claim {prior.payer_claim_number or 'number not given'}, "
            f"{prior.adjudicated_on:%m/%d/%Y})")
    secondaries = list(claim.secondary_claims.order_by("pk"))
    for secondary in secondaries:
        panel.related.append(("Secondary claim", secondary))
    standing_correction = any(c.status != Status.VOID for c in corrections)
    panel.can_correct = (claim.status in CORRECTABLE and claim.frequency != "8"
                         and not standing_correction)
    panel.needs_payer_claim_number = panel.can_correct and not claim.payer_claim_number
    panel.can_reopen = claim.status == Status.REJECTED
    if (claim.status in BILLABLE_AFTER and claim.primary_claim_id is None
            and not any(s.status != Status.VOID for s in secondaries)):
        coverage = secondary_coverage(claim)
        if coverage is not None and coverage.payer_id != claim.payer_id:
            panel.secondary_payer = coverage.payer.name
            if coverage.payer.claim_filing_indicator in MEDICARE_FILING_INDICATORS:
                panel.msp_types = list(MSP_TYPES.items())
    panel.can_withdraw = claim.status in (Status.DRAFT, Status.READY) and (
        claim.replaces_id is not None or claim.primary_claim_id is not None)
    panel.can_appeal = claim.status in APPEALABLE and claim.payments.exists()
    panel.can_mark_appealed = claim.status in (Status.DENIED, Status.PARTIALLY_PAID)
    return panel
