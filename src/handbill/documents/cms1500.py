"""The CMS-1500 (02/12) paper claim, drawn by Handbill.

Two ways to print (reference §8):

- full: the whole form — rules, boxes, shaded service rows and short captions in our own
  words — in a red like the printed form's, with the claim's values in black. For payers that
  take a plain-paper image of the form, and for the practice's own records.
- ``data_only``: the values alone, at the same positions, for the pre-printed red forms that
  scanning payers require. No rules, no captions.

Positions follow the print grid the form is laid out on: 10 characters to the inch across and
6 lines to the inch down (a column is 7.2 points, a line 12 points). Every value has one entry
in :data:`FIELDS` (line, column, width), and nothing else decides where ink goes, so aligning
to a batch of pre-printed forms means editing that table (or passing ``shift`` for a printer
that feeds the paper a little off). :data:`BOXES` is what the full form draws around them; a
test keeps every field inside its box.

Choices the form leaves open, made here:

- More than six service lines continue on further pages. Each page repeats every box except
  24; box 28 says "CONTINUED" on the earlier pages and carries the claim's total on the last
  one, and box 29 is printed on the last page only. Each page is numbered ("PAGE 1 OF 2").
- Box 29 is what the patient and earlier payers have paid on these services (the 02/12 form's
  meaning): ``patient_paid`` plus each prior payer's payment. It stays empty when that is zero.
- Diagnoses print without the dot (M5450), as in the 837; ``dx_with_dot=True`` keeps it for
  payers that ask for it.
- Box 14 carries the onset date, or the accident date when no onset date is given (the date of
  injury on auto and workers' comp claims), with qualifier 431.
- Box 12 and 13 say "SIGNATURE ON FILE" when ``signature_on_file`` is set; box 12's date is left
  empty (it is the date the patient signed the release, which the claim does not carry).
- Names and addresses longer than their box are cut at the box's edge (the form's own rule);
  an identifier, code or amount that does not fit is refused, since a cut one would be wrong.
- Box 24J prints the rendering provider's NPI; when the claim names none, the billing NPI
  (a therapist billing under her own NPI renders the service herself).
- CPT/HCPCS codes only: no descriptions of any kind are printed (reference §8.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from fpdf import FPDF

from handbill.core.money import Cents, total
from handbill.core.outbound import (
    Address,
    BillingProvider,
    OutboundError,
    OutClaim,
    OutLine,
    Payer,
    PersonName,
    ProviderRef,
    RelatedCause,
    Subscriber,
    TaxIdQualifier,
)
from handbill.documents._pdf import (
    ascii_text,
    finish,
    mm_dd_yy,
    mm_dd_yyyy,
    new_document,
    zip_code,
)

__all__ = [
    "BOXES",
    "COLUMN_PT",
    "FIELDS",
    "LINES_PER_PAGE",
    "LINE_PT",
    "Box",
    "Field",
    "form_values",
    "render_cms1500",
]

# --------------------------------------------------------------------------------------------
# The grid

COLUMN_PT = 7.2  # 10 characters to the inch
LINE_PT = 12.0  # 6 lines to the inch
LEFT_PT = 18.0  # the form's left edge (0.25 in); column 1 starts here
PAGE_WIDTH_PT = 612.0
PAGE_HEIGHT_PT = 792.0
LINES_PER_PAGE = 6  # service lines in box 24
SERVICE_ROW_PITCH = 2  # each service line: a shaded supplemental line, then the data line

DATA_FONT = "Courier"
DATA_SIZE = 10.0  # 6-point advance: a value never outgrows its columns
_DATA_ADVANCE = 6.0
_DATA_INSET = 0.6  # centres a 6-point character in its 7.2-point column
_DATA_DROP = 3.0  # baseline above the bottom of its line, clear of the rule below
_CAPTION_FONT = ("Helvetica", 5.0)
_FORM_RED = (205, 40, 50)
_SHADE = (253, 228, 230)
_INK = (0, 0, 0)


@dataclass(frozen=True, slots=True)
class Field:
    """Where one value goes: its print line (1-66), first column (1-80) and width in columns.
    ``box`` names the entry of :data:`BOXES` it sits in."""

    box: str
    line: int
    col: int
    width: int
    align: Literal["L", "R"] = "L"
    identifier: bool = False  # refuse, never cut, a value that does not fit

    def rect(self, shift: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in points from the top-left corner of the page."""
        left = LEFT_PT + (self.col - 1) * COLUMN_PT + shift[0]
        top = (self.line - 1) * LINE_PT + shift[1]
        return left, top, left + self.width * COLUMN_PT, top + LINE_PT

    def on_row(self, row: int) -> Field:
        """The same field on service line ``row`` (0-5) of box 24."""
        return Field(
            self.box, self.line + SERVICE_ROW_PITCH * row, self.col, self.width, self.align,
            self.identifier,
        )


@dataclass(frozen=True, slots=True)
class Box:
    """A ruled box of the full form: between grid boundaries ``left``..``right`` (boundary k is
    the left edge of column k+1) and from the top of line ``top`` to the bottom of ``bottom``."""

    left: int
    right: int
    top: int
    bottom: int
    caption: str
    ruled: bool = True
    shaded: bool = False
    label_size: float = _CAPTION_FONT[1]

    def rect(self) -> tuple[float, float, float, float]:
        return (
            LEFT_PT + self.left * COLUMN_PT,
            (self.top - 1) * LINE_PT,
            LEFT_PT + self.right * COLUMN_PT,
            self.bottom * LINE_PT,
        )


def _f(box: str, line: int, col: int, width: int, align: Literal["L", "R"] = "L") -> Field:
    return Field(box, line, col, width, align)


