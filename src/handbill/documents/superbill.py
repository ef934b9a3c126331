"""The superbill: an itemised receipt a self-pay client can send to her own insurer.

It carries what an insurer needs to reimburse the client directly: the practice and the
treating provider (NPI, taxonomy, state licence), the client, each date of service with its
procedure code, modifiers, units and charge, the diagnoses with their ICD-10-CM descriptions
(public-domain CDC text), the total, what the client paid and what is still owed, and a
signature line.

Procedure codes are shown with Handbill's own short labels ("Massage, 15 min"), never the
AMA's descriptors (reference §8.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from handbill.core.codes import cpt, icd10, pos, taxonomy
from handbill.core.codes.icd10_index import Icd10Index
from handbill.core.money import Cents, total
from handbill.core.outbound import (
    BillingProvider,
    OutboundError,
    OutClaim,
    OutLine,
    ProviderRef,
    TaxIdQualifier,
)
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

__all__ = ["CLIENT_NOTE", "render_superbill"]

CLIENT_NOTE = (
    "For your insurer: this is a record of the services you received and what you paid. You "
    "may send it to your health plan to ask to be reimbursed; how much it pays depends on your "
    "plan's out-of-network benefits. Keep a copy for your records."
)

_MARGIN = 43.2  # 0.6 in
_PAGE_WIDTH = 612.0
_PAGE_HEIGHT = 792.0
_CONTENT = _PAGE_WIDTH - 2 * _MARGIN
_BOTTOM = _PAGE_HEIGHT - 54.0  # leave room for the page footer
_ACCENT = (40, 70, 110)
_LETTERS = "ABCDEFGHIJKL"


@dataclass(frozen=True, slots=True)
class _Column:
    title: str
    width: float
    align: str = "L"


# The services table; widths add up to the content width (525.6 pt).
_COLUMNS = (
    _Column("Date", 62),
    _Column("Place", 38),
    _Column("Code", 42),
    _Column("Modifiers", 52),
    _Column("Service", 181.6),
    _Column("Diagnoses", 50),
    _Column("Units", 34, "R"),
    _Column("Charge", 66, "R"),
)


def render_superbill(
    *,
    claim: OutClaim,
    billing: BillingProvider,
    provider: ProviderRef,
    amount_paid: Cents,
    issued_on: date,
    icd10_index: Icd10Index | None = None,
) -> bytes:
    """The superbill for ``claim`` as PDF bytes.

    ``provider`` is the treating provider (name, credentials, NPI, taxonomy, licence);
    ``amount_paid`` is what the client has paid towards these services; ``issued_on`` is the
    date printed as the statement date. ``icd10_index`` is the ICD-10-CM index to read
    descriptions from (default: the shared one). Raises :class:`OutboundError` naming the
    claim and the field when the superbill would be wrong.
    """
    _check(claim, amount_paid)
    pdf = new_document(made_on=issued_on, title=f"Superbill {claim.claim_id}")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.add_page()
    client = claim.patient.name if claim.patient is not None else claim.subscriber.name
    # Every page names the client, so a loose second page still finds its owner.
    writer = _Writer(pdf, f"{claim.claim_id} - {person_name(client)}")
    _heading(writer, claim, billing, issued_on)
    _provider_and_client(writer, claim, billing, provider)
    _diagnoses(writer, claim, icd10_index)
    _services(writer, claim)
    _totals(writer, claim, amount_paid)
    _closing(writer, provider)
    writer.number_pages()
    return finish(pdf)


# --------------------------------------------------------------------------------------------


class _Writer(PageWriter):
    """The superbill's moves on top of the shared page writer."""

    def __init__(self, pdf: FPDF, reference: str) -> None:
        super().__init__(pdf, f"Superbill {reference}", margin=_MARGIN, bottom=_BOTTOM,
                         footer_from_bottom=36, rule_gap=3, page_width=_PAGE_WIDTH,
                         page_height=_PAGE_HEIGHT)

    def text_line(self, text: str, *, size: float = 9, style: str = "", height: float = 12,
                  x: float | None = None, width: float | None = None, align: str = "L",
                  colour: tuple[int, int, int] = BODY) -> None:
        self.font(size, style, colour)
        if x is not None:
            self.pdf.set_x(x)
        self.pdf.cell(
            w=width if width is not None else _CONTENT, h=height, text=latin1_text(text),
            align=align, new_x="LMARGIN", new_y="NEXT",
        )

    def wrapped(self, text: str, *, x: float, width: float, size: float = 9,
                height: float = 11, colour: tuple[int, int, int] = BODY) -> float:
        """Write ``text`` wrapped inside ``width`` from the current line; returns its height."""
        self.font(size, "", colour)
        top = self.y
        self.pdf.set_xy(x, top)
        self.pdf.multi_cell(w=width, h=height, text=latin1_text(text), align="L",
                            new_x="LMARGIN", new_y="NEXT")
        return self.y - top

    def section(self, title: str) -> None:
        self.room_for(60)
        self.pdf.ln(8)
        self.text_line(title.upper(), size=8.5, style="B", colour=_ACCENT, height=12)
        self.rule()


