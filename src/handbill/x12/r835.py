"""Reading an 835 (005010X221A1) remittance into typed values, and checking that it balances.

``read_835(transaction)`` turns one tokenised ST … SE into a :class:`Remittance`: the payment
(BPR/TRN), payer and payee, every claim payment (CLP) with its adjustments, names, remarks,
dates and service lines (SVC), and the provider-level adjustments (PLB). While it reads it
checks the three balancing rules of reference §6.5, which no validator does:

- each line: SVC02 charge − SVC03 paid = Σ line CAS;
- each claim: CLP03 − CLP04 = Σ claim CAS + Σ line CAS (CLP05 should equal the PR total);
- the payment: BPR02 = Σ CLP04 − Σ PLB amounts.

An unbalanced remittance still reads (a biller must see it) but carries its
``balance_errors``; posting refuses it. Content that cannot be read at all — an amount that is
not a number, a CAS with a reason but no amount, an SVC before any CLP, no BPR — raises
:class:`X12Error` naming the segment.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from handbill.core.money import Cents
from handbill.x12.r835_model import (
    Address,
    Adjustment,
    ClaimPayment,
    Contact,
    Name,
    Party,
    Payment,
    ProviderAdjustment,
    Reference,
    Remittance,
    ServicePayment,
    SupplementalAmount,
)
from handbill.x12.tokens import RawSegment, Transaction, X12Error

__all__ = [
    "ADJUSTMENT_GROUPS", "Address", "Adjustment", "ClaimPayment", "Contact", "Name", "Party",
    "Payment", "ProviderAdjustment", "Reference", "Remittance", "ServicePayment",
    "SupplementalAmount", "read_835",
]

ADJUSTMENT_GROUPS = frozenset(("CO", "PR", "OA", "PI"))
_ZERO = Cents(0)
_ONE = Decimal(1)


def _money(cents: int) -> str:
    return Cents(cents).to_decimal_string()


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


class _Fail(Exception):
    """A problem inside one segment; the loop adds where it is."""


class _Values:
    """Amount, quantity and date parsing, memoised for one transaction set.

    Remittances repeat the same fees, units and dates line after line; the values are
    immutable, so each distinct text is parsed once.
    """

    __slots__ = ("cents", "dates", "quantities")

    def __init__(self) -> None:
        self.cents: dict[str, Cents] = {}
        self.dates: dict[str, date] = {}
        self.quantities: dict[str, Decimal] = {}

    def money(self, text: str, what: str) -> Cents:
        found = self.cents.get(text)
        if found is None:
            found = self.cents[text] = Cents(_parse_cents(text, what))
        return found

    def date(self, text: str, what: str) -> date:
        found = self.dates.get(text)
        if found is None:
            if len(text) != 8 or not text.isdigit() or not text.isascii():
                raise _Fail(f"{what} {text!r} is not a CCYYMMDD date")
            try:
                found = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                raise _Fail(f"{what} {text!r} is not a calendar date") from None
            self.dates[text] = found
        return found

    def quantity(self, text: str, what: str) -> Decimal:
        found = self.quantities.get(text)
        if found is None:
            try:
                found = Decimal(text)
            except InvalidOperation:
                raise _Fail(f"{what} {text!r} is not a number") from None
            if not found.is_finite() or not text.replace(".", "", 1).lstrip("-").isdigit():
                raise _Fail(f"{what} {text!r} is not a number")
            self.quantities[text] = found
        return found


def _parse_cents(text: str, what: str) -> int:
    """X12 decimal text to cents without a regex: ``190``, ``75.5``, ``-1.50``, ``.5``."""
    whole, _dot, fraction = text.partition(".")
    negative = whole.startswith("-")
    if negative:
        whole = whole[1:]
    digits = whole + fraction
    if not digits or not digits.isdigit() or not digits.isascii() or len(fraction) > 2:
        if not text:
            raise _Fail(f"{what} is empty; an amount is required here")
        raise _Fail(f"{what} {text!r} is not an amount (digits with at most two decimals)")
    cents = int(whole or "0") * 100 + (int(fraction) * (10 if len(fraction) == 1 else 1)
                                       if fraction else 0)
    return -cents if negative else cents


_BLANKS = ("",) * 10  # appended to a short segment so its optional elements read as ""


def _el(raw: RawSegment, n: int) -> str:
    return raw[n] if n < len(raw) else ""


def _adjustments(raw: RawSegment, money: Any, into: list[Adjustment]) -> int:
    """Append the CAS reason triples to ``into``; returns Σ of their amounts in cents."""
    group = raw[1] if len(raw) > 1 else ""
    if group not in ADJUSTMENT_GROUPS:
        raise _Fail(f"CAS01 group {group!r} is not CO, PR, OA or PI")
    size = len(raw)
    if size < 4:
        raise _Fail("CAS needs a group, a reason (CAS02) and an amount (CAS03)")
    if size > 20:
        raise _Fail(f"CAS has {size - 1} elements; at most 19 (six reason triples)")
    total = 0
    for index in range(2, size, 3):
        reason = raw[index]
        amount_text = raw[index + 1] if index + 1 < size else ""
        quantity = raw[index + 2] if index + 2 < size else ""
        if not reason:
            if amount_text or quantity:
                raise _Fail(f"CAS{index:02d} is empty but CAS{index + 1:02d}/"
                            f"CAS{index + 2:02d} are not: each amount needs its reason code")
            continue
        if not amount_text:
            raise _Fail(f"CAS{index:02d} reason {reason} has no amount (CAS{index + 1:02d})")
        amount = money(amount_text, f"CAS{index + 1:02d} amount")
        into.append(Adjustment(group, reason, amount, quantity))
        total += amount.value
    return total


def _name(raw: RawSegment) -> Name:
    raw = raw + _BLANKS
    return Name(raw[1], raw[2], raw[3], raw[4], raw[5], raw[7], raw[8], raw[9])


def _reference(raw: RawSegment) -> Reference:
    if len(raw) < 3 or not raw[1] or not raw[2]:
        raise _Fail("REF needs a qualifier (REF01) and a value (REF02)")
    return Reference(raw[1], raw[2])


class _PartyDraft:
    __slots__ = ("n1", "n3", "n4", "references", "contacts")

    def __init__(self, n1: RawSegment) -> None:
        self.n1 = n1
        self.n3: RawSegment | None = None
        self.n4: RawSegment | None = None
        self.references: list[Reference] = []
        self.contacts: list[Contact] = []

    def build(self) -> Party:
        address = None
        if self.n3 is not None or self.n4 is not None:
            n3, n4 = self.n3 or (), self.n4 or ()
            address = Address(_el(n3, 1), _el(n3, 2), _el(n4, 1), _el(n4, 2), _el(n4, 3))
        return Party(_el(self.n1, 2), _el(self.n1, 3), _el(self.n1, 4), address,
                     tuple(self.references), tuple(self.contacts))


# A claim (loop 2100) ends at the next claim, header (LX), PLB or SE; a line also at an SVC.
_CLAIM_ENDS = frozenset(("CLP", "LX", "PLB", "SE", "SVC"))


class _Reader835:
    """Reads one 835 transaction set: header, then claim by claim, line by line.

    Each loop is read by its own method with local variables only, which is what keeps a
    10,000-claim remittance well under a second.
    """

    def __init__(self, transaction: Transaction) -> None:
        self.segments = transaction.segments
        self.start = transaction.start
        self.end = len(self.segments) - (1 if self.segments[-1][0] == "SE" else 0)
        self.control_number = transaction.control_number
        self.component = transaction.delimiters.component
        self.values = _Values()
        self.trn: RawSegment | None = None
        self.production: date | None = None
        self.payer: _PartyDraft | None = None
        self.payee: _PartyDraft | None = None
        self.claims: list[ClaimPayment] = []
        self.plb: list[ProviderAdjustment] = []
        self.balance_errors: list[str] = []
        self.warnings: list[str] = []
        self.paid_total = 0

    def fail(self, index: int, message: str) -> X12Error:
        raw = self.segments[index] if index < len(self.segments) else ("SE",)
        return X12Error(message, position=self.start + index, segment_id=raw[0][:3])

    # -- the whole set ---------------------------------------------------------------------

    def read(self) -> Remittance:
        segments, end = self.segments, self.end
        if len(segments) < 2 or segments[1][0] != "BPR":
            raise self.fail(min(1, len(segments) - 1),
                            "an 835 must have BPR (the payment) right after ST")
        index = self.header(2)
        while index < end:
            raw = segments[index]
            tag = raw[0]
            if tag == "CLP":
                index = self.claim(index)
                continue
            if tag == "PLB":
                try:
                    self.provider_adjustments(raw, index)
                except _Fail as exc:
                    raise self.fail(index, str(exc)) from None
            elif tag == "SVC":
                raise self.fail(index, "SVC before any CLP: a service line must belong to "
                                "a claim")
            elif tag == "BPR":
                raise self.fail(index, "a second BPR in one transaction set")
            index += 1  # LX, TS3, TS2 and anything this reader does not use
        return self.finish()

    def header(self, index: int) -> int:
        """BPR is read at the end; here TRN, DTM*405 and the payer/payee loops (1000A/B)."""
        segments, end = self.segments, self.end
        party: _PartyDraft | None = None
        try:
            while index < end:
                raw = segments[index]
                tag = raw[0]
                if tag in ("LX", "CLP", "PLB", "SVC"):
                    break
                if tag == "TRN":
                    self.trn = raw
                elif tag == "DTM" and _el(raw, 1) == "405":
                    self.production = self.values.date(_el(raw, 2), "DTM*405 production date")
                elif tag == "N1":
                    party = _PartyDraft(raw)
                    if _el(raw, 1) == "PR" and self.payer is None:
                        self.payer = party
                    elif _el(raw, 1) == "PE" and self.payee is None:
                        self.payee = party
                elif tag == "BPR":
                    raise _Fail("a second BPR in one transaction set")
                elif party is not None:
                    if tag == "N3":
                        party.n3 = raw
                    elif tag == "N4":
                        party.n4 = raw
                    elif tag == "REF":
                        party.references.append(_reference(raw))
                    elif tag == "PER":
                        numbers = tuple((raw[i], _el(raw, i + 1))
                                        for i in range(3, len(raw), 2) if raw[i])
                        party.contacts.append(Contact(_el(raw, 1), _el(raw, 2), numbers))
                index += 1
        except _Fail as exc:
            raise self.fail(index, str(exc)) from None
        return index

    # -- loop 2100 -------------------------------------------------------------------------

    def claim(self, index: int) -> int:
        """Read the claim whose CLP is at ``index``; returns the index after it."""
        segments, end, values = self.segments, self.end, self.values
        clp = segments[index]
        clp_index = index
        if len(clp) < 5 or not clp[1] or not clp[2]:
            raise self.fail(index, "CLP needs the claim id (CLP01), status (CLP02), charge "
                            "(CLP03) and payment (CLP04)")
        claim_id = clp[1]
        clp = clp + _BLANKS  # CLP05 … CLP09 are often left off the end
        adjustments: list[Adjustment] = []
        adjusted = 0
        names: dict[str, Name] = {}
        remarks: list[str] = []
        dates: dict[str, date] = {}
        references: list[Reference] = []
        amounts: list[SupplementalAmount] = []
        lines: list[ServicePayment] = []
        line_adjusted = 0
        pr_total = 0
        try:
            charge = values.money(clp[3], "CLP03 charge")
            paid = values.money(clp[4], "CLP04 payment")
            responsibility_text = clp[5]
            responsibility = (values.money(responsibility_text, "CLP05 patient responsibility")
                              if responsibility_text else _ZERO)
            index += 1
            while index < end:
                raw = segments[index]
                tag = raw[0]
                if tag in _CLAIM_ENDS:
                    break
                if tag == "CAS":
                    total = _adjustments(raw, values.money, adjustments)
                    adjusted += total
                    if raw[1] == "PR":
                        pr_total += total
                elif tag == "NM1":
                    names.setdefault(_el(raw, 1), _name(raw))
                elif tag == "DTM":
                    qualifier = _el(raw, 1)
                    dates[qualifier] = values.date(_el(raw, 2), "DTM02 date")
                elif tag == "REF":
                    references.append(_reference(raw))
                elif tag == "AMT":
                    amounts.append(self.amount(raw))
                elif tag == "MOA":
                    remarks.extend(code for code in raw[3:8] if code)
                elif tag == "MIA":
                    remarks.extend(code for code in (_el(raw, 5), *raw[20:25]) if code)
                index += 1
            while index < end and segments[index][0] == "SVC":
                index, line, line_total, line_pr = self.line(index, claim_id, len(lines) + 1)
                lines.append(line)
                line_adjusted += line_total
                pr_total += line_pr
        except _Fail as exc:
            raise self.fail(index, str(exc)) from None
        position = self.start + clp_index
        claim = ClaimPayment(
            claim_id, clp[2], charge, paid, responsibility, clp[6], clp[7], clp[8], clp[9],
            tuple(adjustments), names.get("QC"), names.get("IL"),
            names.get("74"), names.get("82"), names.get("TT"), names.get("PR"),
            tuple(remarks), dates.get("232"), dates.get("233"), dates.get("050"),
            tuple(references), tuple(amounts), tuple(lines), position,
            bool(responsibility_text))
        self.claims.append(claim)
        self.paid_total += paid.value
        difference = charge.value - paid.value - adjusted - line_adjusted
        if difference:
            where = "claim and line adjustments" if lines else "claim adjustments"
            self.balance_errors.append(
                f"claim {claim_id} (segment {position}): charge {charge} − paid {paid} = "
                f"{_money(charge.value - paid.value)} but its {where} add up to "
                f"{_money(adjusted + line_adjusted)} (off by {_money(difference)})")
        if responsibility_text and responsibility.value != pr_total:
            self.warnings.append(
                f"claim {claim_id} (segment {position}): CLP05 patient responsibility "
                f"{responsibility} differs from its PR adjustments, {_money(pr_total)}")
        return index

    def amount(self, raw: RawSegment) -> SupplementalAmount:
        if len(raw) < 3 or not raw[1]:
            raise _Fail("AMT needs a qualifier (AMT01) and an amount (AMT02)")
        return SupplementalAmount(raw[1], self.values.money(raw[2], "AMT02"))

    # -- loop 2110 -------------------------------------------------------------------------

    def line(self, index: int, claim_id: str,
             number: int) -> tuple[int, ServicePayment, int, int]:
        """Read the service line whose SVC is at ``index``.

        Returns the index after it, the line, Σ its adjustments and Σ its PR adjustments.
        This is the innermost loop of a large remittance, so the memoised values are looked
        up inline and parsed only on a miss.
        """
        segments, end, values = self.segments, self.end, self.values
        cents_get, dates_get = values.cents.get, values.dates.get
        svc = segments[index]
        svc_index = index
        if len(svc) < 4:
            raise _Fail("SVC needs the procedure (SVC01), charge (SVC02) and payment (SVC03)")
        procedure = svc[1].split(self.component)
        if len(procedure) < 2 or not procedure[0] or not procedure[1]:
            raise _Fail(f"SVC01 {svc[1]!r} must be a qualifier and a code, e.g. HC:97124")
        charge = cents_get(svc[2])
        if charge is None:
            charge = values.money(svc[2], "SVC02 charge")
        paid = cents_get(svc[3])
        if paid is None:
            paid = values.money(svc[3], "SVC03 payment")
        units = values.quantity(svc[5], "SVC05 units") if len(svc) > 5 and svc[5] else _ONE
        adjustments: list[Adjustment] = []
        adjusted = pr_total = 0
        control = ""
        references: list[Reference] = []
        amounts: list[SupplementalAmount] = []
        remarks: list[str] = []
        allowed: Cents | None = None
        first_date: date | None = None
        last_date: date | None = None
        index += 1
        try:
            while index < end:
                raw = segments[index]
                tag = raw[0]
                if tag == "CAS":
                    if len(raw) == 4 and raw[1] in ADJUSTMENT_GROUPS and raw[2]:
                        # One reason, no quantity: by far the most common CAS.
                        amount = cents_get(raw[3])
                        if amount is None:
                            amount = values.money(raw[3], "CAS03 amount")
                        adjustments.append(Adjustment(raw[1], raw[2], amount))
                        total = amount.value
                    else:
                        total = _adjustments(raw, values.money, adjustments)
                    adjusted += total
                    if raw[1] == "PR":
                        pr_total += total
                elif tag == "DTM":
                    qualifier = raw[1] if len(raw) > 2 else ""
                    text = raw[2] if len(raw) > 2 else ""
                    day = dates_get(text)
                    if day is None:
                        day = values.date(text, "DTM02 service date")
                    if qualifier == "151":
                        last_date = day
                    elif qualifier == "472" or qualifier == "150":
                        first_date = day
                elif tag == "REF":
                    if len(raw) < 3 or not raw[1] or not raw[2]:
                        raise _Fail("REF needs a qualifier (REF01) and a value (REF02)")
                    if raw[1] == "6R" and not control:
                        control = raw[2]
                    else:
                        references.append(Reference(raw[1], raw[2]))
                elif tag == "AMT":
                    if len(raw) < 3 or not raw[1]:
                        raise _Fail("AMT needs a qualifier (AMT01) and an amount (AMT02)")
                    amount = cents_get(raw[2])
                    if amount is None:
                        amount = values.money(raw[2], "AMT02 amount")
                    if raw[1] == "B6" and allowed is None:
                        allowed = amount
                    else:
                        amounts.append(SupplementalAmount(raw[1], amount))
                elif tag == "LQ":
                    if len(raw) > 2 and raw[1] == "HE" and raw[2]:
                        remarks.append(raw[2])
                elif tag in _CLAIM_ENDS:
                    break
                index += 1
        except _Fail as exc:
            raise self.fail(index, str(exc)) from None
        if len(procedure) > 2:
            modifiers = tuple(procedure[2:6])
            if "" in modifiers:
                modifiers = tuple(m for m in modifiers if m)
        else:
            modifiers = ()
        original_code, original_units = "", None
        original_modifiers: tuple[str, ...] = ()
        if len(svc) > 6:
            original_code, original_modifiers, original_units = self.original(svc)
        payment = ServicePayment(
            procedure[0], procedure[1], modifiers, charge, paid, svc[4] if len(svc) > 4 else "",
            units, original_code, original_modifiers, original_units, first_date, last_date,
            tuple(adjustments), control, tuple(references), allowed, tuple(amounts),
            tuple(remarks), self.start + svc_index)
        difference = charge.value - paid.value - adjusted
        if difference:
            self.balance_errors.append(
                f"claim {claim_id} line {number} ({payment.label}, segment "
                f"{payment.position}): charge {charge} − paid {paid} = "
                f"{_money(charge.value - paid.value)} but its adjustments add up to "
                f"{_money(adjusted)} (off by {_money(difference)})")
        return index, payment, adjusted, pr_total

    def original(self, svc: RawSegment) -> tuple[str, tuple[str, ...], Decimal | None]:
        """SVC06/SVC07: the code and units as billed, when the payer adjudicated others."""
        original = svc[6].split(self.component) if svc[6] else []
        units = (self.values.quantity(svc[7], "SVC07 original units")
                 if len(svc) > 7 and svc[7] else None)
        return (original[1] if len(original) > 1 else "",
                tuple(m for m in original[2:6] if m), units)

    # -- PLB and the payment ---------------------------------------------------------------

    def provider_adjustments(self, raw: RawSegment, index: int) -> None:
        if len(raw) < 5 or not raw[1]:
            raise _Fail("PLB needs the provider (PLB01), fiscal period date (PLB02) and at "
                        "least one reason (PLB03) with its amount (PLB04)")
        if len(raw) > 15:
            raise _Fail(f"PLB has {len(raw) - 1} elements; at most 14 (six adjustments)")
        fiscal = self.values.date(raw[2], "PLB02 fiscal period date") if raw[2] else None
        for element in range(3, len(raw), 2):
            reason_text = raw[element]
            amount_text = raw[element + 1] if element + 1 < len(raw) else ""
            if not reason_text and not amount_text:
                continue
            if not reason_text or not amount_text:
                raise _Fail(f"PLB{element:02d}/PLB{element + 1:02d}: an adjustment needs both "
                            "a reason and an amount")
            reason, _sep, reference = reason_text.partition(self.component)
            amount = self.values.money(amount_text, f"PLB{element + 1:02d} amount")
            self.plb.append(ProviderAdjustment(raw[1], fiscal, reason, reference, amount,
                                               self.start + index))

    def finish(self) -> Remittance:
        bpr = self.segments[1]
        start = self.start
        try:
            amount = self.values.money(_el(bpr, 2), "BPR02 payment amount")
        except _Fail as exc:
            raise self.fail(1, str(exc)) from None
        problems = self._problems(bpr)
        paid_on = None
        if _el(bpr, 16):
            # A wrong date does not change what was paid; report it and read on.
            try:
                paid_on = self.values.date(bpr[16], "BPR16 payment date")
            except _Fail as exc:
                problems.append(f"segment {start + 1} (BPR): {exc}")
        trn = self.trn or ()
        payment = Payment(_el(bpr, 1), amount, _el(bpr, 3), _el(bpr, 4), _el(bpr, 5), paid_on,
                          _el(trn, 2), _el(trn, 3), self.production)
        plb_total = sum(a.amount.value for a in self.plb)
        expected = self.paid_total - plb_total
        if payment.signed_amount.value != expected:
            self.balance_errors.append(
                f"payment: BPR02 {payment.amount}{' (debit)' if _el(bpr, 3) == 'D' else ''} "
                f"but the claims pay {_money(self.paid_total)} and the provider adjustments "
                f"come to {_money(plb_total)}, so BPR02 should be {_money(expected)} "
                f"(off by {_money(payment.signed_amount.value - expected)})")
        return Remittance(
            self.control_number, payment,
            self.payer.build() if self.payer else Party(""),
            self.payee.build() if self.payee else Party(""),
            tuple(self.claims), tuple(self.plb), tuple(self.balance_errors),
            tuple(self.warnings), tuple(problems))

    def _problems(self, bpr: RawSegment) -> list[str]:
        """What the TR3 requires and this remittance lacks (reported, not fatal)."""
        problems: list[str] = []
        if not _el(bpr, 16):
            problems.append("BPR16 (payment or notification date) is missing")
        if _el(bpr, 3) not in ("C", "D"):
            problems.append(f"BPR03 {_el(bpr, 3)!r} must be C (credit) or D (debit)")
        if self.trn is None:
            problems.append("TRN (the check or EFT trace number) is missing")
        if self.payer is None:
            problems.append("loop 1000A (N1*PR, the payer) is missing")
        elif not any(c.function == "BL" for c in self.payer.contacts):
            problems.append("loop 1000A has no PER*BL (the payer's technical contact), which "
                            "005010X221A1 requires")
        if self.payee is None:
            problems.append("loop 1000B (N1*PE, the payee) is missing")
        return problems


def read_835(transaction: Transaction) -> Remittance:
    """Read one tokenised 835 transaction set (ST … SE) into a :class:`Remittance`.

    Raises :class:`X12Error` (naming the segment) when the content cannot be read; an
    unbalanced remittance reads, with its ``balance_errors``.
    """
    if transaction.set_id != "835":
        raise X12Error(f"this is a {transaction.set_id or '?'} transaction set, not an 835",
                       position=transaction.start, segment_id="ST")
    try:
        return _Reader835(transaction).read()
    except _Fail as exc:  # pragma: no cover - every loop converts its own
        raise X12Error(str(exc), position=transaction.start) from None
    except IndexError as exc:  # a segment shorter than a loop assumed
        raise X12Error(f"a segment is missing required elements ({exc})",
                       position=transaction.start, segment_id="ST") from None
