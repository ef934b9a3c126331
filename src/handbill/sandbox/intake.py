"""The sandbox's front door: read an 837P interchange and judge its syntax (the 999).

A file that is not an 837P interchange at all (no ISA, a broken interchange envelope, another
transaction set) raises :class:`SandboxInputError`: a clearinghouse would answer that with a
TA1 or not at all, and the sandbox writes neither. Everything inside a readable interchange
gets a verdict instead:

- a functional group whose trailer is missing or does not match (GE01 count, GE02 control
  number) is rejected as a whole (AK9 R with the group error code);
- a transaction set with a broken trailer (SE01 count, SE02 control number, no SE) or one the
  837P reader cannot read is rejected (IK5 R, with IK3 pointing at the segment);
- a readable set with implementation-guide problems (``check_837``: CLM02 ≠ Σ SV102, pointer
  or frequency problems …) is accepted with errors (IK5 E, IK3 per problem), so its claims
  still reach the claim-level edits of the 277CA.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from handbill.x12.p837 import Transaction837, X12ReadError, check_837, read_837
from handbill.x12.p837_rules import X222A1
from handbill.x12.tokens import (
    EnvelopeError,
    FunctionalGroup,
    Interchange,
    Transaction,
    X12Error,
    X12Reader,
)
from handbill.x12.w999 import AckCode, GroupAck, SegmentNote, TransactionAck


class SandboxInputError(ValueError):
    """Input the sandbox cannot answer at all: says what is wrong and how to fix it."""


@dataclass(frozen=True, slots=True)
class ReceivedTransaction:
    """One 837 transaction set and the 999's verdict on it."""

    ack: TransactionAck
    claims: Transaction837 | None  # None when the set was rejected
    problems: tuple[str, ...]  # in our words, for the summary


@dataclass(frozen=True, slots=True)
class ReceivedGroup:
    header: FunctionalGroup
    ack: GroupAck
    transactions: tuple[ReceivedTransaction, ...]

    @property
    def accepted(self) -> tuple[Transaction837, ...]:
        """The claim sets that go on to the 277CA edits."""
        if self.ack.errors:
            return ()
        return tuple(t.claims for t in self.transactions
                     if t.claims is not None and t.ack.accepted)


@dataclass(frozen=True, slots=True)
class Intake:
    interchange: Interchange
    groups: tuple[ReceivedGroup, ...]
    group_problems: tuple[str, ...]

    @property
    def accepted(self) -> tuple[Transaction837, ...]:
        return tuple(t for g in self.groups for t in g.accepted)

    @property
    def sent_on(self) -> date | None:
        """The day the submitter created the file (GS04), the sandbox's default receipt date."""
        for group in self.groups:
            text = group.header.date
            if len(text) == 8 and text.isdigit():
                try:
                    return date(int(text[:4]), int(text[4:6]), int(text[6:]))
                except ValueError:
                    continue
        return None


# Problems name their place as "segment 22 (CLM): …" or "claim C1 (segment 22): …".
_LOCATED = re.compile(r"\bsegment (\d+)(?: \(([A-Z0-9]{2,3})\))?")


def _location(text: str) -> tuple[int | None, str]:
    match = _LOCATED.search(text)
    if match is None:
        return None, ""
    return int(match.group(1)), match.group(2) or ""


def _not_837p(why: str) -> SandboxInputError:
    return SandboxInputError(
        f"{why}; the payer sandbox answers 837P professional claims "
        f"(GS01 HC, ST01 837, version {X222A1}): send it the file Handbill wrote"
    )


def receive(text: str) -> Intake:
    """Read the 837P interchange ``text`` and give each group and transaction set a verdict."""
    if not text.strip():
        raise SandboxInputError("the 837 file is empty: an X12 interchange starts with 'ISA'")
    reader = X12Reader(text, strict=False)
    try:
        transactions = list(reader)
    except X12Error as exc:
        raise SandboxInputError(f"not a readable X12 interchange: {exc}") from None
    if len(reader.interchanges) != 1:
        raise SandboxInputError(
            f"the file holds {len(reader.interchanges)} interchanges (ISA … IEA); the "
            "sandbox answers one interchange per file: split the file")
    interchange = reader.interchanges[0]
    envelope = [e for e in reader.errors if e.severity == "error"
                and e.segment_id in ("ISA", "IEA")]
    if envelope:
        listing = "; ".join(str(e) for e in envelope)
        raise SandboxInputError(
            f"the interchange envelope is broken ({listing}); a clearinghouse answers that with "
            "a TA1, which the sandbox does not write: fix the ISA/IEA and send the file again")
    if not reader.groups:
        raise _not_837p("the interchange holds no functional group (GS)")
    for group in reader.groups:
        if group.functional_id != "HC" or group.version != X222A1:
            raise _not_837p(f"functional group {group.control_number} is GS01 "
                            f"{group.functional_id!r}, version {group.version!r}")
    for transaction in transactions:
        if transaction.set_id != "837":
            raise _not_837p(f"transaction set {transaction.control_number} is a "
                            f"{transaction.set_id!r}")

    by_group: dict[int, list[Transaction]] = {g.position: [] for g in reader.groups}
    for transaction in transactions:
        by_group.setdefault(transaction.group.position, []).append(transaction)
    group_errors = _group_errors(reader.groups, reader.errors)
    loose = _segment_errors(reader.errors)
    received = []
    problems: list[str] = []
    for group in reader.groups:
        codes, messages = group_errors.get(group.position, ((), ()))
        problems.extend(messages)
        sets = tuple(_judge(t, loose) for t in by_group.get(group.position, []))
        ack = GroupAck(functional_id=group.functional_id, control_number=group.control_number,
                       version=group.version, transactions=tuple(s.ack for s in sets),
                       errors=codes)
        received.append(ReceivedGroup(group, ack, sets))
    leftovers = [e for e in reader.errors if e.severity == "error"
                 and e.segment_id not in ("ISA", "IEA", "GS", "GE", "SE", "ST")
                 and not any(_inside(e, t, loose) for t in transactions)]
    if leftovers:
        listing = "; ".join(str(e) for e in leftovers)
        raise SandboxInputError(f"the 837 has segments outside its transaction sets "
                                f"({listing}): fix the file and send it again")
    return Intake(interchange, tuple(received), tuple(problems))