def _check(claim: OutClaim, amount_paid: Cents) -> None:
    def refuse(problem: str) -> OutboundError:
        return OutboundError(f"claim {claim.claim_id}: {problem}")

    if not claim.lines:
        raise refuse("has no services; a superbill lists at least one")
    if amount_paid.value < 0:
        raise refuse(f"the amount paid {amount_paid} is negative; record a refund instead")
    summed = total(line.charge for line in claim.lines)
    if summed != claim.total_charge:
        raise refuse(
            f"the total charge {claim.total_charge} does not equal the sum of the services "
            f"{summed}; rebuild the claim"
        )
    for line in claim.lines:
        for pointer in line.pointers:
            if not 1 <= pointer <= len(claim.diagnoses):
                raise refuse(
                    f"line {line.number} points to diagnosis {pointer} but the claim has "
                    f"{len(claim.diagnoses)}"
                )


def _heading(writer: _Writer, claim: OutClaim, billing: BillingProvider, issued_on: date) -> None:
    pdf = writer.pdf
    top = writer.y
    writer.text_line(billing.display_name, size=15, style="B", height=18,
                     width=_CONTENT * 0.6)
    for text in (*address_lines(billing.address), phone_text(billing.phone)):
        if text:
            writer.text_line(text, size=9, height=11, width=_CONTENT * 0.6)
    left_bottom = writer.y
    pdf.set_y(top)
    right_x = _MARGIN + _CONTENT * 0.6
    right_w = _CONTENT * 0.4
    writer.text_line("SUPERBILL", size=15, style="B", height=18, x=right_x, width=right_w,
                     align="R", colour=_ACCENT)
    writer.text_line("Statement for insurance reimbursement", size=8.5, height=11, x=right_x,
                     width=right_w, align="R", colour=MUTED)
    writer.text_line(f"Statement date: {us_date(issued_on)}", size=9, height=11, x=right_x,
                     width=right_w, align="R")
    writer.text_line(f"Reference: {claim.claim_id}", size=9, height=11, x=right_x,
                     width=right_w, align="R")
    writer.text_line(_service_period(claim), size=9, height=11, x=right_x, width=right_w,
                     align="R")
    pdf.set_y(max(left_bottom, writer.y) + 4)
    writer.rule(1.2)


