"""The X12 segment writer: separators, the fixed-width ISA, and the counts in the trailers.

Every outbound X12 file goes through :class:`X12Writer`. It knows the four separators, refuses
a value that contains one of them (X12 has no escape character, so a ``*`` inside a name would
silently shift every later element), trims trailing empty elements, and counts what it wrote:
SE01, GE01 and IEA01 are computed here, and the control numbers in the trailers are the ones
the headers were opened with. Control numbers themselves come in as values (they are issued
by a per-practice sequence in the database), never kept here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from handbill.core.outbound import OutboundError

ISA_LENGTH = 106  # ISA segment including its terminator (reference §5.1)
MAX_CONTROL_NUMBER = 999_999_999

# One element as the writer takes it: plain text, or a composite's components.
Composite = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Repeated:
    """An element that repeats (5010 repetition separator), each repeat text or a composite."""

    values: tuple[str | Composite, ...]


Element = str | Composite | Repeated


@dataclass(frozen=True, slots=True)
class Separators:
    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"
    # Some senders break the line after each terminator ("~\n"); it is not part of any value.
    line_break: str = ""

    def __post_init__(self) -> None:
        chars = (self.element, self.component, self.repetition, self.segment)
        for name, char in zip(("element", "component", "repetition", "segment"), chars,
                              strict=True):
            if len(char) != 1:
                raise OutboundError(f"the {name} separator must be one character, not {char!r}")
            if char.isalnum() or char == " ":
                raise OutboundError(
                    f"the {name} separator {char!r} would collide with data: use a "
                    "punctuation character such as * : ^ ~"
                )
        if len(set(chars)) != 4:
            raise OutboundError(f"the four separators must differ, got {chars!r}")
        if self.line_break not in ("", "\n", "\r\n", "\r"):
            raise OutboundError(
                f"the line break after a segment must be empty, \\n or \\r\\n, "
                f"not {self.line_break!r}"
            )

    @property
    def terminator(self) -> str:
        return self.segment + self.line_break

    def reserved(self) -> str:
        return self.element + self.component + self.repetition + self.segment


DEFAULT_SEPARATORS = Separators()

_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")


def clean_text(value: str) -> str:
    """Free text (names, addresses) as the IG expects it: upper case ASCII, single spaces.

    Accented letters lose their accent (José → JOSE) because most payers' systems take only
    the X12 basic character set; anything that still is not printable ASCII is left in place
    for :func:`text_problem` to report.
    """
    if value.isascii():
        return " ".join(value.split()).upper()
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split()).upper()


def text_problem(value: str, field: str, *, max_length: int,
                 separators: Separators = DEFAULT_SEPARATORS) -> str | None:
    """Why ``value`` cannot go into an element as written, or None. ``field`` names it."""
    bad = _NOT_PRINTABLE.search(value)
    if bad:
        return (f"{field} contains {bad.group()!r}, which X12 cannot carry: use plain "
                "letters, digits and punctuation")
    if len(value) <= max_length and not _forbidden(separators).search(value):
        return None
    for char, name in ((separators.element, "element"), (separators.component, "component"),
                       (separators.repetition, "repetition"), (separators.segment, "segment")):
        if char in value:
            return (f"{field} {value!r} contains {char!r}, the X12 {name} separator: "
                    "remove that character")
    if len(value) > max_length:
        return (f"{field} is {len(value)} characters long; the 837 allows {max_length}: "
                "shorten it")
    return None


def x12_date(day: date) -> str:
    """CCYYMMDD (formatted by hand: strftime costs more than the rest of a DTP segment)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def x12_time(moment: datetime) -> str:
    return f"{moment.hour:02d}{moment.minute:02d}"


def format_segment(tag: str, elements: Sequence[Element],
                   separators: Separators = DEFAULT_SEPARATORS) -> str:
    """One segment with its terminator; trailing empty elements and components are dropped."""
    return _format_fast(tag, elements, separators, _checks(separators))


