"""835 health care claim payment/advice, 005010X221A1: writing a remittance from typed values.

Handbill receives 835s from payers; it writes them only for its payer sandbox (so the whole
billing loop runs offline) and for tests of the 835 reader. The writer takes plain values —
one :class:`RemittanceOut` per payment (one ST … SE) — and refuses any that would not balance
(reference §6.5):

- each line: ``SVC02 − SVC03 = Σ line CAS``;
- each claim: ``CLP03 − CLP04 = Σ claim CAS + Σ line CAS``, and ``CLP05 = Σ PR``;
- the payment: ``BPR02 = Σ CLP04 − Σ PLB04``, never negative.

BPR02 is computed here, never given, so the payment always agrees with its claims.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from handbill.core.money import Cents, total
from handbill.core.outbound import Address, Adjustment, OutboundError, PersonName
from handbill.x12.writer import (
    Composite,
    GroupHeader,
    InterchangeHeader,
    X12Writer,
    clean_text,
    x12_date,
)

X221A1 = "005010X221A1"

# CLP06 takes a narrower list than the 837's SBR09: commercial (CI), Blue Cross (BL) and
# "other non-federal" (11) have no 835 value of their own.
CLAIM_FILING_CODES_835 = frozenset({
    "12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF",
    "TV", "VA", "WC", "ZZ",
})
CLAIM_STATUSES_835 = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
ADJUSTMENT_GROUPS = frozenset({"CO", "PR", "OA", "PI"})
_CAS_TRIPLES = 6  # reason/amount/quantity triples one CAS segment holds


def filing_code_for_835(sbr09: str) -> str:
    """CLP06 for a claim filed with SBR09 ``sbr09``: the same code when the 835 has it.

    Commercial plans (CI, BL) are answered as PPO (12), the usual network arrangement for a
    plan that has a fee schedule; anything without an 835 code becomes ZZ (mutually defined).
    """
    code = sbr09.strip().upper()
    if code in CLAIM_FILING_CODES_835:
        return code
    if code in ("CI", "BL"):
        return "12"
    return "ZZ"


class PaymentMethod(StrEnum):
    """BPR04: how the money moves."""

    ACH = "ACH"  # electronic funds transfer
    CHECK = "CHK"
    NONE = "NON"  # no payment (a notification, BPR01 = H)


@dataclass(frozen=True, slots=True)
class BankAccount:
    """One side of an ACH transfer: ABA routing number (qualifier 01) and account (DA)."""

    routing_number: str  # 9 digits
    account_number: str


@dataclass(frozen=True, slots=True)
class RemittancePayer:
    """Loop 1000A, plus the payer's own identifier in TRN03."""

    name: str
    payer_id: str  # REF*2U: the electronic payer ID claims are sent to
    company_id: str  # TRN03: "1" followed by the payer's nine-digit EIN
    contact_phone: str  # PER*BL (the IG requires a technical contact)
    contact_name: str = "EDI SUPPORT"
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class RemittancePayee:
    """Loop 1000B: who the money goes to (the billing provider), by NPI."""

    name: str
    npi: str
    tax_id: str = ""  # REF*TJ, nine digits
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class ServicePaymentOut:
    """Loop 2110: what the payer did with one service line."""

    code: str
    modifiers: tuple[str, ...]
    charge: Cents  # SVC02, as billed
    paid: Cents  # SVC03
    units_paid: int  # SVC05
    date_of_service: date
    adjustments: tuple[Adjustment, ...] = ()
    control_number: str = ""  # REF*6R, echoed from the 837 line
    allowed: Cents | None = None  # AMT*B6
    remarks: tuple[str, ...] = ()  # LQ*HE remark codes (RARC)
    units_billed: int | None = None  # SVC07, when the payer paid a different number of units
    date_of_service_end: date | None = None  # DTM*150/151 instead of DTM*472

    @property
    def adjusted(self) -> Cents:
        return total(a.amount for a in self.adjustments)


