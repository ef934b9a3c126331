"""What an eligibility check asks and what the payer answers, as plain values.

The 270 writer and the 271 reader (``handbill.x12.eligibility``) turn these into X12 text and
back; the payer sandbox (``handbill.core.sandbox_eligibility``) answers a request with an
answer; ``handbill.core.eligibility`` says what an answer means in plain words. Answers are
stored as JSON (:meth:`EligibilityAnswer.to_json`), so every field has a JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from handbill.core.money import Cents


class EligibilityValueError(ValueError):
    """Stored eligibility JSON that cannot be read back; names the field."""


@dataclass(frozen=True, slots=True)
class Member:
    """The subscriber (card holder) or a dependent, as the payer knows them."""

    last_name: str
    first_name: str = ""
    middle_name: str = ""
    member_id: str = ""  # NM109 (MI); a dependent usually has none of their own
    birth_date: date | None = None
    sex: str = ""  # F or M; empty when unknown
    group_number: str = ""  # REF*6P
    # A dependent's relationship to the subscriber (INS02): 01 spouse, 19 child, 34 other.
    relationship: str = ""

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class Provider:
    """Who asks (the information receiver, loop 2100B): the practice's NPI as a rule."""

    identifier: str
    organization_name: str = ""  # NM102 = 2
    last_name: str = ""  # NM102 = 1, a solo therapist billing under her own NPI
    first_name: str = ""
    id_qualifier: str = "XX"  # XX = NPI
    taxonomy: str = ""  # PRV*PE*PXC: lets the payer answer for this provider type

    @property
    def person(self) -> bool:
        return not self.organization_name

    @property
    def display_name(self) -> str:
        if self.organization_name:
            return self.organization_name
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class EligibilityRequest:
    """One 270 inquiry: is this person covered on this date, and for what?"""

    trace_number: str  # TRN02 (and BHT03): the 271 echoes it, so the answer finds its check
    originator_id: str  # TRN03: ten characters, "1" followed by the practice's EIN
    payer_name: str
    payer_id: str
    provider: Provider
    subscriber: Member
    service_date: date
    service_types: tuple[str, ...]
    dependent: Member | None = None  # the patient, when not the subscriber


@dataclass(frozen=True, slots=True)
class Rejection:
    """An AAA segment: the payer could not (or would not) answer part of the request."""

    code: str  # AAA03
    follow_up: str = ""  # AAA04
    level: str = ""  # payer, provider, subscriber, dependent or benefit
    # AAA01: Y = the request was valid and the answer is no; N = the request was not valid.
    valid_request: bool = False


