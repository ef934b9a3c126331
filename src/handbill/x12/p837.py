"""837P professional claims, 005010X222A1: write a batch, read one back, check one.

``write_837(batch)`` turns the outbound claim values (``handbill.core.outbound``) into one
interchange for one receiver: a 2000A loop per billing provider, a 2000B per subscriber and
payer, a 2000C per patient who is not the subscriber, and the claims under them (reference
§5). Every claim is checked first (:func:`validate_claim`); if any claim of the batch has a
problem, nothing is written and the error lists every problem of every claim, so a biller can
fix them in one pass.

``read_837(transaction)`` reads a tokenised transaction set back into the same values, and
``check_837(transaction)`` lists implementation-guide problems a structural check misses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from handbill.core.codes.npi import check_npi
from handbill.core.money import Cents, MoneyError, total
from handbill.core.outbound import (
    Address,
    Adjustment,
    Batch,
    BillingProvider,
    ClaimGroup,
    Facility,
    LineAdjudication,
    OutboundError,
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
from handbill.x12.writer import (
    Composite,
    Element,
    GroupHeader,
    InterchangeHeader,
    X12Writer,
    clean_text,
    text_problem,
    x12_date,
    x12_time,
)

X222A1 = "005010X222A1"

# Implementation-guide limits (reference §5.2 notes; the 2300 and 2400 loop repeats).
MAX_LINES_PER_CLAIM = 50
MAX_CLAIMS_PER_HL = 100
MAX_CLAIMS_PER_TRANSACTION = 5000  # the IG's recommended ceiling per ST/SE
MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_ADJUSTMENTS_PER_GROUP = 6  # one CAS segment holds six reason/amount/quantity triples
MAX_LINE_ADJUDICATIONS = 15  # loop 2430 repeat

FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}
FILING_INDICATORS = frozenset(
    "11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ".split()
)
PATIENT_RELATIONSHIPS = frozenset("01 19 20 21 39 40 53 G8".split())  # PAT01
OTHER_INSURED_RELATIONSHIPS = PATIENT_RELATIONSHIPS | {"18"}  # 2320 SBR02
INSURANCE_TYPES = frozenset("12 13 14 15 16 41 42 43 47".split())  # SBR05
SEXES = frozenset("FMU")
ADJUSTMENT_GROUPS = frozenset("CO CR OA PI PR".split())
REFERRING_QUALIFIERS = frozenset({"DN", "P3", "DK"})
# PWK02 for line and claim supplemental information (attachments): how the paper travels.
ATTACHMENT_TRANSMISSION = frozenset("AA BM EL EM FT FX".split())

_DIGITS = re.compile(r"\D")
_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
_PROCEDURE = re.compile(r"^[A-Z0-9]{5}$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
_POS = re.compile(r"^[0-9]{2}$")
_STATE = re.compile(r"^[A-Z]{2}$")
_TAXONOMY = re.compile(r"^[0-9A-Z]{10}$")
_PO_BOX = re.compile(r"\b(?:P\s*\.?\s*O\.?\s*BOX|POST\s+OFFICE\s+BOX|LOCK\s*BOX|LOCKBOX)\b")


# ---------------------------------------------------------------------------------------------
# Pre-checks
# ---------------------------------------------------------------------------------------------


class _Problems:
    """Collects problem messages that all start with the same subject ("claim C1: ...")."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(f"{self.subject}: {message}")

    def text(self, value: str, name: str, max_length: int, *, required: str = "",
             clean: bool = True) -> None:
        """``required`` is the fix to print when the value is missing (empty: optional)."""
        shown = clean_text(value) if clean else value.strip()
        if not shown:
            if required:
                self.add(f"{name} is missing: {required}")
            return
        problem = text_problem(shown, name, max_length=max_length)
        if problem:
            self.add(problem)

    def npi(self, value: str, name: str, *, required: bool = True) -> None:
        if not value.strip() and not required:
            return
        result = check_npi(value)
        if not result.valid:
            self.add(f"{name} NPI: {result.reason}")

    def person(self, person: PersonName, name: str, *, first_required: bool = True) -> None:
        self.text(person.last, f"{name} last name", 60, required="enter the last name")
        self.text(person.first, f"{name} first name", 35,
                  required="enter the first name" if first_required else "")
        self.text(person.middle, f"{name} middle name", 25)
        self.text(person.suffix, f"{name} name suffix", 10)

    def address(self, address: Address | None, name: str, *, zip9: bool = False,
                required: bool = True) -> None:
        if address is None:
            if required:
                self.add(f"{name} address is missing: enter the street, city, state and ZIP")
            return
        self.text(address.line1, f"{name} street address", 55, required="enter the street")
        self.text(address.line2, f"{name} second address line", 55)
        self.text(address.city, f"{name} city", 30, required="enter the city")
        if len(clean_text(address.city)) == 1:
            self.add(f"{name} city {address.city!r} is one letter; the 837 wants at least 2")
        if not _STATE.match(clean_text(address.state)):
            self.add(f"{name} state {address.state!r} is not a two-letter state code, e.g. WA")
        digits = postal_code(address.postal_code)
        if zip9:
            if len(digits) == 5 and digits == _DIGITS.sub("", address.postal_code):
                self.add(f"{name} ZIP code {address.postal_code!r} has 5 digits; the 837 "
                         "wants the billing provider's full 9-digit ZIP+4: add the 4-digit "
                         "extension (look it up on the USPS site)")
            elif len(digits) != 9:
                self.add(f"{name} ZIP code {address.postal_code!r} is not a 9-digit ZIP+4")
        elif len(digits) not in (5, 9):
            self.add(f"{name} ZIP code {address.postal_code!r} must be 5 or 9 digits")

    def phone(self, value: str, name: str, *, required: str = "") -> None:
        digits = _DIGITS.sub("", value)
        if not digits:
            if required:
                self.add(f"{name} phone is missing: {required}")
            return
        if len(digits) < 10:
            self.add(f"{name} phone {value!r} has {len(digits)} digits; enter the area code "
                     "and number (10 digits)")


def postal_code(value: str) -> str:
    """ZIP codes go out as digits only: 98101-0001 → 981010001."""
    return _DIGITS.sub("", value)


def phone_number(value: str) -> str:
    return _DIGITS.sub("", value)


