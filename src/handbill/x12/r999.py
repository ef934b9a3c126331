"""Reading a 999 implementation acknowledgement (005010X231A1).

A 999 says, for one functional group we sent, whether each transaction set passed the
clearinghouse's syntax and implementation-guide checks (reference §7.1): AK1 names the group,
AK2 … IK5 one transaction set with its segment (IK3) and element (IK4) errors, AK9 the group's
verdict and counts. It says nothing about payment; a claim accepted here can still be
rejected by the 277CA or denied in the 835.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handbill.x12.tokens import RawSegment, Transaction, X12Error

# IK501 / AK901: what happened to a transaction set or the group.
ACK_STATUS = {
    "A": "accepted",
    "E": "accepted with errors noted",
    "P": "partially accepted: at least one transaction set was rejected",
    "R": "rejected",
    "M": "rejected: message authentication failed",
    "W": "rejected: failed the assurance (validity) tests",
    "X": "rejected: content could not be analysed after decryption",
}

# IK304: why a segment is in error.
SEGMENT_ERRORS = {
    "1": "unrecognised segment id",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs more often than allowed",
    "5": "segment occurs more often than allowed",
    "6": "segment not in the defined transaction set",
    "7": "segment not in the proper sequence",
    "8": "segment has data element errors",
    "I4": "segment the implementation guide marks 'not used' is present",
    "I6": "implementation-dependent segment missing",
    "I7": "loop occurs fewer times than the implementation guide requires",
    "I8": "segment occurs fewer times than the implementation guide requires",
    "I9": "implementation-dependent 'not used' segment present",
}

# IK403: why an element is in error.
ELEMENT_ERRORS = {
    "1": "required element missing",
    "2": "conditionally required element missing",
    "3": "too many elements",
    "4": "element too short",
    "5": "element too long",
    "6": "invalid character in element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I6": "code value not used in this implementation",
    "I9": "implementation-dependent element missing",
    "I10": "element the implementation guide marks 'not used' is present",
    "I11": "too few repetitions for the implementation guide",
    "I12": "value does not match the implementation guide's pattern",
    "I13": "implementation-dependent 'not used' element present",
}

# IK502–IK506: why a transaction set was rejected or noted.
TRANSACTION_ERRORS = {
    "1": "transaction set not supported",
    "2": "transaction set trailer (SE) missing",
    "3": "ST02 and SE02 control numbers differ",
    "4": "SE01 segment count is wrong",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "18": "transaction set not in a functional group",
    "19": "invalid implementation convention reference (ST03)",
    "23": "transaction set control number not unique within the group",
    "I5": "one or more segments in error (implementation guide)",
    "I6": "implementation convention not supported",
}

# AK905–AK909: why a functional group was rejected or noted.
GROUP_ERRORS = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer (GE) missing",
    "4": "GS06 and GE02 control numbers differ",
    "5": "GE01 transaction set count is wrong",
    "6": "group control number violates syntax",
    "19": "group control number not unique within the interchange",
}


def _meaning(table: dict[str, str], code: str) -> str:
    return table.get(code, f"code {code}")


@dataclass(frozen=True, slots=True)
class ElementError:
    """IK4: one element in error inside a segment."""

    position: int  # IK401-1: element position in the segment
    component: int | None  # IK401-2
    repetition: int | None  # IK401-3
    reference_number: str  # IK402: data element dictionary number
    code: str  # IK403
    bad_value: str  # IK404: a copy of the bad data, when sent

    @property
    def meaning(self) -> str:
        return _meaning(ELEMENT_ERRORS, self.code)

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "component": self.component,
                "repetition": self.repetition, "reference_number": self.reference_number,
                "code": self.code, "meaning": self.meaning, "bad_value": self.bad_value}


@dataclass(frozen=True, slots=True)
class SegmentError:
    """IK3 with its IK4s: a segment of our transaction set that failed a check."""

    segment_id: str  # IK301
    position: int  # IK302: position within our transaction set (ST = 1)
    loop: str  # IK303, e.g. 2010BA
    code: str  # IK304
    elements: tuple[ElementError, ...]

    @property
    def meaning(self) -> str:
        return _meaning(SEGMENT_ERRORS, self.code)

    def as_dict(self) -> dict[str, Any]:
        return {"segment": self.segment_id, "position": self.position, "loop": self.loop,
                "code": self.code, "meaning": self.meaning,
                "elements": [e.as_dict() for e in self.elements]}


@dataclass(frozen=True, slots=True)
class TransactionAck:
    """AK2 … IK5: the verdict on one transaction set we sent."""

    set_id: str  # AK201: 837
    control_number: str  # AK202: our ST02
    convention: str  # AK203
    status: str  # IK501: A, E, R, M, W, X
    codes: tuple[str, ...]  # IK502–IK506
    segment_errors: tuple[SegmentError, ...]

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")

    @property
    def status_meaning(self) -> str:
        return _meaning(ACK_STATUS, self.status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "set_id": self.set_id, "control_number": self.control_number,
            "convention": self.convention, "status": self.status,
            "status_meaning": self.status_meaning, "accepted": self.accepted,
            "codes": [{"code": c, "meaning": _meaning(TRANSACTION_ERRORS, c)}
                      for c in self.codes],
            "segment_errors": [e.as_dict() for e in self.segment_errors],
        }


@dataclass(frozen=True, slots=True)
class Acknowledgment999:
    """One 999 transaction set: the verdict on one functional group we sent."""

    control_number: str  # ST02 of the 999
    functional_id: str  # AK101: HC for claims
    group_control_number: str  # AK102: our GS06
    version: str  # AK103
    transactions: tuple[TransactionAck, ...]
    status: str  # AK901: A, E, P, R, …
    included: int  # AK902: transaction sets we sent
    received: int  # AK903
    accepted_count: int  # AK904
    codes: tuple[str, ...]  # AK905–AK909
    problems: tuple[str, ...]  # what the 999 itself lacks (AK1, AK9, an IK5)

    @property
    def status_meaning(self) -> str:
        return _meaning(ACK_STATUS, self.status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "control_number": self.control_number,
            "group": {"functional_id": self.functional_id,
                      "control_number": self.group_control_number, "version": self.version},
            "status": self.status, "status_meaning": self.status_meaning,
            "included": self.included, "received": self.received,
            "accepted": self.accepted_count,
            "codes": [{"code": c, "meaning": _meaning(GROUP_ERRORS, c)} for c in self.codes],
            "transactions": [t.as_dict() for t in self.transactions],
            "errors": list(self.problems),
        }


def _el(raw: RawSegment, n: int) -> str:
    return raw[n] if n < len(raw) else ""


def _count(raw: RawSegment, n: int, what: str) -> int:
    text = _el(raw, n)
    if not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a count")
    return int(text)


def _optional_int(text: str, what: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a number")
    return int(text)


class _Draft:
    __slots__ = ("ak2", "codes", "status", "segments")

    def __init__(self, ak2: RawSegment) -> None:
        self.ak2 = ak2
        self.status = ""
        self.codes: tuple[str, ...] = ()
        self.segments: list[tuple[RawSegment, int, list[ElementError]]] = []

    def build(self) -> TransactionAck:
        errors = tuple(SegmentError(_el(ik3, 1), position, _el(ik3, 3), _el(ik3, 4),
                                    tuple(elements))
                       for ik3, position, elements in self.segments)
        return TransactionAck(_el(self.ak2, 1), _el(self.ak2, 2), _el(self.ak2, 3),
                              self.status, self.codes, errors)


def read_999(transaction: Transaction) -> Acknowledgment999:
    """Read one tokenised 999 transaction set (ST … SE)."""
    if transaction.set_id != "999":
        raise X12Error(f"this is a {transaction.set_id or '?'} transaction set, not a 999",
                       position=transaction.start, segment_id="ST")
    component = transaction.delimiters.component
    ak1: RawSegment | None = None
    ak9: RawSegment | None = None
    ak9_position = transaction.start
    done: list[TransactionAck] = []
    draft: _Draft | None = None
    problems: list[str] = []
    for index, raw in enumerate(transaction.segments):
        tag = raw[0]
        try:
            if tag == "AK1":
                ak1 = raw
            elif tag == "AK2":
                if draft is not None:
                    problems.append(f"transaction set {_el(draft.ak2, 2)} has no IK5 verdict")
                    done.append(draft.build())
                draft = _Draft(raw)
            elif tag == "IK3":
                if draft is None:
                    raise ValueError("IK3 outside an AK2 … IK5 loop")
                position = _optional_int(_el(raw, 2), "IK302 position") or 0
                draft.segments.append((raw, position, []))
            elif tag == "IK4":
                if draft is None or not draft.segments:
                    raise ValueError("IK4 without the IK3 of its segment")
                where = _el(raw, 1).split(component)
                if not where[0].isdigit():
                    raise ValueError(f"IK401 {_el(raw, 1)!r} is not an element position")
                draft.segments[-1][2].append(ElementError(
                    int(where[0]),
                    _optional_int(where[1] if len(where) > 1 else "", "IK401-2 component"),
                    _optional_int(where[2] if len(where) > 2 else "", "IK401-3 repetition"),
                    _el(raw, 2), _el(raw, 3), _el(raw, 4)))
            elif tag == "IK5":
                if draft is None:
                    raise ValueError("IK5 outside an AK2 loop")
                draft.status = _el(raw, 1)
                draft.codes = tuple(code for code in raw[2:7] if code)
                done.append(draft.build())
                draft = None
            elif tag == "AK9":
                ak9, ak9_position = raw, transaction.position_of(index)
        except ValueError as exc:
            raise X12Error(str(exc), position=transaction.position_of(index),
                           segment_id=tag) from None
    if draft is not None:
        problems.append(f"transaction set {_el(draft.ak2, 2)} has no IK5 verdict")
        done.append(draft.build())
    if ak1 is None:
        problems.append("AK1 (the functional group acknowledged) is missing")
    if ak9 is None:
        problems.append("AK9 (the group's verdict) is missing")
    ak1, ak9 = ak1 or ("AK1",), ak9 or ("AK9",)
    try:
        counts = [_count(ak9, n, f"AK90{n}") if _el(ak9, n) else 0 for n in (2, 3, 4)]
    except ValueError as exc:
        raise X12Error(str(exc), position=ak9_position, segment_id="AK9") from None
    return Acknowledgment999(
        transaction.control_number, _el(ak1, 1), _el(ak1, 2), _el(ak1, 3), tuple(done),
        _el(ak9, 1), counts[0], counts[1], counts[2], tuple(c for c in ak9[5:10] if c),
        tuple(problems))