def _provider_and_client(
    writer: _Writer, claim: OutClaim, billing: BillingProvider, provider: ProviderRef
) -> None:
    half = _CONTENT / 2
    writer.section("Provider and client")
    top = writer.y
    provider_rows = [
        ("Provider", _provider_name(provider)),
        ("Provider NPI", provider.npi),
        ("Taxonomy", _taxonomy_text(provider.taxonomy or billing.taxonomy)),
        ("Licence", _licence_text(provider)),
        ("Practice NPI", billing.npi),
        (_tax_id_label(billing), _tax_id_text(billing)),
    ]
    if claim.referring is not None:
        provider_rows.append(
            ("Referred by", f"{_provider_name(claim.referring)}, NPI {claim.referring.npi}")
        )
    _label_rows(writer, provider_rows, x=_MARGIN, width=half - 8)
    left_bottom = writer.y

    writer.pdf.set_y(top)
    patient = claim.patient
    if patient is None:
        name, born = claim.subscriber.name, claim.subscriber.birth_date
        address, phone = claim.subscriber.address, claim.subscriber.phone
    else:
        name, born = patient.name, patient.birth_date
        address, phone = patient.address, patient.phone
    client_rows = [
        ("Client", person_name(name)),
        ("Date of birth", us_date(born) if born is not None else ""),
        ("Address", ", ".join(address_lines(address)) if address is not None else ""),
        ("Phone", phone_text(phone)),
        ("Account", claim.patient_account_number or claim.claim_id),
    ]
    if claim.payer.payer_id and claim.subscriber.member_id:
        plan = claim.subscriber.plan_name or claim.payer.name
        client_rows.append(("Insurance", f"{plan}, member ID {claim.subscriber.member_id}"))
        if claim.subscriber.group_number:
            client_rows.append(("Group", claim.subscriber.group_number))
    _label_rows(writer, client_rows, x=_MARGIN + half + 8, width=half - 8)
    writer.pdf.set_y(max(left_bottom, writer.y))


def _diagnoses(writer: _Writer, claim: OutClaim, index: Icd10Index | None) -> None:
    writer.section("Diagnoses (ICD-10-CM)")
    for letter, code in zip(_LETTERS, claim.diagnoses, strict=False):
        writer.room_for(24)
        found = icd10.lookup(code, index=index)
        shown = found.code if found.valid else code.strip().upper()
        description = found.description or "(not found in the ICD-10-CM code set)"
        top = writer.y
        writer.font(9, "B")
        writer.pdf.set_xy(_MARGIN, top)
        writer.pdf.cell(w=16, h=11, text=f"{letter}.")
        writer.pdf.cell(w=62, h=11, text=latin1_text(shown))
        writer.wrapped(description, x=_MARGIN + 78, width=_CONTENT - 78)
        writer.pdf.ln(1)


def _services(writer: _Writer, claim: OutClaim) -> None:
    writer.section("Services")
    _table_header(writer)
    for line in claim.lines:
        if writer.room_for(16):
            _table_header(writer)
        _service_row(writer, claim, line)
    writer.rule()


def _table_header(writer: _Writer) -> None:
    writer.font(8, "B", MUTED)
    writer.pdf.set_x(_MARGIN)
    for column in _COLUMNS:
        writer.pdf.cell(w=column.width, h=12, text=column.title, align=column.align)
    writer.pdf.ln(12)
    writer.rule(0.4)


def _service_row(writer: _Writer, claim: OutClaim, line: OutLine) -> None:
    dates = us_date(line.date_of_service)
    if line.date_of_service_end is not None and line.date_of_service_end != line.date_of_service:
        dates = f"{dates}-{us_date(line.date_of_service_end)}"
    cells = (
        dates,
        line.place_of_service or claim.place_of_service,
        line.code.strip().upper(),
        " ".join(modifier.strip().upper() for modifier in line.modifiers),
        _service_label(line),
        ", ".join(_LETTERS[pointer - 1] for pointer in line.pointers),
        str(line.units),
        line.charge.display(),
    )
    writer.font(9)
    writer.pdf.set_x(_MARGIN)
    for column, text in zip(_COLUMNS, cells, strict=True):
        fitted = fit_width(writer.pdf, latin1_text(text), column.width - 3)
        writer.pdf.cell(w=column.width, h=14, text=fitted, align=column.align)
    writer.pdf.ln(14)