def billing_provider_problems(billing: BillingProvider, subject: str = "") -> list[str]:
    """What stops this billing provider's claims from going out (2000A/2010AA/2010AB).

    ``subject`` starts each message (default: the billing provider's name).
    """
    label = billing.display_name.strip() or billing.npi.strip() or "(unnamed)"
    p = _Problems(subject or f"billing provider {label}")
    p.npi(billing.npi, "billing provider")
    if billing.person is None:
        p.text(billing.organization_name, "organisation name", 60,
               required="enter the practice's legal name")
    else:
        p.person(billing.person, "billing provider")
    tax_digits = _DIGITS.sub("", billing.tax_id)
    kind = "EIN" if billing.tax_id_qualifier is TaxIdQualifier.EIN else "SSN"
    if len(tax_digits) != 9:
        p.add(f"tax ID ({kind}, 2010AA REF02) {billing.tax_id!r} must be 9 digits")
    if billing.taxonomy.strip() and not _TAXONOMY.match(billing.taxonomy.strip().upper()):
        p.add(f"taxonomy code {billing.taxonomy!r} is not a 10-character NUCC code such as "
              "225700000X")
    p.address(billing.address, "billing provider", zip9=True)
    for line in (billing.address.line1, billing.address.line2):
        if _PO_BOX.search(clean_text(line)):
            p.add("billing provider address is a post-office box; the 837 wants the street "
                  "address where the practice is: put the PO box in the pay-to address")
            break
    if billing.pay_to_address is not None:
        p.address(billing.pay_to_address, "pay-to")
    p.phone(billing.phone, "billing provider")
    p.text(billing.contact_name, "billing contact name", 60)
    return p.items


def validate_claim(claim: OutClaim, billing: BillingProvider) -> list[str]:
    """Every reason this claim cannot be written, each naming the claim and the field.

    Includes the billing provider's problems (the claim cannot go out without them fixed).
    An empty list means the claim can be written.
    """
    label = billing.display_name.strip() or billing.npi.strip() or "(unnamed)"
    subject = f"claim {claim.claim_id or '(no claim ID)'}: billing provider {label}"
    return billing_provider_problems(billing, subject) + _claim_problems(claim, billing)


def _claim_problems(claim: OutClaim, billing: BillingProvider) -> list[str]:
    p = _Problems(f"claim {claim.claim_id or '(no claim ID)'}")
    p.text(claim.claim_id, "claim ID (CLM01)", 38, clean=False,
           required="every claim needs our claim number")
    if claim.frequency not in FREQUENCIES:
        p.add(f"frequency code (CLM05-3) {claim.frequency!r} must be 1 (original), "
              "7 (replacement) or 8 (void)")
    elif claim.frequency in ("7", "8") and not claim.payer_claim_number.strip():
        kind = FREQUENCIES[claim.frequency]
        p.add(f"a {kind} (frequency {claim.frequency}) needs the payer's claim number "
              "(REF*F8): copy it from the payer's remittance (835 CLP07)")
    p.text(claim.payer_claim_number, "payer claim number (REF*F8)", 50, clean=False)
    if not _POS.match(claim.place_of_service):
        p.add(f"place of service (CLM05-1) {claim.place_of_service!r} must be a 2-digit code "
              "such as 11")
    if claim.total_charge.value < 0:
        p.add(f"total charge (CLM02) {claim.total_charge} is negative")
    _diagnosis_problems(claim, p)
    _line_problems(claim, p)
    line_sum = total(line.charge for line in claim.lines)
    if claim.lines and line_sum != claim.total_charge:
        p.add(f"total charge (CLM02) {claim.total_charge} does not equal the sum of the line "
              f"charges (SV102) {line_sum}: recompute the total from the lines")
    _subscriber_problems(claim, p)
    _patient_problems(claim, p)
    p.text(claim.payer.name, "payer name", 60, required="choose the payer")
    p.text(claim.payer.payer_id, "payer ID (2010BB NM109)", 80, clean=False,
           required="enter the payer ID from the clearinghouse's payer list")
    if claim.payer.address is not None:
        p.address(claim.payer.address, "payer")
    p.text(claim.prior_authorization, "prior authorization (REF*G1)", 50, clean=False)
    p.text(claim.referral_number, "referral number (REF*9F)", 50, clean=False)
    p.text(claim.property_casualty_claim_number, "property and casualty claim number (REF*Y4)",
           50, clean=False)
    if claim.patient_paid.value < 0:
        p.add(f"patient paid amount (AMT*F5) {claim.patient_paid} is negative")
    _accident_problems(claim, p)
    _provider_problems(claim, billing, p)
    _prior_payer_problems(claim, p)
    return p.items


def _diagnosis_problems(claim: OutClaim, p: _Problems) -> None:
    if not claim.diagnoses:
        p.add("no diagnosis (HI): add at least the principal ICD-10-CM code")
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        p.add(f"{len(claim.diagnoses)} diagnoses; an 837P carries at most {MAX_DIAGNOSES}: "
              "keep the ones the lines point to")
    seen: set[str] = set()
    for position, code in enumerate(claim.diagnoses, start=1):
        compact = diagnosis_for_x12(code)
        if not _ICD10.match(code.strip().upper()):
            p.add(f"diagnosis {position} {code!r} is not shaped like an ICD-10-CM code "
                  "(e.g. M62.830)")
        elif compact in seen:
            p.add(f"diagnosis {position} {code} is listed twice: remove the duplicate")
        seen.add(compact)


def _line_problems(claim: OutClaim, p: _Problems) -> None:
    if not claim.lines:
        p.add("no service lines: a claim needs at least one line")
    if len(claim.lines) > MAX_LINES_PER_CLAIM:
        p.add(f"{len(claim.lines)} service lines; an 837P claim holds at most "
              f"{MAX_LINES_PER_CLAIM}: split the visits over more claims")
    controls: set[str] = set()
    for index, line in enumerate(claim.lines, start=1):
        where = f"line {line.number}"
        if line.number != index:
            p.add(f"{where} is in position {index}: number the lines 1, 2, 3 … in order")
        code = line.code.strip().upper()
        if not _PROCEDURE.match(code):
            p.add(f"{where} procedure code {line.code!r} must be a 5-character CPT/HCPCS code")
        if len(line.modifiers) > MAX_MODIFIERS:
            p.add(f"{where} has {len(line.modifiers)} modifiers; at most {MAX_MODIFIERS} fit "
                  "(SV101-3 to -6)")
        for modifier in line.modifiers:
            if not _MODIFIER.match(modifier.strip().upper()):
                p.add(f"{where} modifier {modifier!r} must be 2 letters or digits")
        if line.charge.value < 0:
            p.add(f"{where} charge (SV102) {line.charge} is negative")
        if line.units < 1:
            p.add(f"{where} has {line.units} units (SV104): bill at least 1 unit, or remove "
                  "the line")
        if not line.pointers:
            p.add(f"{where} has no diagnosis pointer (SV107): point it at the diagnosis it "
                  "treats")
        if len(line.pointers) > MAX_POINTERS:
            p.add(f"{where} has {len(line.pointers)} diagnosis pointers; at most "
                  f"{MAX_POINTERS} fit")
        if len(set(line.pointers)) != len(line.pointers):
            p.add(f"{where} repeats a diagnosis pointer {list(line.pointers)}")
        for pointer in line.pointers:
            if not 1 <= pointer <= min(len(claim.diagnoses), MAX_DIAGNOSES):
                p.add(f"{where} diagnosis pointer {pointer} points past the claim's "
                      f"{len(claim.diagnoses)} diagnoses: use 1 to {len(claim.diagnoses)}")
        if line.place_of_service and not _POS.match(line.place_of_service):
            p.add(f"{where} place of service (SV105) {line.place_of_service!r} must be 2 digits")
        if line.date_of_service_end is not None and line.date_of_service_end < line.date_of_service:
            p.add(f"{where} ends ({line.date_of_service_end}) before it starts "
                  f"({line.date_of_service})")
        control = line.control_number.strip()
        p.text(line.control_number, f"{where} control number (REF*6R)", 50, clean=False,
               required="every line carries our line control number so the 835 can be "
               "matched line by line")
        if control and control in controls:
            p.add(f"{where} control number {control!r} is used by another line of the claim")
        controls.add(control)


