"""The appeal letter: a request that a payer reconsider a denied or underpaid claim.

A reviewer at the payer reads an appeal against three things, so the letter gives all three on
the first page: **which claim** (our claim number, the payer's claim number, the patient and
member ID, the date of service, each line billed and what was paid), **what the payer said**
(each adjustment reason, CARC and RARC, in plain words), and **why it should be paid**, from the
signed treatment note: the minutes, techniques and body regions of each service, the diagnoses
(ICD-10-CM, public-domain CDC text) and the therapist's statement of medical necessity. It opens
with the practice's letterhead and closes with the treating provider's signature line.

Procedure codes carry Handbill's own short labels, never the AMA's descriptors (reference
§8.1). Everything here is a pure function of the values passed in; the Django side
(``handbill.claims.appeals``) gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from handbill.core.codes import carc, cpt, icd10, rarc
from handbill.core.codes.icd10_index import Icd10Index
from handbill.core.money import Cents, total
from handbill.core.outbound import Address, Adjustment, BillingProvider, OutboundError, ProviderRef
from handbill.documents._pdf import (
    BODY,
    MUTED,
    PageWriter,
    address_lines,
    finish,
    fit_width,
    latin1_text,
    new_document,
    person_name,
    phone_text,
    us_date,
)

__all__ = [
    "AppealLetter",
    "AppealedLine",
    "NoteEvidence",
    "ServiceEvidence",
    "reason_argument",
    "render_appeal",
]

_MARGIN = 54.0  # 0.75 in
_PAGE_WIDTH = 612.0
_PAGE_HEIGHT = 792.0
_CONTENT = _PAGE_WIDTH - 2 * _MARGIN
_BOTTOM = _PAGE_HEIGHT - 60.0
_ACCENT = (40, 70, 110)


@dataclass(frozen=True, slots=True)
class AppealedLine:
    """One billed line and what the payer did with it."""

    number: int
    date_of_service: date
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Cents
    paid: Cents
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[str, ...] = ()  # RARCs (LQ*HE)


@dataclass(frozen=True, slots=True)
class ServiceEvidence:
    """One service as the therapist documented it."""

    code: str
    minutes: int
    technique: str
    body_region: str


@dataclass(frozen=True, slots=True)
class NoteEvidence:
    """What the signed SOAP note says, as the appeal quotes it."""

    date_of_service: date
    signed_on: date | None
    signed_by: str
    diagnoses: tuple[str, ...]  # ICD-10-CM codes, principal first
    services: tuple[ServiceEvidence, ...]
    medical_necessity: str
    assessment: str = ""
    plan: str = ""
    response_to_treatment: str = ""
    # The authorization, prescription or referral on file for the visit ("prescription RX12
    # from Dr. …, 12 visits"), empty when none.
    authorization: str = ""


@dataclass(frozen=True, slots=True)
class AppealLetter:
    claim_id: str  # our claim number (CLM01)
    payer_claim_number: str  # CLP07: the payer's number, the one its reviewers search by
    payer_name: str
    payer_address: Address | None
    patient_name: str
    patient_birth_date: date | None
    member_id: str
    group_number: str
    date_of_service: date
    billed: Cents
    paid: Cents
    remittance_date: date | None  # when the payer answered (the 835's payment date)
    submitted_on: date | None  # when we first sent the claim (proof for timely filing)
    lines: tuple[AppealedLine, ...]
    claim_adjustments: tuple[Adjustment, ...]
    claim_remarks: tuple[str, ...]  # MOA RARCs
    evidence: NoteEvidence
    billing: BillingProvider  # the letterhead
    provider: ProviderRef  # the treating provider, who signs
    # The biller's own paragraph, when she has more to say than the standard arguments.
    argument: str = ""


# Why a reason does not apply, in our words, with the evidence it points to. Each entry reads
# from the note; a reason without an entry gets the general request.
_ARGUMENTS: dict[str, str] = {
    "50": "The treatment was medically necessary. The signed note ties each service to the "
          "diagnoses below and states why skilled manual therapy was needed; its assessment "
          "and the patient's response are quoted below.",
    "197": "The treatment was authorized. {authorization} It was on file before the date of "
           "service and covers the services billed.",
    "15": "The treatment was authorized. {authorization}",
    "97": "Each service was separately identifiable: the note documents different techniques "
          "on different body regions ({regions}), each with its own minutes. The modifier on "
          "the claim reflects that separate region, as the NCCI policy allows.",
    "236": "The services billed together are not the same service: the note documents "
           "distinct techniques on separate body regions ({regions}) with their own minutes, "
           "which is what the modifier on the claim states.",
    "234": "The service was a distinct procedure, documented with its own technique, body "
           "region and minutes ({regions}), not a part of another service that day.",
    "4": "The modifiers billed are the ones the documentation supports: the note records "
         "separate body regions ({regions}) for the services that carry them.",
    "29": "The claim was filed on time: it was first sent on {submitted_on}, within the "
          "filing limit for a service on {date_of_service}. Our submission record is "
          "available on request.",
    "16": "The information the payer needed is given in this letter and the enclosed note; "
          "please process the claim with it.",
    "119": "The visit limit counts visits under this plan for the benefit period; our records "
           "show this visit within it. Please recount the visits paid for this member.",
    "170": "The services were performed by a licensed provider acting within the scope of "
           "the licence shown below, as the plan's provider rules allow.",
    "204": "The plan's benefits include these services when they treat a documented "
           "condition, as the diagnoses and the note show.",
}


def reason_argument(reason: str, letter: AppealLetter) -> str:
    """The paragraph answering one CARC, filled in from the letter's evidence."""
    template = _ARGUMENTS.get(carc.carc(reason).code)
    if template is None:
        return ""
    regions = "; ".join(
        f"{service.code}: {service.body_region or 'region not recorded'}"
        for service in letter.evidence.services
    )
    return template.format(
        authorization=(f"The {letter.evidence.authorization}." if letter.evidence.authorization
                       else "The authorization number is on the claim."),
        regions=regions or "see the note",
        submitted_on=(us_date(letter.submitted_on) if letter.submitted_on else
                      "the date shown in our records"),
        date_of_service=us_date(letter.date_of_service),
    )


