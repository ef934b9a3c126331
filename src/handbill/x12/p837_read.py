"""Reading an 837P transaction set back into Handbill's outbound claim values.

``read_837(transaction)`` walks the segments of one tokenised ST … SE and builds the same
``OutClaim`` values the writer takes, loop by loop, keeping only one transaction's claims in
memory. Segments Handbill does not model (ambulance, DME, notes …) are skipped.
``Transaction837.as_dict()`` is the JSON summary the ``handbill x12 read`` command prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from handbill.core.money import Cents, MoneyError
from handbill.core.outbound import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimGroup,
    Facility,
    LineAdjudication,
    OutClaim,
    OutLine,
    Patient,
    Payer,
    PayerResponsibility,
    PersonName,
    PriorPayer,
    ProviderRef,
    Receiver,
    RelatedCause,
    Submitter,
    Subscriber,
    TaxIdQualifier,
)
from handbill.x12.tokens import X12Error


class X12ReadError(X12Error):
    """An 837P that cannot be read into claim values; says which segment and why.

    A kind of the tokenizer's :class:`X12Error`, so a caller that handles envelope errors
    handles these too.
    """


# One segment as the reader takes it: the tag, then the raw element texts (composites still
# joined by the component separator).
RawSegment = Sequence[str]


@dataclass(frozen=True, slots=True)
class Transaction837:
    """One 837P transaction set read back into Handbill's outbound claim values."""

    control_number: str  # ST02
    batch_id: str  # BHT03
    purpose: str  # BHT02: 00 original, 18 reissue
    created_on: date | None  # BHT04
    created_time: str  # BHT05 as written (HHMM, HHMMSS …)
    submitter: Submitter
    receiver: Receiver
    groups: tuple[ClaimGroup, ...]

    @property
    def claims(self) -> tuple[OutClaim, ...]:
        return tuple(claim for group in self.groups for claim in group.claims)

    def as_dict(self) -> dict[str, Any]:
        return {
            "transaction_set": "837",
            "control_number": self.control_number,
            "batch_id": self.batch_id,
            "purpose": self.purpose,
            "created_on": self.created_on.isoformat() if self.created_on else None,
            "created_time": self.created_time,
            "submitter": {"name": self.submitter.name, "id": self.submitter.etin,
                          "contact": self.submitter.contact_name,
                          "phone": self.submitter.phone},
            "receiver": {"name": self.receiver.name, "id": self.receiver.etin},
            "claim_count": sum(len(group.claims) for group in self.groups),
            "billing_providers": [
                {**billing_summary(group.billing),
                 "claims": [claim_summary(claim) for claim in group.claims]}
                for group in self.groups
            ],
        }