def _subscriber_problems(claim: OutClaim, p: _Problems) -> None:
    sub = claim.subscriber
    p.person(sub.name, "subscriber")
    p.text(sub.member_id, "subscriber member ID (2010BA NM109)", 80, clean=False,
           required="enter the member ID from the insurance card")
    if sub.member_id.strip() and len(sub.member_id.strip()) < 2:
        p.add(f"subscriber member ID {sub.member_id!r} is one character; check the card")
    if sub.claim_filing_indicator not in FILING_INDICATORS:
        p.add(f"claim filing indicator (SBR09) {sub.claim_filing_indicator!r} is not an 837 "
              "code: use e.g. CI commercial, MB Medicare Part B, MC Medicaid, AM auto, "
              "WC workers' comp")
    p.text(sub.group_number, "subscriber group number (SBR03)", 50, clean=False)
    p.text(sub.plan_name, "subscriber plan name (SBR04)", 60)
    if sub.insurance_type_code and sub.insurance_type_code not in INSURANCE_TYPES:
        p.add(f"insurance type (SBR05) {sub.insurance_type_code!r} is not one of "
              f"{', '.join(sorted(INSURANCE_TYPES))}")
    if (sub.claim_filing_indicator == "MB"
            and sub.responsibility is not PayerResponsibility.PRIMARY
            and not sub.insurance_type_code):
        p.add("Medicare billed as a secondary payer needs the insurance type code (SBR05), "
              "e.g. 12 working aged, 47 other: take it from the Medicare secondary payer "
              "questionnaire")
    if claim.patient is None:
        # The subscriber is the patient: the IG requires her address and demographics.
        p.address(sub.address, "subscriber (the patient)")
        if sub.birth_date is None:
            p.add("subscriber (the patient) date of birth (DMG02) is missing: enter it")
        if sub.sex not in SEXES:
            p.add(f"subscriber (the patient) sex (DMG03) {sub.sex!r} must be F, M or U")
    elif sub.address is not None:
        p.address(sub.address, "subscriber")


def _patient_problems(claim: OutClaim, p: _Problems) -> None:
    patient = claim.patient
    if patient is None:
        return
    p.person(patient.name, "patient")
    p.address(patient.address, "patient")
    if not isinstance(patient.birth_date, date):
        p.add("patient date of birth (DMG02) is missing: enter it")
    if patient.sex not in SEXES:
        p.add(f"patient sex (DMG03) {patient.sex!r} must be F, M or U")
    if patient.relationship not in PATIENT_RELATIONSHIPS:
        p.add(f"patient relationship to the subscriber (PAT01) {patient.relationship!r} must "
              "be 01 spouse, 19 child, 20 employee, 21 unknown, 39 organ donor, "
              "40 cadaver donor, 53 life partner or G8 other (the patient is not the "
              "subscriber here; leave the patient empty when she is)")


def _accident_problems(claim: OutClaim, p: _Problems) -> None:
    causes = claim.related_causes
    if len(causes) > 2:
        p.add(f"{len(causes)} related causes; CLM11 holds at most 2")
    if len(set(causes)) != len(causes):
        p.add("a related cause (CLM11) is listed twice")
    if RelatedCause.AUTO_ACCIDENT in causes and not _STATE.match(
        claim.accident_state.strip().upper()
    ):
        p.add(f"an auto accident (CLM11 AA) needs the two-letter state where it happened "
              f"(CLM11-4), got {claim.accident_state!r}")
    accident = {RelatedCause.AUTO_ACCIDENT, RelatedCause.OTHER_ACCIDENT}
    if accident & set(causes) and claim.accident_date is None:
        p.add("an accident claim (CLM11 AA or OA) needs the accident date (DTP*439)")


def _provider_problems(claim: OutClaim, billing: BillingProvider, p: _Problems) -> None:
    if claim.rendering is not None:
        p.person(claim.rendering.name, "rendering provider")
        p.npi(claim.rendering.npi, "rendering provider")
        if claim.rendering.taxonomy.strip() and not _TAXONOMY.match(
            claim.rendering.taxonomy.strip().upper()
        ):
            p.add(f"rendering provider taxonomy {claim.rendering.taxonomy!r} is not a NUCC "
                  "code such as 225700000X")
    if claim.referring is not None:
        name = "ordering provider" if claim.referring.qualifier == "DK" else "referring provider"
        p.person(claim.referring.name, name)
        p.npi(claim.referring.npi, name)
        if claim.referring.qualifier not in REFERRING_QUALIFIERS:
            p.add(f"{name} qualifier {claim.referring.qualifier!r} must be DN (referring), "
                  "P3 (primary care) or DK (ordering)")
    if claim.facility is not None:
        p.text(claim.facility.name, "service facility name", 60,
               required="enter the name of the place of service")
        p.address(claim.facility.address, "service facility")
        p.npi(claim.facility.npi, "service facility", required=False)