@dataclass(frozen=True, slots=True)
class DatePeriod:
    """A DTP: one date (D8) or an inclusive range (RD8)."""

    qualifier: str  # DTP01: 346 plan begin, 347 plan end, 291 plan, 356/357 eligibility …
    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Benefit:
    """One EB segment with what belongs to it (dates, messages, rejections)."""

    code: str  # EB01
    coverage_level: str = ""  # EB02: IND, FAM …
    service_types: tuple[str, ...] = ()  # EB03 (repeats)
    insurance_type: str = ""  # EB04
    plan: str = ""  # EB05
    period: str = ""  # EB06
    amount: Cents | None = None  # EB07
    percent: Decimal | None = None  # EB08, a fraction: 0.2 is 20%
    quantity_qualifier: str = ""  # EB09: VS visits, 99 quantity used …
    quantity: Decimal | None = None  # EB10
    authorization: str = ""  # EB11: Y, N or U
    in_network: str = ""  # EB12: Y, N, U or W (not applicable)
    procedure: str = ""  # EB13-2 with its qualifier EB13-1 as "HC:97124"
    dates: tuple[DatePeriod, ...] = ()
    messages: tuple[str, ...] = ()
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    """The 271's answer about one patient (a subscriber, or a dependent under one)."""

    trace_number: str  # our TRN02, echoed in a TRN*2
    reference: str  # BHT03: the request's reference, echoed
    payer_name: str
    payer_id: str
    provider: Provider
    subscriber: Member
    dependent: Member | None = None
    originator_id: str = ""
    dates: tuple[DatePeriod, ...] = ()  # the patient's plan and eligibility dates (2100C/D)
    benefits: tuple[Benefit, ...] = ()
    rejections: tuple[Rejection, ...] = ()  # AAA of the payer, provider and patient loops
    control_number: str = ""  # ST02 of the 271

    @property
    def patient(self) -> Member:
        return self.dependent if self.dependent is not None else self.subscriber

    def to_json(self) -> dict[str, Any]:
        return {
            "trace_number": self.trace_number,
            "reference": self.reference,
            "originator_id": self.originator_id,
            "control_number": self.control_number,
            "payer": {"name": self.payer_name, "id": self.payer_id},
            "provider": _provider_json(self.provider),
            "subscriber": _member_json(self.subscriber),
            "dependent": _member_json(self.dependent) if self.dependent else None,
            "dates": [_date_json(d) for d in self.dates],
            "benefits": [_benefit_json(b) for b in self.benefits],
            "rejections": [_rejection_json(r) for r in self.rejections],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EligibilityAnswer:
        try:
            payer = data["payer"]
            dependent = data.get("dependent")
            return cls(
                trace_number=str(data["trace_number"]),
                reference=str(data.get("reference", "")),
                originator_id=str(data.get("originator_id", "")),
                control_number=str(data.get("control_number", "")),
                payer_name=str(payer["name"]),
                payer_id=str(payer["id"]),
                provider=_provider_from(data["provider"]),
                subscriber=_member_from(data["subscriber"]),
                dependent=_member_from(dependent) if dependent else None,
                dates=tuple(_date_from(d) for d in data.get("dates", [])),
                benefits=tuple(_benefit_from(b) for b in data.get("benefits", [])),
                rejections=tuple(_rejection_from(r) for r in data.get("rejections", [])),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise EligibilityValueError(
                f"stored eligibility answer cannot be read ({type(exc).__name__}: {exc})"
            ) from None


# -- JSON forms ----------------------------------------------------------------------------------


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if text else None


def _provider_json(p: Provider) -> dict[str, str]:
    return {"identifier": p.identifier, "id_qualifier": p.id_qualifier,
            "organization_name": p.organization_name, "last_name": p.last_name,
            "first_name": p.first_name, "taxonomy": p.taxonomy}


def _provider_from(d: dict[str, Any]) -> Provider:
    return Provider(identifier=d["identifier"], id_qualifier=d.get("id_qualifier", "XX"),
                    organization_name=d.get("organization_name", ""),
                    last_name=d.get("last_name", ""), first_name=d.get("first_name", ""),
                    taxonomy=d.get("taxonomy", ""))


def _member_json(m: Member) -> dict[str, Any]:
    return {"last_name": m.last_name, "first_name": m.first_name,
            "middle_name": m.middle_name, "member_id": m.member_id,
            "birth_date": _iso(m.birth_date), "sex": m.sex, "group_number": m.group_number,
            "relationship": m.relationship}


def _member_from(d: dict[str, Any]) -> Member:
    return Member(last_name=d["last_name"], first_name=d.get("first_name", ""),
                  middle_name=d.get("middle_name", ""), member_id=d.get("member_id", ""),
                  birth_date=_day(d.get("birth_date")), sex=d.get("sex", ""),
                  group_number=d.get("group_number", ""),
                  relationship=d.get("relationship", ""))


def _date_json(d: DatePeriod) -> dict[str, Any]:
    return {"qualifier": d.qualifier, "start": d.start.isoformat(), "end": _iso(d.end)}


def _date_from(d: dict[str, Any]) -> DatePeriod:
    start = _day(d["start"])
    if start is None:
        raise ValueError("a date period needs its start")
    return DatePeriod(qualifier=d["qualifier"], start=start, end=_day(d.get("end")))


def _rejection_json(r: Rejection) -> dict[str, Any]:
    return {"code": r.code, "follow_up": r.follow_up, "level": r.level,
            "valid_request": r.valid_request}


def _rejection_from(d: dict[str, Any]) -> Rejection:
    return Rejection(code=d["code"], follow_up=d.get("follow_up", ""),
                     level=d.get("level", ""), valid_request=bool(d.get("valid_request")))


def _benefit_json(b: Benefit) -> dict[str, Any]:
    return {
        "code": b.code, "coverage_level": b.coverage_level,
        "service_types": list(b.service_types), "insurance_type": b.insurance_type,
        "plan": b.plan, "period": b.period,
        "amount": b.amount.to_decimal_string() if b.amount is not None else None,
        "percent": str(b.percent) if b.percent is not None else None,
        "quantity_qualifier": b.quantity_qualifier,
        "quantity": str(b.quantity) if b.quantity is not None else None,
        "authorization": b.authorization, "in_network": b.in_network,
        "procedure": b.procedure,
        "dates": [_date_json(d) for d in b.dates],
        "messages": list(b.messages),
        "rejections": [_rejection_json(r) for r in b.rejections],
    }


def _benefit_from(d: dict[str, Any]) -> Benefit:
    amount, percent, quantity = d.get("amount"), d.get("percent"), d.get("quantity")
    return Benefit(
        code=d["code"], coverage_level=d.get("coverage_level", ""),
        service_types=tuple(d.get("service_types", [])),
        insurance_type=d.get("insurance_type", ""), plan=d.get("plan", ""),
        period=d.get("period", ""),
        amount=Cents.parse(amount) if amount is not None else None,
        percent=Decimal(percent) if percent is not None else None,
        quantity_qualifier=d.get("quantity_qualifier", ""),
        quantity=Decimal(quantity) if quantity is not None else None,
        authorization=d.get("authorization", ""), in_network=d.get("in_network", ""),
        procedure=d.get("procedure", ""),
        dates=tuple(_date_from(x) for x in d.get("dates", [])),
        messages=tuple(d.get("messages", [])),
        rejections=tuple(_rejection_from(x) for x in d.get("rejections", [])),
    )
