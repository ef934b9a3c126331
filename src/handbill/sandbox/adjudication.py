"""Adjudication: what the payer pays on each line of an accepted claim, and why not.

Rules run in this order; the first that applies to a line decides its denial:

1. timely filing (whole claim): received more than ``timely_filing_days`` after the first
   date of service → CO 29;
2. visit cap (whole claim): the member's visit of the year is beyond ``visit_cap_per_year``
   → PR 119 with N130 (a benefit limit: the patient may be billed);
3. 97010 on a payer that does not pay it → CO 97 with M15 (bundled);
4. a code the payer does not pay for the rendering provider's taxonomy → CO 170 with N130;
5. an always-therapy code without the payer's therapy modifier (GP …) → CO 4;
6. an authorization the policy needs (after N visits, or for the code) with none on the
   claim → CO 197;
7. an NCCI pair billed on one day without a bypass modifier the payer accepts on the
   column-2 line → CO 236 with N20 on that line;
8. units beyond the payer's daily unit cap → CO 119 for the extra units (quantity = units),
   the rest of the line is paid.

What is left is priced at the policy's fee schedule (``expected_allowed`` × units paid; the
billed charge when the policy has no fee for the code, and never more than the charge): the
difference is CO 45. On a primary claim the member's cost share comes out of the allowed
amount (deductible PR 1, copay PR 3, coinsurance PR 2); on a secondary claim what the earlier
payer paid on the line is OA 23 and the member owes nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from handbill.core import edits as ncci
from handbill.core.claimdata import Severity
from handbill.core.codes import cpt
from handbill.core.money import Cents, total
from handbill.core.outbound import Adjustment, BillingProvider, OutClaim, OutLine
from handbill.core.policy import ModifierStyle, PayerPolicy
from handbill.sandbox.benefits import CostShare, cost_share, percent_of


@dataclass(frozen=True, slots=True)
class Denial:
    """Why a line (or some of its units) was not paid."""

    group: str
    reason: str  # CARC
    remarks: tuple[str, ...]  # RARC, sent in LQ*HE
    message: str  # our own words, for the summary


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """One priced or denied line, ready for the 835's SVC loop."""

    line: OutLine
    paid: Cents
    allowed: Cents
    units_paid: int  # 0 when the whole line was denied
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[str, ...] = ()
    denial: Denial | None = None

    @property
    def fully_denied(self) -> bool:
        return self.denial is not None and self.units_paid == 0

    @property
    def units_denied(self) -> int:
        return self.line.units - self.units_paid if self.denial is not None else 0

    @property
    def patient_responsibility(self) -> Cents:
        return total(a.amount for a in self.adjustments if a.group == "PR")


@dataclass(frozen=True, slots=True)
class Visit:
    """One accepted claim and what the payer knows about it."""

    claim: OutClaim
    billing: BillingProvider
    policy: PayerPolicy
    payer_id: str
    payer_type: str
    visit_number: int  # this claim's visit of the year for the member at this payer

    @property
    def first_date(self) -> date:
        return min(line.date_of_service for line in self.claim.lines)

    @property
    def member_id(self) -> str:
        return self.claim.subscriber.member_id.strip().upper()

    @property
    def taxonomy(self) -> str:
        rendering = self.claim.rendering
        if rendering is not None and rendering.taxonomy:
            return rendering.taxonomy
        return self.billing.taxonomy

    @property
    def secondary(self) -> bool:
        return self.claim.subscriber.responsibility.value != "P"