@dataclass(frozen=True, slots=True)
class _Checks:
    """Compiled once per separator set: the characters no value may contain."""

    anywhere: re.Pattern[str]  # any separator or line break
    between_elements: re.Pattern[str]  # the same without the element separator


def _checks(separators: Separators) -> _Checks:
    if separators is DEFAULT_SEPARATORS and _DEFAULT_CHECKS is not None:
        return _DEFAULT_CHECKS
    others = separators.component + separators.repetition + separators.segment
    return _Checks(
        anywhere=re.compile("[" + re.escape(separators.element + others) + "\r\n]"),
        between_elements=re.compile("[" + re.escape(others) + "\r\n]"),
    )


_DEFAULT_CHECKS: _Checks | None = None
_DEFAULT_CHECKS = _checks(DEFAULT_SEPARATORS)


def _forbidden(separators: Separators) -> re.Pattern[str]:
    return _checks(separators).anywhere


def _format_fast(tag: str, elements: Sequence[Element], separators: Separators,
                 checks: _Checks) -> str:
    # Checked with one or two C-level scans per segment; only a suspicious segment takes the
    # slow path that names the bad element.
    element = separators.element
    try:
        body = element.join(elements)  # type: ignore[arg-type]  # TypeError: not all text
    except TypeError:
        return _format_composites(tag, elements, separators, checks)
    if body.count(element) != len(elements) - 1 or checks.between_elements.search(body):
        return _format_checked(tag, elements, separators)
    # No value holds the element separator, so the trailing ones are exactly the trailing
    # empty elements.
    body = body.rstrip(element)
    if not body:
        return tag + separators.terminator
    return tag + element + body + separators.terminator


def _format_composites(tag: str, elements: Sequence[Element], separators: Separators,
                       checks: _Checks) -> str:
    component = separators.component
    fields: list[str] = []
    values: list[str] = []
    for item in elements:
        if type(item) is str:
            fields.append(item)
            values.append(item)
        elif type(item) is tuple:
            parts = list(item)
            while parts and not parts[-1]:
                parts.pop()
            values.extend(item)
            try:
                fields.append(component.join(parts))
            except TypeError:
                return _format_checked(tag, elements, separators)
        else:
            return _format_checked(tag, elements, separators)
    try:
        joined = "\x00".join(values)
    except TypeError:
        return _format_checked(tag, elements, separators)
    if checks.anywhere.search(joined):
        return _format_checked(tag, elements, separators)
    return _assemble(tag, fields, separators)


def _assemble(tag: str, fields: list[str], separators: Separators) -> str:
    while fields and not fields[-1]:
        fields.pop()
    if not fields:
        return tag + separators.terminator
    return tag + separators.element + separators.element.join(fields) + separators.terminator


def _format_checked(tag: str, elements: Sequence[Element], separators: Separators) -> str:
    """Element by element, raising on the first value that cannot be written."""
    fields = [_format_element(tag, position, element, separators)
              for position, element in enumerate(elements, start=1)]
    return _assemble(tag, fields, separators)


def _format_element(tag: str, position: int, element: Element, separators: Separators) -> str:
    if isinstance(element, str):
        _check_value(tag, position, element, separators)
        return element
    if isinstance(element, Repeated):
        parts = [_format_element(tag, position, value, separators) for value in element.values]
        while parts and not parts[-1]:
            parts.pop()
        return separators.repetition.join(parts)
    if not isinstance(element, tuple):
        raise OutboundError(f"{_where(tag, position, None)} must be text, "
                            f"not {type(element).__name__}")
    components = list(element)
    for index, component in enumerate(components, start=1):
        _check_value(tag, position, component, separators, index)
    while components and not components[-1]:
        components.pop()
    return separators.component.join(components)