def _address_dict(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    return {"line1": address.line1, "line2": address.line2, "city": address.city,
            "state": address.state, "postal_code": address.postal_code}


def _name_dict(name: PersonName) -> dict[str, str]:
    return {"last": name.last, "first": name.first, "middle": name.middle,
            "suffix": name.suffix}


def _provider_dict(provider: ProviderRef | None) -> dict[str, Any] | None:
    if provider is None:
        return None
    return {"name": _name_dict(provider.name), "npi": provider.npi,
            "taxonomy": provider.taxonomy, "qualifier": provider.qualifier}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def billing_summary(billing: BillingProvider) -> dict[str, Any]:
    return {
        "name": billing.display_name, "entity": "person" if billing.person else "organization",
        "npi": billing.npi, "tax_id": billing.tax_id,
        "tax_id_qualifier": billing.tax_id_qualifier.value, "taxonomy": billing.taxonomy,
        "address": _address_dict(billing.address),
        "pay_to_address": _address_dict(billing.pay_to_address),
    }


def _subscriber_dict(sub: Subscriber) -> dict[str, Any]:
    return {
        "name": _name_dict(sub.name), "member_id": sub.member_id,
        "birth_date": _iso(sub.birth_date), "sex": sub.sex,
        "address": _address_dict(sub.address), "responsibility": sub.responsibility.value,
        "claim_filing_indicator": sub.claim_filing_indicator,
        "group_number": sub.group_number, "plan_name": sub.plan_name,
    }


def _adjustments_list(adjustments: Sequence[Adjustment]) -> list[dict[str, Any]]:
    return [{"group": a.group, "reason": a.reason, "amount": a.amount.to_decimal_string(),
             "quantity": a.quantity} for a in adjustments]


def claim_summary(claim: OutClaim) -> dict[str, Any]:
    """A claim as plain JSON values (money as decimal strings, dates ISO)."""
    patient = claim.patient
    return {
        "claim_id": claim.claim_id,
        "total_charge": claim.total_charge.to_decimal_string(),
        "place_of_service": claim.place_of_service,
        "frequency": claim.frequency,
        "diagnoses": list(claim.diagnoses),
        "subscriber": _subscriber_dict(claim.subscriber),
        "patient": None if patient is None else {
            "name": _name_dict(patient.name), "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex, "relationship": patient.relationship,
            "address": _address_dict(patient.address),
        },
        "payer": {"name": claim.payer.name, "payer_id": claim.payer.payer_id,
                  "address": _address_dict(claim.payer.address)},
        "payer_claim_number": claim.payer_claim_number,
        "prior_authorization": claim.prior_authorization,
        "referral_number": claim.referral_number,
        "onset_date": _iso(claim.onset_date),
        "related_causes": [cause.value for cause in claim.related_causes],
        "accident_state": claim.accident_state,
        "accident_date": _iso(claim.accident_date),
        "property_casualty_claim_number": claim.property_casualty_claim_number,
        "patient_paid": claim.patient_paid.to_decimal_string(),
        "signature_on_file": claim.signature_on_file,
        "assignment_accepted": claim.assignment_accepted,
        "rendering": _provider_dict(claim.rendering),
        "referring": _provider_dict(claim.referring),
        "facility": None if claim.facility is None else {
            "name": claim.facility.name, "npi": claim.facility.npi,
            "address": _address_dict(claim.facility.address),
        },
        "prior_payers": [
            {
                "payer": {"name": prior.payer.name, "payer_id": prior.payer.payer_id},
                "subscriber": _subscriber_dict(prior.subscriber),
                "relationship": prior.relationship,
                "paid": prior.paid.to_decimal_string(),
                "remaining_patient_liability": (
                    None if prior.remaining_patient_liability is None
                    else prior.remaining_patient_liability.to_decimal_string()),
                "adjudicated_on": prior.adjudicated_on.isoformat(),
                "payer_claim_number": prior.payer_claim_number,
                "claim_adjustments": _adjustments_list(prior.claim_adjustments),
                "lines": [
                    {"control_number": a.control_number, "code": a.code,
                     "modifiers": list(a.modifiers), "paid": a.paid.to_decimal_string(),
                     "units": a.units, "adjudicated_on": a.adjudicated_on.isoformat(),
                     "adjustments": _adjustments_list(a.adjustments)}
                    for a in prior.line_adjudications
                ],
            }
            for prior in claim.prior_payers
        ],
        "lines": [
            {
                "number": line.number, "code": line.code, "modifiers": list(line.modifiers),
                "charge": line.charge.to_decimal_string(), "units": line.units,
                "pointers": list(line.pointers),
                "date_of_service": line.date_of_service.isoformat(),
                "date_of_service_end": _iso(line.date_of_service_end),
                "control_number": line.control_number,
                "place_of_service": line.place_of_service,
            }
            for line in claim.lines
        ],
    }


class SegmentSource(Protocol):
    """What :func:`read_837` needs from a tokenised transaction set."""

    @property
    def segments(self) -> Sequence[RawSegment]: ...

    @property
    def component_separator(self) -> str: ...


def read_837(transaction: SegmentSource) -> Transaction837:
    """Read one tokenised 837P transaction set (ST … SE) into claim values.

    ``transaction`` is what ``handbill.x12.tokens.iter_transactions`` yields (anything with
    ``segments`` and ``component_separator``). Problems raise :class:`X12ReadError` naming
    the segment by its position in the file.
    """
    segments, component, first = segments_of(transaction)
    reader = _Reader(component)
    position, tag = first, "ST"
    try:
        for index, segment in enumerate(segments):
            position, tag = first + index, segment[0] if segment else ""
            reader.feed(segment)
        return reader.finish()
    except X12Error as exc:
        raise X12ReadError(exc.reason, position=position, segment_id=tag) from None
    except (MoneyError, ValueError, IndexError) as exc:
        raise X12ReadError(str(exc), position=position, segment_id=tag) from None


def segments_of(transaction: SegmentSource) -> tuple[Sequence[RawSegment], str, int]:
    """The segments, the component separator and the file position of the first segment."""
    start = getattr(transaction, "start", 1)
    return transaction.segments, transaction.component_separator, start if isinstance(
        start, int) else 1


def element_at(segment: RawSegment, index: int) -> str:
    """Element ``index`` (1-based, like the IG's SV104) or "" when the segment is shorter."""
    return segment[index] if index < len(segment) else ""


def _date(text: str, what: str) -> date:
    if len(text) != 8 or not text.isdigit():
        raise X12ReadError(f"{what} {text!r} is not a CCYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise X12ReadError(f"{what} {text!r} is not a calendar date") from None


def _units(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise X12ReadError(f"service units {text!r} are not a number") from None
    if value != value.to_integral_value():
        raise X12ReadError(f"service units {text!r} are not whole; Handbill reads whole units")
    return int(value)


def _icd_from_x12(qualifier: str, code: str) -> str:
    # ICD-10-CM (ABK/ABF) travels without its dot, which always follows the third character;
    # ICD-9 codes (BK/BF, old files) are kept as written.
    if qualifier in ("ABK", "ABF") and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


@dataclass
class _BillingDraft:
    npi: str = ""
    name: str = ""
    person: PersonName | None = None
    taxonomy: str = ""
    tax_id: str = ""
    tax_qualifier: str = ""
    address: Address | None = None
    pay_to: Address | None = None
    phone: str = ""
    contact: str = ""
    claims: list[OutClaim] = field(default_factory=list)

    def build(self) -> BillingProvider:
        if self.address is None:
            raise X12ReadError(f"billing provider {self.npi or self.name!r} has no address "
                               "(2010AA N3/N4)")
        try:
            qualifier = TaxIdQualifier(self.tax_qualifier)
        except ValueError:
            raise X12ReadError(f"billing provider {self.npi!r} has no tax ID (2010AA REF*EI "
                               "or REF*SY)") from None
        return BillingProvider(
            npi=self.npi, tax_id=self.tax_id, tax_id_qualifier=qualifier,
            taxonomy=self.taxonomy, address=self.address, organization_name=self.name,
            person=self.person, phone=self.phone, contact_name=self.contact,
            pay_to_address=self.pay_to,
        )


def _responsibility(code: str) -> PayerResponsibility:
    try:
        return PayerResponsibility(code)
    except ValueError:
        raise X12ReadError(f"payer sequence (SBR01) {code!r} is not P, S or T; Handbill reads "
                           "primary, secondary and tertiary only") from None


@dataclass
class _SubscriberDraft:
    responsibility: str = ""
    relationship: str = ""
    group_number: str = ""
    plan_name: str = ""
    insurance_type: str = ""
    filing: str = ""
    name: PersonName = field(default_factory=lambda: PersonName(""))
    member_id: str = ""
    address: Address | None = None
    birth_date: date | None = None
    sex: str = ""
    casualty_claim_number: str = ""
    built: Subscriber | None = None  # the claims of one 2000B share one value

    def build(self) -> Subscriber:
        if self.built is not None:
            return self.built
        responsibility = _responsibility(self.responsibility)
        self.built = Subscriber(
            name=self.name, member_id=self.member_id, birth_date=self.birth_date,
            sex=self.sex, address=self.address, responsibility=responsibility,
            claim_filing_indicator=self.filing, group_number=self.group_number,
            plan_name=self.plan_name, insurance_type_code=self.insurance_type,
        )
        return self.built


@dataclass
class _PatientDraft:
    relationship: str = ""
    name: PersonName = field(default_factory=lambda: PersonName(""))
    address: Address | None = None
    birth_date: date | None = None
    sex: str = ""
    casualty_claim_number: str = ""
    built: Patient | None = None

    def build(self) -> Patient:
        if self.built is not None:
            return self.built
        if self.address is None or self.birth_date is None:
            raise X12ReadError(f"patient {self.name.last!r} lacks the address or date of "
                               "birth the 2010CA loop requires")
        self.built = Patient(name=self.name, birth_date=self.birth_date, sex=self.sex,
                             address=self.address, relationship=self.relationship)
        return self.built


@dataclass
class _LineAdjudicationDraft:
    payer_id: str
    paid: Cents
    code: str
    modifiers: tuple[str, ...]
    units: int
    adjustments: list[Adjustment] = field(default_factory=list)
    adjudicated_on: date | None = None


@dataclass
class _LineDraft:
    number: int
    code: str = ""
    modifiers: tuple[str, ...] = ()
    charge: Cents = Cents(0)
    units: int = 0
    place_of_service: str = ""
    pointers: tuple[int, ...] = ()
    date_of_service: date | None = None
    date_of_service_end: date | None = None
    control_number: str = ""
    adjudications: list[_LineAdjudicationDraft] = field(default_factory=list)

    def build(self, claim_id: str) -> OutLine:
        if self.date_of_service is None:
            raise X12ReadError(f"claim {claim_id} line {self.number} has no date of service "
                               "(DTP*472)")
        return OutLine(
            number=self.number, code=self.code, modifiers=self.modifiers, charge=self.charge,
            units=self.units, pointers=self.pointers, date_of_service=self.date_of_service,
            control_number=self.control_number, place_of_service=self.place_of_service,
            date_of_service_end=self.date_of_service_end,
        )


@dataclass
class _PriorDraft:
    subscriber: _SubscriberDraft
    claim_adjustments: list[Adjustment] = field(default_factory=list)
    paid: Cents = Cents(0)
    payer_name: str = ""
    payer_id: str = ""
    payer_address: Address | None = None
    adjudicated_on: date | None = None
    payer_claim_number: str = ""
    remaining_patient_liability: Cents | None = None


@dataclass
class _ClaimDraft:
    claim_id: str
    total_charge: Cents
    place_of_service: str
    frequency: str
    signature_on_file: bool
    assignment_accepted: bool
    related_causes: tuple[RelatedCause, ...]
    accident_state: str
    diagnoses: tuple[str, ...] = ()
    onset_date: date | None = None
    accident_date: date | None = None
    patient_paid: Cents = Cents(0)
    referral_number: str = ""
    prior_authorization: str = ""
    payer_claim_number: str = ""
    referring: ProviderRef | None = None
    rendering: ProviderRef | None = None
    facility_name: str = ""
    facility_npi: str = ""
    facility_address: Address | None = None
    priors: list[_PriorDraft] = field(default_factory=list)
    lines: list[_LineDraft] = field(default_factory=list)
    ordering: ProviderRef | None = None


def _causes(codes: Sequence[str]) -> tuple[RelatedCause, ...]:
    try:
        return tuple(RelatedCause(code) for code in codes if code)
    except ValueError:
        raise X12ReadError(f"related cause (CLM11) {list(codes)!r} is not AA, EM or OA") from None


class _Reader:
    """Walks the segments of one 837P and builds the claim values loop by loop."""

    def __init__(self, component: str) -> None:
        self.component = component
        self.loop = "header"
        self.control_number = ""
        self.batch_id = ""
        self.purpose = ""
        self.created_on: date | None = None
        self.created_time = ""
        self.submitter = Submitter("", "", "", "")
        self.receiver = Receiver("", "")
        self.groups: list[ClaimGroup] = []
        self.billing: _BillingDraft | None = None
        self.subscriber: _SubscriberDraft | None = None
        self.payer: Payer | None = None
        self.patient: _PatientDraft | None = None
        self.claim: _ClaimDraft | None = None
        self.line: _LineDraft | None = None
        self.prior: _PriorDraft | None = None
        self.line_adjudication: _LineAdjudicationDraft | None = None
        self.hl_parents: dict[str, str] = {}

    # -- helpers -----------------------------------------------------------------------------

    def split(self, text: str) -> list[str]:
        return text.split(self.component)

    el = staticmethod(element_at)

    def person(self, segment: RawSegment) -> PersonName:
        el = self.el
        return PersonName(el(segment, 3), el(segment, 4), el(segment, 5), el(segment, 7))

    def address_line(self, segment: RawSegment) -> Address:
        el = self.el
        return Address(el(segment, 1), "", "", "", el(segment, 2))

    def with_city(self, street: Address | None, segment: RawSegment) -> Address:
        el = self.el
        base = street or Address("", "", "", "")
        return Address(base.line1, el(segment, 1), el(segment, 2), el(segment, 3), base.line2)

    def need_claim(self) -> _ClaimDraft:
        if self.claim is None:
            raise X12ReadError("this segment belongs inside a claim (after CLM)")
        return self.claim

    def need_line(self) -> _LineDraft:
        if self.line is None:
            raise X12ReadError("this segment belongs inside a service line (after LX)")
        return self.line

    # -- segments ----------------------------------------------------------------------------

    def feed(self, segment: RawSegment) -> None:
        if not segment:
            return
        handler = getattr(self, f"seg_{segment[0]}", None)
        if handler is not None:
            handler(segment)
        # Segments Handbill does not model (CR1, PWK, NTE, FRM …) are skipped on purpose.

    def seg_ST(self, s: RawSegment) -> None:
        if self.el(s, 1) != "837":
            raise X12ReadError(f"this is a {self.el(s, 1)} transaction set, not an 837")
        self.control_number = self.el(s, 2)

    def seg_BHT(self, s: RawSegment) -> None:
        self.purpose = self.el(s, 2)
        self.batch_id = self.el(s, 3)
        self.created_on = _date(self.el(s, 4), "BHT04 creation date") if self.el(s, 4) else None
        self.created_time = self.el(s, 5)

    def seg_HL(self, s: RawSegment) -> None:
        self.end_claim()
        level = self.el(s, 3)
        if level == "20":
            self.end_billing()
            self.billing = _BillingDraft()
            self.loop = "2000A"
        elif level == "22":
            if self.billing is None:
                raise X12ReadError("a subscriber level (HL 22) comes before any billing provider")
            self.subscriber = _SubscriberDraft()
            self.payer = None
            self.patient = None
            self.loop = "2000B"
        elif level == "23":
            if self.subscriber is None:
                raise X12ReadError("a patient level (HL 23) comes before any subscriber")
            self.patient = _PatientDraft()
            self.loop = "2000C"
        else:
            raise X12ReadError(f"hierarchical level code {level!r} is not 20, 22 or 23")

    def seg_PRV(self, s: RawSegment) -> None:
        if self.loop == "2000A" and self.billing is not None:
            self.billing.taxonomy = self.el(s, 3)
        elif self.loop == "2310B" and self.claim is not None and self.claim.rendering:
            rendering = self.claim.rendering
            self.claim.rendering = ProviderRef(rendering.name, rendering.npi, self.el(s, 3),
                                               rendering.qualifier)

    def seg_NM1(self, s: RawSegment) -> None:
        entity = self.el(s, 1)
        el = self.el
        in_line = self.line is not None
        if entity == "41":
            self.loop = "1000A"
            self.submitter = Submitter(el(s, 3), el(s, 9), "", "")
        elif entity == "40":
            self.loop = "1000B"
            self.receiver = Receiver(el(s, 3), el(s, 9))
        elif entity == "85" and self.billing is not None and self.claim is None:
            self.loop = "2010AA"
            self.billing.npi = el(s, 9)
            if el(s, 2) == "1":
                self.billing.person = self.person(s)
            else:
                self.billing.name = el(s, 3)
        elif entity == "87" and self.billing is not None and self.claim is None:
            self.loop = "2010AB"
        elif entity == "IL" and self.claim is not None and self.prior is not None:
            self.loop = "2330A"
            self.prior.subscriber.name = self.person(s)
            self.prior.subscriber.member_id = el(s, 9)
        elif entity == "IL" and self.subscriber is not None:
            self.loop = "2010BA"
            self.subscriber.name = self.person(s)
            self.subscriber.member_id = el(s, 9)
        elif entity == "PR" and self.claim is not None and self.prior is not None:
            self.loop = "2330B"
            self.prior.payer_name = el(s, 3)
            self.prior.payer_id = el(s, 9)
        elif entity == "PR" and self.subscriber is not None:
            self.loop = "2010BB"
            self.payer = Payer(el(s, 3), el(s, 9))
        elif entity == "QC" and self.patient is not None:
            self.loop = "2010CA"
            self.patient.name = self.person(s)
        elif (entity in ("DN", "P3") and self.claim is not None and not in_line
              and self.prior is None):
            self.loop = "2310A"
            if self.claim.referring is None:
                self.claim.referring = ProviderRef(self.person(s), el(s, 9), qualifier=entity)
        elif entity == "82" and self.claim is not None and not in_line and self.prior is None:
            self.loop = "2310B"
            self.claim.rendering = ProviderRef(self.person(s), el(s, 9))
        elif entity == "77" and self.claim is not None and not in_line and self.prior is None:
            self.loop = "2310C"
            self.claim.facility_name = el(s, 3)
            self.claim.facility_npi = el(s, 9)
        elif entity == "DK" and self.claim is not None and in_line:
            self.loop = "2420E"
            if self.claim.ordering is None:
                self.claim.ordering = ProviderRef(self.person(s), el(s, 9), qualifier="DK")
        else:
            self.loop = f"other-{entity}"

    def seg_N3(self, s: RawSegment) -> None:
        self.address(s, street=True)

    def seg_N4(self, s: RawSegment) -> None:
        self.address(s, street=False)

    def address(self, s: RawSegment, *, street: bool) -> None:
        def update(current: Address | None) -> Address:
            if street:
                return self.address_line(s)
            return self.with_city(current, s)

        loop = self.loop
        if loop == "2010AA" and self.billing is not None:
            self.billing.address = update(self.billing.address)
        elif loop == "2010AB" and self.billing is not None:
            self.billing.pay_to = update(self.billing.pay_to)
        elif loop == "2010BA" and self.subscriber is not None:
            self.subscriber.address = update(self.subscriber.address)
        elif loop == "2010BB" and self.payer is not None:
            self.payer = Payer(self.payer.name, self.payer.payer_id, update(self.payer.address))
        elif loop == "2010CA" and self.patient is not None:
            self.patient.address = update(self.patient.address)
        elif loop == "2310C" and self.claim is not None:
            self.claim.facility_address = update(self.claim.facility_address)
        elif loop == "2330A" and self.prior is not None:
            self.prior.subscriber.address = update(self.prior.subscriber.address)
        elif loop == "2330B" and self.prior is not None:
            self.prior.payer_address = update(self.prior.payer_address)

    def seg_REF(self, s: RawSegment) -> None:
        qualifier, value = self.el(s, 1), self.el(s, 2)
        loop = self.loop
        if loop == "2010AA" and self.billing is not None and qualifier in ("EI", "SY"):
            self.billing.tax_qualifier, self.billing.tax_id = qualifier, value
        elif loop == "2010BA" and self.subscriber is not None and qualifier == "Y4":
            self.subscriber.casualty_claim_number = value
        elif loop == "2010CA" and self.patient is not None and qualifier == "Y4":
            self.patient.casualty_claim_number = value
        elif loop == "2300" and self.claim is not None:
            if qualifier == "9F":
                self.claim.referral_number = value
            elif qualifier == "G1":
                self.claim.prior_authorization = value
            elif qualifier == "F8":
                self.claim.payer_claim_number = value
        elif loop == "2330B" and self.prior is not None and qualifier == "F8":
            self.prior.payer_claim_number = value
        elif loop == "2400" and self.line is not None and qualifier == "6R":
            self.line.control_number = value

    def seg_PER(self, s: RawSegment) -> None:
        phone = ""
        for index in (3, 5, 7):
            if self.el(s, index) == "TE":
                phone = self.el(s, index + 1)
                break
        if self.loop == "1000A":
            self.submitter = Submitter(self.submitter.name, self.submitter.etin, self.el(s, 2),
                                       phone)
        elif self.loop == "2010AA" and self.billing is not None:
            self.billing.contact, self.billing.phone = self.el(s, 2), phone

    def seg_SBR(self, s: RawSegment) -> None:
        el = self.el
        draft = _SubscriberDraft(
            responsibility=el(s, 1), relationship=el(s, 2), group_number=el(s, 3),
            plan_name=el(s, 4), insurance_type=el(s, 5), filing=el(s, 9),
        )
        _responsibility(draft.responsibility)  # reported here, at the SBR, if unreadable
        if self.claim is not None:
            self.line = None
            self.prior = _PriorDraft(subscriber=draft)
            self.claim.priors.append(self.prior)
            self.loop = "2320"
        elif self.subscriber is not None and self.loop == "2000B":
            self.subscriber = draft
        else:
            raise X12ReadError("SBR outside a subscriber level or claim")

    def seg_DMG(self, s: RawSegment) -> None:
        birth = _date(self.el(s, 2), "date of birth (DMG02)") if self.el(s, 2) else None
        if self.loop == "2010BA" and self.subscriber is not None:
            self.subscriber.birth_date, self.subscriber.sex = birth, self.el(s, 3)
        elif self.loop == "2010CA" and self.patient is not None:
            self.patient.birth_date, self.patient.sex = birth, self.el(s, 3)

    def seg_PAT(self, s: RawSegment) -> None:
        if self.patient is not None and self.loop == "2000C":
            self.patient.relationship = self.el(s, 1)

    def seg_CLM(self, s: RawSegment) -> None:
        self.end_claim()
        if self.subscriber is None or self.payer is None:
            raise X12ReadError("a claim (CLM) comes before its subscriber and payer")
        el = self.el
        place = self.split(el(s, 5))
        related = self.split(el(s, 11)) if el(s, 11) else []
        causes = _causes(related[:2])
        self.claim = _ClaimDraft(
            claim_id=el(s, 1), total_charge=Cents.parse(el(s, 2)),
            place_of_service=place[0], frequency=place[2] if len(place) > 2 else "",
            signature_on_file=el(s, 6) == "Y", assignment_accepted=el(s, 7) == "A",
            related_causes=causes, accident_state=related[3] if len(related) > 3 else "",
        )
        self.loop = "2300"

    def seg_DTP(self, s: RawSegment) -> None:
        qualifier, form, value = self.el(s, 1), self.el(s, 2), self.el(s, 3)
        if self.loop == "2300" and self.claim is not None:
            if qualifier == "431":
                self.claim.onset_date = _date(value, "onset date (DTP*431)")
            elif qualifier == "439":
                self.claim.accident_date = _date(value, "accident date (DTP*439)")
        elif self.loop == "2400" and self.line is not None and qualifier == "472":
            if form == "RD8":
                start, _, end = value.partition("-")
                self.line.date_of_service = _date(start, "service date (DTP*472)")
                last = _date(end, "service end date (DTP*472)")
                if last != self.line.date_of_service:
                    self.line.date_of_service_end = last
            else:
                self.line.date_of_service = _date(value, "service date (DTP*472)")
        elif self.loop == "2330B" and self.prior is not None and qualifier == "573":
            self.prior.adjudicated_on = _date(value, "adjudication date (DTP*573)")
        elif self.loop == "2430" and self.line_adjudication is not None and qualifier == "573":
            self.line_adjudication.adjudicated_on = _date(value, "adjudication date (DTP*573)")

    def seg_AMT(self, s: RawSegment) -> None:
        qualifier = self.el(s, 1)
        if qualifier == "F5" and self.loop == "2300" and self.claim is not None:
            self.claim.patient_paid = Cents.parse(self.el(s, 2))
        elif qualifier == "D" and self.loop == "2320" and self.prior is not None:
            self.prior.paid = Cents.parse(self.el(s, 2))
        elif qualifier == "EAF" and self.loop == "2320" and self.prior is not None:
            self.prior.remaining_patient_liability = Cents.parse(self.el(s, 2))

    def seg_HI(self, s: RawSegment) -> None:
        claim = self.need_claim()
        first = self.split(self.el(s, 1))
        if first[0] not in ("ABK", "BK"):
            return  # condition codes, anesthesia procedures: not diagnoses
        codes = []
        for element in s[1:]:
            parts = self.split(element)
            if len(parts) >= 2 and parts[1]:
                codes.append(_icd_from_x12(parts[0], parts[1]))
        claim.diagnoses = tuple(codes)

    def seg_CAS(self, s: RawSegment) -> None:
        group = self.el(s, 1)
        adjustments: list[Adjustment] = []
        for start in range(2, len(s), 3):
            reason = self.el(s, start)
            if not reason:
                continue
            quantity_text = self.el(s, start + 2)
            quantity = int(Decimal(quantity_text)) if quantity_text else None
            adjustments.append(Adjustment(group, reason, Cents.parse(self.el(s, start + 1)),
                                          quantity))
        if self.loop == "2320" and self.prior is not None:
            self.prior.claim_adjustments.extend(adjustments)
        elif self.loop == "2430" and self.line_adjudication is not None:
            self.line_adjudication.adjustments.extend(adjustments)

    def seg_LX(self, s: RawSegment) -> None:
        claim = self.need_claim()
        self.prior = None
        self.line_adjudication = None
        self.line = _LineDraft(number=int(self.el(s, 1)))
        claim.lines.append(self.line)
        self.loop = "2400"

    def seg_SV1(self, s: RawSegment) -> None:
        line = self.need_line()
        procedure = self.split(self.el(s, 1))
        line.code = procedure[1] if len(procedure) > 1 else ""
        line.modifiers = tuple(m for m in procedure[2:6] if m)
        line.charge = Cents.parse(self.el(s, 2))
        line.units = _units(self.el(s, 4)) if self.el(s, 4) else 0
        line.place_of_service = self.el(s, 5)
        pointers = self.split(self.el(s, 7)) if self.el(s, 7) else []
        line.pointers = tuple(int(p) for p in pointers if p)
        self.loop = "2400"

    def seg_SVD(self, s: RawSegment) -> None:
        line = self.need_line()
        procedure = self.split(self.el(s, 3))
        self.line_adjudication = _LineAdjudicationDraft(
            payer_id=self.el(s, 1), paid=Cents.parse(self.el(s, 2)),
            code=procedure[1] if len(procedure) > 1 else "",
            modifiers=tuple(m for m in procedure[2:6] if m),
            units=_units(self.el(s, 5)) if self.el(s, 5) else 0,
        )
        line.adjudications.append(self.line_adjudication)
        self.loop = "2430"

    def seg_SE(self, s: RawSegment) -> None:
        self.end_billing()

    # -- closing loops -----------------------------------------------------------------------

    def end_claim(self) -> None:
        draft = self.claim
        if draft is None:
            return
        self.claim = self.line = self.prior = self.line_adjudication = None
        assert self.subscriber is not None and self.payer is not None  # noqa: S101 - see CLM
        assert self.billing is not None  # noqa: S101 - HL 20 precedes any claim
        subscriber = self.subscriber.build()
        patient = self.patient.build() if self.patient is not None else None
        casualty = (self.patient.casualty_claim_number if self.patient is not None
                    else self.subscriber.casualty_claim_number)
        lines = tuple(line.build(draft.claim_id) for line in draft.lines)
        facility = None
        if draft.facility_address is not None:
            facility = Facility(draft.facility_name, draft.facility_address, draft.facility_npi)
        referring = draft.referring or draft.ordering
        claim = OutClaim(
            claim_id=draft.claim_id, total_charge=draft.total_charge,
            place_of_service=draft.place_of_service, frequency=draft.frequency,
            diagnoses=draft.diagnoses, lines=lines, subscriber=subscriber, payer=self.payer,
            patient=patient, payer_claim_number=draft.payer_claim_number,
            prior_authorization=draft.prior_authorization,
            referral_number=draft.referral_number, onset_date=draft.onset_date,
            related_causes=draft.related_causes, accident_state=draft.accident_state,
            accident_date=draft.accident_date, property_casualty_claim_number=casualty,
            rendering=draft.rendering, referring=referring, facility=facility,
            patient_paid=draft.patient_paid,
            prior_payers=tuple(self.prior_payer(draft, prior) for prior in draft.priors),
            signature_on_file=draft.signature_on_file,
            assignment_accepted=draft.assignment_accepted,
        )
        self.billing.claims.append(claim)

    def prior_payer(self, claim: _ClaimDraft, prior: _PriorDraft) -> PriorPayer:
        adjudications = []
        for line in claim.lines:
            for item in line.adjudications:
                if item.payer_id != prior.payer_id:
                    continue
                if item.adjudicated_on is None:
                    raise X12ReadError(f"claim {claim.claim_id} line {line.number}: the "
                                       "adjudication has no date (2430 DTP*573)")
                adjudications.append(LineAdjudication(
                    control_number=line.control_number, payer_id=item.payer_id,
                    code=item.code, modifiers=item.modifiers, paid=item.paid,
                    units=item.units, adjustments=tuple(item.adjustments),
                    adjudicated_on=item.adjudicated_on,
                ))
        adjudicated_on = prior.adjudicated_on
        if adjudicated_on is None and adjudications:
            adjudicated_on = max(a.adjudicated_on for a in adjudications)
        if adjudicated_on is None:
            raise X12ReadError(f"claim {claim.claim_id}: other payer {prior.payer_id!r} has no "
                               "adjudication date (2330B or 2430 DTP*573)")
        return PriorPayer(
            payer=Payer(prior.payer_name, prior.payer_id, prior.payer_address),
            subscriber=prior.subscriber.build(), paid=prior.paid,
            claim_adjustments=tuple(prior.claim_adjustments), adjudicated_on=adjudicated_on,
            payer_claim_number=prior.payer_claim_number,
            relationship=prior.subscriber.relationship,
            line_adjudications=tuple(adjudications),
            remaining_patient_liability=prior.remaining_patient_liability,
        )

    def end_billing(self) -> None:
        self.end_claim()
        if self.billing is not None:
            self.groups.append(ClaimGroup(self.billing.build(), tuple(self.billing.claims)))
            self.billing = None

    def finish(self) -> Transaction837:
        self.end_billing()
        return Transaction837(
            control_number=self.control_number, batch_id=self.batch_id, purpose=self.purpose,
            created_on=self.created_on, created_time=self.created_time,
            submitter=self.submitter, receiver=self.receiver, groups=tuple(self.groups),
        )