@dataclass
class Adjudicator:
    """Adjudicates claims one at a time, keeping what one claim leaves for the next: the
    deductible still to meet and the units already paid per member and day."""

    as_of: date
    seed: int
    edits: ncci.EditTables
    deductible_left: dict[tuple[str, str], Cents] = field(default_factory=dict)
    day_units: dict[tuple[str, str, date], int] = field(default_factory=dict)

    def adjudicate(self, visit: Visit) -> tuple[LineOutcome, ...]:
        lines = visit.claim.lines
        denials: list[Denial | None] = [None] * len(lines)
        whole = self._claim_denial(visit)
        for index, line in enumerate(lines):
            denials[index] = whole or _line_denial(line, visit)
        self._ncci(visit, denials)
        outcomes: list[LineOutcome] = []
        share = cost_share(visit.payer_type, visit.payer_id, visit.member_id, self.seed)
        copay_left = share.copay
        prior_paid = _prior_paid_by_line(visit.claim)
        for index, line in enumerate(lines):
            denial = denials[index]
            if denial is not None:
                outcomes.append(_denied(line, denial))
                continue
            units_paid, cap_denial = self._daily_cap(visit, line)
            outcome, copay_left = self._price(visit, line, units_paid, cap_denial, share,
                                              copay_left, prior_paid.get(index, Cents(0)))
            outcomes.append(outcome)
        return tuple(outcomes)

    # -- denials -------------------------------------------------------------------------

    def _claim_denial(self, visit: Visit) -> Denial | None:
        policy = visit.policy
        age = (self.as_of - visit.first_date).days
        if age > policy.timely_filing_days:
            return Denial("CO", "29", (), f"received {age} days after the date of service; "
                          f"{policy.name} accepts claims for {policy.timely_filing_days} days")
        cap = policy.visit_cap_per_year
        if cap is not None and visit.visit_number > cap:
            return Denial("PR", "119", ("N130",),
                          f"visit {visit.visit_number} of {visit.first_date.year} at "
                          f"{policy.name}, which pays {cap} visits a year")
        return None

    def _ncci(self, visit: Visit, denials: list[Denial | None]) -> None:
        by_day: dict[date, list[int]] = defaultdict(list)
        for index, line in enumerate(visit.claim.lines):
            if denials[index] is None:
                by_day[line.date_of_service].append(index)
        only_59 = visit.policy.modifier_style is ModifierStyle.MODIFIER_59
        for day, indexes in sorted(by_day.items()):
            day_lines = [visit.claim.lines[i] for i in indexes]
            for finding in ncci.check(day_lines, day, self.edits):
                if finding.rule != "ncci.ptp" or not finding.lines:
                    continue
                index = indexes[finding.lines[-1] - 1]
                line = visit.claim.lines[index]
                if denials[index] is not None:
                    continue
                column1 = finding.codes[0]
                if finding.severity is Severity.BLOCKING:
                    denials[index] = Denial(
                        "CO", "236", ("N20",),
                        f"{line.code} is bundled into {column1} on {day.isoformat()} (NCCI) "
                        "and carries no modifier that bypasses the edit")
                elif only_59 and "59" not in line.modifiers:
                    denials[index] = Denial(
                        "CO", "236", ("N20",),
                        f"{line.code} is bundled into {column1} on {day.isoformat()}; "
                        f"{visit.policy.name} accepts only 59 as the bypass modifier, not "
                        f"{finding.bypass_modifier}")

    def _daily_cap(self, visit: Visit, line: OutLine) -> tuple[int, Denial | None]:
        cap = visit.policy.daily_unit_cap
        if cap is None:
            return line.units, None
        key = (visit.payer_id, visit.member_id, line.date_of_service)
        used = self.day_units.get(key, 0)
        units_paid = max(0, min(line.units, cap - used))
        self.day_units[key] = used + units_paid
        if units_paid == line.units:
            return units_paid, None
        extra = line.units - units_paid
        return units_paid, Denial(
            "CO", "119", ("N130",),
            f"{extra} unit(s) of {line.code} beyond {visit.policy.name}'s cap of {cap} units "
            f"a day on {line.date_of_service.isoformat()}")

    # -- pricing -------------------------------------------------------------------------

    def _price(self, visit: Visit, line: OutLine, units_paid: int, cap_denial: Denial | None,
               share: CostShare, copay_left: Cents, prior_paid: Cents,
               ) -> tuple[LineOutcome, Cents]:
        adjustments: list[Adjustment] = []
        charge = line.charge
        if units_paid < line.units and line.units > 0:
            # The charge of the units paid, pro rata; the rest goes with the cap denial.
            charge = Cents(line.charge.value * units_paid // line.units)
            assert cap_denial is not None  # noqa: S101 - set whenever units were cut
            adjustments.append(Adjustment(cap_denial.group, cap_denial.reason,
                                          line.charge - charge, line.units - units_paid))
        fee = visit.policy.expected_allowed(line.code)
        allowed = charge if fee is None else min(charge, fee * units_paid)
        if charge - allowed:
            adjustments.append(Adjustment("CO", "45", charge - allowed))
        rest = allowed
        if visit.secondary:
            already = min(rest, prior_paid)
            if already:
                adjustments.append(Adjustment("OA", "23", already))
            rest = rest - already
        else:
            key = (visit.payer_id, visit.member_id)
            left = self.deductible_left.setdefault(key, share.deductible)
            deductible = min(rest, left)
            if deductible:
                adjustments.append(Adjustment("PR", "1", deductible))
                self.deductible_left[key] = left - deductible
                rest = rest - deductible
            copay = min(rest, copay_left)
            if copay:
                adjustments.append(Adjustment("PR", "3", copay))
                copay_left = copay_left - copay
                rest = rest - copay
            coinsurance = percent_of(rest, share.coinsurance_percent)
            if coinsurance:
                adjustments.append(Adjustment("PR", "2", coinsurance))
                rest = rest - coinsurance
        remarks = cap_denial.remarks if cap_denial is not None else ()
        outcome = LineOutcome(line, rest, allowed, units_paid, tuple(adjustments), remarks,
                              cap_denial)
        return outcome, copay_left


def _line_denial(line: OutLine, visit: Visit) -> Denial | None:
    policy = visit.policy
    code = line.code
    if code == "97010" and not policy.bills_97010:
        return Denial("CO", "97", ("M15",), f"{policy.name} does not pay hot or cold packs "
                      "(97010) separately: they are bundled into the visit")
    if not policy.code_allowed(code, visit.taxonomy):
        return Denial("CO", "170", ("N130",), f"{policy.name} does not pay {code} when billed "
                      f"by provider type {visit.taxonomy}")
    wanted = policy.therapy_modifier
    if wanted and cpt.is_known(code) and cpt.get(code).always_therapy and (
            wanted not in line.modifiers):
        return Denial("CO", "4", (), f"{policy.name} needs {wanted} on {code} (an "
                      "always-therapy code)")
    if policy.authorization_needed(code, visit.visit_number) and not (
            visit.claim.prior_authorization.strip()):
        if code in policy.prior_authorization_codes:
            why = f"{code} needs a prior authorization at {policy.name}"
        else:
            why = (f"visit {visit.visit_number} needs an authorization at {policy.name} "
                   f"(after {policy.authorization_after_visits} visits)")
        return Denial("CO", "197", (), f"{why}; none on the claim")
    return None


def _denied(line: OutLine, denial: Denial) -> LineOutcome:
    adjustment = Adjustment(denial.group, denial.reason, line.charge)
    return LineOutcome(line, Cents(0), Cents(0), 0, (adjustment,), denial.remarks, denial)


def _prior_paid_by_line(claim: OutClaim) -> dict[int, Cents]:
    """What earlier payers paid on each line (by REF*6R), or their claim payment spread over
    the lines in order when they reported none per line."""
    paid: dict[int, Cents] = {}
    by_control = {line.control_number: index for index, line in enumerate(claim.lines)
                  if line.control_number}
    for prior in claim.prior_payers:
        if prior.line_adjudications:
            for adjudication in prior.line_adjudications:
                index = by_control.get(adjudication.control_number)
                if index is not None:
                    paid[index] = paid.get(index, Cents(0)) + adjudication.paid
            continue
        left = prior.paid
        for index, line in enumerate(claim.lines):
            share = min(left, line.charge - paid.get(index, Cents(0)))
            if share.value <= 0:
                continue
            paid[index] = paid.get(index, Cents(0)) + share
            left = left - share
    return paid
