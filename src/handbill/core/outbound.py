"""Plain values for a claim on its way out: what the 837P, the CMS-1500 and the superbill print.

The Django side fills these from its records (``claims.outbound``); the X12 writer and the PDF
documents read only these, so each format is a pure function of the same values and the
three always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from handbill.core.money import Cents


class OutboundError(ValueError):
    """A claim that cannot be written: names the claim and the field to fix."""


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str  # 5 or 9 digits; the 837 wants 9 for the billing provider
    line2: str = ""


@dataclass(frozen=True, slots=True)
class PersonName:
    last: str
    first: str = ""
    middle: str = ""
    suffix: str = ""


class TaxIdQualifier(StrEnum):
    EIN = "EI"
    SSN = "SY"


@dataclass(frozen=True, slots=True)
class BillingProvider:
    # An organisation (entity 2) has only ``organization_name``; a solo therapist billing under
    # her own NPI (entity 1) has ``person``.
    npi: str
    tax_id: str  # nine digits
    tax_id_qualifier: TaxIdQualifier
    taxonomy: str
    address: Address
    organization_name: str = ""
    person: PersonName | None = None
    phone: str = ""
    contact_name: str = ""
    pay_to_address: Address | None = None  # only when payments go elsewhere
    license_number: str = ""

    @property
    def is_organization(self) -> bool:
        return self.person is None

    @property
    def display_name(self) -> str:
        if self.person is None:
            return self.organization_name
        return " ".join(p for p in (self.person.first, self.person.last) if p)


@dataclass(frozen=True, slots=True)
class Submitter:
    name: str
    etin: str  # the submitter ID the clearinghouse assigned
    contact_name: str
    phone: str


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    etin: str


@dataclass(frozen=True, slots=True)
class Payer:
    name: str
    payer_id: str
    address: Address | None = None  # for paper claims (top of the CMS-1500)
    # CMS-1500 box 1: medicare, medicaid, tricare, champva, group, feca, other.
    program: str = "group"


class PayerResponsibility(StrEnum):
    PRIMARY = "P"
    SECONDARY = "S"
    TERTIARY = "T"


@dataclass(frozen=True, slots=True)
class Subscriber:
    name: PersonName
    member_id: str
    birth_date: date | None
    sex: str  # F, M or U
    address: Address | None
    responsibility: PayerResponsibility
    claim_filing_indicator: str  # SBR09: CI, MB, 16, MC, AM, WC …
    group_number: str = ""
    plan_name: str = ""
    employer_name: str = ""  # workers' comp: box 4 / 11b
    phone: str = ""
    # SBR05: the IG wants it when Medicare is billed as a secondary payer (12, 13, 14, 15, 16,
    # 41, 42, 43 or 47: why Medicare pays second); empty otherwise.
    insurance_type_code: str = ""


@dataclass(frozen=True, slots=True)
class Patient:
    """The patient when she is not the subscriber (HL 23); ``relationship`` is PAT01."""

    name: PersonName
    birth_date: date
    sex: str
    address: Address
    relationship: str  # 01 spouse, 19 child, 20 employee, G8 other …
    phone: str = ""


@dataclass(frozen=True, slots=True)
class ProviderRef:
    name: PersonName
    npi: str
    taxonomy: str = ""
    # Referring (DN) or ordering (DK) for loop 2310A / box 17.
    qualifier: str = "DN"
    credentials: str = ""
    # The state licence a superbill shows (an insurer reimbursing a client checks it).
    license_number: str = ""
    license_state: str = ""


@dataclass(frozen=True, slots=True)
class Facility:
    name: str
    address: Address
    npi: str = ""


class RelatedCause(StrEnum):
    AUTO_ACCIDENT = "AA"
    EMPLOYMENT = "EM"
    OTHER_ACCIDENT = "OA"


@dataclass(frozen=True, slots=True)
class Adjustment:
    group: str  # CO, PR, OA, PI
    reason: str  # CARC
    amount: Cents
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """What an earlier payer did with one line (loop 2430 on a secondary claim)."""

    control_number: str
    payer_id: str
    code: str
    modifiers: tuple[str, ...]
    paid: Cents
    units: int
    adjustments: tuple[Adjustment, ...]
    adjudicated_on: date


@dataclass(frozen=True, slots=True)
class PriorPayer:
    """An earlier payer's adjudication (loops 2320/2330 on a secondary or tertiary claim)."""

    payer: Payer
    subscriber: Subscriber
    paid: Cents
    claim_adjustments: tuple[Adjustment, ...]
    adjudicated_on: date
    payer_claim_number: str = ""
    # 2320 SBR02: the patient's relationship to this payer's subscriber (18 self, 01 spouse,
    # 19 child, 20 employee, 21 unknown, 39 organ donor, 40 cadaver donor, 53 life partner,
    # G8 other).
    relationship: str = "18"
    # Loop 2430: what this payer did with each line, matched to our lines by REF*6R.
    line_adjudications: tuple[LineAdjudication, ...] = ()
    # 2320 AMT*EAF: what this payer left the patient to pay (deductible, coinsurance, copay),
    # the amount the next payer is asked to consider; None leaves the segment out.
    remaining_patient_liability: Cents | None = None