def _check_value(tag: str, position: int, value: str, separators: Separators,
                 component: int | None = None) -> None:
    if not isinstance(value, str):
        raise OutboundError(f"{_where(tag, position, component)} must be text, "
                            f"not {type(value).__name__}")
    for char in separators.reserved():
        if char in value:
            raise OutboundError(
                f"{_where(tag, position, component)} value {value!r} contains {char!r}, one of "
                "the file's separators; X12 cannot escape it: remove the character"
            )
    if "\r" in value or "\n" in value:
        raise OutboundError(f"{_where(tag, position, component)} value {value!r} contains a "
                            "line break: remove it")


def _where(tag: str, position: int, component: int | None) -> str:
    if component is None:
        return f"{tag}{position:02d}"
    return f"{tag}{position:02d}-{component}"


@dataclass(frozen=True, slots=True)
class InterchangeHeader:
    sender_id: str  # ISA06, at most 15 characters
    receiver_id: str  # ISA08
    control_number: int  # ISA13
    created_at: datetime  # ISA09/ISA10
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    production: bool = False  # ISA15 P, else T
    acknowledgment_requested: bool = False  # ISA14: ask for a TA1
    version: str = "00501"


def isa_fields(header: InterchangeHeader, separators: Separators) -> list[str]:
    """The sixteen ISA values, padded to their fixed widths."""
    control = _control_number(header.control_number, "interchange control number (ISA13)")
    for value, name in ((header.sender_id, "sender ID (ISA06)"),
                        (header.receiver_id, "receiver ID (ISA08)")):
        if not value.strip():
            raise OutboundError(f"the {name} is empty: enter the ID the clearinghouse assigned")
        if len(value) > 15:
            raise OutboundError(f"the {name} {value!r} is longer than 15 characters")
    for value, name in ((header.sender_qualifier, "sender ID qualifier (ISA05)"),
                        (header.receiver_qualifier, "receiver ID qualifier (ISA07)")):
        if len(value) != 2:
            raise OutboundError(f"the {name} must be 2 characters, e.g. ZZ, not {value!r}")
    _require_aware(header.created_at)
    return [
        "00", " " * 10, "00", " " * 10,
        header.sender_qualifier, header.sender_id.ljust(15),
        header.receiver_qualifier, header.receiver_id.ljust(15),
        header.created_at.strftime("%y%m%d"), x12_time(header.created_at),
        separators.repetition, header.version, f"{control:09d}",
        "1" if header.acknowledgment_requested else "0",
        "P" if header.production else "T",
        separators.component,
    ]


# ISA01..ISA16 widths: the ISA is fixed-length so a reader can find the separators by position.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def format_isa(fields: Sequence[str], separators: Separators) -> str:
    """The ISA segment from its sixteen values, which must already have their fixed widths."""
    if len(fields) != 16:
        raise OutboundError(f"an ISA has 16 elements, not {len(fields)}")
    for position, (value, width) in enumerate(zip(fields, _ISA_WIDTHS, strict=True), start=1):
        if len(value) != width:
            raise OutboundError(f"ISA{position:02d} {value!r} must be exactly {width} characters")
        if position in (11, 16):
            continue
        for char in separators.reserved():
            if char in value:
                raise OutboundError(f"ISA{position:02d} value {value!r} contains the separator "
                                    f"{char!r}")
    if fields[10] != separators.repetition:
        raise OutboundError(f"ISA11 {fields[10]!r} must be the repetition separator "
                            f"{separators.repetition!r}")
    if fields[15] != separators.component:
        raise OutboundError(f"ISA16 {fields[15]!r} must be the component separator "
                            f"{separators.component!r}")
    text = "ISA" + separators.element + separators.element.join(fields) + separators.segment
    if len(text) != ISA_LENGTH:  # pragma: no cover - guaranteed by the widths above
        raise OutboundError(f"the ISA came out {len(text)} characters long, not {ISA_LENGTH}")
    return text + separators.line_break


@dataclass(frozen=True, slots=True)
class GroupHeader:
    functional_id: str  # GS01: HC for claims
    sender_code: str  # GS02
    receiver_code: str  # GS03
    control_number: int  # GS06
    created_at: datetime  # GS04/GS05
    version: str  # GS08, e.g. 005010X222A1