def _prior_payer_problems(claim: OutClaim, p: _Problems) -> None:
    if not claim.prior_payers:
        return
    if claim.subscriber.responsibility is PayerResponsibility.PRIMARY:
        p.add("earlier payers' adjudications (2320) are given but the claim goes to the "
              "primary payer (SBR01 P): set the subscriber's responsibility to S or T")
    if len(claim.prior_payers) > 10:
        p.add(f"{len(claim.prior_payers)} other payers; an 837P carries at most 10 (2320)")
    controls = {line.control_number.strip(): line for line in claim.lines}
    sequences = [claim.subscriber.responsibility]
    per_line: dict[str, int] = {}
    for index, prior in enumerate(claim.prior_payers, start=1):
        name = f"other payer {index} ({prior.payer.name or prior.payer.payer_id})"
        if prior.subscriber.responsibility in sequences:
            p.add(f"{name} has the same payer sequence ({prior.subscriber.responsibility.value}) "
                  "as another payer on the claim")
        sequences.append(prior.subscriber.responsibility)
        p.text(prior.payer.name, f"{name} name", 60, required="enter the payer's name")
        p.text(prior.payer.payer_id, f"{name} payer ID", 80, clean=False,
               required="enter the payer ID")
        p.person(prior.subscriber.name, f"{name} subscriber")
        p.text(prior.subscriber.member_id, f"{name} subscriber member ID", 80, clean=False,
               required="enter the member ID")
        if prior.subscriber.claim_filing_indicator not in FILING_INDICATORS:
            p.add(f"{name} claim filing indicator {prior.subscriber.claim_filing_indicator!r} "
                  "is not an 837 code")
        if prior.relationship not in OTHER_INSURED_RELATIONSHIPS:
            p.add(f"{name} relationship (2320 SBR02) {prior.relationship!r} must be 18 self "
                  "or one of " + ", ".join(sorted(PATIENT_RELATIONSHIPS)))
        p.text(prior.payer_claim_number, f"{name} claim number (REF*F8)", 50, clean=False)
        _adjustment_problems(prior.claim_adjustments, f"{name} claim adjustments", p)
        line_adjustments = Cents(0)
        line_paid = Cents(0)
        if prior.paid.value < 0:
            p.add(f"{name} paid amount {prior.paid} is negative")
        for adjudication in prior.line_adjudications:
            where = f"{name} line {adjudication.control_number!r}"
            line = controls.get(adjudication.control_number.strip())
            if line is None:
                p.add(f"{where} does not match any line's control number (REF*6R)")
                continue
            if adjudication.payer_id != prior.payer.payer_id:
                p.add(f"{where} payer ID {adjudication.payer_id!r} differs from the payer's "
                      f"{prior.payer.payer_id!r}")
            if not _PROCEDURE.match(adjudication.code.strip().upper()):
                p.add(f"{where} procedure code {adjudication.code!r} must be 5 characters")
            if len(adjudication.modifiers) > MAX_MODIFIERS:
                p.add(f"{where} has more than {MAX_MODIFIERS} modifiers")
            if adjudication.units < 0:
                p.add(f"{where} paid units {adjudication.units} are negative")
            _adjustment_problems(adjudication.adjustments, f"{where} adjustments", p)
            adjusted = total(a.amount for a in adjudication.adjustments)
            if adjudication.paid + adjusted != line.charge:
                p.add(f"{where} does not balance: paid {adjudication.paid} + adjustments "
                      f"{adjusted} must equal the line charge {line.charge}")
            line_adjustments = line_adjustments + adjusted
            line_paid = line_paid + adjudication.paid
            per_line[line.control_number] = per_line.get(line.control_number, 0) + 1
        claim_adjusted = total(a.amount for a in prior.claim_adjustments)
        if prior.line_adjudications and line_paid != prior.paid:
            p.add(f"{name} paid {prior.paid} on the claim (AMT*D) but {line_paid} on its lines "
                  "(SVD02): the two must agree")
        if prior.paid + claim_adjusted + line_adjustments != claim.total_charge:
            p.add(f"{name} does not balance: paid {prior.paid} + claim adjustments "
                  f"{claim_adjusted} + line adjustments {line_adjustments} must equal the "
                  f"claim total {claim.total_charge}")
    for control, count in per_line.items():
        if count > MAX_LINE_ADJUDICATIONS:
            p.add(f"line {control!r} has {count} adjudications; at most "
                  f"{MAX_LINE_ADJUDICATIONS} fit (2430)")


def _adjustment_problems(adjustments: Sequence[Adjustment], name: str, p: _Problems) -> None:
    per_group: dict[str, int] = {}
    for adjustment in adjustments:
        if adjustment.group not in ADJUSTMENT_GROUPS:
            p.add(f"{name}: group code {adjustment.group!r} must be CO, CR, OA, PI or PR")
        if not re.match(r"^[A-Z0-9]{1,5}$", adjustment.reason):
            p.add(f"{name}: reason code {adjustment.reason!r} is not a CARC")
        per_group[adjustment.group] = per_group.get(adjustment.group, 0) + 1
    for group, count in per_group.items():
        if count > MAX_ADJUSTMENTS_PER_GROUP:
            p.add(f"{name}: {count} adjustments in group {group}; one CAS segment holds "
                  f"{MAX_ADJUSTMENTS_PER_GROUP}")


def batch_problems(batch: Batch) -> list[str]:
    """Every problem of the batch: its envelope values, each billing provider, each claim."""
    p = _Problems("batch")
    p.text(batch.batch_id, "batch ID (BHT03)", 50, clean=False,
           required="give the batch a reference")
    p.text(batch.submitter.name, "submitter name", 60, required="enter the practice name")
    p.text(batch.submitter.contact_name, "submitter contact name", 60,
           required="enter who the clearinghouse should call")
    p.phone(batch.submitter.phone, "submitter", required="enter the billing office's phone")
    for value, name in ((batch.submitter.etin, "submitter ID"),
                        (batch.receiver.etin, "receiver ID")):
        shown = value.strip()
        if not 2 <= len(shown) <= 15:
            p.add(f"{name} {value!r} must be 2 to 15 characters (the ID the clearinghouse "
                  "assigned)")
        else:
            p.text(shown, name, 15, clean=False)
    p.text(batch.receiver.name, "receiver name", 60, required="enter the clearinghouse name")
    if not 1 <= batch.claims_per_transaction <= MAX_CLAIMS_PER_TRANSACTION:
        p.add(f"claims per transaction set must be 1 to {MAX_CLAIMS_PER_TRANSACTION}, "
              f"not {batch.claims_per_transaction}")
    if batch.created_at.tzinfo is None or batch.created_at.utcoffset() is None:
        p.add("the batch time must be timezone-aware (the practice's local time)")
    if not batch.groups or not any(group.claims for group in batch.groups):
        p.add("the batch has no claims")
    problems = p.items
    claim_ids: dict[str, int] = {}
    line_controls: dict[str, str] = {}
    for group in batch.groups:
        label = group.billing.display_name.strip() or group.billing.npi.strip() or "(unnamed)"
        problems.extend(billing_provider_problems(
            group.billing, f"billing provider {label} (claims {_claim_list(group.claims)})"))
        for claim in group.claims:
            problems.extend(_claim_problems(claim, group.billing))
            claim_ids[claim.claim_id] = claim_ids.get(claim.claim_id, 0) + 1
            for line in claim.lines:
                control = line.control_number.strip()
                other = line_controls.setdefault(control, claim.claim_id)
                if control and other != claim.claim_id:
                    problems.append(f"claim {claim.claim_id}: line {line.number} control number "
                                    f"{control!r} is also used on claim {other}; line control "
                                    "numbers must be unique in a file")
    for claim_id, count in claim_ids.items():
        if count > 1 and claim_id:
            problems.append(f"claim {claim_id}: appears {count} times in the batch; send each "
                            "claim once")
    return problems


