"""What a 271 means for the next massage visit, in plain words.

:func:`summarize` distils a payer's answer into the few facts a front desk acts on: is the
coverage active on the date, is massage (physical medicine) covered, what the patient pays,
how many visits are left, whether an authorization is needed. :func:`describe` says it the
way a biller would ("Active. Physical medicine: $25 copay, 12 of 20 visits left this calendar
year, authorization required after 6 visits."), and :meth:`EligibilitySummary.alerts` lists
what needs doing before the visit. The scrubber reads the same summary (``claimdata.Claim
.eligibility``) to stop claims the payer has already said it will not pay.

Payers put "authorization required after N visits" in free text (MSG), there being no X12
element for it; :func:`summarize` reads the number from a message that mentions an
authorization and "after N visits" (or "from the first visit", which is 0).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from handbill.core.codes import eligibility as codes
from handbill.core.eligibility_values import Benefit, EligibilityAnswer, Rejection
from handbill.core.money import Cents
from handbill.core.policy import PayerPolicy

CHIROPRACTOR = "111N00000X"
# What every check asks about: the plan, physical medicine, physical therapy and massage.
BASE_SERVICE_TYPES: tuple[str, ...] = (
    codes.HEALTH_PLAN, codes.PHYSICAL_MEDICINE, codes.PHYSICAL_THERAPY, codes.MASSAGE_THERAPY,
)
# Alert when this many visits or fewer are left (as the scrubber's visit-cap warning).
FEW_VISITS_LEFT = 2

_AUTH_AFTER = re.compile(
    r"\bAUTH\w*\b.*?\bAFTER\s+(?:THE\s+)?(\d{1,3})(?:ST|ND|RD|TH)?\s+VISITS?\b"
    r"|\bAFTER\s+(?:THE\s+)?(\d{1,3})(?:ST|ND|RD|TH)?\s+VISITS?\b.*?\bAUTH\w*\b",
    re.IGNORECASE | re.DOTALL,
)
_AUTH_FIRST = re.compile(r"\bAUTH\w*\b.*?\b(?:FIRST|EVERY|EACH)\s+VISIT\b",
                         re.IGNORECASE | re.DOTALL)


def service_types_for(policy: PayerPolicy | None) -> tuple[str, ...]:
    """EQ01 values to ask ``policy``'s payer about: 30, AE, PT and BE always, and 33
    (chiropractic) when the payer's profile pays chiropractors."""
    if policy is not None and policy.allowed_codes.get(CHIROPRACTOR):
        return (*BASE_SERVICE_TYPES, codes.CHIROPRACTIC)
    return BASE_SERVICE_TYPES


class CoverageStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    REJECTED = "rejected"  # the payer could not answer (AAA): eligibility is not confirmed
    UNKNOWN = "unknown"  # an answer with neither an active nor an inactive benefit


@dataclass(frozen=True, slots=True)
class TherapyBenefit:
    """The benefit a massage visit is paid under (physical medicine, as a rule)."""

    service_type: str  # AE, BE, PT or 33
    covered: bool
    copay: Cents | None = None
    coinsurance: Decimal | None = None  # a fraction: 0.2 is 20%
    visit_limit: int | None = None
    visits_remaining: int | None = None
    period: str = ""  # EB06 of the visit limit, e.g. 23 calendar year
    authorization_required: bool | None = None
    authorization_after_visits: int | None = None
    in_network: bool | None = None
    # Procedure codes the payer needs an authorization for, whatever the visit count.
    authorization_codes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return codes.service_type_label(self.service_type)


