"""Reading a 277CA claim acknowledgement (005010X214).

The 277CA is the payer's (or clearinghouse's) front-end verdict on each claim, before
adjudication (reference §7.2): accepted into adjudication (A2) or rejected (A3, A6, A7, A8),
with the payer's claim number when accepted. Its HL tree has four levels: 20 the information
source (payer), 21 the receiver (us, with batch totals), 19 the billing provider and PT the
patient, under which each claim has its STC, TRN*2 (our CLM01), REF*1K and DTP*472, and
optionally line-level status (loop 2220D).

The reader is lenient about what does not change the verdict — a service date that is not a
calendar date, a missing provider trace — and reports those as ``problems``, so that a
rejection is never lost because the acknowledgement around it is imperfect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from handbill.core.money import Cents, MoneyError
from handbill.x12.tokens import RawSegment, Transaction, X12Error

# STC01-1: the claim status category (code list 507), in our words.
CATEGORIES = {
    "A0": "acknowledged: forwarded to another entity",
    "A1": "acknowledged: received, not yet accepted",
    "A2": "acknowledged: accepted into adjudication",
    "A3": "acknowledged: returned as unprocessable",
    "A4": "acknowledged: not found",
    "A5": "acknowledged: split claim",
    "A6": "rejected: missing information",
    "A7": "rejected: invalid information",
    "A8": "rejected: relational field in error",
    "P0": "pending: adjudication or details",
    "P1": "pending: in process",
    "P2": "pending: payer review",
    "P3": "pending: provider requested information",
    "P4": "pending: patient requested information",
    "P5": "pending: payer administrative or system hold",
    "E0": "response not possible: error on the submitted request",
    "E1": "response not possible: system status",
    "D0": "data search unsuccessful",
}
REJECTED = frozenset(("A3", "A6", "A7", "A8"))
ACCEPTED = frozenset(("A1", "A2", "A5"))

# HL03 level codes of the 277CA.
LEVELS = {"20": "information source", "21": "information receiver",
          "19": "billing provider", "PT": "patient"}


@dataclass(frozen=True, slots=True)
class StatusCode:
    """One composite of an STC: category, status (code list 508) and entity."""

    category: str  # STC01-1 / STC10-1 / STC11-1
    status: str  # -2: why, e.g. 20 accepted for processing, 21 missing or invalid
    entity: str = ""  # -3: whose data, e.g. PR payer, 85 billing provider
    code_list_qualifier: str = ""  # -4

    @property
    def category_meaning(self) -> str:
        return CATEGORIES.get(self.category, f"category {self.category}")

    def as_dict(self) -> dict[str, str]:
        return {"category": self.category, "meaning": self.category_meaning,
                "status": self.status, "entity": self.entity}


@dataclass(frozen=True, slots=True)
class Status:
    """One STC segment: up to three status codes, the date, the action and the amount."""

    codes: tuple[StatusCode, ...]  # STC01, STC10, STC11
    effective_date: date | None  # STC02
    action: str  # STC03: WQ accepted, U rejected
    amount: Cents | None  # STC04: total claim charge
    message: str = ""  # STC12 free-form message

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(code.category for code in self.codes)

    def as_dict(self) -> dict[str, Any]:
        return {"codes": [c.as_dict() for c in self.codes],
                "date": self.effective_date.isoformat() if self.effective_date else None,
                "action": self.action,
                "amount": self.amount.to_x12() if self.amount is not None else None,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class LineStatus:
    """Loop 2220D: the status of one service line of a claim."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...]
    charge: Cents | None
    units: str
    statuses: tuple[Status, ...]
    control_number: str  # REF*FJ: our line item control number
    service_date: date | None
    position: int

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "qualifier": self.qualifier,
                "modifiers": list(self.modifiers),
                "charge": self.charge.to_x12() if self.charge is not None else None,
                "units": self.units, "control_number": self.control_number,
                "date": self.service_date.isoformat() if self.service_date else None,
                "statuses": [s.as_dict() for s in self.statuses]}


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """Loop 2000D/2200D: the verdict on one claim we sent."""

    claim_id: str  # TRN02: our CLM01
    patient_last: str
    patient_first: str
    member_id: str
    statuses: tuple[Status, ...]
    payer_claim_number: str  # REF*1K, present when accepted
    clearinghouse_trace: str  # REF*D9
    service_from: date | None  # DTP*472
    service_to: date | None
    lines: tuple[LineStatus, ...]
    billing_provider: str  # NM1*85 of the HL 19 above
    position: int  # the HL of the patient level

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(c for status in self.statuses for c in status.categories)

    @property
    def rejected(self) -> bool:
        return any(c in REJECTED for c in self.categories)

    @property
    def accepted(self) -> bool:
        return not self.rejected and any(c in ACCEPTED for c in self.categories)

    def as_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "patient": {"last": self.patient_last, "first": self.patient_first,
                        "member_id": self.member_id},
            "accepted": self.accepted, "rejected": self.rejected,
            "statuses": [s.as_dict() for s in self.statuses],
            "payer_claim_number": self.payer_claim_number,
            "clearinghouse_trace": self.clearinghouse_trace,
            "service_from": self.service_from.isoformat() if self.service_from else None,
            "service_to": self.service_to.isoformat() if self.service_to else None,
            "billing_provider": self.billing_provider,
            "lines": [line.as_dict() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class ClaimAcknowledgment:
    """One 277CA transaction set."""

    control_number: str  # ST02
    reference: str  # BHT03
    created_on: date | None  # BHT04
    source_name: str  # 2100A NM1*PR
    source_id: str
    receiver_name: str  # 2100B NM1*41
    receiver_id: str
    receiver_statuses: tuple[Status, ...]  # 2200B STC: the batch as a whole
    accepted_count: int | None  # QTY*90
    rejected_count: int | None  # QTY*AA
    accepted_amount: Cents | None  # AMT*YU
    rejected_amount: Cents | None  # AMT*YY
    claims: tuple[ClaimStatus, ...]
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        def money(value: Cents | None) -> str | None:
            return value.to_x12() if value is not None else None

        return {
            "control_number": self.control_number, "reference": self.reference,
            "created_on": self.created_on.isoformat() if self.created_on else None,
            "source": {"name": self.source_name, "id": self.source_id},
            "receiver": {"name": self.receiver_name, "id": self.receiver_id,
                         "statuses": [s.as_dict() for s in self.receiver_statuses],
                         "accepted_count": self.accepted_count,
                         "rejected_count": self.rejected_count,
                         "accepted_amount": money(self.accepted_amount),
                         "rejected_amount": money(self.rejected_amount)},
            "claims": [c.as_dict() for c in self.claims],
            "errors": list(self.problems),
        }


def _el(raw: RawSegment, n: int) -> str:
    return raw[n] if n < len(raw) else ""


class _ClaimDraft:
    __slots__ = ("hl_position", "nm1", "trn", "statuses", "refs", "dates", "lines",
                 "provider")

    def __init__(self, hl_position: int, provider: str) -> None:
        self.hl_position = hl_position
        self.provider = provider
        self.nm1: RawSegment = ()
        self.trn = ""
        self.statuses: list[Status] = []
        self.refs: dict[str, str] = {}
        self.dates: tuple[date | None, date | None] = (None, None)
        self.lines: list[LineStatus] = []


class _LineDraft:
    __slots__ = ("svc", "position", "statuses", "control", "date")

    def __init__(self, svc: RawSegment, position: int) -> None:
        self.svc = svc
        self.position = position
        self.statuses: list[Status] = []
        self.control = ""
        self.date: date | None = None


class _Reader277:
    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self.component = transaction.delimiters.component
        self.problems: list[str] = []
        self.position = 0

    def note(self, message: str) -> None:
        self.problems.append(f"segment {self.position}: {message}")

    def day(self, text: str, what: str) -> date | None:
        """A CCYYMMDD date, or None with a problem noted (the verdict still stands)."""
        if len(text) != 8 or not text.isdigit():
            self.note(f"{what} {text!r} is not a CCYYMMDD date")
            return None
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            self.note(f"{what} {text!r} is not a calendar date")
            return None

    def period(self, raw: RawSegment) -> tuple[date | None, date | None]:
        """DTP with D8 (one date) or RD8 (CCYYMMDD-CCYYMMDD)."""
        qualifier, value = _el(raw, 2), _el(raw, 3)
        if qualifier == "RD8":
            first, _sep, last = value.partition("-")
            return (self.day(first, f"DTP*{_el(raw, 1)} start"),
                    self.day(last, f"DTP*{_el(raw, 1)} end"))
        day = self.day(value, f"DTP*{_el(raw, 1)} date")
        return day, day

    def money(self, text: str, what: str) -> Cents | None:
        if not text:
            return None
        try:
            return Cents.parse(text)
        except MoneyError:
            raise ValueError(f"{what} {text!r} is not an amount") from None

    def status(self, raw: RawSegment) -> Status:
        codes = []
        for n in (1, 10, 11):
            text = _el(raw, n)
            if not text:
                continue
            parts = text.split(self.component)
            if len(parts) < 2 or not parts[0]:
                raise ValueError(f"STC{n:02d} {text!r} must be category:status[:entity]")
            codes.append(StatusCode(parts[0], parts[1], _el(tuple(parts), 2),
                                    _el(tuple(parts), 3)))
        if not codes:
            raise ValueError("STC01 (the claim status) is missing")
        effective = self.day(_el(raw, 2), "STC02 status date") if _el(raw, 2) else None
        return Status(tuple(codes), effective, _el(raw, 3), self.money(_el(raw, 4), "STC04"),
                      _el(raw, 12))

    def read(self) -> ClaimAcknowledgment:
        segments = self.transaction.segments
        start = self.transaction.start
        bht: RawSegment = ()
        level = ""
        source: RawSegment = ()
        receiver: RawSegment = ()
        receiver_statuses: list[Status] = []
        counts: dict[str, int] = {}
        amounts: dict[str, Cents | None] = {}
        provider = ""
        provider_hl = 0
        provider_traced = True
        level_traces: dict[str, bool] = {}
        claims: list[ClaimStatus] = []
        claim: _ClaimDraft | None = None
        line: _LineDraft | None = None

        def close_line() -> None:
            nonlocal line
            if line is not None and claim is not None:
                claim.lines.append(self.line(line))
            line = None

        def close_claim() -> None:
            nonlocal claim
            close_line()
            if claim is not None:
                claims.append(self.claim(claim))
            claim = None

        def close_provider() -> None:
            if provider_hl and not provider_traced:
                self.problems.append(
                    f"segment {provider_hl}: the billing provider level (HL 19) has no "
                    "TRN/STC: loop 2200C is required by 005010X214")

        for index, raw in enumerate(segments):
            tag = raw[0]
            self.position = start + index
            try:
                if tag == "BHT":
                    bht = raw
                elif tag == "HL":
                    close_claim()
                    level = _el(raw, 3)
                    if level not in LEVELS:
                        raise ValueError(f"HL03 {level!r} is not a 277CA level (20, 21, 19, PT)")
                    level_traces.setdefault(level, False)
                    if level == "19":
                        close_provider()
                        provider, provider_hl, provider_traced = "", self.position, False
                    elif level == "PT":
                        claim = _ClaimDraft(self.position, provider)
                elif tag == "NM1":
                    if level == "20":
                        source = raw
                    elif level == "21":
                        receiver = raw
                    elif level == "19":
                        provider = _el(raw, 3)
                    elif claim is not None and line is None:
                        claim.nm1 = raw
                elif tag == "TRN":
                    level_traces[level] = True
                    if level == "19":
                        provider_traced = True
                    elif claim is not None:
                        claim.trn = _el(raw, 2)
                elif tag == "STC":
                    status = self.status(raw)
                    if line is not None:
                        line.statuses.append(status)
                    elif claim is not None:
                        claim.statuses.append(status)
                    elif level == "21":
                        receiver_statuses.append(status)
                    elif level == "19":
                        provider_traced = True
                elif tag == "QTY" and level == "21":
                    if not _el(raw, 2).isdigit():
                        raise ValueError(f"QTY02 {_el(raw, 2)!r} is not a count")
                    counts[_el(raw, 1)] = int(raw[2])
                elif tag == "AMT" and level == "21":
                    amounts[_el(raw, 1)] = self.money(_el(raw, 2), "AMT02")
                elif tag == "REF" and claim is not None:
                    if line is not None:
                        if _el(raw, 1) == "FJ":
                            line.control = _el(raw, 2)
                    else:
                        claim.refs.setdefault(_el(raw, 1), _el(raw, 2))
                elif tag == "DTP":
                    if line is not None and _el(raw, 1) == "472":
                        line.date = self.period(raw)[0]
                    elif claim is not None and _el(raw, 1) == "472":
                        claim.dates = self.period(raw)
                    elif level == "20":
                        self.period(raw)  # 050 received, 009 processed: checked, not kept
                elif tag == "SVC":
                    if claim is None:
                        raise ValueError("SVC outside a patient level (HL PT)")
                    close_line()
                    line = _LineDraft(raw, self.position)
            except (ValueError, IndexError) as exc:
                raise X12Error(str(exc), position=self.position, segment_id=tag) from None
        close_claim()
        close_provider()
        for code, name in (("20", "2200A"), ("21", "2200B")):
            if not level_traces.get(code, False):
                self.problems.append(f"the {LEVELS[code]} level (HL {code}) has no TRN: "
                                     f"loop {name} is required by 005010X214")
        if not bht:
            self.problems.append("BHT (the beginning of the hierarchy) is missing")
        created = self.day(_el(bht, 4), "BHT04") if _el(bht, 4) else None
        return ClaimAcknowledgment(
            self.transaction.control_number, _el(bht, 3), created, _el(source, 3),
            _el(source, 9), _el(receiver, 3), _el(receiver, 9), tuple(receiver_statuses),
            counts.get("90"), counts.get("AA"), amounts.get("YU"), amounts.get("YY"),
            tuple(claims), tuple(self.problems))

    def claim(self, draft: _ClaimDraft) -> ClaimStatus:
        if not draft.trn:
            self.problems.append(f"segment {draft.hl_position}: the claim at this patient "
                                 "level has no TRN*2 (our claim id)")
        if not draft.statuses:
            self.problems.append(f"segment {draft.hl_position}: claim {draft.trn or '?'} "
                                 "has no STC status")
        nm1 = draft.nm1
        return ClaimStatus(draft.trn, _el(nm1, 3), _el(nm1, 4), _el(nm1, 9),
                           tuple(draft.statuses), draft.refs.get("1K", ""),
                           draft.refs.get("D9", ""), draft.dates[0], draft.dates[1],
                           tuple(draft.lines), draft.provider, draft.hl_position)

    def line(self, draft: _LineDraft) -> LineStatus:
        svc = draft.svc
        procedure = _el(svc, 1).split(self.component)
        try:
            charge = self.money(_el(svc, 2), "SVC02 charge")
        except ValueError as exc:
            raise X12Error(str(exc), position=draft.position, segment_id="SVC") from None
        return LineStatus(procedure[0], procedure[1] if len(procedure) > 1 else "",
                          tuple(m for m in procedure[2:6] if m), charge, _el(svc, 7),
                          tuple(draft.statuses), draft.control, draft.date, draft.position)


def read_277ca(transaction: Transaction) -> ClaimAcknowledgment:
    """Read one tokenised 277CA transaction set (ST … SE)."""
    if transaction.set_id != "277":
        raise X12Error(f"this is a {transaction.set_id or '?'} transaction set, not a 277",
                       position=transaction.start, segment_id="ST")
    return _Reader277(transaction).read()
