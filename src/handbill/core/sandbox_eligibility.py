"""The payer sandbox's answer to an eligibility inquiry: a 271 built from the payer profile.

No real payer is asked. The sandbox answers each request from the payer's policy profile
(visit cap, authorization threshold, referral, codes paid per provider type), a small table of
plan terms per payer type, and a deterministic rule on the member ID, so every run gives the
same answer and a tester can pick the case she wants:

=========================  ===================================================================
Last character of the ID   The sandbox answers
=========================  ===================================================================
``0``                      Inactive: the plan ended on the last day of the month before the
                           date asked about (EB*6, DTP*347).
``1``                      Active, but the plan has no massage benefit: physical medicine,
                           physical therapy and massage therapy are not covered (EB*I + MSG).
``2``                      Active with the visit cap nearly used: one visit left (payers with
                           a visit cap; others answer as ``any other``).
``3``                      Rejected: invalid member ID (AAA*N**72*C), as if mistyped.
any other                  Active, with the profile's benefits; visits left = the cap minus
                           the visits already billed this calendar year (``visits_used``).
=========================  ===================================================================

A member ID shorter than 5 characters or with anything but letters and digits is rejected
with AAA 72 too, as a payer's ID check would. A provider type the profile pays nothing (an LMT
to Original Medicare) gets "not covered for this provider type".

Plan terms per payer type (copay per visit, coinsurance, deductible and out-of-pocket
maximum for the calendar year) are the sandbox's own synthetic numbers, listed in
:data:`PLAN_TERMS`; each visit already paid counts :data:`DEDUCTIBLE_PER_VISIT` toward the
deductible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from handbill.core.codes import eligibility as codes
from handbill.core.eligibility_values import (
    Benefit,
    DatePeriod,
    EligibilityAnswer,
    EligibilityRequest,
    Rejection,
)
from handbill.core.money import Cents
from handbill.core.policy import PayerPolicy, ReferralKind


class SandboxCase(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    NO_MASSAGE_BENEFIT = "no_massage_benefit"
    CAP_NEARLY_USED = "cap_nearly_used"
    WRONG_MEMBER_ID = "wrong_member_id"


CASE_BY_LAST_CHARACTER: Mapping[str, SandboxCase] = {
    "0": SandboxCase.INACTIVE,
    "1": SandboxCase.NO_MASSAGE_BENEFIT,
    "2": SandboxCase.CAP_NEARLY_USED,
    "3": SandboxCase.WRONG_MEMBER_ID,
}
MIN_MEMBER_ID_LENGTH = 5


@dataclass(frozen=True, slots=True)
class PlanTerms:
    insurance_type: str  # EB04
    copay: Cents | None = None  # per physical medicine visit
    coinsurance: Decimal | None = None  # a fraction
    deductible: Cents | None = None  # calendar year, individual
    out_of_pocket: Cents | None = None  # calendar year, individual
    # What is left of the deductible, when the caller knows it; else counted from the visits.
    deductible_left: Cents | None = None


PLAN_TERMS: Mapping[str, PlanTerms] = {
    "commercial": PlanTerms("C1", copay=Cents(2500), deductible=Cents(50000),
                            out_of_pocket=Cents(300000)),
    "medicare_advantage": PlanTerms("HN", copay=Cents(2000), out_of_pocket=Cents(450000)),
    "medicare": PlanTerms("MB", coinsurance=Decimal("0.2"), deductible=Cents(25000)),
    "medicaid": PlanTerms("MC"),
    "auto": PlanTerms("AP"),
    "workers_comp": PlanTerms("WC"),
    "other": PlanTerms("OT"),
}
DEDUCTIBLE_PER_VISIT = Cents(10000)


def case_for(member_id: str) -> SandboxCase:
    """Which answer the sandbox gives for ``member_id`` (see the module's table)."""
    cleaned = member_id.strip().upper()
    if len(cleaned) < MIN_MEMBER_ID_LENGTH or not cleaned.isalnum() or not cleaned.isascii():
        return SandboxCase.WRONG_MEMBER_ID
    return CASE_BY_LAST_CHARACTER.get(cleaned[-1], SandboxCase.ACTIVE)


def answer(request: EligibilityRequest, *, policy: PayerPolicy | None, payer_type: str,
           visits_used: int = 0, terms: PlanTerms | None = None) -> EligibilityAnswer:
    """The sandbox payer's answer to ``request``.

    ``policy`` is the payer's profile in force on the date asked about (None: the payer has
    no profile, and the sandbox confirms the plan only); ``visits_used`` is how many visits the
    payer has already paid this calendar year (the practice's own claims, before the date);
    ``terms`` replaces the payer type's :data:`PLAN_TERMS` (the member's own cost share).
    """
    case = case_for(request.subscriber.member_id)
    base = EligibilityAnswer(
        trace_number=request.trace_number,
        reference=request.trace_number,
        originator_id=request.originator_id,
        payer_name=request.payer_name.upper(),
        payer_id=request.payer_id,
        provider=replace(request.provider, taxonomy=""),
        subscriber=request.subscriber,
        dependent=request.dependent,
    )
    if case is SandboxCase.WRONG_MEMBER_ID:
        return replace(base, rejections=(Rejection("72", "C", "subscriber"),))
    terms = terms or PLAN_TERMS.get(payer_type, PLAN_TERMS["other"])
    plan = (policy.name if policy is not None else request.payer_name).upper()[:50]
    day = request.service_date
    if case is SandboxCase.INACTIVE:
        ended = day.replace(day=1) - timedelta(days=1)
        return replace(base, dates=(
            DatePeriod("346", date(ended.year - 1, 1, 1)), DatePeriod("347", ended),
        ), benefits=(
            Benefit("6", "IND", (codes.HEALTH_PLAN,), terms.insurance_type, plan),
        ))
    asked = tuple(request.service_types) or (codes.HEALTH_PLAN,)
    therapy_asked = tuple(c for c in asked if c in codes.THERAPY_SERVICE_TYPES)
    excluded = _exclusion(case, policy, request.provider.taxonomy)
    active_types = (codes.HEALTH_PLAN,) if excluded else asked
    benefits = [Benefit("1", "IND", active_types, terms.insurance_type, plan)]
    benefits.extend(_plan_amounts(terms, visits_used))
    if excluded and therapy_asked:
        benefits.append(Benefit(codes.NOT_COVERED, "IND", therapy_asked,
                                messages=(excluded,)))
    elif policy is not None:
        cap_used = visits_used
        if case is SandboxCase.CAP_NEARLY_USED and policy.visit_cap_per_year:
            cap_used = policy.visit_cap_per_year - 1
        benefits.extend(_therapy(policy, terms, cap_used, request.provider.taxonomy))
    return replace(base, dates=(DatePeriod("346", date(day.year, 1, 1)),),
                   benefits=tuple(benefits))


def _exclusion(case: SandboxCase, policy: PayerPolicy | None, taxonomy: str) -> str:
    """Why massage is not covered for this member and provider, or "" when it is."""
    if case is SandboxCase.NO_MASSAGE_BENEFIT:
        return "MASSAGE AND PHYSICAL MEDICINE ARE NOT BENEFITS OF THIS PLAN"
    if policy is not None and taxonomy and policy.allowed_codes.get(taxonomy) == frozenset():
        return f"NOT COVERED WHEN PROVIDED BY THIS PROVIDER TYPE ({taxonomy})"
    return ""


def _plan_amounts(terms: PlanTerms, visits_used: int) -> list[Benefit]:
    found: list[Benefit] = []
    met = Cents(0)
    if terms.deductible is not None:
        met = min(DEDUCTIBLE_PER_VISIT * max(visits_used, 0), terms.deductible)
        if terms.deductible_left is not None:
            met = terms.deductible - min(terms.deductible_left, terms.deductible)
        found.append(Benefit(codes.DEDUCTIBLE, "IND", (codes.HEALTH_PLAN,), period="23",
                             amount=terms.deductible, in_network="Y"))
        found.append(Benefit(codes.DEDUCTIBLE, "IND", (codes.HEALTH_PLAN,), period="29",
                             amount=terms.deductible - met, in_network="Y"))
    if terms.out_of_pocket is not None:
        found.append(Benefit(codes.OUT_OF_POCKET, "IND", (codes.HEALTH_PLAN,), period="23",
                             amount=terms.out_of_pocket, in_network="Y"))
        found.append(Benefit(codes.OUT_OF_POCKET, "IND", (codes.HEALTH_PLAN,), period="29",
                             amount=terms.out_of_pocket - met, in_network="Y"))
    return found


def _therapy_messages(policy: PayerPolicy, taxonomy: str) -> tuple[str, ...]:
    messages: list[str] = []
    after = policy.authorization_after_visits
    if after == 0:
        messages.append("PRIOR AUTHORIZATION REQUIRED FROM THE FIRST VISIT")
    elif after is not None:
        messages.append(f"PRIOR AUTHORIZATION REQUIRED AFTER {after} VISITS")
    if policy.referral is ReferralKind.PRESCRIPTION:
        messages.append("A PHYSICIAN'S PRESCRIPTION MUST BE ON FILE")
    elif policy.referral is ReferralKind.REFERRAL:
        messages.append("A REFERRAL FROM THE ORDERING PHYSICIAN IS REQUIRED")
    paid = policy.allowed_codes.get(taxonomy) if taxonomy else None
    if paid:
        messages.append(f"FOR THIS PROVIDER TYPE THE PLAN PAYS {', '.join(sorted(paid))} ONLY")
    return tuple(messages)


def _therapy(policy: PayerPolicy, terms: PlanTerms, used: int,
             taxonomy: str) -> list[Benefit]:
    ae = (codes.PHYSICAL_MEDICINE,)
    authorization = "Y" if policy.authorization_after_visits is not None else "N"
    found: list[Benefit] = []
    if terms.copay is not None:
        found.append(Benefit(codes.COPAY, "IND", ae, period="27", amount=terms.copay,
                             authorization=authorization, in_network="Y"))
    if terms.coinsurance is not None:
        found.append(Benefit(codes.COINSURANCE, "IND", ae, period="27",
                             percent=terms.coinsurance, authorization=authorization,
                             in_network="Y"))
    cap = policy.visit_cap_per_year
    if cap is not None:
        left = max(cap - max(used, 0), 0)
        found.append(Benefit(codes.LIMITATION, "IND", ae, period="23", quantity_qualifier="VS",
                             quantity=Decimal(cap), authorization=authorization))
        found.append(Benefit(codes.LIMITATION, "IND", ae, period=codes.REMAINING,
                             quantity_qualifier="VS", quantity=Decimal(left),
                             authorization=authorization))
    if not found:
        found.append(Benefit("1", "IND", ae, terms.insurance_type,
                             authorization=authorization))
    # Codes that need an authorization from the first visit, one EB each (EB13 names the code).
    found.extend(Benefit("1", "IND", ae, authorization="Y", procedure=f"HC:{code}")
                 for code in sorted(policy.prior_authorization_codes))
    messages = _therapy_messages(policy, taxonomy)
    if messages:
        found[0] = replace(found[0], messages=messages)
    return found