@dataclass(frozen=True, slots=True)
class OtherCoverage:
    """Another plan that covers the patient and has not paid yet (a secondary policy on a
    primary claim): CMS-1500 boxes 9, 9a, 9d and 11d."""

    payer: Payer
    subscriber: Subscriber
    relationship: str = "18"  # the patient's relationship to this plan's subscriber


@dataclass(frozen=True, slots=True)
class OutLine:
    number: int
    code: str
    modifiers: tuple[str, ...]
    charge: Cents
    units: int
    pointers: tuple[int, ...]  # 1-based into OutClaim.diagnoses, 1 to 4
    date_of_service: date
    control_number: str  # REF*6R
    label: str = ""  # our own short label, for the superbill
    place_of_service: str = ""  # only when different from the claim's
    # DTP*472 RD8: the last day when the line covers a span; None for one day of service.
    date_of_service_end: date | None = None


@dataclass(frozen=True, slots=True)
class OutClaim:
    claim_id: str  # CLM01
    total_charge: Cents
    place_of_service: str
    frequency: str  # 1 original, 7 replacement, 8 void
    diagnoses: tuple[str, ...]  # dotted ICD-10-CM codes, at most 12, principal first
    lines: tuple[OutLine, ...]
    subscriber: Subscriber
    payer: Payer
    patient: Patient | None = None  # None: the patient is the subscriber
    patient_account_number: str = ""  # box 26 / CLM01 already carries our id
    payer_claim_number: str = ""  # REF*F8 for frequency 7 and 8
    prior_authorization: str = ""  # REF*G1 / box 23
    referral_number: str = ""  # REF*9F
    onset_date: date | None = None  # DTP*431 / box 14
    related_causes: tuple[RelatedCause, ...] = ()
    accident_state: str = ""
    accident_date: date | None = None  # DTP*439
    property_casualty_claim_number: str = ""  # REF*Y4 / box 11b
    rendering: ProviderRef | None = None  # only when it is not the billing provider
    referring: ProviderRef | None = None
    facility: Facility | None = None  # only when it is not the billing address
    patient_paid: Cents = Cents(0)  # box 29
    prior_payers: tuple[PriorPayer, ...] = ()
    # Plans after this one that have not adjudicated (box 9 / 11d when no prior payer).
    other_coverage: tuple[OtherCoverage, ...] = ()
    signature_on_file: bool = True
    assignment_accepted: bool = True

    @property
    def patient_is_subscriber(self) -> bool:
        return self.patient is None


@dataclass(frozen=True, slots=True)
class ClaimGroup:
    """The claims of one billing provider (one 2000A loop)."""

    billing: BillingProvider
    claims: tuple[OutClaim, ...]


@dataclass(frozen=True, slots=True)
class ControlNumbers:
    interchange: int  # ISA13, 1..999999999
    group: int  # GS06
    first_transaction: int  # ST02 of the first transaction set; more sets count up from here


@dataclass(frozen=True, slots=True)
class Batch:
    """One interchange to one receiver."""

    submitter: Submitter
    receiver: Receiver
    groups: tuple[ClaimGroup, ...]
    control: ControlNumbers
    created_at: datetime  # ISA09/10, GS04/05, BHT04/05 (in the practice's time zone)
    batch_id: str  # BHT03
    production: bool = False  # ISA15 P or T
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    claims_per_transaction: int = 5000
