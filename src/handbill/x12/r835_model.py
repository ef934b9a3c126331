"""The values an 835 remittance is read into (see :mod:`handbill.x12.r835` for the reader).

Money is :class:`~handbill.core.money.Cents`; ``as_dict()`` gives the JSON summary that
``handbill x12 read`` prints, with amounts as X12 decimal strings ("76.5", "-1.5").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from handbill.core.money import Cents

# The values a large remittance holds by the hundred thousand (adjustments, names, lines,
# claims) are NamedTuples: just as immutable and typed as a frozen dataclass, and built about
# five times faster, which is a third of the time to read a 10,000-claim file. The few
# once-per-file values (payment, parties, the remittance) are frozen dataclasses.


class Adjustment(NamedTuple):
    """One CAS reason: who bears it (group), why (CARC), how much, and for how many units."""

    group: str  # CO, PR, OA, PI
    reason: str  # CARC
    amount: Cents
    quantity: str = ""  # as sent; usually units or days

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"group": self.group, "reason": self.reason,
                                  "amount": self.amount.to_x12()}
        if self.quantity:
            result["quantity"] = self.quantity
        return result


class Reference(NamedTuple):
    qualifier: str  # REF01: 6R line control number, 1K payer claim number, F8, EA, …
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"qualifier": self.qualifier, "value": self.value}


class SupplementalAmount(NamedTuple):
    qualifier: str  # AMT01: B6 allowed, AU coverage amount, …
    amount: Cents

    def as_dict(self) -> dict[str, str]:
        return {"qualifier": self.qualifier, "amount": self.amount.to_x12()}


class Name(NamedTuple):
    """An NM1: a person or an organisation with its identifier."""

    entity: str  # NM101: QC patient, IL insured, 74 corrected, 82 rendering, TT crossover …
    entity_type: str  # NM102: 1 person, 2 organisation
    last_or_organization: str
    first: str = ""
    middle: str = ""
    suffix: str = ""
    id_qualifier: str = ""  # NM108: MI member id, XX NPI, …
    id: str = ""

    def as_dict(self) -> dict[str, str]:
        result = {"last": self.last_or_organization} if self.entity_type != "2" else {
            "organization": self.last_or_organization}
        for key, value in (("first", self.first), ("middle", self.middle),
                           ("suffix", self.suffix), ("id_qualifier", self.id_qualifier),
                           ("id", self.id)):
            if value:
                result[key] = value
        return result


@dataclass(frozen=True, slots=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"line1": self.line1, "line2": self.line2, "city": self.city,
                "state": self.state, "postal_code": self.postal_code}


@dataclass(frozen=True, slots=True)
class Contact:
    function: str  # PER01: BL technical, CX business, IC information
    name: str
    numbers: tuple[tuple[str, str], ...]  # (qualifier, number): TE, EM, UR, FX, EX

    def as_dict(self) -> dict[str, Any]:
        return {"function": self.function, "name": self.name,
                "numbers": [{"qualifier": q, "value": v} for q, v in self.numbers]}


@dataclass(frozen=True, slots=True)
class Party:
    """The payer (1000A, N1*PR) or the payee (1000B, N1*PE)."""

    name: str
    id_qualifier: str = ""  # N103: XV, XX NPI, FI TIN, PI …
    id: str = ""
    address: Address | None = None
    references: tuple[Reference, ...] = ()
    contacts: tuple[Contact, ...] = ()

    def reference(self, qualifier: str) -> str:
        return next((r.value for r in self.references if r.qualifier == qualifier), "")

    @property
    def npi(self) -> str:
        return self.id if self.id_qualifier == "XX" else ""

    @property
    def tax_id(self) -> str:
        return self.id if self.id_qualifier == "FI" else self.reference("TJ")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "id_qualifier": self.id_qualifier, "id": self.id,
            "address": self.address.as_dict() if self.address else None,
            "references": [r.as_dict() for r in self.references],
            "contacts": [c.as_dict() for c in self.contacts],
        }


@dataclass(frozen=True, slots=True)
class Payment:
    """BPR and TRN: how much, how, when, and the trace number that ties it to the deposit."""

    handling: str  # BPR01: I payment + remittance, H notification only, C, D, P, U, X
    amount: Cents  # BPR02
    credit_debit: str  # BPR03: C credit, D debit
    method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    payment_format: str  # BPR05: CCP, CTX
    payment_date: date | None  # BPR16
    trace: str  # TRN02: check or EFT trace number
    originator: str  # TRN03: 1 + the payer's EIN
    production_date: date | None = None  # DTM*405

    @property
    def signed_amount(self) -> Cents:
        """BPR02 as money to the provider: a debit takes money back."""
        return -self.amount if self.credit_debit == "D" else self.amount

    def as_dict(self) -> dict[str, Any]:
        return {
            "amount": self.amount.to_x12(), "credit_debit": self.credit_debit,
            "method": self.method, "format": self.payment_format, "handling": self.handling,
            "trace": self.trace, "originator": self.originator,
            "date": _iso(self.payment_date),
            "production_date": _iso(self.production_date),
        }


class ServicePayment(NamedTuple):
    """One SVC (loop 2110): what the payer did with one billed line."""

    qualifier: str  # SVC01-1: HC (HCPCS/CPT), AD (dental), NU (revenue) …
    code: str
    modifiers: tuple[str, ...]
    charge: Cents  # SVC02
    paid: Cents  # SVC03
    revenue_code: str  # SVC04
    units: Decimal  # SVC05, 1 when absent
    original_code: str  # SVC06-2 when the payer adjudicated a different code
    original_modifiers: tuple[str, ...]
    original_units: Decimal | None  # SVC07
    service_date: date | None  # DTM*472 or DTM*150
    service_end_date: date | None  # DTM*151
    adjustments: tuple[Adjustment, ...]
    control_number: str  # REF*6R: our line item control number
    references: tuple[Reference, ...]  # every other REF
    allowed: Cents | None  # AMT*B6
    amounts: tuple[SupplementalAmount, ...]  # every other AMT
    remarks: tuple[str, ...]  # LQ*HE RARCs
    position: int  # file position of the SVC

    @property
    def adjustment_total(self) -> Cents:
        return Cents(sum(a.amount.value for a in self.adjustments))

    @property
    def label(self) -> str:
        return self.control_number or self.code

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "qualifier": self.qualifier, "modifiers": list(self.modifiers),
            "charge": self.charge.to_x12(), "paid": self.paid.to_x12(),
            "units": _number(self.units), "revenue_code": self.revenue_code,
            "original_code": self.original_code,
            "original_modifiers": list(self.original_modifiers),
            "original_units": _number(self.original_units) if self.original_units else "",
            "date": _iso(self.service_date), "end_date": _iso(self.service_end_date),
            "control_number": self.control_number,
            "adjustments": [a.as_dict() for a in self.adjustments],
            "allowed": self.allowed.to_x12() if self.allowed is not None else None,
            "remarks": list(self.remarks),
            "references": [r.as_dict() for r in self.references],
            "amounts": [a.as_dict() for a in self.amounts],
        }


class ClaimPayment(NamedTuple):
    """One CLP (loop 2100): the payer's answer to one claim."""

    claim_id: str  # CLP01: our CLM01
    status: str  # CLP02: 1 primary, 2 secondary, 4 denied, 22 reversal, …
    charge: Cents  # CLP03
    paid: Cents  # CLP04
    patient_responsibility: Cents  # CLP05 (0 when absent)
    filing_indicator: str  # CLP06
    payer_claim_number: str  # CLP07: keep it for REF*F8 on a replacement or void
    facility_type: str  # CLP08
    frequency: str  # CLP09
    adjustments: tuple[Adjustment, ...]  # claim-level CAS
    patient: Name | None  # NM1*QC
    insured: Name | None  # NM1*IL
    corrected_patient: Name | None  # NM1*74
    rendering_provider: Name | None  # NM1*82
    crossover_carrier: Name | None  # NM1*TT
    corrected_priority_payer: Name | None  # NM1*PR
    remarks: tuple[str, ...]  # MOA03–07 and MIA05/MIA20–24 RARCs
    statement_from: date | None  # DTM*232
    statement_to: date | None  # DTM*233
    received_date: date | None  # DTM*050
    references: tuple[Reference, ...]
    amounts: tuple[SupplementalAmount, ...]
    lines: tuple[ServicePayment, ...]
    position: int  # file position of the CLP
    patient_responsibility_sent: bool = True  # False when CLP05 was empty

    @property
    def is_reversal(self) -> bool:
        return self.status == "22"

    @property
    def is_denied(self) -> bool:
        return self.status == "4"

    def reference(self, qualifier: str) -> str:
        return next((r.value for r in self.references if r.qualifier == qualifier), "")

    @property
    def patient_responsibility_total(self) -> Cents:
        """Σ PR adjustments at claim and line level."""
        return Cents(sum(a.amount.value for a in _all_adjustments(self) if a.group == "PR"))

    def as_dict(self) -> dict[str, Any]:
        names = {key: name.as_dict() for key, name in (
            ("patient", self.patient), ("insured", self.insured),
            ("corrected_patient", self.corrected_patient),
            ("rendering_provider", self.rendering_provider),
            ("crossover_carrier", self.crossover_carrier),
            ("corrected_priority_payer", self.corrected_priority_payer)) if name is not None}
        return {
            "id": self.claim_id, "status": self.status, "charge": self.charge.to_x12(),
            "paid": self.paid.to_x12(),
            "patient_responsibility": self.patient_responsibility.to_x12(),
            "filing_indicator": self.filing_indicator,
            "payer_claim_number": self.payer_claim_number,
            "facility_type": self.facility_type, "frequency": self.frequency,
            "adjustments": [a.as_dict() for a in self.adjustments],
            **names,
            "remarks": list(self.remarks),
            "statement_from": _iso(self.statement_from), "statement_to": _iso(self.statement_to),
            "received_date": _iso(self.received_date),
            "references": [r.as_dict() for r in self.references],
            "amounts": [a.as_dict() for a in self.amounts],
            "lines": [line.as_dict() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One reason/amount pair of a PLB: a payment-level adjustment, not tied to a claim.

    A positive amount reduces the payment (recoupment WO, forward balance FB); a negative one
    increases it (interest L6).
    """

    provider_id: str  # PLB01
    fiscal_period_date: date | None  # PLB02
    reason: str  # PLB03-1: WO, FB, L6, 72, CS, 50, J1, B2, WU …
    reference: str  # PLB03-2: often the payer claim number or our claim id
    amount: Cents
    position: int

    def as_dict(self) -> dict[str, Any]:
        return {"provider_id": self.provider_id,
                "fiscal_period_date": _iso(self.fiscal_period_date), "reason": self.reason,
                "reference": self.reference, "amount": self.amount.to_x12()}


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 transaction set: a payment and the claims it pays."""

    control_number: str  # ST02
    payment: Payment
    payer: Party
    payee: Party
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]
    balance_errors: tuple[str, ...]  # the file does not add up: never post it
    warnings: tuple[str, ...]  # worth a look (CLP05 ≠ PR total)
    problems: tuple[str, ...]  # the TR3 requires something that is missing (PER*BL, N1*PE …)

    @property
    def balanced(self) -> bool:
        return not self.balance_errors

    @property
    def errors(self) -> tuple[str, ...]:
        return self.problems + self.balance_errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "control_number": self.control_number,
            "payment": self.payment.as_dict(),
            "payer": self.payer.as_dict(),
            "payee": self.payee.as_dict(),
            "claims": [claim.as_dict() for claim in self.claims],
            "provider_adjustments": [a.as_dict() for a in self.provider_adjustments],
            "balanced": self.balanced,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


def _all_adjustments(claim: ClaimPayment) -> Iterable[Adjustment]:
    yield from claim.adjustments
    for line in claim.lines:
        yield from line.adjustments


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _number(value: Decimal) -> str:
    return str(value)
