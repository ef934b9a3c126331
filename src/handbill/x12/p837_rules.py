"""The 837P's limits and code lists, and the pre-checks that run before anything is written.

Each problem is one message that names the claim (or the billing provider and its claims) and
the field, and says how to fix it, so a biller can correct a whole batch in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from handbill.core.codes.npi import check_npi
from handbill.core.money import Cents, total
from handbill.core.outbound import (
    Address,
    Adjustment,
    Batch,
    BillingProvider,
    OutClaim,
    PayerResponsibility,
    PersonName,
    RelatedCause,
    TaxIdQualifier,
)
from handbill.x12.writer import clean_text, text_problem

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



def diagnosis_for_x12(code: str) -> str:
    """HI carries ICD-10-CM codes without the dot: M62.830 → M62830."""
    return code.strip().upper().replace(".", "")





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
            self.add(f"{name} NPI: {result.reason}" if name else f"NPI: {result.reason}")

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


def digits(value: str) -> str:
    """Only the digits: tax IDs, ZIP codes and phone numbers go out without punctuation."""
    return _DIGITS.sub("", value)


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
    p.npi(billing.npi, "")
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
    return billing_provider_problems(billing, subject) + claim_problems(claim, billing)


def claim_problems(claim: OutClaim, billing: BillingProvider) -> list[str]:
    """The claim's own problems, without its billing provider's (see ``validate_claim``)."""
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
        remaining = prior.remaining_patient_liability
        if remaining is not None and remaining.value < 0:
            p.add(f"{name} remaining patient liability (AMT*EAF) {remaining} is negative")
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
        # IG balancing: the lines' paid amounts less the claim-level adjustments are AMT*D.
        if prior.line_adjudications and line_paid - claim_adjusted != prior.paid:
            p.add(f"{name} paid {prior.paid} on the claim (AMT*D) but {line_paid} on its lines "
                  f"(SVD02) less {claim_adjusted} of claim-level adjustments: the two must agree")
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
            problems.extend(claim_problems(claim, group.billing))
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

