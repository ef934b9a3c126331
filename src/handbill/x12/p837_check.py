"""Implementation-guide checks of an 837P that a structural validator misses.

``check_837(transaction)`` is what ``handbill x12 check`` adds to the envelope and count checks
of the tokenizer: CLM02 = Σ SV102, frequency codes and REF*F8, HI qualifiers and pointers, loop
limits, HL parents, other-payer balancing, and the code lists of segments Handbill never
writes itself (PWK).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handbill.core.money import Cents, MoneyError
from handbill.x12.p837_read import (
    RawSegment,
    SegmentSource,
    X12ReadError,
    element_at,
    read_837,
    segments_of,
)
from handbill.x12.p837_rules import (
    ATTACHMENT_TRANSMISSION,
    FREQUENCIES,
    MAX_CLAIMS_PER_HL,
    MAX_LINES_PER_CLAIM,
)


def check_837(transaction: SegmentSource) -> list[str]:
    """IG-level problems of one 837P transaction set; an empty list means none were found.

    Envelope and counts (SE01, control numbers) are the tokenizer's business; this adds the
    rules that need the claim's meaning. Each message starts with the segment's position in
    the file, like the tokenizer's own.
    """
    segments, component, first = segments_of(transaction)
    problems: list[str] = []
    try:
        read_837(transaction)
    except X12ReadError as exc:
        problems.append(str(exc))
    checker = _Checker(component, problems)
    for index, segment in enumerate(segments):
        if segment:
            checker.feed(first + index, segment)
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
        el = element_at
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
        el = element_at
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
        el = element_at
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
        el = element_at
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
            return Cents.parse(element_at(s, index))
        except MoneyError:
            self.add(position, s, f"{s[0]}{index:02d} {element_at(s, index)!r} is not an amount")
            return None

    def cas_total(self, position: int, s: RawSegment) -> Cents:
        result = Cents(0)
        for index in range(3, len(s), 3):
            if element_at(s, index):
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