def _control_number(value: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not (
        1 <= value <= MAX_CONTROL_NUMBER
    ):
        raise OutboundError(f"the {name} must be a whole number from 1 to {MAX_CONTROL_NUMBER}, "
                            f"not {value!r}")
    return value


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise OutboundError("the batch time must be timezone-aware (the practice's local time)")


class X12Writer:
    """Writes one interchange: ISA, groups of transaction sets, IEA; counts as it goes."""

    def __init__(self, separators: Separators = DEFAULT_SEPARATORS) -> None:
        self.separators = separators
        self._checks = _checks(separators)
        self._parts: list[str] = []
        self._interchange: int | None = None
        self._groups = 0
        self._group: int | None = None
        self._transactions = 0
        self._transaction: str | None = None
        self._segments = 0
        self._closed = False

    # -- envelope ----------------------------------------------------------------------------

    def begin_interchange(self, header: InterchangeHeader) -> None:
        if self._interchange is not None or self._closed:
            raise OutboundError("one writer writes one interchange")
        self._parts.append(format_isa(isa_fields(header, self.separators), self.separators))
        self._interchange = header.control_number

    def begin_group(self, header: GroupHeader) -> None:
        if self._interchange is None or self._group is not None:
            raise OutboundError("a functional group opens inside an interchange, after the last "
                                "group closed")
        control = _control_number(header.control_number, "group control number (GS06)")
        _require_aware(header.created_at)
        for value, name in ((header.sender_code, "GS02 sender code"),
                            (header.receiver_code, "GS03 receiver code")):
            if not 2 <= len(value) <= 15:
                raise OutboundError(f"the {name} {value!r} must be 2 to 15 characters")
        self._raw("GS", [header.functional_id, header.sender_code, header.receiver_code,
                         x12_date(header.created_at.date()), x12_time(header.created_at),
                         str(control), "X", header.version])
        self._group = control
        self._transactions = 0

    def begin_transaction(self, set_id: str, control_number: int, convention: str) -> str:
        """Opens ST; returns ST02 as written (at least four digits)."""
        if self._group is None or self._transaction is not None:
            raise OutboundError("a transaction set opens inside a group, after the last one "
                                "closed")
        control = f"{_control_number(control_number, 'transaction set control number'):04d}"
        self._transaction = control
        self._segments = 0
        self.segment("ST", set_id, control, convention)
        return control

    def end_transaction(self) -> None:
        if self._transaction is None:
            raise OutboundError("no transaction set is open")
        self.segment("SE", str(self._segments + 1), self._transaction)
        self._transaction = None
        self._transactions += 1

    def end_group(self) -> None:
        if self._group is None or self._transaction is not None:
            raise OutboundError("close the transaction set before its group")
        self._raw("GE", [str(self._transactions), str(self._group)])
        self._group = None
        self._groups += 1

    def end_interchange(self) -> None:
        if self._interchange is None or self._group is not None:
            raise OutboundError("close the group before the interchange")
        self._raw("IEA", [str(self._groups), f"{self._interchange:09d}"])
        self._closed = True

    # -- content -----------------------------------------------------------------------------

    def segment(self, tag: str, *elements: Element) -> None:
        """One segment inside the open transaction set (counted for SE01)."""
        if self._transaction is None:
            raise OutboundError(f"{tag} must be written inside a transaction set")
        self._parts.append(_format_fast(tag, elements, self.separators, self._checks))
        self._segments += 1

    def _raw(self, tag: str, elements: Sequence[Element]) -> None:
        self._parts.append(format_segment(tag, elements, self.separators))

    @property
    def segment_count(self) -> int:
        """Segments written so far in the open transaction set, ST included."""
        return self._segments

    def getvalue(self) -> str:
        if not self._closed:
            raise OutboundError("the interchange is not closed yet (end_interchange)")
        return "".join(self._parts)