def render_appeal(
    letter: AppealLetter, *, issued_on: date, icd10_index: Icd10Index | None = None
) -> bytes:
    """The appeal letter as PDF bytes; OutboundError names the claim and what is missing."""
    _check(letter)
    pdf = new_document(made_on=issued_on, title=f"Appeal of claim {letter.claim_id}")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.add_page()
    writer = _Writer(pdf, f"Appeal of claim {letter.payer_claim_number or letter.claim_id}")
    _letterhead(writer, letter.billing)
    _addressee(writer, letter, issued_on)
    _reference_block(writer, letter)
    _opening(writer, letter)
    _denied_lines(writer, letter)
    _reasons(writer, letter)
    _evidence(writer, letter, icd10_index)
    _closing(writer, letter)
    writer.number_pages()
    return finish(pdf)


# --------------------------------------------------------------------------------------------


class _Writer(PageWriter):
    def __init__(self, pdf: FPDF, reference: str) -> None:
        super().__init__(pdf, reference, margin=_MARGIN, bottom=_BOTTOM, footer_from_bottom=40,
                         rule_gap=4, page_width=_PAGE_WIDTH, page_height=_PAGE_HEIGHT)

    def line(self, text: str, *, size: float = 10, style: str = "", height: float = 13,
             colour: tuple[int, int, int] = BODY, align: str = "L") -> None:
        self.room_for(height)
        self.font(size, style, colour)
        self.pdf.set_x(_MARGIN)
        self.pdf.cell(w=_CONTENT, h=height, text=latin1_text(text), align=align,
                      new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, *, size: float = 10, height: float = 13,
                  x: float = _MARGIN, width: float = _CONTENT, style: str = "") -> None:
        if not text.strip():
            return
        self.room_for(height * 2)
        self.font(size, style)
        self.pdf.set_x(x)
        self.pdf.multi_cell(w=width, h=height, text=latin1_text(text), align="L",
                            new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(3)

    def labelled(self, label: str, text: str) -> None:
        """A short label in the margin column and the text wrapped beside it."""
        if not text.strip():
            return
        self.room_for(26)
        top = self.y
        self.font(8.5, "B", MUTED)
        self.pdf.set_xy(_MARGIN, top)
        self.pdf.cell(w=110, h=13, text=latin1_text(label))
        self.font(10)
        self.pdf.set_xy(_MARGIN + 110, top)
        self.pdf.multi_cell(w=_CONTENT - 110, h=13, text=latin1_text(text), align="L",
                            new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def heading(self, title: str) -> None:
        self.room_for(50)
        self.pdf.ln(6)
        self.line(title, size=10.5, style="B", colour=_ACCENT, height=14)
        self.rule()


def _check(letter: AppealLetter) -> None:
    def refuse(problem: str) -> OutboundError:
        return OutboundError(f"claim {letter.claim_id}: {problem}")

    if not letter.lines:
        raise refuse("has no lines to appeal")
    if not letter.payer_claim_number.strip():
        raise refuse("the payer's claim number is missing; an appeal must cite it (CLP07 of "
                     "the payer's remittance)")
    if not any(line.adjustments for line in letter.lines) and not letter.claim_adjustments:
        raise refuse("the payer's answer has no adjustment to appeal")
    if letter.evidence.signed_on is None:
        raise refuse("the treatment note is not signed; an appeal quotes a signed note only")
    summed = total(line.charge for line in letter.lines)
    if summed != letter.billed:
        raise refuse(f"the lines add up to {summed}, not the billed {letter.billed}")


def _letterhead(writer: _Writer, billing: BillingProvider) -> None:
    writer.line(billing.display_name, size=16, style="B", height=20, colour=_ACCENT)
    details = [*address_lines(billing.address)]
    contact = " | ".join(part for part in (
        phone_text(billing.phone) and f"Phone {phone_text(billing.phone)}",
        f"NPI {billing.npi}",
        billing.tax_id and f"Tax ID {_tax_id(billing.tax_id)}",
    ) if part)
    details.append(contact)
    for text in details:
        writer.line(text, size=9, height=11, colour=MUTED)
    writer.pdf.ln(2)
    writer.rule(1.2)


def _tax_id(tax_id: str) -> str:
    digits = "".join(ch for ch in tax_id if ch.isdigit())
    return f"{digits[:2]}-{digits[2:]}" if len(digits) == 9 else digits


def _addressee(writer: _Writer, letter: AppealLetter, issued_on: date) -> None:
    writer.pdf.ln(6)
    writer.line(us_date(issued_on), size=10)
    writer.pdf.ln(6)
    writer.line(letter.payer_name, size=10)
    writer.line("Attn: Appeals and reconsiderations", size=10)
    if letter.payer_address is not None:
        for text in address_lines(letter.payer_address):
            writer.line(text, size=10)
    writer.pdf.ln(8)


def _reference_block(writer: _Writer, letter: AppealLetter) -> None:
    writer.line(f"Re: Request for reconsideration of claim {letter.payer_claim_number}",
                size=11, style="B", height=15)
    rows = [
        ("Patient", letter.patient_name + (
            f" (born {us_date(letter.patient_birth_date)})" if letter.patient_birth_date else "")),
        ("Member ID", letter.member_id + (
            f", group {letter.group_number}" if letter.group_number else "")),
        ("Payer claim number", letter.payer_claim_number),
        ("Our claim number", letter.claim_id),
        ("Date of service", us_date(letter.date_of_service)),
        ("Billed / paid", f"{letter.billed.display()} billed, {letter.paid.display()} paid"
                          + (f" (remittance of {us_date(letter.remittance_date)})"
                             if letter.remittance_date else "")),
    ]
    for label, value in rows:
        writer.labelled(label, value)


def _opening(writer: _Writer, letter: AppealLetter) -> None:
    writer.pdf.ln(4)
    writer.paragraph("To the appeals reviewer:")
    writer.paragraph(
        f"We ask you to reconsider your decision on the claim above. The services on "
        f"{us_date(letter.date_of_service)} were documented in a signed treatment note, they "
        "treated the diagnoses listed below, and the reasons given on the remittance do not "
        "apply to them, as set out in this letter. Please reprocess the claim and pay the "
        "lines below.")


def _denied_lines(writer: _Writer, letter: AppealLetter) -> None:
    writer.heading("The claim and what was paid")
    # The reasons take what is left of the width (about 92 pt: two or three codes).
    columns = (("Line", 28, "L"), ("Date", 58, "L"), ("Code", 72, "L"),
               ("Service", 120, "L"), ("Units", 30, "R"), ("Billed", 52, "R"),
               ("Paid", 52, "R"), ("   Reasons", 0, "L"))
    writer.font(8, "B", MUTED)
    writer.pdf.set_x(_MARGIN)
    for title, width, align in columns:
        writer.pdf.cell(w=width, h=12, text=title, align=align)
    writer.pdf.ln(12)
    for line in letter.lines:
        writer.room_for(16)
        cells = (
            str(line.number), us_date(line.date_of_service),
            ":".join((line.code, *line.modifiers)), _label(line.code), str(line.units),
            line.charge.display(), line.paid.display(),
            "   " + ", ".join(f"{a.group}-{a.reason}" for a in line.adjustments),
        )
        writer.font(9)
        writer.pdf.set_x(_MARGIN)
        for (title, width, align), text in zip(columns, cells, strict=True):
            room = float(width)
            if title.strip() == "Reasons":
                room = _CONTENT - sum(w for _t, w, _a in columns[:-1])
            writer.pdf.cell(w=room, h=14, text=fit_width(writer.pdf, latin1_text(text),
                                                         room - 3), align=align)
        writer.pdf.ln(14)
    writer.rule(0.4)


def _reason_codes(letter: AppealLetter) -> tuple[list[tuple[str, str]], list[str]]:
    adjustments: dict[tuple[str, str], None] = {}
    remarks: dict[str, None] = dict.fromkeys(letter.claim_remarks)
    for adjustment in letter.claim_adjustments:
        adjustments[(adjustment.group, adjustment.reason)] = None
    for line in letter.lines:
        for adjustment in line.adjustments:
            adjustments[(adjustment.group, adjustment.reason)] = None
        remarks.update(dict.fromkeys(line.remarks))
    return list(adjustments), list(remarks)


def _reasons(writer: _Writer, letter: AppealLetter) -> None:
    writer.heading("What the remittance said, and why it does not apply")
    adjustments, remarks = _reason_codes(letter)
    answered: set[str] = set()
    for group_code, reason in adjustments:
        if group_code == "PR" and reason in ("1", "2", "3"):
            continue  # the patient's share is not appealed
        entry = carc.carc(reason)
        try:
            who = carc.group(group_code).name.lower()
        except ValueError:
            who = group_code
        writer.labelled(f"{group_code}-{entry.code}", f"{entry.meaning} ({who}).")
        argument = reason_argument(reason, letter)
        if argument and entry.code not in answered:
            answered.add(entry.code)
            writer.paragraph(argument, x=_MARGIN + 110, width=_CONTENT - 110)
    for code in remarks:
        writer.labelled(f"Remark {code}", f"{rarc.rarc(code).meaning}.")
    if not answered:
        writer.paragraph(
            "The documentation below supports each service as billed; please review it "
            "against the reasons given.")
    if letter.argument.strip():
        writer.paragraph(letter.argument.strip())


def _evidence(writer: _Writer, letter: AppealLetter, index: Icd10Index | None) -> None:
    note = letter.evidence
    signed = f", signed {us_date(note.signed_on)}" if note.signed_on else ""
    by = f" by {note.signed_by}" if note.signed_by else ""
    writer.heading(f"From the treatment note of {us_date(note.date_of_service)}{signed}{by}")
    writer.line("Diagnoses (ICD-10-CM)", size=9, style="B", colour=MUTED)
    for code in note.diagnoses:
        found = icd10.lookup(code, index=index)
        shown = found.code if found.valid else code.strip().upper()
        writer.labelled(shown, found.description or "(not in the ICD-10-CM code set)")
    writer.pdf.ln(2)
    writer.line("Services documented", size=9, style="B", colour=MUTED)
    for service in note.services:
        minutes = f"{service.minutes} minutes" if service.minutes else "untimed"
        described = ", ".join(part for part in (
            _label(service.code), minutes, service.technique,
            service.body_region and f"body region: {service.body_region}") if part)
        writer.labelled(service.code, described)
    if note.authorization:
        writer.labelled("On file", note.authorization)
    writer.pdf.ln(2)
    for title, text in (("Medical necessity", note.medical_necessity),
                        ("Assessment", note.assessment),
                        ("Response to treatment", note.response_to_treatment),
                        ("Plan", note.plan)):
        writer.labelled(title, text)


def _closing(writer: _Writer, letter: AppealLetter) -> None:
    writer.room_for(150)
    writer.pdf.ln(6)
    writer.paragraph(
        "Enclosed: a copy of the signed treatment note, the remittance advice for this claim"
        + (", and the authorization or prescription on file." if letter.evidence.authorization
           else "."))
    writer.paragraph(
        "Please send your decision to the address above. We are glad to provide anything "
        "else the review needs.")
    writer.paragraph("Sincerely,")
    writer.pdf.ln(28)
    y = writer.y
    writer.pdf.set_draw_color(*BODY)
    writer.pdf.set_line_width(0.6)
    writer.pdf.line(_MARGIN, y, _MARGIN + 250, y)
    writer.pdf.line(_MARGIN + 300, y, _MARGIN + 420, y)
    writer.pdf.set_y(y + 3)
    provider = letter.provider
    name = person_name(provider.name)
    if provider.credentials:
        name = f"{name}, {provider.credentials}"
    writer.font(9)
    writer.pdf.set_x(_MARGIN)
    writer.pdf.cell(w=300, h=12, text=latin1_text(name))
    writer.pdf.cell(w=120, h=12, text="Date")
    writer.pdf.ln(12)
    licence = ""
    if provider.license_number:
        state = provider.license_state.strip().upper()
        licence = f", licence {state + ' ' if state else ''}{provider.license_number}"
    writer.line(f"Treating provider, NPI {provider.npi}{licence}", size=9, colour=MUTED,
                height=12)
    writer.line(letter.billing.display_name, size=9, colour=MUTED, height=12)


def _label(code: str) -> str:
    return cpt.get(code).label if cpt.is_known(code) else ""