@dataclass(frozen=True, slots=True)
class ClaimPaymentOut:
    """Loop 2100: one claim's payment."""

    claim_id: str  # CLP01, our CLM01
    status: str  # CLP02
    charge: Cents  # CLP03
    paid: Cents  # CLP04
    patient_responsibility: Cents  # CLP05
    filing_code: str  # CLP06, see filing_code_for_835
    payer_claim_number: str  # CLP07
    patient: PersonName  # NM1*QC
    member_id: str
    lines: tuple[ServicePaymentOut, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    # NM1*IL when the patient is not the subscriber; then NM1*QC carries no ID.
    insured: PersonName | None = None
    rendering_npi: str = ""  # NM1*82, when the rendering provider is not the payee
    rendering_name: PersonName | None = None
    facility_code: str = ""  # CLP08: place of service for a professional claim
    frequency: str = ""  # CLP09
    received_on: date | None = None  # DTM*050

    @property
    def adjusted(self) -> Cents:
        return total(a.amount for a in self.adjustments) + total(
            line.adjusted for line in self.lines)

    def all_adjustments(self) -> Iterable[Adjustment]:
        yield from self.adjustments
        for line in self.lines:
            yield from line.adjustments


@dataclass(frozen=True, slots=True)
class ProviderAdjustmentOut:
    """PLB: a payment-level adjustment. Positive amounts reduce the payment (a recoupment),
    negative ones increase it (L6 interest)."""

    provider_id: str  # PLB01, the payee's NPI
    fiscal_period_end: date  # PLB02
    reason: str  # PLB03-1: L6 interest, WO overpayment recovery, FB forward balance …
    amount: Cents  # PLB04
    reference: str = ""  # PLB03-2, e.g. the claim the interest is for


@dataclass(frozen=True, slots=True)
class RemittanceOut:
    """One payment: one 835 transaction set."""

    payer: RemittancePayer
    payee: RemittancePayee
    method: PaymentMethod
    payment_date: date  # BPR16: the check date or EFT effective date
    trace_number: str  # TRN02: the check or EFT trace number
    claims: tuple[ClaimPaymentOut, ...]
    production_date: date | None = None  # DTM*405
    provider_adjustments: tuple[ProviderAdjustmentOut, ...] = ()
    payer_account: BankAccount | None = None  # ACH: BPR06-09
    payee_account: BankAccount | None = None  # ACH: BPR12-15

    @property
    def total_paid(self) -> Cents:
        """BPR02 = Σ CLP04 − Σ PLB04."""
        return total(c.paid for c in self.claims) - total(
            p.amount for p in self.provider_adjustments)


@dataclass(frozen=True, slots=True)
class RemittanceBatch:
    """One 835 interchange: one functional group (HP) of one or more payments."""

    interchange: InterchangeHeader  # ISA06 = the payer, ISA08 = the submitter it answers
    group_control_number: int  # GS06
    remittances: tuple[RemittanceOut, ...]
    first_transaction: int = 1  # ST02 of the first set; further sets count up


def remittance_problems(remittance: RemittanceOut) -> list[str]:
    """Why ``remittance`` cannot be written as a balanced 835; empty when it can."""
    problems: list[str] = []
    if not remittance.claims and not remittance.provider_adjustments:
        problems.append("a remittance needs at least one claim or provider adjustment")
    if not remittance.trace_number.strip():
        problems.append("the trace number (TRN02) is empty")
    company = remittance.payer.company_id
    if len(company) != 10 or not company.isdigit():
        problems.append(f"TRN03 {company!r} must be 10 digits: 1 followed by the payer's EIN")
    if not remittance.payer.contact_phone:
        problems.append("the payer's technical contact (PER*BL) needs a phone number")
    paid = remittance.total_paid
    if paid.value < 0:
        problems.append(f"the payment comes out negative ({paid}); an 835 cannot take money "
                        "back in BPR02: carry the debt forward with a PLB FB adjustment")
    if paid.value > 0 and remittance.method is PaymentMethod.NONE:
        problems.append(f"a payment of {paid} cannot have method NON; use ACH or CHK")
    if paid.value == 0 and remittance.method is not PaymentMethod.NONE:
        problems.append("a zero payment is a notification: use method NON")
    if remittance.method is PaymentMethod.ACH and (
            remittance.payer_account is None or remittance.payee_account is None):
        problems.append("an ACH payment needs the payer's and the payee's bank accounts")
    for claim in remittance.claims:
        problems.extend(f"claim {claim.claim_id}: {p}" for p in claim_problems(claim))
    return problems


def claim_problems(claim: ClaimPaymentOut) -> list[str]:
    """Balancing and code problems of one claim payment."""
    problems: list[str] = []
    if claim.status not in CLAIM_STATUSES_835:
        problems.append(f"CLP02 {claim.status!r} is not an 835 claim status")
    if claim.filing_code not in CLAIM_FILING_CODES_835:
        problems.append(f"CLP06 {claim.filing_code!r} is not an 835 claim filing code; see "
                        "filing_code_for_835")
    if not claim.payer_claim_number:
        problems.append("the payer claim number (CLP07) is empty")
    for adjustment in claim.all_adjustments():
        if adjustment.group not in ADJUSTMENT_GROUPS:
            problems.append(f"adjustment group {adjustment.group!r} is not CO, PR, OA or PI")
    for line in claim.lines:
        if line.charge - line.paid != line.adjusted:
            problems.append(
                f"line {line.control_number or line.code} does not balance: charge "
                f"{line.charge} − paid {line.paid} ≠ adjustments {line.adjusted}")
        if line.units_paid < 0:
            problems.append(f"line {line.control_number or line.code}: negative units paid")
    if claim.charge - claim.paid != claim.adjusted:
        problems.append(f"the claim does not balance: charge {claim.charge} − paid "
                        f"{claim.paid} ≠ adjustments {claim.adjusted}")
    if claim.lines and total(line.paid for line in claim.lines) != claim.paid:
        problems.append(f"paid {claim.paid} is not the sum of the lines' payments")
    responsibility = total(a.amount for a in claim.all_adjustments() if a.group == "PR")
    if responsibility != claim.patient_responsibility:
        problems.append(f"patient responsibility {claim.patient_responsibility} is not the "
                        f"sum of the PR adjustments ({responsibility})")
    return problems


def write_835(batch: RemittanceBatch) -> str:
    """The remittances as one 835 interchange, or OutboundError listing every problem."""
    problems = [f"payment {r.trace_number}: {p}" for r in batch.remittances
                for p in remittance_problems(r)]
    if not batch.remittances:
        problems.append("an 835 interchange needs at least one remittance")
    if problems:
        raise OutboundError("the 835 was not written:\n" + "\n".join(problems))
    header = batch.interchange
    writer = X12Writer()
    writer.begin_interchange(header)
    writer.begin_group(GroupHeader(
        functional_id="HP", sender_code=header.sender_id.strip(),
        receiver_code=header.receiver_id.strip(), control_number=batch.group_control_number,
        created_at=header.created_at, version=X221A1,
    ))
    for offset, remittance in enumerate(batch.remittances):
        # The 835 guide marks ST03 "not used": GS08 alone names the convention.
        writer.begin_transaction("835", batch.first_transaction + offset, "")
        _write_remittance(writer, remittance)
        writer.end_transaction()
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


def _write_remittance(w: X12Writer, r: RemittanceOut) -> None:
    paid = r.total_paid
    handling = "I" if paid.value > 0 else "H"
    when = x12_date(r.payment_date)
    if r.method is PaymentMethod.ACH:
        assert r.payer_account is not None and r.payee_account is not None  # noqa: S101
        w.segment("BPR", handling, paid.to_x12(), "C", r.method.value, "CCP",
                  "01", r.payer_account.routing_number, "DA", r.payer_account.account_number,
                  r.payer.company_id, "",
                  "01", r.payee_account.routing_number, "DA", r.payee_account.account_number,
                  when)
    else:
        w.segment("BPR", handling, paid.to_x12(), "C", r.method.value,
                  *([""] * 11), when)
    w.segment("TRN", "1", r.trace_number, r.payer.company_id)
    if r.production_date is not None:
        w.segment("DTM", "405", x12_date(r.production_date))
    _write_payer(w, r.payer)
    _write_payee(w, r.payee)
    if r.claims:
        w.segment("LX", "1")
        for claim in r.claims:
            _write_claim(w, claim)
    for adjustment in r.provider_adjustments:
        reason: Composite = (adjustment.reason, adjustment.reference)
        w.segment("PLB", adjustment.provider_id, x12_date(adjustment.fiscal_period_end),
                  reason, adjustment.amount.to_x12())


def _write_address(w: X12Writer, address: Address | None) -> None:
    if address is None:
        return
    w.segment("N3", clean_text(address.line1), clean_text(address.line2))
    w.segment("N4", clean_text(address.city), address.state, address.postal_code)


def _write_payer(w: X12Writer, payer: RemittancePayer) -> None:
    w.segment("N1", "PR", clean_text(payer.name))
    _write_address(w, payer.address)
    w.segment("REF", "2U", payer.payer_id)
    w.segment("PER", "BL", clean_text(payer.contact_name), "TE", payer.contact_phone)


def _write_payee(w: X12Writer, payee: RemittancePayee) -> None:
    w.segment("N1", "PE", clean_text(payee.name), "XX", payee.npi)
    _write_address(w, payee.address)
    if payee.tax_id:
        w.segment("REF", "TJ", payee.tax_id)


def _name_elements(name: PersonName) -> tuple[str, str, str, str, str]:
    return (clean_text(name.last), clean_text(name.first), clean_text(name.middle), "",
            clean_text(name.suffix))


def _write_claim(w: X12Writer, c: ClaimPaymentOut) -> None:
    w.segment("CLP", c.claim_id, c.status, c.charge.to_x12(), c.paid.to_x12(),
              c.patient_responsibility.to_x12() if c.patient_responsibility else "",
              c.filing_code, c.payer_claim_number, c.facility_code, c.frequency)
    _write_cas(w, c.adjustments)
    if c.insured is None:
        w.segment("NM1", "QC", "1", *_name_elements(c.patient), "MI", c.member_id)
    else:
        w.segment("NM1", "QC", "1", *_name_elements(c.patient))
        w.segment("NM1", "IL", "1", *_name_elements(c.insured), "MI", c.member_id)
    if c.rendering_npi:
        name = c.rendering_name or PersonName("")
        w.segment("NM1", "82", "1", *_name_elements(name), "XX", c.rendering_npi)
    if c.received_on is not None:
        w.segment("DTM", "050", x12_date(c.received_on))
    for line in c.lines:
        _write_line(w, line)


def _write_line(w: X12Writer, s: ServicePaymentOut) -> None:
    procedure: Composite = ("HC", s.code, *s.modifiers)
    units_billed = "" if s.units_billed in (None, s.units_paid) else str(s.units_billed)
    w.segment("SVC", procedure, s.charge.to_x12(), s.paid.to_x12(), "", str(s.units_paid),
              "", units_billed)
    if s.date_of_service_end is None or s.date_of_service_end == s.date_of_service:
        w.segment("DTM", "472", x12_date(s.date_of_service))
    else:
        w.segment("DTM", "150", x12_date(s.date_of_service))
        w.segment("DTM", "151", x12_date(s.date_of_service_end))
    _write_cas(w, s.adjustments)
    if s.control_number:
        w.segment("REF", "6R", s.control_number)
    if s.allowed is not None:
        w.segment("AMT", "B6", s.allowed.to_x12())
    for remark in s.remarks:
        w.segment("LQ", "HE", remark)


def _write_cas(w: X12Writer, adjustments: Sequence[Adjustment]) -> None:
    """One CAS per group (in the order the groups first appear), six reasons per segment."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    for group, items in by_group.items():
        for start in range(0, len(items), _CAS_TRIPLES):
            elements: list[str] = [group]
            for item in items[start:start + _CAS_TRIPLES]:
                quantity = "" if item.quantity is None else str(item.quantity)
                elements.extend((item.reason, item.amount.to_x12(), quantity))
            w.segment("CAS", *elements)