def _id(box: str, line: int, col: int, width: int, align: Literal["L", "R"] = "L") -> Field:
    return Field(box, line, col, width, align, identifier=True)


# Every printed value. Service-line fields (24*) are given for the first line; the others are
# ``SERVICE_ROW_PITCH`` lines further down each.
FIELDS: dict[str, Field] = {
    "page": _f("page", 3, 1, 16),
    "payer_name": _f("payer", 2, 51, 29),
    "payer_street": _f("payer", 3, 51, 29),
    "payer_city": _f("payer", 4, 51, 29),
    # Box 1: one tick
    "1_medicare": _f("1_medicare", 8, 2, 1),
    "1_medicaid": _f("1_medicaid", 8, 9, 1),
    "1_tricare": _f("1_tricare", 8, 16, 1),
    "1_champva": _f("1_champva", 8, 24, 1),
    "1_group": _f("1_group", 8, 32, 1),
    "1_feca": _f("1_feca", 8, 40, 1),
    "1_other": _f("1_other", 8, 46, 1),
    "1a": _id("1a", 8, 51, 29),
    "2": _f("2", 10, 1, 28),
    "3_mm": _f("3", 10, 31, 2),
    "3_dd": _f("3", 10, 34, 2),
    "3_yyyy": _f("3", 10, 37, 4),
    "3_m": _f("3_sex", 10, 44, 1),
    "3_f": _f("3_sex", 10, 48, 1),
    "4": _f("4", 10, 51, 29),
    "5_street": _f("5", 12, 1, 28),
    "6_self": _f("6", 12, 33, 1),
    "6_spouse": _f("6", 12, 38, 1),
    "6_child": _f("6", 12, 43, 1),
    "6_other": _f("6", 12, 48, 1),
    "7_street": _f("7", 12, 51, 29),
    "5_city": _f("5_city", 14, 1, 23),
    "5_state": _f("5_state", 14, 26, 2),
    "7_city": _f("7_city", 14, 51, 23),
    "7_state": _f("7_state", 14, 76, 2),
    "5_zip": _f("5_zip", 16, 1, 10),
    "5_area": _f("5_phone", 16, 15, 3),
    "5_phone": _f("5_phone", 16, 19, 7),
    "7_zip": _f("7_zip", 16, 51, 10),
    "7_area": _f("7_phone", 16, 66, 3),
    "7_phone": _f("7_phone", 16, 71, 7),
    "9": _f("9", 18, 1, 28),
    "11": _id("11", 18, 51, 29),
    "9a": _id("9a", 20, 1, 28),
    "10a_yes": _f("10a", 20, 36, 1),
    "10a_no": _f("10a", 20, 42, 1),
    "11a_mm": _f("11a", 20, 53, 2),
    "11a_dd": _f("11a", 20, 56, 2),
    "11a_yyyy": _f("11a", 20, 59, 4),
    "11a_m": _f("11a", 20, 70, 1),
    "11a_f": _f("11a", 20, 77, 1),
    "10b_yes": _f("10b", 22, 36, 1),
    "10b_no": _f("10b", 22, 42, 1),
    "10b_state": _f("10b", 22, 46, 2),
    "11b_qual": _id("11b", 22, 51, 2),
    "11b": _id("11b", 22, 55, 25),
    "10c_yes": _f("10c", 24, 36, 1),
    "10c_no": _f("10c", 24, 42, 1),
    "11c": _f("11c", 24, 51, 29),
    "9d": _f("9d", 26, 1, 28),
    "11d_yes": _f("11d", 26, 54, 1),
    "11d_no": _f("11d", 26, 60, 1),
    "12": _f("12", 29, 8, 22),
    "13": _f("13", 29, 58, 22),
    "14_mm": _f("14", 31, 3, 2),
    "14_dd": _f("14", 31, 6, 2),
    "14_yy": _f("14", 31, 9, 2),
    "14_qual": _id("14", 31, 18, 3),
    "17_qual": _id("17", 33, 1, 2),
    "17": _f("17", 33, 5, 24),
    "17b": _id("17b", 33, 35, 10),
    "19": _f("19", 35, 1, 48),
    "21_ind": _id("21", 36, 47, 1),
    **{
        f"21_{letter}": _id("21", 37 + index // 4, 3 + 12 * (index % 4), 8)
        for index, letter in enumerate("ABCDEFGHIJKL")
    },
    "22_code": _id("22", 37, 51, 10),
    "22_ref": _id("22", 37, 63, 17),
    "23": _id("23", 39, 51, 29),
    # Box 24, first service line
    "24a_from_mm": _f("24a", 43, 1, 2),
    "24a_from_dd": _f("24a", 43, 4, 2),
    "24a_from_yy": _f("24a", 43, 7, 2),
    "24a_to_mm": _f("24a", 43, 10, 2),
    "24a_to_dd": _f("24a", 43, 13, 2),
    "24a_to_yy": _f("24a", 43, 16, 2),
    "24b": _id("24b", 43, 19, 2),
    "24d": _id("24d", 43, 25, 5),
    "24d_mod1": _id("24d", 43, 31, 2),
    "24d_mod2": _id("24d", 43, 34, 2),
    "24d_mod3": _id("24d", 43, 37, 2),
    "24d_mod4": _id("24d", 43, 40, 2),
    "24e": _id("24e", 43, 43, 4),
    "24f_dollars": _id("24f", 43, 49, 7, "R"),
    "24f_cents": _id("24f", 43, 56, 2),
    "24g": _id("24g", 43, 59, 3),
    "24j": _id("24j", 43, 68, 10),
    # Below box 24
    "25": _id("25", 55, 1, 14),
    "25_ssn": _f("25", 55, 17, 1),
    "25_ein": _f("25", 55, 20, 1),
    "26": _id("26", 55, 24, 13),
    "27_yes": _f("27", 55, 40, 1),
    "27_no": _f("27", 55, 45, 1),
    "28_dollars": _id("28", 55, 52, 7, "R"),
    "28_cents": _id("28", 55, 59, 2),
    "28_note": _f("28", 55, 52, 9),
    "29_dollars": _id("29", 55, 64, 6, "R"),
    "29_cents": _id("29", 55, 70, 2),
    "31_name": _f("31", 59, 1, 21),
    "31_credentials": _f("31", 60, 1, 21),
    "31_date": _f("31", 61, 15, 8),
    "32_name": _f("32", 57, 24, 25),
    "32_street": _f("32", 58, 24, 25),
    "32_city": _f("32", 59, 24, 25),
    "32a": _id("32a", 61, 26, 10),
    "33_area": _f("33", 56, 67, 3),
    "33_phone": _f("33", 56, 72, 7),
    "33_name": _f("33", 57, 51, 29),
    "33_street": _f("33", 58, 51, 29),
    "33_city": _f("33", 59, 51, 29),
    "33a": _id("33a", 61, 53, 10),
    "33b": _id("33b", 61, 64, 16),
}

# The full form's boxes, with captions in our own words.
BOXES: dict[str, Box] = {
    "page": Box(0, 20, 2, 3, "", ruled=False),
    "payer": Box(49, 80, 1, 5, "PAYER: send this claim to", ruled=False),
    "1_medicare": Box(0, 7, 7, 8, "1  MEDICARE"),
    "1_medicaid": Box(7, 14, 7, 8, "MEDICAID"),
    "1_tricare": Box(14, 22, 7, 8, "TRICARE"),
    "1_champva": Box(22, 30, 7, 8, "CHAMPVA"),
    "1_group": Box(30, 38, 7, 8, "GROUP HEALTH PLAN"),
    "1_feca": Box(38, 44, 7, 8, "FECA BLK LUNG"),
    "1_other": Box(44, 49, 7, 8, "OTHER"),
    "1a": Box(49, 80, 7, 8, "1a  INSURED'S MEMBER ID (as on the card)"),
    "2": Box(0, 29, 9, 10, "2  PATIENT: last name, first name, middle initial"),
    "3": Box(29, 41, 9, 10, "3  PATIENT BORN"),
    "3_sex": Box(41, 49, 9, 10, "SEX"),
    "4": Box(49, 80, 9, 10, "4  INSURED: last name, first name, middle initial"),
    "5": Box(0, 29, 11, 12, "5  PATIENT ADDRESS: number and street"),
    "6": Box(29, 49, 11, 12, "6  THE PATIENT IS THE INSURED'S"),
    "7": Box(49, 80, 11, 12, "7  INSURED'S ADDRESS: number and street"),
    "5_city": Box(0, 24, 13, 14, "CITY"),
    "5_state": Box(24, 29, 13, 14, "STATE"),
    "8": Box(29, 49, 13, 16, "8  Reserved (NUCC)"),
    "7_city": Box(49, 74, 13, 14, "CITY"),
    "7_state": Box(74, 80, 13, 14, "STATE"),
    "5_zip": Box(0, 12, 15, 16, "ZIP CODE"),
    "5_phone": Box(12, 29, 15, 16, "PHONE (with area code)"),
    "7_zip": Box(49, 63, 15, 16, "ZIP CODE"),
    "7_phone": Box(63, 80, 15, 16, "PHONE (with area code)"),
    "9": Box(0, 29, 17, 18, "9  OTHER INSURED: last name, first name, middle initial"),
    "10": Box(29, 49, 17, 18, "10  IS THE CONDITION RELATED TO:"),
    "11": Box(49, 80, 17, 18, "11  INSURED'S GROUP OR FECA NUMBER"),
    "9a": Box(0, 29, 19, 20, "9a  OTHER INSURED'S POLICY OR GROUP NUMBER"),
    "10a": Box(29, 49, 19, 20, "a. EMPLOYMENT (now or before)?"),
    "11a": Box(49, 80, 19, 20, "11a  INSURED BORN"),
    "9b": Box(0, 29, 21, 22, "9b  Reserved (NUCC)"),
    "10b": Box(29, 49, 21, 22, "b. AUTO ACCIDENT?"),
    "11b": Box(49, 80, 21, 22, "11b  OTHER CLAIM ID   qualifier | number"),
    "9c": Box(0, 29, 23, 24, "9c  Reserved (NUCC)"),
    "10c": Box(29, 49, 23, 24, "c. OTHER ACCIDENT?"),
    "11c": Box(49, 80, 23, 24, "11c  INSURED'S PLAN OR PROGRAM"),
    "9d": Box(0, 29, 25, 26, "9d  OTHER INSURED'S PLAN OR PROGRAM"),
    "10d": Box(29, 49, 25, 26, "10d  CLAIM CODES (payer's)"),
    "11d": Box(49, 80, 25, 26, "11d  DOES ANOTHER PLAN COVER THE PATIENT?  If yes: 9, 9a, 9d"),
    "12": Box(
        0, 49, 27, 29,
        "12  PATIENT OR AUTHORIZED PERSON: I allow the release of the information this claim "
        "needs,\nand I ask that benefits be paid to me or to the party who accepts assignment.",
    ),
    "13": Box(
        49, 80, 27, 29,
        "13  INSURED OR AUTHORIZED PERSON: I ask that\nbenefits be paid to the provider below.",
    ),
    "14": Box(0, 29, 30, 31, "14  ILLNESS OR INJURY BEGAN"),
    "15": Box(29, 49, 30, 31, "15  OTHER DATE        QUAL."),
    "16": Box(49, 80, 30, 31, "16  PATIENT COULD NOT WORK  from  MM DD YY     to  MM DD YY"),
    "17": Box(0, 29, 32, 33, "17  REFERRING, ORDERING OR SUPERVISING PROVIDER"),
    "17a": Box(29, 49, 32, 32, "17a", shaded=True),
    "17b": Box(29, 49, 33, 33, "17b  NPI"),
    "18": Box(49, 80, 32, 33, "18  HOSPITAL STAY  from  MM DD YY     to  MM DD YY"),
    "19": Box(0, 49, 34, 35, "19  MORE ABOUT THIS CLAIM (payer's use)"),
    "20": Box(49, 80, 34, 35, "20  OUTSIDE LAB?        $ CHARGES"),
    "21": Box(
        0, 49, 36, 39,
        "21  DIAGNOSES (ICD) - point to them by letter in 24E",
    ),
    "22": Box(49, 80, 36, 37, "22  RESUBMISSION  code | original claim number"),
    "23": Box(49, 80, 38, 39, "23  PRIOR AUTHORIZATION NUMBER"),
    "24a": Box(0, 18, 40, 53, "24  A. SERVICE DATES\n from                      to"),
    "24b": Box(18, 21, 40, 53, "B.\nPLACE"),
    "24c": Box(21, 24, 40, 53, "C.\nEMG"),
    "24d": Box(24, 42, 40, 53, "D. PROCEDURE\nCPT/HCPCS       MODIFIERS"),
    "24e": Box(42, 48, 40, 53, "E. DIAG.\nPOINTER"),
    "24f": Box(48, 58, 40, 53, "F.\n$ CHARGES"),
    "24g": Box(58, 61, 40, 53, "G.\nUNITS"),
    "24h": Box(61, 63, 40, 53, "H.\nEPSDT", label_size=3.8),
    "24i": Box(63, 66, 40, 53, "I.\nID TYPE", label_size=4.5),
    "24j": Box(66, 80, 40, 53, "J. RENDERING\nPROVIDER ID"),
    "25": Box(0, 22, 54, 55, "25  FEDERAL TAX ID"),
    "26": Box(22, 37, 54, 55, "26  PATIENT ACCOUNT NO."),
    "27": Box(37, 49, 54, 55, "27  ACCEPTS ASSIGNMENT?"),
    "28": Box(49, 62, 54, 55, "28  TOTAL CHARGE"),
    "29": Box(62, 73, 54, 55, "29  AMOUNT PAID"),
    "30": Box(73, 80, 54, 55, "30  Reserved (NUCC)"),
    "31": Box(
        0, 22, 56, 61,
        "31  SIGNATURE OF THE PROVIDER OR\nSUPPLIER, with degrees or credentials.\n"
        "I certify that this claim is true and\ncomplete.",
    ),
    "32": Box(22, 49, 56, 60, "32  WHERE THE SERVICES WERE GIVEN"),
    "32a": Box(22, 35, 61, 61, "a. NPI"),
    "32b": Box(35, 49, 61, 61, "b.", shaded=True),
    "33": Box(49, 80, 56, 60, "33  BILLING PROVIDER                     PHONE"),
    "33a": Box(49, 62, 61, 61, "a. NPI"),
    "33b": Box(62, 80, 61, 61, "b.", shaded=True),
}

_PROGRAMS = ("medicare", "medicaid", "tricare", "champva", "group", "feca", "other")
_TICK = "X"
_SIGNATURE_ON_FILE = "SIGNATURE ON FILE"
_MAX_DIAGNOSES = 12
_MAX_POINTERS = 4
_MAX_MODIFIERS = 4
_RESUBMISSION = frozenset({"7", "8"})
# Patient's relationship to the insured (837 individual relationship codes) → box 6.
_RELATIONSHIP_TICK = {"18": "6_self", "01": "6_spouse", "19": "6_child"}


# --------------------------------------------------------------------------------------------
# Values


def render_cms1500(
    claim: OutClaim,
    billing: BillingProvider,
    *,
    data_only: bool = False,
    signed_on: date,
    dx_with_dot: bool = False,
    signer: ProviderRef | None = None,
    additional_info: str = "",
    shift: tuple[float, float] = (0.0, 0.0),
) -> bytes:
    """The claim as a CMS-1500 (02/12) PDF, one page per six service lines.

    ``signed_on`` is box 31's date. ``signer`` is who signs box 31 (default: the rendering
    provider, else the billing provider). ``additional_info`` is box 19, printed as given.
    ``shift`` moves every value right and down by that many points (data-only printing on a
    printer that feeds the paper off true). Raises :class:`OutboundError` naming the claim and
    the box when the claim cannot be printed correctly.
    """
    pages = form_values(
        claim, billing, signed_on=signed_on, dx_with_dot=dx_with_dot, signer=signer,
        additional_info=additional_info,
    )
    pdf = new_document(made_on=signed_on, title=f"CMS-1500 claim {claim.claim_id}")
    for values in pages:
        pdf.add_page()
        if not data_only:
            _draw_form(pdf, continued="28_note" in values)
        _draw_values(pdf, values, shift)
    return finish(pdf)


def form_values(
    claim: OutClaim,
    billing: BillingProvider,
    *,
    signed_on: date,
    dx_with_dot: bool = False,
    signer: ProviderRef | None = None,
    additional_info: str = "",
) -> list[dict[str, str]]:
    """What each page prints: field name (a key of :data:`FIELDS`; service lines as
    ``24d@2`` for the third line) → text. Checked and upper-cased, ready to draw."""
    _check(claim, billing)
    header = _header_values(claim, billing, signed_on, dx_with_dot, signer, additional_info)
    chunks = [
        claim.lines[start:start + LINES_PER_PAGE]
        for start in range(0, len(claim.lines), LINES_PER_PAGE)
    ]
    pages: list[dict[str, str]] = []
    for number, chunk in enumerate(chunks, start=1):
        values = dict(header)
        if len(chunks) > 1:
            values["page"] = f"PAGE {number} OF {len(chunks)}"
        last = number == len(chunks)
        if last:
            values.update(_money("28", claim.total_charge))
            paid = claim.patient_paid + total(prior.paid for prior in claim.prior_payers)
            if paid:
                values.update(_money("29", paid))
        else:
            values["28_note"] = "CONTINUED"
        for row, line in enumerate(chunk):
            for name, text in _line_values(claim, billing, line).items():
                values[f"{name}@{row}"] = text
        pages.append({name: _fit(claim, name, text) for name, text in values.items() if text})
    return pages


def _header_values(
    claim: OutClaim,
    billing: BillingProvider,
    signed_on: date,
    dx_with_dot: bool,
    signer: ProviderRef | None,
    additional_info: str,
) -> dict[str, str]:
    values: dict[str, str] = {}
    values.update(_payer_block(claim.payer))
    values[f"1_{claim.payer.program}"] = _TICK
    subscriber = claim.subscriber
    values["1a"] = subscriber.member_id

    # The patient: the subscriber herself unless a separate patient is given.
    if claim.patient is None:
        patient_name, patient_dob = subscriber.name, subscriber.birth_date
        patient_sex, patient_address, patient_phone = (
            subscriber.sex, subscriber.address, subscriber.phone
        )
        values["6_self"] = _TICK
    else:
        patient = claim.patient
        patient_name, patient_dob, patient_sex = patient.name, patient.birth_date, patient.sex
        patient_address, patient_phone = patient.address, patient.phone
        values[_RELATIONSHIP_TICK.get(patient.relationship, "6_other")] = _TICK
    values["2"] = _last_first(patient_name)
    values.update(_date8("3", patient_dob))
    values.update(_sex("3", patient_sex))
    values.update(_address("5", patient_address))
    values.update(_phone(claim, "5", patient_phone))

    values["4"] = _insured_name(claim)
    values.update(_address("7", subscriber.address))
    values.update(_phone(claim, "7", subscriber.phone))

    other = _other_insurance(claim)
    if other is not None:
        other_payer, other_subscriber = other
        values["9"] = _last_first(other_subscriber.name)
        values["9a"] = other_subscriber.member_id or other_subscriber.group_number
        values["9d"] = other_subscriber.plan_name or other_payer.name
    values["11d_yes" if other is not None else "11d_no"] = _TICK

    causes = set(claim.related_causes)
    values["10a_yes" if RelatedCause.EMPLOYMENT in causes else "10a_no"] = _TICK
    values["10b_yes" if RelatedCause.AUTO_ACCIDENT in causes else "10b_no"] = _TICK
    if RelatedCause.AUTO_ACCIDENT in causes:
        values["10b_state"] = claim.accident_state
    values["10c_yes" if RelatedCause.OTHER_ACCIDENT in causes else "10c_no"] = _TICK

    values["11"] = subscriber.group_number
    values.update(_date8("11a", subscriber.birth_date))
    values.update(_sex("11a", subscriber.sex))
    if claim.property_casualty_claim_number:
        values["11b_qual"] = "Y4"
        values["11b"] = claim.property_casualty_claim_number
    values["11c"] = subscriber.plan_name or claim.payer.name

    if claim.signature_on_file:
        values["12"] = _SIGNATURE_ON_FILE
        values["13"] = _SIGNATURE_ON_FILE

    began = claim.onset_date or claim.accident_date
    if began is not None:
        values["14_mm"], values["14_dd"], values["14_yy"] = mm_dd_yy(began)
        values["14_qual"] = "431"

    if claim.referring is not None:
        values["17_qual"] = claim.referring.qualifier
        values["17"] = " ".join(
            part for part in (_first_last(claim.referring), claim.referring.credentials) if part
        )
        values["17b"] = claim.referring.npi

    values["19"] = additional_info

    values["21_ind"] = "0"
    for letter, code in zip("ABCDEFGHIJKL", claim.diagnoses, strict=False):
        shown = code.strip().upper()
        values[f"21_{letter}"] = shown if dx_with_dot else shown.replace(".", "")

    if claim.frequency in _RESUBMISSION:
        values["22_code"] = claim.frequency
        values["22_ref"] = claim.payer_claim_number
    values["23"] = claim.prior_authorization or claim.referral_number

    values["25"] = "".join(ch for ch in billing.tax_id if ch.isdigit())
    values["25_ein" if billing.tax_id_qualifier is TaxIdQualifier.EIN else "25_ssn"] = _TICK
    values["26"] = claim.patient_account_number or claim.claim_id
    values["27_yes" if claim.assignment_accepted else "27_no"] = _TICK

    name, credentials = _signature(claim, billing, signer)
    if not credentials:
        # An organisation signs with its name alone, so a long one may take both lines.
        name, credentials = _split_line(ascii_text(name), FIELDS["31_name"].width)
    values["31_name"] = name
    values["31_credentials"] = credentials
    month, day, year = mm_dd_yy(signed_on)
    values["31_date"] = f"{month} {day} {year}"

    if claim.facility is not None:
        values["32_name"] = claim.facility.name
        values["32_street"] = _street(claim.facility.address)
        values["32_city"] = _city_line(claim.facility.address)
        values["32a"] = claim.facility.npi

    values.update(_phone(claim, "33", billing.phone))
    values["33_name"] = billing.display_name
    values["33_street"] = _street(billing.address)
    values["33_city"] = _city_line(billing.address)
    values["33a"] = billing.npi
    if billing.taxonomy:
        values["33b"] = f"ZZ{billing.taxonomy}"
    return {name: ascii_text(text).upper() for name, text in values.items()}


def _line_values(claim: OutClaim, billing: BillingProvider, line: OutLine) -> dict[str, str]:
    values: dict[str, str] = {}
    values["24a_from_mm"], values["24a_from_dd"], values["24a_from_yy"] = mm_dd_yy(
        line.date_of_service
    )
    until = line.date_of_service_end or line.date_of_service
    values["24a_to_mm"], values["24a_to_dd"], values["24a_to_yy"] = mm_dd_yy(until)
    values["24b"] = line.place_of_service or claim.place_of_service
    values["24d"] = line.code.strip().upper()
    for index, modifier in enumerate(line.modifiers, start=1):
        values[f"24d_mod{index}"] = modifier.strip().upper()
    values["24e"] = "".join("ABCDEFGHIJKL"[pointer - 1] for pointer in line.pointers)
    values.update(_money("24f", line.charge))
    values["24g"] = str(line.units)
    values["24j"] = claim.rendering.npi if claim.rendering is not None else billing.npi
    return {name: ascii_text(text).upper() for name, text in values.items()}


def _payer_block(payer: Payer) -> dict[str, str]:
    values = {"payer_name": payer.name}
    if payer.address is not None:
        values["payer_street"] = _street(payer.address)
        values["payer_city"] = _city_line(payer.address)
    return values


def _insured_name(claim: OutClaim) -> str:
    subscriber = claim.subscriber
    workers_comp = (
        subscriber.claim_filing_indicator == "WC"
        or RelatedCause.EMPLOYMENT in claim.related_causes
    )
    if workers_comp and subscriber.employer_name:
        return subscriber.employer_name
    return _last_first(subscriber.name)


def _other_insurance(claim: OutClaim) -> tuple[Payer, Subscriber] | None:
    if claim.prior_payers:
        prior = claim.prior_payers[0]
        return prior.payer, prior.subscriber
    if claim.other_coverage:
        coverage = claim.other_coverage[0]
        return coverage.payer, coverage.subscriber
    return None


def _signature(
    claim: OutClaim, billing: BillingProvider, signer: ProviderRef | None
) -> tuple[str, str]:
    who = signer or claim.rendering
    if who is not None:
        return _first_last(who), who.credentials
    return billing.display_name, ""


def _split_line(text: str, width: int) -> tuple[str, str]:
    """Two lines of at most ``width`` each, broken between words where possible."""
    if len(text) <= width:
        return text, ""
    cut = text.rfind(" ", 0, width + 1)
    if cut <= 0:
        cut = width
    return text[:cut].rstrip(), text[cut:].strip()


def _initial(middle: str) -> str:
    # Folded first: the initial of "Ölwen" is O, never a character the form cannot print.
    return ascii_text(middle)[:1]


def _last_first(name: PersonName) -> str:
    """LAST SUFFIX, FIRST, M — the form's order for a person in boxes 2, 4 and 9."""
    last = " ".join(part for part in (name.last.strip(), name.suffix.strip()) if part)
    parts = [last]
    if name.first.strip():
        parts.append(name.first.strip())
        if _initial(name.middle):
            parts.append(_initial(name.middle))
    return ", ".join(parts)


def _first_last(provider: ProviderRef) -> str:
    name = provider.name
    middle = _initial(name.middle)
    return " ".join(
        part for part in (name.first.strip(), middle, name.last.strip(), name.suffix.strip())
        if part
    )


def _date8(box: str, day: date | None) -> dict[str, str]:
    if day is None:
        return {}
    month, dd, year = mm_dd_yyyy(day)
    return {f"{box}_mm": month, f"{box}_dd": dd, f"{box}_yyyy": year}


def _sex(box: str, sex: str) -> dict[str, str]:
    code = sex.strip().upper()
    if code in ("M", "F"):
        return {f"{box}_{code.lower()}": _TICK}
    return {}


def _street(address: Address) -> str:
    return " ".join(part for part in (address.line1.strip(), address.line2.strip()) if part)


def _city_line(address: Address) -> str:
    return f"{address.city.strip()} {address.state.strip()} {zip_code(address.postal_code)}"


def _address(box: str, address: Address | None) -> dict[str, str]:
    if address is None:
        return {}
    return {
        f"{box}_street": _street(address),
        f"{box}_city": address.city,
        f"{box}_state": address.state,
        f"{box}_zip": zip_code(address.postal_code),
    }


def _phone(claim: OutClaim, box: str, phone: str) -> dict[str, str]:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if not digits:
        return {}
    if len(digits) != 10:
        raise OutboundError(
            f"claim {claim.claim_id}: the phone number for box {box} ({phone!r}) is not a "
            "10-digit US number; correct it or leave it empty"
        )
    return {f"{box}_area": digits[:3], f"{box}_phone": digits[3:]}


def _money(box: str, amount: Cents) -> dict[str, str]:
    dollars, cents = amount.to_decimal_string().split(".")
    return {f"{box}_dollars": dollars, f"{box}_cents": cents}


# --------------------------------------------------------------------------------------------
# Checks: what would make a wrong form is refused, naming the claim and the box


def _check(claim: OutClaim, billing: BillingProvider) -> None:
    def refuse(problem: str) -> OutboundError:
        return OutboundError(f"claim {claim.claim_id}: {problem}")

    if not claim.lines:
        raise refuse("has no service lines; a claim form needs at least one (box 24)")
    if claim.payer.program not in _PROGRAMS:
        raise refuse(
            f"payer program {claim.payer.program!r} is not one of box 1's: "
            + ", ".join(_PROGRAMS)
        )
    if not claim.subscriber.member_id and not claim.property_casualty_claim_number:
        raise refuse("the insured's member ID (box 1a) is empty; enter it from the card")
    if not billing.npi:
        raise refuse("the billing provider has no NPI (box 33a); enter the practice's NPI")
    if not claim.diagnoses:
        raise refuse("has no diagnosis (box 21); add the diagnoses from the note")
    if len(claim.diagnoses) > _MAX_DIAGNOSES:
        raise refuse(
            f"has {len(claim.diagnoses)} diagnoses; box 21 holds {_MAX_DIAGNOSES}, so split "
            "the claim"
        )
    if claim.frequency in _RESUBMISSION and not claim.payer_claim_number:
        raise refuse(
            f"frequency {claim.frequency} needs the payer's original claim number (box 22); "
            "copy it from the remittance"
        )
    if RelatedCause.AUTO_ACCIDENT in claim.related_causes and not claim.accident_state:
        raise refuse("an auto accident needs the state it happened in (box 10b)")
    if claim.patient_paid.value < 0:
        raise refuse("the amount paid (box 29) is negative")
    summed = total(line.charge for line in claim.lines)
    if summed != claim.total_charge:
        raise refuse(
            f"the total charge {claim.total_charge} does not equal the sum of the lines "
            f"{summed} (box 28 against 24F); rebuild the claim"
        )
    for line in claim.lines:
        _check_line(claim, line)


def _check_line(claim: OutClaim, line: OutLine) -> None:
    def fail(problem: str) -> OutboundError:
        return OutboundError(f"claim {claim.claim_id}, line {line.number}: {problem}")

    if not line.pointers:
        raise fail("has no diagnosis pointer (box 24E); point it at a diagnosis of box 21")
    if len(line.pointers) > _MAX_POINTERS:
        raise fail(f"has {len(line.pointers)} diagnosis pointers; box 24E takes 4")
    for pointer in line.pointers:
        if not 1 <= pointer <= len(claim.diagnoses):
            raise fail(
                f"points to diagnosis {pointer} but the claim has {len(claim.diagnoses)} "
                "(box 24E)"
            )
    if len(line.modifiers) > _MAX_MODIFIERS:
        raise fail(f"has {len(line.modifiers)} modifiers; box 24D takes 4")
    if line.charge.value < 0:
        raise fail(f"has a negative charge {line.charge} (box 24F)")
    if not 1 <= line.units <= 999:
        raise fail(f"has {line.units} units; box 24G takes 1 to 999")
    if line.date_of_service_end is not None and line.date_of_service_end < line.date_of_service:
        raise fail("ends before it begins (box 24A); correct the service dates")


def _fit(claim: OutClaim, name: str, text: str) -> str:
    field = _field(name)
    if len(text) <= field.width:
        return text
    if field.identifier:
        raise OutboundError(
            f"claim {claim.claim_id}: {text!r} is {len(text)} characters and box "
            f"{field.box} holds {field.width}; it would be cut, so correct the value"
        )
    return text[:field.width]


def _field(name: str) -> Field:
    base, _, row = name.partition("@")
    field = FIELDS[base]
    return field.on_row(int(row)) if row else field


# --------------------------------------------------------------------------------------------
# Drawing


def _draw_values(pdf: FPDF, values: dict[str, str], shift: tuple[float, float]) -> None:
    pdf.set_text_color(*_INK)
    pdf.set_font(DATA_FONT, "", DATA_SIZE)
    for name, text in values.items():
        left, _top, right, bottom = _field(name).rect(shift)
        if _field(name).align == "R":
            x = right - _DATA_INSET - _DATA_ADVANCE * len(text)
        else:
            x = left + _DATA_INSET
        pdf.text(x, bottom - _DATA_DROP, text)


def _draw_form(pdf: FPDF, *, continued: bool) -> None:
    pdf.set_draw_color(*_FORM_RED)
    pdf.set_text_color(*_FORM_RED)
    pdf.set_fill_color(*_SHADE)
    _draw_title(pdf)
    _draw_service_rows(pdf)
    pdf.set_line_width(0.6)
    for box in BOXES.values():
        _draw_box(pdf, box)
    _draw_marks(pdf, continued=continued)
    _draw_side_labels(pdf)
    # The outer frame, heavier, from box 1 to the bottom of box 33.
    pdf.set_line_width(1.2)
    pdf.rect(LEFT_PT, 6 * LINE_PT, 80 * COLUMN_PT, 55 * LINE_PT)


def _draw_title(pdf: FPDF) -> None:
    pdf.set_font("Helvetica", "B", 13)
    pdf.text(LEFT_PT, 5 * LINE_PT + 4, "HEALTH INSURANCE CLAIM FORM")
    pdf.set_font("Helvetica", "", 5.5)
    pdf.text(LEFT_PT, 6 * LINE_PT - 2, "Layout of the CMS-1500 (02/12) form, drawn by Handbill")
    pdf.text(
        LEFT_PT, 62 * LINE_PT + 2,
        "CMS-1500 (02/12) layout. Print in black on plain paper, or use data-only printing "
        "on pre-printed red forms.",
    )


def _draw_box(pdf: FPDF, box: Box) -> None:
    left, top, right, bottom = box.rect()
    if box.shaded:
        pdf.rect(left, top, right - left, bottom - top, style="F")
    if box.ruled:
        pdf.rect(left, top, right - left, bottom - top)
    if not box.caption:
        return
    pdf.set_font(_CAPTION_FONT[0], "", box.label_size)
    for index, text in enumerate(box.caption.split("\n")):
        pdf.text(left + 1.5, top + 5.2 + index * 5.6, text)


def _draw_service_rows(pdf: FPDF) -> None:
    first = FIELDS["24d"].line
    for row in range(LINES_PER_PAGE):
        data_line = first + SERVICE_ROW_PITCH * row
        shaded_top = (data_line - 2) * LINE_PT
        pdf.rect(LEFT_PT, shaded_top, 80 * COLUMN_PT, LINE_PT, style="F")
        pdf.set_line_width(0.3)
        pdf.line(LEFT_PT, data_line * LINE_PT, LEFT_PT + 80 * COLUMN_PT, data_line * LINE_PT)
        pdf.set_font("Helvetica", "B", 8)
        pdf.text(LEFT_PT - 9, data_line * LINE_PT - 4, str(row + 1))
        # 24I: the unshaded half of every line is the NPI.
        pdf.set_font(_CAPTION_FONT[0], "", 5.5)
        pdf.text(LEFT_PT + 63 * COLUMN_PT + 4, data_line * LINE_PT - 4, "NPI")


# Small labels of the full form: (field, text) beside a value, left of it on its line …
_LABELS_LEFT: tuple[tuple[str, str], ...] = (
    ("3_m", "M"), ("3_f", "F"), ("11a_m", "M"), ("11a_f", "F"),
    ("6_self", "SELF"), ("6_spouse", "SPOUSE"), ("6_child", "CHILD"), ("6_other", "OTHER"),
    ("10a_yes", "YES"), ("10a_no", "NO"), ("10b_yes", "YES"), ("10b_no", "NO"),
    ("10c_yes", "YES"), ("10c_no", "NO"), ("11d_yes", "YES"), ("11d_no", "NO"),
    ("27_yes", "YES"), ("27_no", "NO"), ("12", "SIGNED"), ("13", "SIGNED"),
    ("31_date", "DATE"), ("14_qual", "QUAL."), ("21_ind", "ICD IND."),
    ("28_dollars", "$"), ("29_dollars", "$"),
    ("5_area", "("), ("5_phone", ")"), ("7_area", "("), ("7_phone", ")"),
    ("33_area", "("), ("33_phone", ")"),
    *((f"21_{letter}", f"{letter}.") for letter in "ABCDEFGHIJKL"),
)
# … and above it, at the foot of the line before (how a date or a tick is to be read).
_LABELS_ABOVE: tuple[tuple[str, str, int], ...] = (
    ("3_mm", "MM", 1), ("3_dd", "DD", 1), ("3_yyyy", "YYYY", 1),
    ("11a_mm", "MM", 1), ("11a_dd", "DD", 1), ("11a_yyyy", "YYYY", 1),
    ("14_mm", "MM", 1), ("14_dd", "DD", 1), ("14_yy", "YY", 1),
    ("10b_state", "STATE", 1), ("25_ssn", "SSN", 1), ("25_ein", "EIN", 1),
    # Box 24's dates are labelled in its heading, two lines above the first service line.
    ("24a_from_mm", "MM", 2), ("24a_from_dd", "DD", 2), ("24a_from_yy", "YY", 2),
    ("24a_to_mm", "MM", 2), ("24a_to_dd", "DD", 2), ("24a_to_yy", "YY", 2),
)
_SERVICE_TOP, _SERVICE_BOTTOM = 42, 53
# Dotted dividers inside boxes: (grid boundary, first line, last line).
_DIVIDERS: tuple[tuple[int, int, int], ...] = (
    (3, 33, 33),  # 17: qualifier | name
    (53, 22, 22),  # 11b: qualifier | number
    (61, 37, 37),  # 22: code | original claim number
    (69, 55, 55),  # 29: dollars | cents
    *((k, _SERVICE_TOP, _SERVICE_BOTTOM) for k in (3, 6, 9, 12, 15, 30, 33, 36, 39, 55)),
)
_DIVIDER_28 = (58, 55, 55)  # 28: dollars | cents (left out under "CONTINUED")


def _draw_marks(pdf: FPDF, *, continued: bool) -> None:
    """Tick squares, dotted dividers and the small labels beside values."""
    pdf.set_line_width(0.5)
    for name, field in FIELDS.items():
        if field.width == 1 and name != "21_ind":
            left, _top, right, bottom = field.rect()
            pdf.rect(left - 0.3, bottom - 10.5, right - left + 0.6, 9.0)
    pdf.set_line_width(0.4)
    pdf.set_dash_pattern(dash=1.0, gap=1.0)
    for boundary, top, bottom in (*_DIVIDERS, *(() if continued else (_DIVIDER_28,))):
        x = LEFT_PT + boundary * COLUMN_PT
        pdf.line(x, (top - 1) * LINE_PT + 2, x, bottom * LINE_PT)
    pdf.set_dash_pattern()
    pdf.set_font(_CAPTION_FONT[0], "", 5.5)
    for name, text in _LABELS_LEFT:
        left, _top, _right, bottom = FIELDS[name].rect()
        pdf.text(left - pdf.get_string_width(text) - 1.5, bottom - 4.0, text)
    for name, text, lines_up in _LABELS_ABOVE:
        left, top, _right, _bottom = FIELDS[name].rect()
        pdf.text(left + 0.6, top - (lines_up - 1) * LINE_PT - 1.5, text)


def _draw_side_labels(pdf: FPDF) -> None:
    x = LEFT_PT + 80 * COLUMN_PT + 8
    pdf.set_font("Helvetica", "B", 6)
    for text, top, bottom in (
        ("PAYER", 1, 5),
        ("PATIENT AND INSURED", 7, 29),
        ("PROVIDER OR SUPPLIER", 30, 61),
    ):
        y_top, y_bottom = (top - 1) * LINE_PT + 2, bottom * LINE_PT - 2
        pdf.set_line_width(0.5)
        pdf.line(x - 3, y_top, x - 3, y_bottom)
        width = pdf.get_string_width(text)
        middle = (y_top + y_bottom) / 2
        with pdf.rotation(-90, x, middle):
            pdf.text(x - width / 2, middle, text)