def _claim_list(claims: Sequence[OutClaim], shown: int = 5) -> str:
    ids = [claim.claim_id for claim in claims[:shown]]
    more = len(claims) - shown
    return ", ".join(ids) + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def diagnosis_for_x12(code: str) -> str:
    """HI carries ICD-10-CM codes without the dot: M62.830 → M62830."""
    return code.strip().upper().replace(".", "")


def write_837(batch: Batch) -> str:
    """The batch as one 837P interchange, or OutboundError listing every problem."""
    problems = batch_problems(batch)
    if problems:
        count = len(problems)
        raise OutboundError(
            f"the 837P batch {batch.batch_id!r} was not written: {count} problem"
            f"{'s' if count != 1 else ''} to fix first:\n" + "\n".join(problems)
        )
    writer = X12Writer()
    created = batch.created_at
    writer.begin_interchange(InterchangeHeader(
        sender_id=batch.submitter.etin.strip(), receiver_id=batch.receiver.etin.strip(),
        control_number=batch.control.interchange, created_at=created,
        sender_qualifier=batch.sender_qualifier, receiver_qualifier=batch.receiver_qualifier,
        production=batch.production,
    ))
    writer.begin_group(GroupHeader(
        functional_id="HC", sender_code=batch.submitter.etin.strip(),
        receiver_code=batch.receiver.etin.strip(), control_number=batch.control.group,
        created_at=created, version=X222A1,
    ))
    for offset, chunk in enumerate(_transaction_chunks(batch)):
        writer.begin_transaction("837", batch.control.first_transaction + offset, X222A1)
        _write_header(writer, batch)
        hl = _HlCounter()
        for billing, claims in chunk:
            _write_billing_provider(writer, billing, claims, hl)
        writer.end_transaction()
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


def _transaction_chunks(
    batch: Batch,
) -> Iterator[list[tuple[BillingProvider, list[OutClaim]]]]:
    """Claims split into transaction sets of at most ``claims_per_transaction``, in order."""
    limit = batch.claims_per_transaction
    chunk: list[tuple[BillingProvider, list[OutClaim]]] = []
    room = limit
    for group in batch.groups:
        claims = list(group.claims)
        while claims:
            if room == 0:
                yield chunk
                chunk, room = [], limit
            taken, claims = claims[:room], claims[room:]
            chunk.append((group.billing, taken))
            room -= len(taken)
    if chunk:
        yield chunk


class _HlCounter:
    def __init__(self) -> None:
        self.last = 0

    def next(self) -> str:
        self.last += 1
        return str(self.last)


def _up(value: str) -> str:
    return clean_text(value)


def _write_header(w: X12Writer, batch: Batch) -> None:
    created = batch.created_at
    w.segment("BHT", "0019", "00", batch.batch_id.strip(), x12_date(created.date()),
              x12_time(created), "CH")
    w.segment("NM1", "41", "2", _up(batch.submitter.name), "", "", "", "", "46",
              batch.submitter.etin.strip())
    w.segment("PER", "IC", _up(batch.submitter.contact_name), "TE",
              phone_number(batch.submitter.phone))
    w.segment("NM1", "40", "2", _up(batch.receiver.name), "", "", "", "", "46",
              batch.receiver.etin.strip())


def _person_nm1(w: X12Writer, entity: str, name: PersonName, qualifier: str = "",
                identifier: str = "") -> None:
    w.segment("NM1", entity, "1", _up(name.last), _up(name.first), _up(name.middle), "",
              _up(name.suffix), qualifier, identifier)


def _address(w: X12Writer, address: Address) -> None:
    w.segment("N3", _up(address.line1), _up(address.line2))
    w.segment("N4", _up(address.city), _up(address.state), postal_code(address.postal_code))


@dataclass
class _SubscriberBlock:
    subscriber: Subscriber
    payer: Payer
    casualty_claim_number: str  # REF*Y4 in 2010BA when the subscriber is the patient
    own_claims: list[OutClaim] = field(default_factory=list)
    patients: dict[tuple[Patient, str], list[OutClaim]] = field(default_factory=dict)


def _subscriber_blocks(claims: Iterable[OutClaim]) -> list[_SubscriberBlock]:
    """Claims of the same subscriber and payer share one 2000B, in first-seen order.

    Claims where the subscriber is the patient and claims for her dependants go in separate
    2000B loops, so a 2000B either carries claims itself (HL04 0) or only 2000C children.
    """
    blocks: dict[tuple[Any, ...], _SubscriberBlock] = {}
    for claim in claims:
        own = claim.patient is None
        y4 = claim.property_casualty_claim_number.strip() if own else ""
        key = (claim.subscriber, claim.payer, own, y4)
        block = blocks.get(key)
        if block is None:
            block = blocks[key] = _SubscriberBlock(claim.subscriber, claim.payer, y4)
        if claim.patient is None:
            block.own_claims.append(claim)
        else:
            patient_key = (claim.patient, claim.property_casualty_claim_number.strip())
            block.patients.setdefault(patient_key, []).append(claim)
    return list(blocks.values())


def _chunks(claims: list[OutClaim], size: int) -> Iterator[list[OutClaim]]:
    for start in range(0, len(claims), size):
        yield claims[start:start + size]


def _write_billing_provider(w: X12Writer, billing: BillingProvider, claims: list[OutClaim],
                            hl: _HlCounter) -> None:
    billing_hl = hl.next()
    w.segment("HL", billing_hl, "", "20", "1")
    if billing.taxonomy.strip():
        w.segment("PRV", "BI", "PXC", billing.taxonomy.strip().upper())
    if billing.person is None:
        w.segment("NM1", "85", "2", _up(billing.organization_name), "", "", "", "", "XX",
                  billing.npi.strip())
    else:
        _person_nm1(w, "85", billing.person, "XX", billing.npi.strip())
    _address(w, billing.address)
    w.segment("REF", billing.tax_id_qualifier.value, _DIGITS.sub("", billing.tax_id))
    if billing.phone.strip():
        w.segment("PER", "IC", _up(billing.contact_name), "TE", phone_number(billing.phone))
    if billing.pay_to_address is not None:
        w.segment("NM1", "87", "2")
        _address(w, billing.pay_to_address)
    adjudications = _LineAdjudications()
    for block in _subscriber_blocks(claims):
        for chunk in _chunks(block.own_claims, MAX_CLAIMS_PER_HL):
            subscriber_hl = hl.next()
            w.segment("HL", subscriber_hl, billing_hl, "22", "0")
            _write_subscriber(w, block, patient_is_subscriber=True)
            for claim in chunk:
                _write_claim(w, claim, billing, adjudications)
        if block.patients:
            subscriber_hl = hl.next()
            w.segment("HL", subscriber_hl, billing_hl, "22", "1")
            _write_subscriber(w, block, patient_is_subscriber=False)
            for (patient, y4), patient_claims in block.patients.items():
                for chunk in _chunks(patient_claims, MAX_CLAIMS_PER_HL):
                    w.segment("HL", hl.next(), subscriber_hl, "23", "0")
                    _write_patient(w, patient, y4)
                    for claim in chunk:
                        _write_claim(w, claim, billing, adjudications)


