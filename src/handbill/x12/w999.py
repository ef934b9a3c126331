"""999 implementation acknowledgment, 005010X231A1: writing one from typed values.

A 999 answers one interchange: per functional group (AK1 … AK9) and per transaction set
(AK2 … IK5) it says accepted (A), accepted with errors (E) or rejected (R), and points at the
segments (IK3) and elements (IK4) in error (reference §7.1). It says nothing about payment.
Handbill writes 999s only in its payer sandbox; the group status (AK901) and its counts are
computed here from the transaction sets, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handbill.core.outbound import OutboundError
from handbill.x12.writer import Composite, GroupHeader, InterchangeHeader, X12Writer

X231A1 = "005010X231A1"

# The acknowledgement codes the 999 guide lists (IK5 and AK9 share A, E, R).
_IK5_CODES = frozenset({"A", "E", "M", "R", "W", "X"})
# IK502-IK506: transaction set syntax error codes (X12 element 718).
TRANSACTION_ERROR_CODES = frozenset({
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "15", "16", "17",
    "18", "19", "23", "24", "25", "26", "27", "I5", "I6",
})
# AK905-AK909: functional group syntax error codes (X12 element 716).
GROUP_ERROR_CODES = frozenset({
    "1", "2", "3", "4", "5", "6", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
    "23", "24", "25", "26",
})
# IK304: segment syntax error codes (X12 element 620).
SEGMENT_ERROR_CODES = frozenset({
    "1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9",
})
# IK403: element syntax error codes (X12 element 621).
ELEMENT_ERROR_CODES = frozenset({
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "I10", "I11", "I12",
    "I13", "I6", "I9",
})


class AckCode(StrEnum):
    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    PARTIALLY_ACCEPTED = "P"  # AK9 only: some sets accepted, some rejected
    REJECTED = "R"


@dataclass(frozen=True, slots=True)
class ElementNote:
    """IK4: one element in error."""

    position: int  # IK401-1: element position in the segment (1 = first element)
    code: str  # IK403, e.g. 7 invalid code value, 8 invalid date
    component: int | None = None  # IK401-2
    reference_number: str = ""  # IK402: the data element dictionary number
    bad_value: str = ""  # IK404: a copy of the bad data (shortened)


@dataclass(frozen=True, slots=True)
class SegmentNote:
    """IK3: one segment in error, with its element notes."""

    segment_id: str  # IK301
    position: int  # IK302: position in the transaction set, ST = 1
    code: str  # IK304, e.g. 8 segment has data element errors
    loop_id: str = ""  # IK303
    elements: tuple[ElementNote, ...] = ()


@dataclass(frozen=True, slots=True)
class TransactionAck:
    """AK2 … IK5: the verdict on one transaction set."""

    set_id: str  # AK201, e.g. 837
    control_number: str  # AK202: the ST02 acknowledged
    status: AckCode  # IK501: A, E or R
    convention: str = ""  # AK203: ST03 of the acknowledged set
    segment_notes: tuple[SegmentNote, ...] = ()
    errors: tuple[str, ...] = ()  # IK502-IK506

    @property
    def accepted(self) -> bool:
        return self.status in (AckCode.ACCEPTED, AckCode.ACCEPTED_WITH_ERRORS)


@dataclass(frozen=True, slots=True)
class GroupAck:
    """AK1 … AK9: the verdict on one functional group."""

    functional_id: str  # AK101: GS01 of the acknowledged group, e.g. HC
    control_number: str  # AK102: its GS06
    version: str  # AK103: its GS08
    transactions: tuple[TransactionAck, ...]
    errors: tuple[str, ...] = ()  # AK905-AK909: the group itself is in error
    included: int | None = None  # AK902: what GE01 said; the count received when None

    @property
    def status(self) -> AckCode:
        accepted = sum(1 for t in self.transactions if t.accepted)
        if self.errors or accepted == 0:
            return AckCode.REJECTED
        if accepted < len(self.transactions):
            return AckCode.PARTIALLY_ACCEPTED
        if any(t.status is AckCode.ACCEPTED_WITH_ERRORS for t in self.transactions):
            return AckCode.ACCEPTED_WITH_ERRORS
        return AckCode.ACCEPTED

    @property
    def accepted_count(self) -> int:
        if self.errors:
            return 0
        return sum(1 for t in self.transactions if t.accepted)


@dataclass(frozen=True, slots=True)
class AckBatch:
    """One 999 interchange: one transaction set per acknowledged functional group."""

    interchange: InterchangeHeader  # ISA06 = who acknowledges, ISA08 = who sent the file
    group_control_number: int
    groups: tuple[GroupAck, ...]
    first_transaction: int = 1


def ack_problems(batch: AckBatch) -> list[str]:
    problems: list[str] = []
    if not batch.groups:
        problems.append("a 999 acknowledges at least one functional group")
    for group in batch.groups:
        where = f"group {group.control_number}"
        if not group.control_number.isdigit():
            problems.append(f"{where}: AK102 must be the group control number (digits)")
        if len(group.errors) > 5:
            problems.append(f"{where}: AK9 holds at most 5 error codes")
        for code in group.errors:
            if code not in GROUP_ERROR_CODES:
                problems.append(f"{where}: {code!r} is not a functional group error code")
        for t in group.transactions:
            here = f"{where}, set {t.control_number}"
            if t.status.value not in _IK5_CODES:
                problems.append(f"{here}: IK501 must be A, E or R, not {t.status.value}")
            if t.status is AckCode.ACCEPTED and (t.errors or t.segment_notes):
                problems.append(f"{here}: an accepted set carries no errors; use E")
            if t.status is not AckCode.ACCEPTED and not (t.errors or t.segment_notes):
                problems.append(f"{here}: say what is wrong (IK3 or IK502) for status "
                                f"{t.status.value}")
            if len(t.errors) > 5:
                problems.append(f"{here}: IK5 holds at most 5 error codes")
            for code in t.errors:
                if code not in TRANSACTION_ERROR_CODES:
                    problems.append(f"{here}: {code!r} is not a transaction set error code")
            for note in t.segment_notes:
                if note.code not in SEGMENT_ERROR_CODES:
                    problems.append(f"{here}: IK304 {note.code!r} is not a segment error code")
                if note.position < 1:
                    problems.append(f"{here}: IK302 must count from ST = 1")
                for element in note.elements:
                    if element.code not in ELEMENT_ERROR_CODES:
                        problems.append(f"{here}: IK403 {element.code!r} is not an element "
                                        "error code")
    return problems


def write_999(batch: AckBatch) -> str:
    """The acknowledgement as one 999 interchange, or OutboundError naming the problems."""
    problems = ack_problems(batch)
    if problems:
        raise OutboundError("the 999 was not written:\n" + "\n".join(problems))
    header = batch.interchange
    writer = X12Writer()
    writer.begin_interchange(header)
    writer.begin_group(GroupHeader(
        functional_id="FA", sender_code=header.sender_id.strip(),
        receiver_code=header.receiver_id.strip(), control_number=batch.group_control_number,
        created_at=header.created_at, version=X231A1,
    ))
    for offset, group in enumerate(batch.groups):
        writer.begin_transaction("999", batch.first_transaction + offset, X231A1)
        _write_group(writer, group)
        writer.end_transaction()
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


def _write_group(w: X12Writer, group: GroupAck) -> None:
    w.segment("AK1", group.functional_id, group.control_number, group.version)
    for t in group.transactions:
        w.segment("AK2", t.set_id, t.control_number, t.convention)
        for note in t.segment_notes:
            w.segment("IK3", note.segment_id, str(note.position), note.loop_id, note.code)
            for element in note.elements:
                where: Composite = (str(element.position),
                                    "" if element.component is None else str(element.component))
                # IK404 is a copy of the bad data; it may not carry our separators.
                bad = "".join(c for c in element.bad_value if c.isalnum() or c in " .-/")[:99]
                w.segment("IK4", where, element.reference_number, element.code, bad)
        w.segment("IK5", t.status.value, *t.errors)
    received = len(group.transactions)
    included = received if group.included is None else group.included
    w.segment("AK9", group.status.value, str(included), str(received),
              str(group.accepted_count), *group.errors)