def _group_errors(groups: Sequence[FunctionalGroup], errors: Sequence[EnvelopeError],
                  ) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """AK905 codes per group (keyed by the GS position), from the reader's envelope errors."""
    found: dict[int, tuple[list[str], list[str]]] = {}
    starts = sorted(g.position for g in groups)
    for error in errors:
        if error.severity != "error" or error.segment_id not in ("GS", "GE"):
            continue
        owner = max((p for p in starts if p <= error.position), default=None)
        if owner is None:
            raise SandboxInputError(f"{error}: fix the functional group envelope")
        message = error.message
        if "GE01" in message:
            code = "5"  # number of included transaction sets does not match
        elif "GE02" in message:
            code = "4"  # group control numbers in header and trailer do not agree
        elif "no GE" in message:
            code = "3"  # functional group trailer missing
        elif "GS06" in message:
            code = "6"  # group control number violates syntax
        else:
            raise SandboxInputError(f"{error}: fix the functional group envelope")
        codes, messages = found.setdefault(owner, ([], []))
        if code not in codes:
            codes.append(code)
        messages.append(str(error))
    return {k: (tuple(c), tuple(m)) for k, (c, m) in found.items()}


def _segment_errors(errors: Sequence[EnvelopeError]) -> list[EnvelopeError]:
    """Segments the tokenizer dropped inside a transaction set (not a segment id)."""
    return [e for e in errors if e.severity == "error"
            and e.segment_id not in ("ISA", "IEA", "GS", "GE", "SE", "ST")]


def _inside(error: EnvelopeError, transaction: Transaction,
            loose: Sequence[EnvelopeError]) -> bool:
    first, last = _span(transaction, loose)
    return first < error.position <= last


def _span(transaction: Transaction, loose: Sequence[EnvelopeError]) -> tuple[int, int]:
    """File positions of the set's ST and SE. The reader drops a segment that is not a segment
    id but still counts its position, so each one dropped inside the set moves the SE on."""
    last = transaction.start + len(transaction.segments) - 1
    for error in sorted(loose, key=lambda e: e.position):
        if transaction.start < error.position <= last:
            last += 1
    return transaction.start, last


def _judge(transaction: Transaction, loose: Sequence[EnvelopeError]) -> ReceivedTransaction:
    control = transaction.control_number
    convention = transaction.convention
    errors: list[str] = []
    problems: list[str] = []
    notes: list[SegmentNote] = []
    if not transaction.complete:
        errors.append("2")  # transaction set trailer missing
    for error in transaction.errors:
        problems.append(str(error))
        if "SE01" in error.message:
            errors.append("4")  # number of included segments does not match actual count
        elif "SE02" in error.message:
            errors.append("3")  # control numbers in header and trailer do not match
        elif error.segment_id == "ST":
            errors.append("7")  # missing or invalid transaction set control number
    for error in loose:
        if _inside(error, transaction, loose):
            problems.append(str(error))
            in_set = error.position - transaction.start + 1
            notes.append(SegmentNote(error.segment_id[:3] or "ZZ", in_set, "1"))
            if "5" not in errors:
                errors.append("5")  # one or more segments in error
    if errors or notes:
        ack = TransactionAck("837", control, AckCode.REJECTED, convention, tuple(notes),
                             tuple(dict.fromkeys(errors))[:5])
        return ReceivedTransaction(ack, None, tuple(problems))
    try:
        claims = read_837(transaction)
    except (X12Error, X12ReadError) as exc:
        position, segment_id = _failed_at(exc)
        note_position = (position - transaction.start + 1) if position is not None else 1
        note = SegmentNote(segment_id or "ST", max(note_position, 1), "8")
        ack = TransactionAck("837", control, AckCode.REJECTED, convention, (note,), ("5",))
        return ReceivedTransaction(ack, None, (str(exc),))
    found = check_837(transaction)
    if not found:
        return ReceivedTransaction(TransactionAck("837", control, AckCode.ACCEPTED, convention),
                                   claims, ())
    check_notes: list[SegmentNote] = []
    for problem in found:
        position, _segment_id = _location(problem)
        index = -1 if position is None else position - transaction.start
        if 0 <= index < len(transaction.segments):
            note = SegmentNote(transaction.segments[index][0], index + 1, "8")
            if note not in check_notes:
                check_notes.append(note)
    # IK5 E: implementation-guide problems that do not stop the claims from being read.
    ack = TransactionAck("837", control, AckCode.ACCEPTED_WITH_ERRORS, convention,
                         tuple(check_notes), () if check_notes else ("I5",))
    return ReceivedTransaction(ack, claims, tuple(found))


def _failed_at(exc: ValueError) -> tuple[int | None, str]:
    position = getattr(exc, "position", None)
    segment_id = getattr(exc, "segment_id", "")
    if isinstance(position, int) and isinstance(segment_id, str):
        return position, segment_id
    return _location(str(exc))