def _write_subscriber(w: X12Writer, block: _SubscriberBlock, *,
                      patient_is_subscriber: bool) -> None:
    sub = block.subscriber
    group_number = sub.group_number.strip()
    # SBR04 (group or plan name) only when there is no group number (IG note on SBR04).
    plan_name = "" if group_number else _up(sub.plan_name)
    w.segment("SBR", sub.responsibility.value, "18" if patient_is_subscriber else "",
              group_number, plan_name, sub.insurance_type_code, "", "", "",
              sub.claim_filing_indicator)
    _person_nm1(w, "IL", sub.name, "MI", sub.member_id.strip())
    if sub.address is not None:
        _address(w, sub.address)
    if patient_is_subscriber and sub.birth_date is not None:
        w.segment("DMG", "D8", x12_date(sub.birth_date), sub.sex)
    if block.casualty_claim_number:
        w.segment("REF", "Y4", block.casualty_claim_number)
    _write_payer(w, "PR", block.payer)


def _write_payer(w: X12Writer, entity: str, payer: Payer) -> None:
    w.segment("NM1", entity, "2", _up(payer.name), "", "", "", "", "PI", payer.payer_id.strip())
    if payer.address is not None:
        _address(w, payer.address)


def _write_patient(w: X12Writer, patient: Patient, casualty_claim_number: str) -> None:
    w.segment("PAT", patient.relationship)
    _person_nm1(w, "QC", patient.name)
    _address(w, patient.address)
    w.segment("DMG", "D8", x12_date(patient.birth_date), patient.sex)
    if casualty_claim_number:
        w.segment("REF", "Y4", casualty_claim_number)


class _LineAdjudications:
    """Loop 2430 entries of the claim being written, by line control number."""

    def __init__(self) -> None:
        self.by_line: dict[str, list[LineAdjudication]] = {}

    def load(self, claim: OutClaim) -> None:
        self.by_line = {}
        for prior in claim.prior_payers:
            for adjudication in prior.line_adjudications:
                key = adjudication.control_number.strip()
                self.by_line.setdefault(key, []).append(adjudication)


def _write_claim(w: X12Writer, claim: OutClaim, billing: BillingProvider,
                 adjudications: _LineAdjudications) -> None:
    causes = [cause.value for cause in claim.related_causes]
    related: Composite = ()
    if causes:
        state = claim.accident_state.strip().upper() if "AA" in causes else ""
        related = (causes[0], causes[1] if len(causes) > 1 else "", "", state)
    w.segment(
        "CLM", claim.claim_id.strip(), claim.total_charge.to_x12(), "", "",
        (claim.place_of_service, "B", claim.frequency),
        "Y" if claim.signature_on_file else "N",
        "A" if claim.assignment_accepted else "C",
        "Y" if claim.assignment_accepted else "N",
        "Y", "", related,
    )
    if claim.onset_date is not None:
        w.segment("DTP", "431", "D8", x12_date(claim.onset_date))
    if claim.accident_date is not None:
        w.segment("DTP", "439", "D8", x12_date(claim.accident_date))
    if claim.patient_paid.value > 0:
        w.segment("AMT", "F5", claim.patient_paid.to_x12())
    if claim.referral_number.strip():
        w.segment("REF", "9F", claim.referral_number.strip())
    if claim.prior_authorization.strip():
        w.segment("REF", "G1", claim.prior_authorization.strip())
    if claim.payer_claim_number.strip():
        w.segment("REF", "F8", claim.payer_claim_number.strip())
    codes: list[Element] = []
    for position, code in enumerate(claim.diagnoses):
        codes.append(("ABK" if position == 0 else "ABF", diagnosis_for_x12(code)))
    w.segment("HI", *codes)
    referring = claim.referring
    if referring is not None and referring.qualifier in ("DN", "P3"):
        _person_nm1(w, referring.qualifier, referring.name, "XX", referring.npi.strip())
    rendering = claim.rendering
    if rendering is not None and rendering.npi.strip() != billing.npi.strip():
        _person_nm1(w, "82", rendering.name, "XX", rendering.npi.strip())
        if rendering.taxonomy.strip():
            w.segment("PRV", "PE", "PXC", rendering.taxonomy.strip().upper())
    facility = claim.facility
    if facility is not None and facility.address != billing.address:
        w.segment("NM1", "77", "2", _up(facility.name), "", "", "", "",
                  "XX" if facility.npi.strip() else "", facility.npi.strip())
        _address(w, facility.address)
    for prior in claim.prior_payers:
        _write_prior_payer(w, claim, prior)
    adjudications.load(claim)
    ordering = referring if referring is not None and referring.qualifier == "DK" else None
    for line in claim.lines:
        _write_line(w, claim, line, ordering, adjudications.by_line.get(
            line.control_number.strip(), ()))


def _write_prior_payer(w: X12Writer, claim: OutClaim, prior: PriorPayer) -> None:
    sub = prior.subscriber
    group_number = sub.group_number.strip()
    w.segment("SBR", sub.responsibility.value, prior.relationship, group_number,
              "" if group_number else _up(sub.plan_name), sub.insurance_type_code, "", "", "",
              sub.claim_filing_indicator)
    _write_adjustments(w, prior.claim_adjustments)
    w.segment("AMT", "D", prior.paid.to_x12())
    assigned = "Y" if claim.assignment_accepted else "N"
    w.segment("OI", "", "", assigned, "", "", "Y")
    _person_nm1(w, "IL", sub.name, "MI", sub.member_id.strip())
    if sub.address is not None:
        _address(w, sub.address)
    _write_payer(w, "PR", prior.payer)
    # The claim-level date goes out only when no line carries its own (IG note on 2330B DTP).
    if not prior.line_adjudications:
        w.segment("DTP", "573", "D8", x12_date(prior.adjudicated_on))
    if prior.payer_claim_number.strip():
        w.segment("REF", "F8", prior.payer_claim_number.strip())