@dataclass(frozen=True, slots=True)
class EligibilitySummary:
    """The facts of one answered eligibility check that matter for a massage visit."""

    service_date: date  # the date the check asked about
    checked_on: date  # the practice's day the answer was read
    status: CoverageStatus
    payer_name: str = ""
    plan: str = ""
    group_number: str = ""
    coverage_start: date | None = None
    coverage_end: date | None = None  # the last day covered, as the payer reports it
    therapy: TherapyBenefit | None = None
    not_covered: tuple[str, ...] = ()  # therapy service types the payer says it excludes
    deductible: Cents | None = None
    deductible_remaining: Cents | None = None
    out_of_pocket: Cents | None = None
    out_of_pocket_remaining: Cents | None = None
    rejections: tuple[Rejection, ...] = ()
    messages: tuple[str, ...] = ()

    def covers(self, day: date) -> bool | None:
        """Whether ``day`` falls inside the coverage dates the payer reported (None: no
        dates were given)."""
        if self.coverage_start is None and self.coverage_end is None:
            return None
        if self.coverage_start is not None and day < self.coverage_start:
            return False
        return not (self.coverage_end is not None and day > self.coverage_end)

    @property
    def identity_rejected(self) -> bool:
        """The payer could not tell who the patient is (a claim would bounce the same way)."""
        return any(codes.rejection_reason(r.code).identity for r in self.rejections)

    def alerts(self) -> list[str]:
        """What to do before the visit, most urgent first; empty when nothing is."""
        return _alerts(self)

    def as_dict(self) -> dict[str, Any]:
        therapy = self.therapy
        return {
            "service_date": self.service_date.isoformat(),
            "checked_on": self.checked_on.isoformat(),
            "status": self.status.value,
            "payer": self.payer_name,
            "plan": self.plan,
            "group_number": self.group_number,
            "coverage_start": _iso(self.coverage_start),
            "coverage_end": _iso(self.coverage_end),
            "therapy": None if therapy is None else {
                "service_type": therapy.service_type,
                "label": therapy.label,
                "covered": therapy.covered,
                "copay": _money(therapy.copay),
                "coinsurance_percent": _percent_text(therapy.coinsurance),
                "visit_limit": therapy.visit_limit,
                "visits_remaining": therapy.visits_remaining,
                "period": codes.TIME_PERIODS.get(therapy.period, therapy.period),
                "authorization_required": therapy.authorization_required,
                "authorization_after_visits": therapy.authorization_after_visits,
                "in_network": therapy.in_network,
                "authorization_codes": list(therapy.authorization_codes),
            },
            "not_covered": [codes.service_type_label(c) for c in self.not_covered],
            "deductible": _money(self.deductible),
            "deductible_remaining": _money(self.deductible_remaining),
            "out_of_pocket": _money(self.out_of_pocket),
            "out_of_pocket_remaining": _money(self.out_of_pocket_remaining),
            "rejections": [
                {"code": r.code, "level": r.level, "reason": codes.rejection_reason(r.code).words,
                 "fix": codes.rejection_reason(r.code).fix,
                 "follow_up": codes.FOLLOW_UP_ACTIONS.get(r.follow_up, r.follow_up)}
                for r in self.rejections
            ],
            "messages": list(self.messages),
            "plain_words": describe(self),
            "alerts": self.alerts(),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _money(amount: Cents | None) -> str | None:
    return amount.to_decimal_string() if amount is not None else None


# -- summarize -----------------------------------------------------------------------------------


def summarize(answer: EligibilityAnswer, *, service_date: date,
              checked_on: date) -> EligibilitySummary:
    benefits = answer.benefits
    rejections = answer.rejections + tuple(r for b in benefits for r in b.rejections)
    therapy, not_covered = _therapy(benefits)
    general = [b for b in benefits if not b.service_types or codes.HEALTH_PLAN in b.service_types]
    scope = [b for b in benefits if therapy is not None and therapy.service_type in b.service_types]
    start, end = _coverage_dates(answer)
    deductible = _yearly(scope, codes.DEDUCTIBLE) or _yearly(general, codes.DEDUCTIBLE)
    out_of_pocket = _yearly(scope, codes.OUT_OF_POCKET) or _yearly(general, codes.OUT_OF_POCKET)
    return EligibilitySummary(
        service_date=service_date,
        checked_on=checked_on,
        status=_status(benefits, answer.rejections),
        payer_name=answer.payer_name,
        plan=next((b.plan for b in benefits
                   if b.plan and b.code in codes.ACTIVE_CODES | codes.INACTIVE_CODES), ""),
        group_number=answer.subscriber.group_number,
        coverage_start=start,
        coverage_end=end,
        therapy=therapy,
        not_covered=not_covered,
        deductible=deductible[0] if deductible else None,
        deductible_remaining=deductible[1] if deductible else None,
        out_of_pocket=out_of_pocket[0] if out_of_pocket else None,
        out_of_pocket_remaining=out_of_pocket[1] if out_of_pocket else None,
        rejections=rejections,
        messages=tuple(dict.fromkeys(m for b in benefits for m in b.messages if m.strip())),
    )


def _status(benefits: Sequence[Benefit], rejections: Sequence[Rejection]) -> CoverageStatus:
    if any(b.code in codes.ACTIVE_CODES for b in benefits):
        return CoverageStatus.ACTIVE
    if any(b.code in codes.INACTIVE_CODES for b in benefits):
        return CoverageStatus.INACTIVE
    if rejections:
        return CoverageStatus.REJECTED
    return CoverageStatus.UNKNOWN


def _coverage_dates(answer: EligibilityAnswer) -> tuple[date | None, date | None]:
    by_qualifier = {d.qualifier: d for d in answer.dates}
    start: date | None = None
    end: date | None = None
    for begin_q, end_q, range_q in (("346", "347", "291"), ("356", "357", "307")):
        if start is None:
            found = by_qualifier.get(begin_q) or by_qualifier.get(range_q)
            start = found.start if found else None
        if end is None:
            if end_q in by_qualifier:
                end = by_qualifier[end_q].start
            elif range_q in by_qualifier:
                end = by_qualifier[range_q].end
    return start, end


def _preferred(benefits: Iterable[Benefit]) -> list[Benefit]:
    # An individual's in-network figure is what a contracted therapist's patient pays; family
    # and out-of-network figures only when the payer gave nothing else.
    def rank(b: Benefit) -> tuple[int, int]:
        return (0 if b.coverage_level in ("", "IND") else 1,
                0 if b.in_network in ("", "Y", "W") else 1)

    return sorted(benefits, key=rank)


def _yearly(benefits: Sequence[Benefit], code: str) -> tuple[Cents | None, Cents | None] | None:
    """(amount for the year, amount remaining) of the deductible or out-of-pocket maximum."""
    amounts = [b for b in _preferred(benefits) if b.code == code and b.amount is not None]
    total = next((b.amount for b in amounts if b.period != codes.REMAINING), None)
    remaining = next((b.amount for b in amounts if b.period == codes.REMAINING), None)
    if total is None and remaining is None:
        return None
    return total, remaining


def _therapy(benefits: Sequence[Benefit]) -> tuple[TherapyBenefit | None, tuple[str, ...]]:
    excluded = tuple(
        code for code in codes.THERAPY_SERVICE_TYPES
        if any(b.code == codes.NOT_COVERED and code in b.service_types for b in benefits)
    )
    for code in codes.THERAPY_SERVICE_TYPES:
        scope = _preferred(b for b in benefits if code in b.service_types)
        if scope:
            others = tuple(c for c in excluded if c != code)
            return _therapy_benefit(code, scope), others
    return None, excluded


def _therapy_benefit(code: str, scope: list[Benefit]) -> TherapyBenefit:
    copay = next((b.amount for b in scope if b.code == codes.COPAY and b.amount is not None),
                 None)
    coinsurance = next((b.percent for b in scope
                        if b.code == codes.COINSURANCE and b.percent is not None), None)
    limit, remaining, period = _visits(scope)
    # An EB naming a procedure (EB13) speaks for that code only, not the whole benefit.
    flags = {b.authorization for b in scope if not b.procedure}
    networks = {b.in_network for b in scope}
    per_code = tuple(dict.fromkeys(
        b.procedure.partition(":")[2] or b.procedure
        for b in scope if b.procedure and b.authorization == "Y"
    ))
    return TherapyBenefit(
        service_type=code,
        covered=not any(b.code == codes.NOT_COVERED for b in scope),
        copay=copay,
        coinsurance=coinsurance,
        visit_limit=limit,
        visits_remaining=remaining,
        period=period,
        authorization_required=True if "Y" in flags else False if "N" in flags else None,
        authorization_after_visits=_authorization_after(m for b in scope for m in b.messages),
        in_network=True if "Y" in networks else False if "N" in networks else None,
        authorization_codes=per_code,
    )


def _whole(value: Decimal | None) -> int | None:
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


def _visits(scope: Sequence[Benefit]) -> tuple[int | None, int | None, str]:
    limits = [b for b in scope if b.code == codes.LIMITATION and b.quantity is not None]
    limit_benefit = next(
        (b for b in limits
         if b.quantity_qualifier in codes.VISIT_QUANTITIES and b.period != codes.REMAINING),
        None,
    )
    remaining = next(
        (_whole(b.quantity) for b in limits
         if b.period == codes.REMAINING and b.quantity_qualifier != codes.QUANTITY_USED),
        None,
    )
    used = next((_whole(b.quantity) for b in limits
                 if b.quantity_qualifier == codes.QUANTITY_USED), None)
    limit = _whole(limit_benefit.quantity) if limit_benefit else None
    if remaining is None and limit is not None and used is not None:
        remaining = max(limit - used, 0)
    return limit, remaining, limit_benefit.period if limit_benefit else ""


def _authorization_after(messages: Iterable[str]) -> int | None:
    for message in messages:
        found = _AUTH_AFTER.search(message)
        if found:
            return int(found.group(1) or found.group(2))
        if _AUTH_FIRST.search(message):
            return 0
    return None


# -- plain words ---------------------------------------------------------------------------------


def dollars(amount: Cents) -> str:
    """$25 for whole dollars, $25.50 otherwise: how a front desk says a copay."""
    shown = amount.display()
    return shown[:-3] if shown.endswith(".00") else shown


def _percent_text(fraction: Decimal | None) -> str | None:
    if fraction is None:
        return None
    # Payers send 0.2 or 20 for twenty percent; a value above 1 is already a percent.
    value = fraction * 100 if fraction <= 1 else fraction
    return f"{value.normalize():f}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _therapy_words(therapy: TherapyBenefit) -> str:
    parts: list[str] = []
    if therapy.copay is not None:
        parts.append(f"{dollars(therapy.copay)} copay")
    if therapy.coinsurance is not None:
        parts.append(f"{_percent_text(therapy.coinsurance)}% coinsurance")
    period = codes.TIME_PERIODS.get(therapy.period, "")
    period = f" {period}" if period else ""
    if therapy.visit_limit is not None and therapy.visits_remaining is not None:
        parts.append(f"{therapy.visits_remaining} of {_plural(therapy.visit_limit, 'visit')} "
                     f"left{period}")
    elif therapy.visit_limit is not None:
        parts.append(f"{_plural(therapy.visit_limit, 'visit')}{period}")
    elif therapy.visits_remaining is not None:
        parts.append(f"{_plural(therapy.visits_remaining, 'visit')} left")
    if therapy.authorization_after_visits is not None:
        after = therapy.authorization_after_visits
        parts.append("authorization required from the first visit" if after == 0
                     else f"authorization required after {_plural(after, 'visit')}")
    elif therapy.authorization_required:
        parts.append("authorization required")
    if therapy.authorization_codes:
        parts.append(f"authorization required for {', '.join(therapy.authorization_codes)}")
    if therapy.in_network is False:
        parts.append("out of network")
    return ", ".join(parts) if parts else "covered, no details given"


def describe(summary: EligibilitySummary) -> str:
    """The answer in a few plain sentences, the most important first."""
    sentences: list[str] = []
    therapy = summary.therapy
    if summary.status is CoverageStatus.REJECTED:
        sentences.append("Not confirmed: the payer rejected the check.")
        for rejection in summary.rejections:
            reason = codes.rejection_reason(rejection.code)
            sentences.append(f"{_capital(reason.words)} (AAA {rejection.code}). "
                             f"Fix: {reason.fix}")
        return " ".join(sentences)
    if summary.status is CoverageStatus.INACTIVE:
        ended = (f": coverage ended {summary.coverage_end.isoformat()}"
                 if summary.coverage_end is not None else
                 f" on {summary.service_date.isoformat()}")
        sentences.append(f"Inactive{ended}.")
        sentences.append("Ask the patient for their current insurance card and check again, "
                         "or see them as self-pay.")
        return " ".join(sentences)
    if summary.status is CoverageStatus.UNKNOWN:
        sentences.append("The payer answered without saying whether the coverage is active; "
                         "call the payer to confirm.")
    elif summary.covers(summary.service_date) is False:
        sentences.append(f"Not active on {summary.service_date.isoformat()}: the payer reports "
                         f"coverage {_span(summary)}.")
    elif therapy is None:
        sentences.append("Active. The payer said nothing about physical medicine or massage; "
                         "call to confirm the massage benefit.")
    elif not therapy.covered:
        sentences.append(f"Active, but {therapy.label.lower()} is not covered under this plan: "
                         "visits will be denied as non-covered. Tell the patient before the "
                         "visit and agree how they will pay.")
    else:
        sentences.append(f"Active. {therapy.label}: {_therapy_words(therapy)}.")
    if summary.not_covered:
        listed = ", ".join(codes.service_type_label(c).lower() for c in summary.not_covered)
        sentences.append(f"Not covered: {listed}.")
    if summary.deductible_remaining is not None and summary.deductible is not None:
        sentences.append(f"Deductible: {dollars(summary.deductible_remaining)} of "
                         f"{dollars(summary.deductible)} left.")
    elif summary.deductible is not None:
        sentences.append(f"Deductible: {dollars(summary.deductible)}.")
    if summary.messages:
        notes = "; ".join(sentence_case(m).rstrip(".") for m in summary.messages)
        label = "Payer's note" if len(summary.messages) == 1 else "Payer's notes"
        sentences.append(f"{label}: {_capital(notes)}")
    return " ".join(s if s.endswith((".", "!", "?")) else s + "." for s in sentences)


def _span(summary: EligibilitySummary) -> str:
    start = summary.coverage_start.isoformat() if summary.coverage_start else "…"
    end = summary.coverage_end.isoformat() if summary.coverage_end else "open"
    return f"from {start} to {end}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence_case(text: str) -> str:
    """Payers shout (all capitals); codes such as 97124 or 225700000X keep their case."""
    words = [w if any(ch.isdigit() for ch in w) else w.lower() for w in text.split()]
    return " ".join(words)


def _alerts(summary: EligibilitySummary) -> list[str]:
    alerts: list[str] = []
    if summary.status is CoverageStatus.REJECTED:
        for rejection in summary.rejections:
            reason = codes.rejection_reason(rejection.code)
            alerts.append(f"Eligibility not confirmed: {reason.words}. {reason.fix}")
        return alerts
    if summary.status is CoverageStatus.INACTIVE or summary.covers(summary.service_date) is False:
        alerts.append("Coverage is not active on the visit date: get the current card or see "
                      "the patient as self-pay.")
        return alerts
    therapy = summary.therapy
    if therapy is None:
        return alerts
    if not therapy.covered:
        alerts.append(f"{therapy.label} is not covered: tell the patient before the visit.")
        return alerts
    left = therapy.visits_remaining
    if left is not None and left <= 0:
        alerts.append("No visits left this year: the payer will deny the next visit.")
    elif left is not None and left <= FEW_VISITS_LEFT:
        alerts.append(f"Only {_plural(left, 'visit')} left: tell the patient before the cap "
                      "is reached.")
    if therapy.authorization_required:
        after = therapy.authorization_after_visits
        when = ("" if after is None else " from the first visit" if after == 0
                else f" after {_plural(after, 'visit')}")
        alerts.append(f"Authorization required{when}: make sure one is on file.")
    if therapy.authorization_codes:
        alerts.append(f"Authorization required for {', '.join(therapy.authorization_codes)}: "
                      "get one before billing those codes.")
    return alerts