def _totals(writer: _Writer, claim: OutClaim, amount_paid: Cents) -> None:
    writer.room_for(60)
    balance = claim.total_charge - amount_paid
    rows = [
        ("Total charges", claim.total_charge.display(), "B"),
        ("Amount paid", amount_paid.display(), ""),
        (
            "Balance due" if balance.value >= 0 else "Credit on account",
            abs(balance).display(),
            "B",
        ),
    ]
    label_x = _MARGIN + _CONTENT - 220
    for label, amount, style in rows:
        writer.font(9.5, style)
        writer.pdf.set_x(label_x)
        writer.pdf.cell(w=140, h=14, text=label, align="R")
        writer.pdf.cell(w=80, h=14, text=amount, align="R")
        writer.pdf.ln(14)
    places = sorted({line.place_of_service or claim.place_of_service for line in claim.lines})
    named = "; ".join(f"{code} = {_place_name(code)}" for code in places if code)
    if named:
        writer.pdf.ln(2)
        writer.text_line(f"Place of service: {named}", size=8, colour=MUTED, height=10)


def _closing(writer: _Writer, provider: ProviderRef) -> None:
    writer.room_for(110)
    writer.pdf.ln(10)
    writer.wrapped(CLIENT_NOTE, x=_MARGIN, width=_CONTENT, size=8.5, height=11)
    writer.pdf.ln(26)
    y = writer.y
    pdf = writer.pdf
    pdf.set_draw_color(*BODY)
    pdf.set_line_width(0.6)
    pdf.line(_MARGIN, y, _MARGIN + 260, y)
    pdf.line(_MARGIN + 300, y, _MARGIN + 420, y)
    pdf.set_y(y + 2)
    writer.font(8, "", MUTED)
    pdf.set_x(_MARGIN)
    pdf.cell(w=300, h=10, text=latin1_text(f"Provider signature: {_provider_name(provider)}"))
    pdf.cell(w=120, h=10, text="Date")
    pdf.ln(10)


# --------------------------------------------------------------------------------------------


def _label_rows(writer: _Writer, rows: list[tuple[str, str]], *, x: float, width: float) -> None:
    label_width = 72.0
    for label, value in rows:
        if not value:
            continue
        top = writer.y
        writer.font(8, "", MUTED)
        writer.pdf.set_xy(x, top)
        writer.pdf.cell(w=label_width, h=11, text=latin1_text(label))
        writer.wrapped(value, x=x + label_width, width=width - label_width)


def _service_label(line: OutLine) -> str:
    # Our catalogue's words first; a line's own label only for a code we do not list.
    if cpt.is_known(line.code):
        return cpt.get(line.code).label
    return line.label


def _service_period(claim: OutClaim) -> str:
    first = min(line.date_of_service for line in claim.lines)
    last = max(line.date_of_service_end or line.date_of_service for line in claim.lines)
    if first == last:
        return f"Date of service: {us_date(first)}"
    return f"Dates of service: {us_date(first)} to {us_date(last)}"


def _provider_name(provider: ProviderRef) -> str:
    name = person_name(provider.name)
    return f"{name}, {provider.credentials}" if provider.credentials else name


def _taxonomy_text(code: str) -> str:
    if not code:
        return ""
    try:
        entry = taxonomy.get(code)
    except taxonomy.TaxonomyFormatError:
        return code
    return f"{entry.code} ({entry.label})" if entry.known else entry.code


def _licence_text(provider: ProviderRef) -> str:
    if not provider.license_number:
        return ""
    state = provider.license_state.strip().upper()
    return f"{state} {provider.license_number}" if state else provider.license_number


def _tax_id_label(billing: BillingProvider) -> str:
    return "EIN" if billing.tax_id_qualifier is TaxIdQualifier.EIN else "Tax ID (SSN)"


def _tax_id_text(billing: BillingProvider) -> str:
    digits = "".join(ch for ch in billing.tax_id if ch.isdigit())
    if billing.tax_id_qualifier is TaxIdQualifier.EIN:
        return f"{digits[:2]}-{digits[2:]}" if len(digits) == 9 else digits
    # A sole proprietor's SSN goes to the client's insurer only as its last four digits: the
    # superbill passes through the client's hands.
    return f"XXX-XX-{digits[-4:]}" if len(digits) >= 4 else ""


def _place_name(code: str) -> str:
    try:
        return pos.get(code).name
    except pos.PosFormatError:
        return "unknown place"