def _write_adjustments(w: X12Writer, adjustments: Sequence[Adjustment]) -> None:
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    for group, items in by_group.items():
        elements: list[Element] = [group]
        for item in items:
            quantity = "" if item.quantity is None else str(item.quantity)
            elements.extend((item.reason, item.amount.to_x12(), quantity))
        w.segment("CAS", *elements)


def _write_line(w: X12Writer, claim: OutClaim, line: OutLine, ordering: ProviderRef | None,
                adjudications: Sequence[LineAdjudication]) -> None:
    w.segment("LX", str(line.number))
    procedure: Composite = ("HC", line.code.strip().upper(),
                            *(m.strip().upper() for m in line.modifiers))
    place = line.place_of_service
    if place == claim.place_of_service:
        place = ""
    w.segment("SV1", procedure, line.charge.to_x12(), "UN", str(line.units), place, "",
              tuple(str(pointer) for pointer in line.pointers))
    end = line.date_of_service_end
    if end is None or end == line.date_of_service:
        w.segment("DTP", "472", "D8", x12_date(line.date_of_service))
    else:
        w.segment("DTP", "472", "RD8", f"{x12_date(line.date_of_service)}-{x12_date(end)}")
    w.segment("REF", "6R", line.control_number.strip())
    if ordering is not None:
        _person_nm1(w, "DK", ordering.name, "XX", ordering.npi.strip())
    for adjudication in adjudications:
        paid_procedure: Composite = ("HC", adjudication.code.strip().upper(),
                                     *(m.strip().upper() for m in adjudication.modifiers))
        w.segment("SVD", adjudication.payer_id.strip(), adjudication.paid.to_x12(),
                  paid_procedure, "", str(adjudication.units))
        _write_adjustments(w, adjudication.adjustments)
        w.segment("DTP", "573", "D8", x12_date(adjudication.adjudicated_on))


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


class X12ReadError(ValueError):
    """An 837P that cannot be read into claim values; says which segment and why."""


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


def read_837(transaction: Any) -> Transaction837:
    """Read one tokenised 837P transaction set (ST … SE) into claim values."""
    segments, component = _segments_of(transaction)
    reader = _Reader(component)
    for position, segment in enumerate(segments, start=1):
        try:
            reader.feed(segment)
        except X12ReadError as exc:
            raise X12ReadError(f"segment {position} ({segment[0] if segment else '?'}): "
                               f"{exc}") from None
        except (MoneyError, ValueError, IndexError) as exc:
            raise X12ReadError(f"segment {position} ({segment[0] if segment else '?'}): "
                               f"{exc}") from None
    return reader.finish()


def _segments_of(transaction: Any) -> tuple[Sequence[RawSegment], str]:
    """Adapter from the tokenizer's transaction object to plain segments."""
    segments = transaction.segments
    component = transaction.component_separator
    return segments, component


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

    def build(self) -> Subscriber:
        try:
            responsibility = PayerResponsibility(self.responsibility)
        except ValueError:
            raise X12ReadError(f"payer sequence (SBR01) {self.responsibility!r} is not P, S or "
                               "T; Handbill reads primary, secondary and tertiary only") from None
        return Subscriber(
            name=self.name, member_id=self.member_id, birth_date=self.birth_date,
            sex=self.sex, address=self.address, responsibility=responsibility,
            claim_filing_indicator=self.filing, group_number=self.group_number,
            plan_name=self.plan_name, insurance_type_code=self.insurance_type,
        )


@dataclass
class _PatientDraft:
    relationship: str = ""
    name: PersonName = field(default_factory=lambda: PersonName(""))
    address: Address | None = None
    birth_date: date | None = None
    sex: str = ""
    casualty_claim_number: str = ""

    def build(self) -> Patient:
        if self.address is None or self.birth_date is None:
            raise X12ReadError(f"patient {self.name.last!r} lacks the address or date of "
                               "birth the 2010CA loop requires")
        return Patient(name=self.name, birth_date=self.birth_date, sex=self.sex,
                       address=self.address, relationship=self.relationship)


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

    @staticmethod
    def el(segment: RawSegment, index: int) -> str:
        return segment[index] if index < len(segment) else ""

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


# ---------------------------------------------------------------------------------------------
# Implementation-guide checks a structural validator misses
# ---------------------------------------------------------------------------------------------


def check_837(transaction: Any) -> list[str]:
    """IG-level problems of one 837P transaction set; an empty list means none were found.

    Envelope and counts (SE01, control numbers) are the tokenizer's business; this adds the
    rules that need the claim's meaning: CLM02 = Σ SV102, frequency codes and REF*F8, HI
    qualifiers and pointers, loop limits, HL parents, other-payer balancing, and the code
    lists of the segments Handbill itself never writes (PWK).
    """
    segments, component = _segments_of(transaction)
    problems: list[str] = []
    try:
        read_837(transaction)
    except X12ReadError as exc:
        problems.append(str(exc))
    checker = _Checker(component, problems)
    for position, segment in enumerate(segments, start=1):
        if segment:
            checker.feed(position, segment)
    checker.end_claim()
    return problems


@dataclass
class _CheckedClaim:
    position: int
    claim_id: str
    total: Cents | None
    frequency: str
    has_f8: bool = False
    diagnoses: int = 0
    lines: int = 0
    line_sum: Cents = Cents(0)
    other_paid: dict[str, Cents] = field(default_factory=dict)  # 2330B payer id → AMT*D
    other_adjusted: dict[str, Cents] = field(default_factory=dict)
    line_adjusted: dict[str, Cents] = field(default_factory=dict)  # SVD01 → Σ line CAS


