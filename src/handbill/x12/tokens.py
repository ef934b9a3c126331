"""Reading X12: separators from the ISA, segments, and one transaction set (ST … SE) at a time.

The reader takes its four separators from the fixed-width ISA, tolerates a line break after
each terminator (``~\\n``, ``~\\r\\n``) and a UTF-8 byte-order mark, and reads its input in
chunks, so memory is bounded by the largest transaction set rather than by the file. It also
checks the envelope as it goes: SE01 counts, the control-number pairs ST02/SE02, GS06/GE02 and
ISA13/IEA02, GE01 and IEA01, and trailers that never came.

Segments inside a :class:`Transaction` are plain lists of strings, the segment id first, so
``segment[1]`` is the first element exactly as the implementation guides number it (CLP01).
The typed readers (``r835``, ``r999``, ``r277ca``, ``p837``) walk those lists; the
:class:`Segment` view with its position is there for error messages and casual use.

Two modes: ``strict=True`` raises :class:`X12Error` at the first envelope problem;
``strict=False`` collects :class:`EnvelopeError` values in :attr:`X12Reader.errors` and keeps
reading, which is what ``handbill x12 check`` reports.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ISA_LENGTH = 106  # the ISA including its terminator (reference §5.1)
CHUNK_SIZE = 1 << 20
MAX_SEGMENT = 1 << 20  # far beyond any real segment; longer means a wrong terminator
_ENVELOPE_IDS = frozenset(("ISA", "IEA", "GS", "GE", "ST", "SE"))

# A raw segment: the segment id, then its elements as text (composites still joined). A tuple,
# not a list: the garbage collector stops tracking tuples of strings, which halves the time
# to read a large file (a 10,000-claim 835 is 240,000 segments kept until its set ends).
RawSegment = tuple[str, ...]
# What the reader accepts: X12 text itself (str), bytes, a path, or an open file.
Source = str | bytes | os.PathLike[str] | IO[str] | IO[bytes]


class X12Error(ValueError):
    """X12 that cannot be read; names the segment (position in the file and id) and why."""

    def __init__(self, message: str, *, position: int | None = None, segment_id: str = "") -> None:
        self.reason = message
        self.position = position
        self.segment_id = segment_id
        super().__init__(_located(position, segment_id, message))


def _located(position: int | None, segment_id: str, message: str) -> str:
    if position is None:
        return message
    label = f" ({segment_id})" if segment_id else ""
    return f"segment {position}{label}: {message}"


@dataclass(frozen=True, slots=True)
class EnvelopeError:
    """One problem found while reading: where it is and what is wrong."""

    position: int  # 1-based segment number in the file; 0 when it is about the file as a whole
    segment_id: str
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        return _located(self.position or None, self.segment_id, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "segment": self.segment_id,
                "severity": self.severity, "message": self.message}


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators an interchange declares in its ISA."""

    element: str = "*"
    repetition: str = "^"  # "" when ISA11 is not a separator (a 4010-style "U")
    component: str = ":"
    segment: str = "~"
    line_break: str = ""  # what followed the ISA's terminator: "", "\n" or "\r\n"


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment with its place in the file, for messages and readable code."""

    id: str
    elements: tuple[str, ...]  # elements[0] is element 01
    position: int
    component_separator: str = ":"
    repetition_separator: str = "^"

    @classmethod
    def of(cls, raw: RawSegment, position: int, delimiters: Delimiters) -> Segment:
        return cls(raw[0], tuple(raw[1:]), position, delimiters.component,
                   delimiters.repetition)

    def el(self, n: int) -> str:
        """Element ``n`` (1-based, as in CLP01), or "" when the segment is shorter."""
        return self.elements[n - 1] if 0 < n <= len(self.elements) else ""

    def components(self, n: int) -> list[str]:
        """The components of composite element ``n`` (``HC:97124:GP`` → three)."""
        value = self.el(n)
        return value.split(self.component_separator) if value else []

    def repeats(self, n: int) -> list[str]:
        """The repeats of element ``n`` when it uses the repetition separator."""
        value = self.el(n)
        if not value:
            return []
        return value.split(self.repetition_separator) if self.repetition_separator else [value]

    def __str__(self) -> str:
        return _located(self.position, self.id, "*".join((self.id, *self.elements)))


def element(raw: RawSegment, n: int) -> str:
    """Element ``n`` of a raw segment (1-based), or "" when the segment is shorter."""
    return raw[n] if n < len(raw) else ""


@dataclass(frozen=True, slots=True)
class Interchange:
    """The ISA header of an interchange (IDs with their padding removed)."""

    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    date: str  # ISA09, YYMMDD as sent
    time: str  # ISA10, HHMM
    version: str  # ISA12, 00501
    control_number: str  # ISA13
    acknowledgment_requested: str  # ISA14, 0 or 1
    usage: str  # ISA15, P production or T test
    position: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "sender": {"qualifier": self.sender_qualifier, "id": self.sender_id},
            "receiver": {"qualifier": self.receiver_qualifier, "id": self.receiver_id},
            "date": self.date, "time": self.time, "version": self.version,
            "control_number": self.control_number,
            "acknowledgment_requested": self.acknowledgment_requested, "usage": self.usage,
        }


@dataclass(frozen=True, slots=True)
class FunctionalGroup:
    """The GS header of a functional group."""

    functional_id: str  # GS01: HP 835, HC 837, FA 999, HN 277
    sender: str  # GS02
    receiver: str  # GS03
    date: str  # GS04, CCYYMMDD
    time: str  # GS05
    control_number: str  # GS06
    agency: str  # GS07, X
    version: str  # GS08, e.g. 005010X221A1
    position: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "functional_id": self.functional_id, "sender": self.sender,
            "receiver": self.receiver, "date": self.date, "time": self.time,
            "control_number": self.control_number, "version": self.version,
        }


_NO_INTERCHANGE = Interchange("", "", "", "", "", "", "", "", "", "", 0)
_NO_GROUP = FunctionalGroup("", "", "", "", "", "", "", "", 0)


@dataclass(slots=True, eq=False)
class Transaction:
    """One transaction set, ST through SE, with the envelope it came in."""

    interchange: Interchange
    group: FunctionalGroup
    segments: list[RawSegment]  # ST … SE inclusive, raw
    start: int  # file position of the ST segment
    delimiters: Delimiters
    complete: bool = True  # False when the SE never came (lenient reading only)
    errors: list[EnvelopeError] = field(default_factory=list)  # this set's own SE problems

    @property
    def set_id(self) -> str:
        return element(self.segments[0], 1)  # ST01: 835, 837, 999, 277

    @property
    def control_number(self) -> str:
        return element(self.segments[0], 2)  # ST02

    @property
    def convention(self) -> str:
        """ST03 when present, else GS08: the implementation guide, e.g. 005010X221A1."""
        return element(self.segments[0], 3) or self.group.version

    @property
    def component_separator(self) -> str:
        return self.delimiters.component

    @property
    def repetition_separator(self) -> str:
        return self.delimiters.repetition

    def position_of(self, index: int) -> int:
        """File position of ``segments[index]``."""
        return self.start + index

    def segment(self, index: int) -> Segment:
        return Segment.of(self.segments[index], self.start + index, self.delimiters)

    def iter_segments(self) -> Iterator[Segment]:
        for index, raw in enumerate(self.segments):
            yield Segment.of(raw, self.start + index, self.delimiters)

    def envelope_dict(self) -> dict[str, Any]:
        return {
            "interchange": self.interchange.as_dict(),
            "group": self.group.as_dict(),
            "set_id": self.set_id,
            "control_number": self.control_number,
            "convention": self.convention,
            "segments": len(self.segments),
        }


# --------------------------------------------------------------------------------------------
# Input: every source becomes an iterator of text chunks.
# --------------------------------------------------------------------------------------------


def _chunks(source: Source, size: int) -> Iterator[str]:
    if isinstance(source, str):
        for start in range(0, len(source), size):
            yield source[start:start + size]
    elif isinstance(source, bytes | bytearray | memoryview):
        yield from _decode(bytes(source[i:i + size]) for i in range(0, len(source), size))
    elif isinstance(source, os.PathLike):
        try:
            handle = open(source, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115
        except OSError as exc:
            raise X12Error(f"cannot open {os.fspath(source)!r}: {exc.strerror or exc}") from None
        with handle:
            yield from _read_text(handle, size)
    elif hasattr(source, "read"):
        stream: IO[Any] = source
        if isinstance(stream.read(0), bytes):
            yield from _decode(_read_bytes(stream, size))
        else:
            yield from _read_text(stream, size)
    else:
        raise TypeError(f"cannot read X12 from a {type(source).__name__}")


def _read_text(handle: IO[str], size: int) -> Iterator[str]:
    while chunk := handle.read(size):
        yield chunk


def _read_bytes(handle: IO[bytes], size: int) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk


def _decode(parts: Iterable[bytes]) -> Iterator[str]:
    # X12 is ASCII; a stray non-UTF-8 byte in a name should not stop the whole file.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for part in parts:
        text = decoder.decode(part)
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _is_separator(char: str) -> bool:
    return len(char) == 1 and not char.isalnum() and char != " "


def delimiters_from_isa(text: str) -> tuple[Delimiters, int]:
    """The separators declared by the ISA at the start of ``text`` and the ISA's length.

    The ISA is fixed-width, so the separators sit at fixed places (reference §5.1). An ISA with
    wrong padding still declares them: the reader then finds ISA16 by counting element
    separators, and reports the length separately.
    """
    if not text.startswith("ISA"):
        shown = text[:20].replace("\n", "\\n").replace("\r", "\\r")
        raise X12Error(
            f"this is not an X12 interchange: it must start with 'ISA', not {shown!r}",
            position=1,
        )
    element_sep = text[3:4]
    if not _is_separator(element_sep):
        raise X12Error(f"the ISA declares {element_sep!r} as element separator; it must be a "
                       "punctuation character such as '*'", position=1, segment_id="ISA")
    fixed = len(text) >= ISA_LENGTH and text[103] == element_sep
    if fixed and text.count(element_sep, 0, 104) == 16:
        repetition, component, terminator, length = text[82], text[104], text[105], ISA_LENGTH
    else:
        # Count sixteen element separators; ISA16 is the one character after the last.
        index = 3
        for _ in range(15):
            index = text.find(element_sep, index + 1)
            if index < 0:
                raise X12Error("the ISA is cut short: it must have 16 elements and be "
                               f"{ISA_LENGTH} characters long", position=1, segment_id="ISA")
        isa11_start = _nth(text, element_sep, 11) + 1
        repetition = text[isa11_start:isa11_start + 1]
        if len(text) < index + 3:
            raise X12Error("the ISA is cut short before its component separator and "
                           "terminator", position=1, segment_id="ISA")
        component, terminator, length = text[index + 1], text[index + 2], index + 3
    for name, char in (("component", component), ("segment terminator", terminator)):
        if not _is_separator(char) and not (name == "segment terminator" and char in "\r\n"):
            raise X12Error(f"the ISA declares {char!r} as {name}; it must be a punctuation "
                           "character", position=1, segment_id="ISA")
    if not _is_separator(repetition) or repetition in (element_sep, component, terminator):
        repetition = ""  # 4010 put a standards id ("U") here; 5010 a separator
    if len({element_sep, component, terminator}) != 3:
        raise X12Error(
            f"the ISA declares the same character twice among element {element_sep!r}, "
            f"component {component!r} and terminator {terminator!r}",
            position=1, segment_id="ISA",
        )
    after = text[length:length + 2]
    line_break = "\r\n" if after == "\r\n" else after[:1] if after[:1] in ("\n", "\r") else ""
    if terminator in "\r\n":
        line_break = ""
    return Delimiters(element_sep, repetition, component, terminator, line_break), length


def _nth(text: str, char: str, n: int) -> int:
    index = -1
    for _ in range(n):
        index = text.find(char, index + 1)
    return index


# --------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------


class X12Reader:
    """Reads an interchange file transaction set by transaction set, checking the envelope.

    Iterate over it for :class:`Transaction` values. After the iteration, :attr:`errors`
    holds every envelope problem (lenient mode) and :attr:`interchanges` and :attr:`groups`
    the headers seen.
    """

    def __init__(self, source: Source, *, strict: bool = True,
                 chunk_size: int = CHUNK_SIZE) -> None:
        self.source = source
        self.strict = strict
        self.chunk_size = chunk_size
        self.errors: list[EnvelopeError] = []
        self.interchanges: list[Interchange] = []
        self.groups: list[FunctionalGroup] = []
        self.delimiters: Delimiters | None = None
        self.segment_count = 0
        # Envelope state while reading.
        self._isa: Interchange | None = None
        self._group: FunctionalGroup | None = None
        self._group_count = 0  # GS in the open interchange
        self._set_count = 0  # ST in the open group
        self._open: list[RawSegment] | None = None
        self._open_start = 0

    def __iter__(self) -> Iterator[Transaction]:
        return self.transactions()

    # -- problems --------------------------------------------------------------------------

    def _problem(self, position: int, segment_id: str, message: str,
                 severity: str = "error") -> EnvelopeError:
        problem = EnvelopeError(position, segment_id, message, severity)
        if self.strict and severity == "error":
            raise X12Error(message, position=position or None, segment_id=segment_id)
        self.errors.append(problem)
        return problem

    # -- the loop ----------------------------------------------------------------------------

    def _start(self, chunks: Iterator[str]) -> tuple[str, Delimiters]:
        """Read enough to see the whole ISA; strip a BOM and leading blanks."""
        head = ""
        for chunk in chunks:
            head += chunk
            if len(head.lstrip("\ufeff \t\r\n")) >= ISA_LENGTH + 2:
                break
        head = head.lstrip("\ufeff \t\r\n")
        if not head:
            raise X12Error("the file is empty: an X12 interchange starts with 'ISA'")
        delimiters, _length = delimiters_from_isa(head)
        return head, delimiters

    def transactions(self) -> Iterator[Transaction]:
        chunks = _chunks(self.source, self.chunk_size)
        head, delimiters = self._start(chunks)
        self.delimiters = delimiters
        element_sep, terminator = delimiters.element, delimiters.segment
        envelope_ids = _ENVELOPE_IDS
        position = 0
        buffer = head
        pending: Iterator[str] = chunks
        finished = False
        while not finished:
            chunk = next(pending, None)
            if chunk is None:
                finished = True
                pieces = buffer.split(terminator)
                buffer = pieces.pop()
            else:
                buffer += chunk
                pieces = buffer.split(terminator)
                buffer = pieces.pop()
                if len(buffer) > MAX_SEGMENT:
                    # Without this, a file whose terminator is not the declared one would be
                    # re-split on every chunk: quadratic time on a large file.
                    raise X12Error(
                        f"no segment terminator {terminator!r} in {len(buffer):,} characters "
                        f"after segment {position + len(pieces)}: the ISA declares "
                        f"{terminator!r} (its 106th character) but the file does not use it",
                        position=position + len(pieces) + 1)
                if not pieces:
                    continue
            for piece in pieces:
                if not piece or piece[0] <= " ":
                    piece = piece.lstrip()
                    if not piece:
                        position += 1
                        self._problem(position, "", "empty segment: two terminators "
                                      f"{terminator!r} with nothing between them", "warning")
                        continue
                position += 1
                parts = tuple(piece.split(element_sep))
                tag = parts[0]
                if tag in envelope_ids:
                    done = self._envelope(tag, parts, piece, position, delimiters)
                    if done is not None:
                        yield done
                elif self._open is not None:
                    if not 1 < len(tag) < 4 or not tag.isalnum():
                        self._problem(position, tag[:10], f"{tag[:20]!r} is not a segment id")
                        continue
                    self._open.append(parts)
                else:
                    self._problem(position, tag[:10], "segment outside a transaction set "
                                  "(between SE and the next ST)")
        leftover = buffer.strip()
        if leftover:
            position += 1
            parts = tuple(leftover.split(element_sep))
            self._problem(position, parts[0][:10], f"the file ends without a terminator "
                          f"{terminator!r} after {leftover[:40]!r} (truncated?)")
            if parts[0] in envelope_ids:
                done = self._envelope(parts[0], parts, leftover, position, delimiters)
                if done is not None:
                    yield done
            elif self._open is not None:
                self._open.append(parts)
        self.segment_count = position
        end = position + 1
        if self._open is not None:
            yield self._close_unfinished(end, "end of file", delimiters)
        if self._group is not None:
            self._problem(end, "GE", f"functional group {self._group.control_number} "
                          "has no GE trailer before the end of the file")
        if self._isa is not None:
            self._problem(end, "IEA", f"interchange {self._isa.control_number} has no IEA "
                          "trailer before the end of the file")
        if position == 0:
            self._problem(0, "", "no segments found")

    # -- envelope segments -----------------------------------------------------------------

    def _close_unfinished(self, position: int, before: str,
                          delimiters: Delimiters) -> Transaction:
        segments = self._open or []
        st = segments[0] if segments else ("ST",)
        problem = self._problem(position, "SE", f"transaction set {element(st, 1)} "
                                f"{element(st, 2)} has no SE trailer before {before}")
        self._open = None
        return Transaction(self._isa or _NO_INTERCHANGE, self._group or _NO_GROUP, segments,
                           self._open_start, delimiters, complete=False, errors=[problem])

    def _envelope(self, tag: str, parts: RawSegment, raw: str, position: int,
                  delimiters: Delimiters) -> Transaction | None:
        if tag == "ST":
            closed = None
            if self._open is not None:
                closed = self._close_unfinished(position, "the next ST", delimiters)
            if self._group is None:
                self._problem(position, "ST", "transaction set outside a functional group "
                              "(no GS before it)")
            self._set_count += 1
            self._open = [parts]
            self._open_start = position
            return closed
        if tag == "SE":
            if self._open is None:
                self._problem(position, "SE", "SE without a matching ST")
                return None
            segments = self._open
            segments.append(parts)
            self._open = None
            transaction = Transaction(self._isa or _NO_INTERCHANGE, self._group or _NO_GROUP,
                                      segments, self._open_start, delimiters)
            self._check_se(transaction, parts, position)
            return transaction
        closed = None
        if self._open is not None:
            closed = self._close_unfinished(position, tag, delimiters)
        if tag == "GS":
            self._open_group(parts, position)
        elif tag == "GE":
            self._close_group(parts, position)
        elif tag == "ISA":
            self._open_interchange(parts, raw, position, delimiters)
        else:
            self._close_interchange(parts, position)
        return closed

    def _check_se(self, transaction: Transaction, se: RawSegment, position: int) -> None:
        count_text, control = element(se, 1), element(se, 2)
        counted = len(transaction.segments)
        found: list[EnvelopeError] = []
        if not count_text.isdigit():
            found.append(self._problem(position, "SE", f"SE01 {count_text!r} is not a segment "
                                       f"count; it should be {counted}"))
        elif int(count_text) != counted:
            found.append(self._problem(
                position, "SE", f"SE01 says {int(count_text)} segments but transaction set "
                f"{transaction.control_number} has {counted} (ST through SE)"))
        if control != transaction.control_number:
            found.append(self._problem(
                position, "SE", f"SE02 {control!r} does not match ST02 "
                f"{transaction.control_number!r}"))
        st = transaction.segments[0]
        if not element(st, 1) or not element(st, 2):
            found.append(self._problem(transaction.start, "ST", "ST must carry the set id "
                                       "(ST01) and a control number (ST02)"))
        transaction.errors.extend(found)

    def _open_group(self, parts: RawSegment, position: int) -> None:
        if self._group is not None:
            self._problem(position, "GS", f"functional group {self._group.control_number} has "
                          "no GE trailer before the next GS")
        if self._isa is None:
            self._problem(position, "GS", "functional group outside an interchange (no ISA "
                          "before it)")
        if len(parts) < 9:
            self._problem(position, "GS", f"GS has {len(parts) - 1} elements; it needs 8 "
                          "(GS01 … GS08)")
        control = element(parts, 6)
        if not control.isdigit():
            self._problem(position, "GS", f"GS06 group control number {control!r} must be "
                          "digits")
        group = FunctionalGroup(element(parts, 1), element(parts, 2), element(parts, 3),
                                element(parts, 4), element(parts, 5), control,
                                element(parts, 7), element(parts, 8), position)
        self._group = group
        self.groups.append(group)
        self._group_count += 1
        self._set_count = 0

    def _close_group(self, parts: RawSegment, position: int) -> None:
        group = self._group
        if group is None:
            self._problem(position, "GE", "GE without a matching GS")
            return
        count, control = element(parts, 1), element(parts, 2)
        if not count.isdigit() or int(count) != self._set_count:
            self._problem(position, "GE", f"GE01 says {count!r} transaction sets but group "
                          f"{group.control_number} has {self._set_count}")
        if control != group.control_number:
            self._problem(position, "GE", f"GE02 {control!r} does not match GS06 "
                          f"{group.control_number!r}")
        self._group = None

    def _open_interchange(self, parts: RawSegment, raw: str, position: int,
                          delimiters: Delimiters) -> None:
        if self._group is not None:
            self._problem(position, "GE", f"functional group {self._group.control_number} has "
                          "no GE trailer before the next ISA")
            self._group = None
        if self._isa is not None:
            self._problem(position, "IEA", f"interchange {self._isa.control_number} has no IEA "
                          "trailer before the next ISA")
        if len(raw) + 1 != ISA_LENGTH:
            self._problem(position, "ISA", f"the ISA is {len(raw) + 1} characters long "
                          f"(with its terminator); it must be exactly {ISA_LENGTH}, with ISA06 "
                          "and ISA08 padded to 15 and ISA02/ISA04 to 10")
        if len(parts) != 17:
            self._problem(position, "ISA", f"the ISA has {len(parts) - 1} elements; it must "
                          "have 16")
        elif parts[16] != delimiters.component or (
                delimiters.repetition and parts[11] != delimiters.repetition):
            self._problem(position, "ISA", "this ISA declares different separators from the "
                          "first one in the file; split the file per interchange")
        control = element(parts, 13)
        if len(control) != 9 or not control.isdigit():
            self._problem(position, "ISA", f"ISA13 interchange control number {control!r} "
                          "must be 9 digits")
        usage = element(parts, 15)
        if usage not in ("P", "T"):
            self._problem(position, "ISA", f"ISA15 usage indicator {usage!r} must be P "
                          "(production) or T (test)")
        isa = Interchange(element(parts, 5), element(parts, 6).strip(), element(parts, 7),
                          element(parts, 8).strip(), element(parts, 9), element(parts, 10),
                          element(parts, 12), control, element(parts, 14), usage, position)
        self._isa = isa
        self.interchanges.append(isa)
        self._group_count = 0

    def _close_interchange(self, parts: RawSegment, position: int) -> None:
        if self._group is not None:
            self._problem(position, "GE", f"functional group {self._group.control_number} has "
                          "no GE trailer before the IEA")
            self._group = None
        isa = self._isa
        if isa is None:
            self._problem(position, "IEA", "IEA without a matching ISA")
            return
        count, control = element(parts, 1), element(parts, 2)
        if not count.isdigit() or int(count) != self._group_count:
            self._problem(position, "IEA", f"IEA01 says {count!r} functional groups but "
                          f"interchange {isa.control_number} has {self._group_count}")
        if control != isa.control_number:
            self._problem(position, "IEA", f"IEA02 {control!r} does not match ISA13 "
                          f"{isa.control_number!r}")
        self._isa = None


def iter_transactions(source: Source, *, strict: bool = True) -> Iterator[Transaction]:
    """Each transaction set in ``source``, one at a time.

    ``source`` is X12 text (a ``str``), ``bytes``, a path (``pathlib.Path``) or an open file.
    Strict: the first envelope problem raises :class:`X12Error`.
    """
    return iter(X12Reader(source, strict=strict))


def check_envelope(source: Source) -> list[EnvelopeError]:
    """Every envelope problem in ``source`` (reads it all, keeps no transaction)."""
    reader = X12Reader(source, strict=False)
    for _transaction in reader:
        pass
    return reader.errors


def read_path(path: str | os.PathLike[str], *, strict: bool = True) -> X12Reader:
    """A reader over the file at ``path`` (iterate it for transactions)."""
    return X12Reader(Path(path), strict=strict)
