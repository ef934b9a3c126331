"""Shared pieces of the printed documents: safe text for the built-in PDF fonts, dates, and a
document that carries no reading of the clock.

Only fpdf2's built-in fonts are used (Helvetica, Courier), so no font file ships with
Handbill; those fonts cover Latin-1 and nothing else. Text is made safe with one rule:

1. printable ASCII stays as it is;
2. a few letters and marks that have a usual ASCII spelling get it (ß → ss, Æ → AE,
   Ø → O, Ł → L, curly quotes → straight quotes, dashes → -);
3. an accented letter loses its accent (é → e, Ñ → N) — on the claim form always, on the
   superbill only when it is outside Latin-1 (there é stays é);
4. anything left (another script, an emoji, a control character) becomes "?", so a reader
   sees that something was there rather than a silently shortened name.

Line breaks and tabs become single spaces: every value is printed on one line.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

from fpdf import FPDF

from handbill.core.outbound import Address, PersonName

_SPELLED: dict[str, str] = {
    "ß": "ss", "ẞ": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o",
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "TH", "þ": "th",
    "ı": "i", "‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "•": "-", "·": ".",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ",
}

UNPRINTABLE = "?"


def _is_printable_ascii(ch: str) -> bool:
    return " " <= ch <= "~"


def _is_printable_latin1(ch: str) -> bool:
    return _is_printable_ascii(ch) or "\u00a1" <= ch <= "\u00ff"


def _fold(ch: str, keep: bool) -> str:
    if keep:
        return ch
    if ch in _SPELLED:
        return _SPELLED[ch]
    if ch in "\t\n\r\v\f":
        return " "
    base = "".join(
        part for part in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(part)
    )
    if base and all(_is_printable_ascii(part) for part in base):
        return base
    return UNPRINTABLE


def ascii_text(text: str) -> str:
    """Text for the claim form: printable ASCII only (scanners read nothing else)."""
    folded = "".join(_fold(ch, _is_printable_ascii(ch)) for ch in text)
    return " ".join(folded.split())


def latin1_text(text: str) -> str:
    """Text for the superbill and letters: Latin-1 letters kept, the rest folded."""
    folded = "".join(_fold(ch, _is_printable_latin1(ch)) for ch in text)
    return " ".join(folded.split())


def new_document(*, made_on: date, title: str) -> FPDF:
    """A US Letter document in points whose bytes depend only on what is drawn: the creation
    date is the document's own date (fpdf2 would otherwise stamp the clock's)."""
    pdf = FPDF(orientation="portrait", unit="pt", format="letter")
    pdf.set_creation_date(datetime(made_on.year, made_on.month, made_on.day, tzinfo=UTC))
    pdf.set_creator("Handbill")
    pdf.set_title(latin1_text(title))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    return pdf


def finish(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


def mm_dd_yy(day: date) -> tuple[str, str, str]:
    return f"{day.month:02d}", f"{day.day:02d}", f"{day.year % 100:02d}"


def mm_dd_yyyy(day: date) -> tuple[str, str, str]:
    return f"{day.month:02d}", f"{day.day:02d}", f"{day.year:04d}"


def zip_code(postal_code: str) -> str:
    """12345 or 12345-6789, as people and the form write it."""
    digits = "".join(ch for ch in postal_code if ch.isdigit())
    if len(digits) == 9:
        return f"{digits[:5]}-{digits[5:]}"
    return digits or postal_code.strip()


def us_date(day: date) -> str:
    """03/02/2026: the way a client and her insurer read a date."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def fit_width(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut short with "..." to fit ``width`` points in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."


def person_name(name: PersonName) -> str:
    return " ".join(
        part for part in (name.first, name.middle, name.last, name.suffix) if part.strip()
    )


def address_lines(address: Address) -> tuple[str, ...]:
    street = ", ".join(part for part in (address.line1.strip(), address.line2.strip()) if part)
    city = f"{address.city.strip()}, {address.state.strip()} {zip_code(address.postal_code)}"
    return street, city


def phone_text(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return phone.strip()


# Text colours every document uses: body text, and notes and labels.
BODY = (0, 0, 0)
MUTED = (90, 90, 90)
_RULE = (170, 180, 195)


class PageWriter:
    """fpdf2 for a flowing document (superbill, appeal letter) that breaks its own pages and
    numbers them in a footer once the last page is known.

    Each document sets its own margins; the moves it adds (lines, wrapped text, sections)
    live on its subclass.
    """

    def __init__(self, pdf: FPDF, footer: str, *, margin: float, bottom: float,
                 footer_from_bottom: float, rule_gap: float, page_width: float = 612.0,
                 page_height: float = 792.0) -> None:
        self.pdf = pdf
        self.footer = footer
        self.margin = margin
        self.bottom = bottom
        self.footer_from_bottom = footer_from_bottom
        self.rule_gap = rule_gap
        self.page_width = page_width
        self.page_height = page_height
        self.content = page_width - 2 * margin

    @property
    def y(self) -> float:
        return self.pdf.get_y()

    def room_for(self, height: float) -> bool:
        """Start a new page when ``height`` more points would run into the footer; True when
        a page was started."""
        if self.y + height <= self.bottom:
            return False
        self.pdf.add_page()
        self.pdf.set_y(self.margin)
        return True

    def font(self, size: float, style: str = "", colour: tuple[int, int, int] = BODY) -> None:
        self.pdf.set_font("Helvetica", style, size)
        self.pdf.set_text_color(*colour)

    def rule(self, weight: float = 0.6) -> None:
        self.pdf.set_draw_color(*_RULE)
        self.pdf.set_line_width(weight)
        self.pdf.line(self.margin, self.y, self.page_width - self.margin, self.y)
        self.pdf.ln(self.rule_gap)

    def number_pages(self) -> None:
        count = self.pdf.page
        for number in range(1, count + 1):
            self.pdf.page = number
            self.font(7.5, "", MUTED)
            self.pdf.set_xy(self.margin, self.page_height - self.footer_from_bottom)
            self.pdf.cell(w=self.content / 2, h=10, text=latin1_text(self.footer))
            self.pdf.cell(w=self.content / 2, h=10, text=f"Page {number} of {count}", align="R")
        self.pdf.page = count