class _Checker:
    def __init__(self, component: str, problems: list[str]) -> None:
        self.component = component
        self.problems = problems
        self.levels: dict[str, str] = {}  # HL01 → HL03
        self.expected_hl = 1
        self.claims_in_level = 0
        self.claim: _CheckedClaim | None = None
        self.loop = ""
        self.pending_paid: Cents | None = None
        self.pending_adjusted = Cents(0)
        self.line_payer = ""

    def add(self, position: int, segment: RawSegment, message: str) -> None:
        where = f"segment {position} ({segment[0]})"
        if self.claim is not None:
            where += f", claim {self.claim.claim_id}"
        self.problems.append(f"{where}: {message}")

    def feed(self, position: int, s: RawSegment) -> None:
        tag = s[0]
        el = _Reader.el
        if tag == "HL":
            self.end_claim()
            self.hl(position, s)
        elif tag == "CLM":
            self.end_claim()
            self.claims_in_level += 1
            if self.claims_in_level == MAX_CLAIMS_PER_HL + 1:
                self.add(position, s, f"more than {MAX_CLAIMS_PER_HL} claims under one "
                         "subscriber or patient level")
            place = el(s, 5).split(self.component)
            try:
                amount: Cents | None = Cents.parse(el(s, 2))
            except MoneyError:
                amount = None
            self.claim = _CheckedClaim(position, el(s, 1), amount,
                                       place[2] if len(place) > 2 else "")
            self.loop = "2300"
            if self.claim.frequency not in FREQUENCIES:
                self.add(position, s, f"claim frequency (CLM05-3) {self.claim.frequency!r} "
                         "is not 1 (original), 7 (replacement) or 8 (void)")
        elif self.claim is not None:
            self.in_claim(position, s)

    def hl(self, position: int, s: RawSegment) -> None:
        el = _Reader.el
        number, parent, level = el(s, 1), el(s, 2), el(s, 3)
        if number != str(self.expected_hl):
            self.add(position, s, f"HL01 {number!r} should be {self.expected_hl}: "
                     "hierarchical IDs count up from 1")
        self.expected_hl += 1
        wanted_parent = {"20": None, "22": "20", "23": "22"}.get(level)
        if level == "20" and parent:
            self.add(position, s, "a billing provider level (HL 20) has no parent")
        elif wanted_parent is not None and self.levels.get(parent) != wanted_parent:
            self.add(position, s, f"HL {number} (level {level}) must hang under a level "
                     f"{wanted_parent} HL, not {parent!r}")
        self.levels[number] = level
        self.claims_in_level = 0
        self.loop = "HL"

    def in_claim(self, position: int, s: RawSegment) -> None:
        claim = self.claim
        assert claim is not None  # noqa: S101 - only called inside a claim
        el = _Reader.el
        tag = s[0]
        if tag == "REF" and el(s, 1) == "F8" and self.loop == "2300":
            claim.has_f8 = True
        elif tag == "HI":
            qualifiers = [element.split(self.component)[0] for element in s[1:] if element]
            if qualifiers and qualifiers[0] in ("ABK", "BK"):
                claim.diagnoses = len(qualifiers)
                for index, qualifier in enumerate(qualifiers[1:], start=2):
                    wanted = "ABF" if qualifiers[0] == "ABK" else "BF"
                    if qualifier != wanted:
                        self.add(position, s, f"diagnosis {index} has qualifier {qualifier!r}; "
                                 f"after a principal {qualifiers[0]} the others use {wanted}")
        elif tag == "SBR":
            self.loop = "2320"
            self.pending_adjusted = Cents(0)
        elif tag == "CAS" and self.loop in ("2320", "2430"):
            amount = self.cas_total(position, s)
            if self.loop == "2320":
                self.pending_adjusted = self.pending_adjusted + amount
            else:
                claim.line_adjusted[self.line_payer] = (
                    claim.line_adjusted.get(self.line_payer, Cents(0)) + amount)
        elif tag == "AMT" and el(s, 1) == "D" and self.loop == "2320":
            self.pending_paid = self.money(position, s, 2)
        elif tag == "NM1" and el(s, 1) == "PR" and self.loop in ("2320", "2330A"):
            payer = el(s, 9)
            claim.other_paid[payer] = self.pending_paid or Cents(0)
            claim.other_adjusted[payer] = self.pending_adjusted
            self.pending_paid = None
            self.loop = "2330B"
        elif tag == "NM1" and el(s, 1) == "IL" and self.loop == "2320":
            self.loop = "2330A"
        elif tag == "LX":
            claim.lines += 1
            self.loop = "2400"
            if claim.lines == MAX_LINES_PER_CLAIM + 1:
                self.add(position, s, f"more than {MAX_LINES_PER_CLAIM} service lines")
        elif tag == "SV1":
            self.service_line(position, s, claim)
        elif tag == "SVD":
            self.line_payer = el(s, 1)
            self.loop = "2430"
        elif tag == "PWK":
            # PWK02 for attachments (claim and line supplemental information). pyx12, x12sdk
            # and linuxforhealth all read a line PWK*CT against this list; the TR3's separate
            # DME certificate-of-medical-necessity PWK (PWK01 CT, PWK02 AB/AD/AF/AG/NS)
            # would accept more. Handbill follows the validators.
            code = el(s, 2)
            if code not in ATTACHMENT_TRANSMISSION:
                self.add(position, s, f"attachment transmission code (PWK02) {code!r} is not "
                         "in the 5010 code list (" + ", ".join(sorted(ATTACHMENT_TRANSMISSION))
                         + ")")

    def service_line(self, position: int, s: RawSegment, claim: _CheckedClaim) -> None:
        el = _Reader.el
        charge = self.money(position, s, 2)
        if charge is not None:
            claim.line_sum = claim.line_sum + charge
        pointers = [p for p in el(s, 7).split(self.component) if p] if el(s, 7) else []
        if not pointers:
            self.add(position, s, f"line {claim.lines} has no diagnosis pointer (SV107)")
        for pointer in pointers:
            if not pointer.isdigit() or not 1 <= int(pointer) <= max(claim.diagnoses, 0):
                self.add(position, s, f"line {claim.lines} diagnosis pointer {pointer!r} does "
                         f"not point at one of the claim's {claim.diagnoses} diagnoses")

    def money(self, position: int, s: RawSegment, index: int) -> Cents | None:
        try:
            return Cents.parse(_Reader.el(s, index))
        except MoneyError:
            self.add(position, s, f"{s[0]}{index:02d} {_Reader.el(s, index)!r} is not an amount")
            return None

    def cas_total(self, position: int, s: RawSegment) -> Cents:
        result = Cents(0)
        for index in range(3, len(s), 3):
            if _Reader.el(s, index):
                result = result + (self.money(position, s, index) or Cents(0))
        return result

    def end_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        self.claim = None
        where = f"claim {claim.claim_id} (segment {claim.position})"
        if claim.frequency in ("7", "8") and not claim.has_f8:
            self.problems.append(f"{where}: frequency {claim.frequency} "
                                 f"({FREQUENCIES[claim.frequency]}) without the payer's claim "
                                 "number (REF*F8)")
        if claim.total is not None and claim.lines and claim.line_sum != claim.total:
            self.problems.append(f"{where}: total charge (CLM02) {claim.total} does not equal "
                                 f"the sum of its lines (SV102) {claim.line_sum}")
        for payer, paid in claim.other_paid.items():
            adjusted = claim.other_adjusted.get(payer, Cents(0)) + claim.line_adjusted.get(
                payer, Cents(0))
            if claim.total is not None and paid + adjusted != claim.total:
                self.problems.append(
                    f"{where}: other payer {payer} does not balance: paid {paid} + "
                    f"adjustments {adjusted} ≠ claim total {claim.total}")
