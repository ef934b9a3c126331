"""NCCI procedure-to-procedure (PTP) pair edits and medically unlikely edits (MUEs).

Three parts, all pure:

- value types for one pair edit (:class:`PtpEdit`) and one unit limit (:class:`MueLimit`);
- readers for the official CMS files (practitioner PTP ``.TXT`` or its CSV form, the Medicaid
  PTP variant, and the MUE CSV) that turn a file into those values or raise
  :class:`EditFileError` naming the file, the line and the problem;
- :func:`check`, which reads the lines billed on one date of service against
  :class:`EditTables` and returns findings with the fix in plain words.

Handbill ships a small starter table (``data/ncci_starter.csv``) taken from secondary sources
(reference §2.2, §2.7). Most of its rows are unverified; rows read from a CMS file always win
over it (:meth:`EditTables.merge`).

All periods are ``[from, to)``: an edit deleted on 2026-07-01 no longer applies that day.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache, lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, TextIO

from handbill.core.claimdata import Finding, Severity

STARTER_FILE = Path(__file__).resolve().parent / "data" / "ncci_starter.csv"

# CPT, HCPCS level II and category II/III codes are all five characters: 97124, G0283, 0275T.
_CODE = re.compile(r"^[0-9A-Z][0-9]{3}[0-9A-Z]$")
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_DIGITS8 = re.compile(r"^[0-9]{8}$")

# The NCCI-associated modifiers that can bypass a PTP edit with modifier indicator 1.
BYPASS_MODIFIERS: frozenset[str] = frozenset({"59", "XE", "XS", "XP", "XU"})
X_MODIFIERS: frozenset[str] = frozenset({"XE", "XS", "XP", "XU"})
_CMT_CODES: frozenset[str] = frozenset({"98940", "98941", "98942", "98943"})
# Pairs whose bypass is about separate time, not region (reference §2.3: CMS's own example).
_TIME_BLOCK_PAIRS: frozenset[frozenset[str]] = frozenset({frozenset({"97140", "97530"})})

# How far into a file the kind is looked for: the AMA notice, title and wrapped header come
# first and run to a few dozen lines at most.
_SNIFF_LINES = 200


class EditFileError(ValueError):
    """A file that is not a usable CMS NCCI file. Names the file, the line and the problem."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file = file
        self.line = line
        self.problem = problem
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {problem}")


class ModifierIndicator(StrEnum):
    NOT_ALLOWED = "0"  # no modifier bypasses the edit
    ALLOWED = "1"  # 59/X{EPSU} on the column-2 code bypasses it when documented
    NOT_APPLICABLE = "9"  # the edit was deleted (often retroactively): never applies


class AdjudicationIndicator(StrEnum):
    """MUE adjudication indicator (MAI): how the unit limit is counted."""

    LINE = "1"
    DATE_POLICY = "2"
    DATE_CLINICAL = "3"

    @property
    def text(self) -> str:
        return _MAI_TEXT[self]

    @property
    def per_date_of_service(self) -> bool:
        return self is not AdjudicationIndicator.LINE


_MAI_TEXT = {
    AdjudicationIndicator.LINE: "Line Edit",
    AdjudicationIndicator.DATE_POLICY: "Date of Service Edit: Policy",
    AdjudicationIndicator.DATE_CLINICAL: "Date of Service Edit: Clinical",
}


class Confidence(StrEnum):
    VERIFIED = "verified"  # read from a CMS file, or confirmed in two or more places
    SINGLE_SOURCE = "single-source"
    UNVERIFIED = "unverified"  # from memory or conflicting sources: confirm before relying


class EditKind(StrEnum):
    PTP = "ptp"
    MUE = "mue"


class Program(StrEnum):
    """Medicare and Medicaid publish separate NCCI sets; a claim is checked against one."""

    MEDICARE = "medicare"
    MEDICAID = "medicaid"


def _require_code(value: str, what: str) -> None:
    if not _CODE.match(value):
        raise ValueError(f"{what} {value!r} is not a five-character CPT/HCPCS code")


@dataclass(frozen=True, slots=True)
class PtpEdit:
    """One pair: when both are billed on one date, ``column2`` is denied unless bypassed."""

    column1: str
    column2: str
    effective_date: date
    deletion_date: date | None
    modifier_indicator: ModifierIndicator
    rationale: str
    source: str
    confidence: Confidence

    def __post_init__(self) -> None:
        _require_code(self.column1, "column 1 code")
        _require_code(self.column2, "column 2 code")
        # Equal dates occur: a retroactive deletion leaves an empty [from, to) period.
        if self.deletion_date is not None and self.deletion_date < self.effective_date:
            raise ValueError(
                f"{self.column1}/{self.column2}: deletion date {self.deletion_date} is before "
                f"effective date {self.effective_date}"
            )

    def in_force_on(self, day: date) -> bool:
        return (
            self.modifier_indicator is not ModifierIndicator.NOT_APPLICABLE
            and self.effective_date <= day
            and (self.deletion_date is None or day < self.deletion_date)
        )


@dataclass(frozen=True, slots=True)
class MueLimit:
    """The most units of ``code`` one provider may bill for one patient on one date.

    ``adjudication_indicator`` is None only for starter rows whose MAI is not known; those
    are counted per date of service, the stricter reading.
    """

    code: str
    units: int
    adjudication_indicator: AdjudicationIndicator | None
    rationale: str
    effective_date: date
    source: str
    confidence: Confidence

    def __post_init__(self) -> None:
        _require_code(self.code, "MUE code")
        if isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < 0:
            raise ValueError(f"MUE for {self.code}: units must be a whole number >= 0")

    @property
    def per_date_of_service(self) -> bool:
        indicator = self.adjudication_indicator
        return indicator is None or indicator.per_date_of_service


# ---------------------------------------------------------------------------------------
# The tables and their precedence
# ---------------------------------------------------------------------------------------


def _pair_key(column1: str, column2: str) -> frozenset[str]:
    return frozenset((column1, column2))


class EditTables:
    """PTP and MUE rows, indexed for lookup by pair and by code."""

    __slots__ = ("_mue", "_ptp")

    def __init__(self, ptp: Iterable[PtpEdit] = (), mue: Iterable[MueLimit] = ()) -> None:
        by_pair: dict[tuple[str, str], list[PtpEdit]] = defaultdict(list)
        for edit in ptp:
            by_pair[(edit.column1, edit.column2)].append(edit)
        by_code: dict[str, list[MueLimit]] = defaultdict(list)
        for limit in mue:
            by_code[limit.code].append(limit)
        self._ptp = {pair: tuple(rows) for pair, rows in by_pair.items()}
        # Oldest first, so the limit in force is the last one that has started.
        self._mue = {
            code: tuple(sorted(rows, key=lambda limit: limit.effective_date))
            for code, rows in by_code.items()
        }

    @classmethod
    def merge(cls, starter: EditTables, imported: EditTables) -> EditTables:
        """Imported CMS rows win: a starter row is dropped when the CMS data holds the same
        pair (in either order, since the starter's direction is often a guess) or code."""
        imported_pairs = {_pair_key(c1, c2) for c1, c2 in imported._ptp}
        ptp = [
            edit
            for edit in starter.ptp_rows
            if _pair_key(edit.column1, edit.column2) not in imported_pairs
        ]
        mue = [limit for limit in starter.mue_rows if limit.code not in imported._mue]
        return cls([*ptp, *imported.ptp_rows], [*mue, *imported.mue_rows])

    @property
    def ptp_rows(self) -> tuple[PtpEdit, ...]:
        return tuple(edit for rows in self._ptp.values() for edit in rows)

    @property
    def mue_rows(self) -> tuple[MueLimit, ...]:
        return tuple(limit for rows in self._mue.values() for limit in rows)

    def ptp_edit(self, column1: str, column2: str, on: date) -> PtpEdit | None:
        """The edit for this ordered pair in force on ``on``; the latest-starting if several."""
        best: PtpEdit | None = None
        for edit in self._ptp.get((column1, column2), ()):
            if not edit.in_force_on(on):
                continue
            if best is None or edit.effective_date >= best.effective_date:
                best = edit
        return best

    def mue_limit(self, code: str, on: date) -> MueLimit | None:
        """The limit that started most recently on or before ``on``."""
        current: MueLimit | None = None
        for limit in self._mue.get(code, ()):
            if limit.effective_date <= on:
                current = limit
        return current

    def in_force_on(self, day: date) -> EditTables:
        """Only the rows that answer for ``day``: a smaller table for checking one date."""
        ptp = [edit for rows in self._ptp.values() for edit in rows if edit.in_force_on(day)]
        mue = [limit for code in self._mue if (limit := self.mue_limit(code, day)) is not None]
        return EditTables(ptp, mue)

    def for_codes(self, codes: Iterable[str]) -> EditTables:
        wanted = set(codes)
        ptp = [
            edit
            for (c1, c2), rows in self._ptp.items()
            if c1 in wanted and c2 in wanted
            for edit in rows
        ]
        mue = [limit for code, rows in self._mue.items() if code in wanted for limit in rows]
        return EditTables(ptp, mue)

    def __len__(self) -> int:
        return sum(map(len, self._ptp.values())) + sum(map(len, self._mue.values()))

    def __repr__(self) -> str:
        return f"EditTables({len(self._ptp)} pairs, {len(self._mue)} MUE codes)"


# ---------------------------------------------------------------------------------------
# Reading the CMS files
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PtpFile:
    name: str
    sha256: str
    program: Program
    layout: str  # "medicare-txt", "medicare-csv", "medicaid-txt", "medicaid-csv"
    rows: tuple[PtpEdit, ...]
    skipped_lines: int  # notice, title, wrapped header and blank lines
    duplicates_resolved: int
    # The quarter the file is for: from its name (2026q2, v321), the caller, or failing both
    # the latest effective date among its rows.
    effective_date: date
    effective_date_from: str

    @property
    def kind(self) -> EditKind:
        return EditKind.PTP


@dataclass(frozen=True, slots=True)
class MueFile:
    name: str
    sha256: str
    program: Program
    layout: str  # "practitioner-csv"
    rows: tuple[MueLimit, ...]
    skipped_lines: int
    duplicates_resolved: int
    effective_date: date
    effective_date_from: str

    @property
    def kind(self) -> EditKind:
        return EditKind.MUE


EditFile = PtpFile | MueFile

_EFF_IN_NAME = re.compile(r"eff[_-]?(\d{2})-(\d{2})-(\d{4})", re.IGNORECASE)
_QUARTER_IN_NAME = re.compile(r"(20\d{2})[-_ ]?q([1-4])", re.IGNORECASE)
# NCCI versions count years from 1994 (v31 = 2025, v32 = 2026) and quarters from 0.
_VERSION_IN_NAME = re.compile(r"v(\d{2})(\d)r\d", re.IGNORECASE)
_QUARTER_MONTH = {1: 1, 2: 4, 3: 7, 4: 10}


def effective_date_from_name(name: str) -> date | None:
    """The effective date a CMS file name states, if any.

    ``MCR_MUE_PractitionerServices_Eff_07-01-2026.csv`` → 2026-07-01;
    ``medicare-ncci-2026q2-…`` → 2026-04-01; ``ccipra-v321r0-f1.txt`` (v32.1) → 2026-04-01.
    """
    base = os.path.basename(name)
    if match := _EFF_IN_NAME.search(base):
        month, day, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if match := _QUARTER_IN_NAME.search(base):
        return date(int(match.group(1)), _QUARTER_MONTH[int(match.group(2))], 1)
    if match := _VERSION_IN_NAME.search(base):
        major, minor = int(match.group(1)), int(match.group(2))
        if minor <= 3:
            return date(1994 + major, 1 + 3 * minor, 1)
    return None


def _source_name(source: str | os.PathLike[str] | TextIO, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, str | os.PathLike):
        return os.path.basename(os.fspath(source))
    stream_name = getattr(source, "name", None)
    return os.path.basename(stream_name) if isinstance(stream_name, str) else "<stream>"


def _read_text(source: str | os.PathLike[str] | TextIO, name: str) -> tuple[str, str]:
    """The decoded text and its sha256 (of the bytes for a path, of the UTF-8 text for a
    stream)."""
    if isinstance(source, str | os.PathLike):
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise EditFileError(name, None, f"cannot be read: {exc.strerror or exc}") from None
        digest = hashlib.sha256(raw).hexdigest()
        if raw.startswith(b"PK\x03\x04"):
            raise EditFileError(
                name, None, "is a zip archive (or an Excel workbook): unzip the CMS download "
                "and import the .TXT or .csv file inside it"
            )
        if b"\x00" in raw[:4096]:
            raise EditFileError(name, None, "is a binary file, not a CMS text or CSV file")
        try:
            # CMS publishes latin-1; a file re-saved by a spreadsheet may be UTF-8 instead.
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        return text, digest
    try:
        text = source.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise EditFileError(name, None, f"cannot be read: {exc}") from None
    if text.startswith("PK\x03\x04"):
        raise EditFileError(name, None, "is a zip archive: unzip it and import the file inside")
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_code(value: str) -> bool:
    return bool(_CODE.match(value))


def _cells(line: str) -> list[str]:
    if "\t" in line:
        return [cell.strip() for cell in line.split("\t")]
    try:
        return [cell.strip() for cell in next(csv.reader([line]), [])]
    except csv.Error:
        return []


def _looks_like_mue_header(cells: Sequence[str]) -> bool:
    return len(cells) >= 3 and cells[0].upper().startswith("HCPCS") and "MUE" in cells[1].upper()


def _sniff(text: str, name: str) -> tuple[EditKind, str]:
    """The file kind and its delimiter, from the first lines that look like a header or data."""
    lines = io.StringIO(text, newline=None)
    for line in islice(lines, _SNIFF_LINES):
        cells = _cells(line.rstrip("\r\n"))
        if len(cells) < 2:
            continue
        delimiter = "\t" if "\t" in line else ","
        first, second = cells[0].upper(), cells[1].upper()
        if _looks_like_mue_header(cells):
            return EditKind.MUE, ","
        if _is_code(first) and _is_code(second):
            return EditKind.PTP, delimiter
        if _is_code(first) and second.isdigit() and delimiter == ",":
            return EditKind.MUE, ","
    if not text.strip():
        raise EditFileError(name, None, "is empty")
    raise EditFileError(
        name, None,
        f"is neither a CMS NCCI PTP file (rows starting with two five-character codes, tab- or "
        f"comma-separated) nor an MUE file (code, units, adjudication indicator) in its first "
        f"{_SNIFF_LINES} lines; import the practitioner PTP .TXT/.csv or the MUE .csv",
    )


@lru_cache(maxsize=4096)
def _date_from_text(text: str) -> date | None:
    # Cached: a quarterly file repeats a few thousand distinct dates over many rows.
    try:
        if _DIGITS8.match(text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
            return date.fromisoformat(text)
        # A CSV opened and saved by a spreadsheet turns 20200101 into 1/1/2020.
        if match := re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", text):
            return date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
    except ValueError:
        return None
    return None


def _parse_date(value: str, what: str, name: str, line: int) -> date:
    parsed = _date_from_text(value.strip())
    if parsed is None:
        raise EditFileError(name, line, f"{what} {value!r} is not a date (expected YYYYMMDD)")
    return parsed


def read_edit_file(
    source: str | os.PathLike[str] | TextIO,
    *,
    name: str | None = None,
    effective_date: date | None = None,
) -> EditFile:
    """Read a CMS PTP or MUE file, telling which from its content.

    ``source`` is a path (bytes are read and decoded as latin-1, or UTF-8 when they are valid
    UTF-8) or an open text stream. ``effective_date`` is the quarter the file is for, needed
    for an MUE file whose name does not carry ``Eff_MM-DD-YYYY``.
    """
    label = _source_name(source, name)
    text, digest = _read_text(source, label)
    kind, delimiter = _sniff(text, label)
    if kind is EditKind.PTP:
        return _parse_ptp(text, delimiter, label, digest, effective_date)
    return _parse_mue(text, label, digest, effective_date)


def read_ptp_file(
    source: str | os.PathLike[str] | TextIO,
    *,
    name: str | None = None,
    effective_date: date | None = None,
) -> PtpFile:
    result = read_edit_file(source, name=name, effective_date=effective_date)
    if not isinstance(result, PtpFile):
        raise EditFileError(result.name, None, "is an MUE file, not a PTP file")
    return result


def read_mue_file(
    source: str | os.PathLike[str] | TextIO,
    *,
    name: str | None = None,
    effective_date: date | None = None,
) -> MueFile:
    result = read_edit_file(source, name=name, effective_date=effective_date)
    if not isinstance(result, MueFile):
        raise EditFileError(result.name, None, "is a PTP file, not an MUE file")
    return result


def _rows(text: str, delimiter: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, stripped cells) per record; a quoted CSV cell may span lines."""
    stream = io.StringIO(text, newline="")
    if delimiter == "\t":
        reader = csv.reader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(stream)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise EditFileError(name, start, f"is not well-formed CSV ({exc})") from None
        yield start, [cell.strip() for cell in row]
        start = reader.line_num + 1


def _keep_rank(edit: PtpEdit) -> tuple[bool, bool, date, date]:
    """Which of two rows for the same pair to keep: the one still in force, else the one
    deleted last, else the one that started last (reference §2.6)."""
    open_ended = edit.deletion_date is None
    in_force = open_ended and edit.modifier_indicator is not ModifierIndicator.NOT_APPLICABLE
    return (in_force, open_ended, edit.deletion_date or date.max, edit.effective_date)


def _parse_ptp(
    text: str, delimiter: str, name: str, digest: str, effective_date: date | None
) -> PtpFile:
    kept: dict[tuple[str, str], PtpEdit] = {}
    skipped = duplicates = 0
    has_pre_1996_column: bool | None = None
    source = f"CMS file {name}"
    for line, cells in _rows(text, delimiter, name):
        codes = [cell.upper() for cell in cells[:2]]
        if len(codes) < 2 or not (_is_code(codes[0]) and _is_code(codes[1])):
            if has_pre_1996_column is not None and any(cells):
                raise EditFileError(
                    name, line, "expected two five-character codes in columns 1 and 2 after "
                    f"the header, found {cells[:2]!r}",
                )
            skipped += 1
            continue
        if has_pre_1996_column is None:
            # Medicare files carry "*"/blank for "existed before 1996"; Medicaid files do not
            # have that column, so their third cell is already the effective date.
            has_pre_1996_column = len(cells) > 2 and not _DIGITS8.match(cells[2])
        edit = _ptp_row(cells, has_pre_1996_column, codes, name, line, source)
        key = (edit.column1, edit.column2)
        previous = kept.get(key)
        if previous is not None:
            duplicates += 1
            if _keep_rank(edit) < _keep_rank(previous):
                continue
        kept[key] = edit
    if not kept:
        raise EditFileError(name, None, "holds no PTP rows (only notice or header lines)")
    named = effective_date_from_name(name)
    if effective_date is not None:
        when, where = effective_date, "argument"
    elif named is not None:
        when, where = named, "file name"
    else:
        when, where = max(edit.effective_date for edit in kept.values()), "latest row"
    program = Program.MEDICARE if has_pre_1996_column else Program.MEDICAID
    form = "txt" if delimiter == "\t" else "csv"
    return PtpFile(
        name=name, sha256=digest, program=program, layout=f"{program.value}-{form}",
        rows=tuple(kept.values()), skipped_lines=skipped, duplicates_resolved=duplicates,
        effective_date=when, effective_date_from=where,
    )


def _ptp_row(
    cells: list[str], pre_1996: bool, codes: list[str], name: str, line: int, source: str
) -> PtpEdit:
    width = 7 if pre_1996 else 6
    if any(cells[width:]):
        raise EditFileError(name, line, f"has {len(cells)} columns; a PTP row has {width}")
    if len(cells) < width - 1:
        raise EditFileError(
            name, line, f"has {len(cells)} columns; a PTP row has {width} (codes, "
            "effective date, deletion date, modifier indicator, rationale)",
        )
    cells = cells + [""] * (width - len(cells))
    rest = cells[2:]
    if pre_1996:
        if rest[0] not in ("", "*"):
            raise EditFileError(
                name, line, f"column 3 (existed before 1996) should be '*' or blank, not "
                f"{rest[0]!r}; are the columns shifted?",
            )
        rest = rest[1:]
    effective_text, deletion_text, indicator_text, rationale = rest
    effective = _parse_date(effective_text, "effective date", name, line)
    deletion = (
        None if deletion_text in ("*", "")
        else _parse_date(deletion_text, "deletion date", name, line)
    )
    try:
        indicator = ModifierIndicator(indicator_text)
    except ValueError:
        raise EditFileError(
            name, line, f"modifier indicator {indicator_text!r} is not 0, 1 or 9"
        ) from None
    try:
        return PtpEdit(
            column1=codes[0], column2=codes[1], effective_date=effective, deletion_date=deletion,
            modifier_indicator=indicator, rationale=rationale, source=source,
            confidence=Confidence.VERIFIED,
        )
    except ValueError as exc:
        raise EditFileError(name, line, str(exc)) from None


_MUE_HEADER_WORDS = ("HCPCS", "MUE VALUE", "ADJUDICATION INDICATOR", "RATIONALE")
_MAI_TEXT_PATTERN = re.compile(r"^([123])(?:\s|$)")


def _parse_mue(text: str, name: str, digest: str, effective_date: date | None) -> MueFile:
    named = effective_date_from_name(name)
    if effective_date is not None and named is not None and effective_date != named:
        raise EditFileError(
            name, None, f"the file name says effective {named.isoformat()} but "
            f"{effective_date.isoformat()} was given; drop the date or rename the file",
        )
    when = effective_date or named
    if when is None:
        raise EditFileError(
            name, None, "an MUE file has no dates inside: give its effective date "
            "(--effective-date YYYY-MM-DD) or keep the CMS name ..._Eff_MM-DD-YYYY.csv",
        )
    where = "argument" if effective_date is not None else "file name"
    kept: dict[str, MueLimit] = {}
    skipped = duplicates = 0
    started = False
    source = f"CMS file {name}"
    for line, cells in _rows(text, ",", name):
        if _looks_like_mue_header(cells):
            _check_mue_header(cells, name, line)
            skipped += 1
            continue
        code = cells[0].upper() if cells else ""
        if not _is_code(code):
            if started and any(cells):
                raise EditFileError(
                    name, line, f"expected a five-character code in column 1, found {code!r}"
                )
            skipped += 1
            continue
        started = True
        limit = _mue_row(cells, code, when, name, line, source)
        previous = kept.get(code)
        if previous is not None:
            duplicates += 1
            # Never seen in a CMS file; if it happens, the stricter limit is the safe one.
            if previous.units <= limit.units:
                continue
        kept[code] = limit
    if not kept:
        raise EditFileError(name, None, "holds no MUE rows (only notice or header lines)")
    # Medicare's files are named MCR_…; the Medicaid set says so in its name [S].
    lowered = os.path.basename(name).lower()
    program = (
        Program.MEDICAID if lowered.startswith("mcd") or "medicaid" in lowered
        else Program.MEDICARE
    )
    return MueFile(
        name=name, sha256=digest, program=program, layout="practitioner-csv",
        rows=tuple(kept.values()), skipped_lines=skipped, duplicates_resolved=duplicates,
        effective_date=when, effective_date_from=where,
    )


def _check_mue_header(cells: list[str], name: str, line: int) -> None:
    upper = [cell.upper() for cell in cells]
    if len(upper) < 4 or any(
        word not in cell for word, cell in zip(_MUE_HEADER_WORDS, upper, strict=False)
    ):
        raise EditFileError(
            name, line, f"wrong columns {cells!r}: an MUE file has HCPCS/CPT Code, MUE Values, "
            "MUE Adjudication Indicator, MUE Rationale",
        )


def _mue_row(
    cells: list[str], code: str, when: date, name: str, line: int, source: str
) -> MueLimit:
    if len(cells) < 3 or any(cells[4:]):
        raise EditFileError(
            name, line, f"has {len(cells)} columns; an MUE row has 4 (code, units, "
            "adjudication indicator, rationale)",
        )
    units_text = cells[1]
    if not units_text.isdigit():
        raise EditFileError(name, line, f"MUE value {units_text!r} is not a whole number")
    match = _MAI_TEXT_PATTERN.match(cells[2])
    if match is None:
        raise EditFileError(
            name, line, f"adjudication indicator {cells[2]!r} should start with 1, 2 or 3 "
            "(e.g. '1 Line Edit')",
        )
    return MueLimit(
        code=code, units=int(units_text), adjudication_indicator=AdjudicationIndicator(
            match.group(1)), rationale=cells[3] if len(cells) > 3 else "",
        effective_date=when, source=source, confidence=Confidence.VERIFIED,
    )


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------
# The starter table shipped with Handbill
# ---------------------------------------------------------------------------------------

_STARTER_COLUMNS = (
    "kind", "column1", "column2", "modifier_indicator", "units", "adjudication_indicator",
    "effective_date", "deletion_date", "rationale", "confidence", "source",
)


def read_starter(path: Path = STARTER_FILE) -> EditTables:
    """Handbill's own small table of pairs and limits from secondary sources (reference §2.2,
    §2.7). Lines starting with ``#`` are comments."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EditFileError(name, None, f"cannot be read: {exc.strerror or exc}") from None
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != _STARTER_COLUMNS:
        raise EditFileError(name, None, f"header must be {','.join(_STARTER_COLUMNS)}")
    ptp: list[PtpEdit] = []
    mue: list[MueLimit] = []
    for index, row in enumerate(reader, start=2):
        try:
            kind = EditKind(row["kind"])
            effective = date.fromisoformat(row["effective_date"])
            confidence = Confidence(row["confidence"])
            if kind is EditKind.PTP:
                deletion = row["deletion_date"]
                ptp.append(PtpEdit(
                    column1=row["column1"], column2=row["column2"], effective_date=effective,
                    deletion_date=date.fromisoformat(deletion) if deletion else None,
                    modifier_indicator=ModifierIndicator(row["modifier_indicator"]),
                    rationale=row["rationale"], source=row["source"], confidence=confidence,
                ))
            else:
                mai = row["adjudication_indicator"]
                mue.append(MueLimit(
                    code=row["column1"], units=int(row["units"]),
                    adjudication_indicator=AdjudicationIndicator(mai) if mai else None,
                    rationale=row["rationale"], effective_date=effective, source=row["source"],
                    confidence=confidence,
                ))
        except (ValueError, TypeError) as exc:
            raise EditFileError(name, index, f"bad starter row ({exc})") from None
    return EditTables(ptp, mue)


@cache
def starter_tables() -> EditTables:
    return read_starter()


# ---------------------------------------------------------------------------------------
# Checking the lines of one date of service
# ---------------------------------------------------------------------------------------


class LineLike(Protocol):
    """Anything with a code, modifiers and units: :class:`BilledLine` or a claim line."""

    @property
    def code(self) -> str: ...
    @property
    def modifiers(self) -> tuple[str, ...]: ...
    @property
    def units(self) -> int: ...


_LINE_TEXT = re.compile(r"^([0-9A-Z]{5})((?:-[0-9A-Z]{2})*)(?:[X*](\d+))?$")


@dataclass(frozen=True, slots=True)
class BilledLine:
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1

    def __post_init__(self) -> None:
        _require_code(self.code, "procedure code")
        for modifier in self.modifiers:
            if not _MODIFIER.match(modifier):
                raise ValueError(
                    f"{self.code}: modifier {modifier!r} is not two letters or digits"
                )
        if len(self.modifiers) > 4:
            raise ValueError(f"{self.code}: a claim line holds at most 4 modifiers")
        if isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < 1:
            raise ValueError(f"{self.code}: units must be a whole number of at least 1")

    @classmethod
    def parse(cls, text: str) -> BilledLine:
        """``97140``, ``97140-XS``, ``97140-XS-GP``, ``97124x3`` or ``97124-59*2``."""
        match = _LINE_TEXT.match(text.strip().upper())
        if match is None:
            raise ValueError(
                f"{text!r} is not a billed line: write CODE[-MOD…][xUNITS], "
                "e.g. 97140-XS or 97124x2"
            )
        code, modifiers, units = match.groups()
        return cls(
            code=code,
            modifiers=tuple(part for part in modifiers.split("-") if part),
            units=int(units) if units else 1,
        )

    def __str__(self) -> str:
        text = "-".join((self.code, *self.modifiers))
        return f"{text}x{self.units}" if self.units != 1 else text


@dataclass(frozen=True, slots=True)
class EditFinding:
    """One result of :func:`check`.

    ``lines`` are 1-based positions in the list given to :func:`check`. For a PTP finding the
    column-1 lines come first and the column-2 line (the one that will be denied) is last.
    """

    rule: str  # "ncci.ptp", "ncci.mue", "ncci.modifier_59_with_x"
    severity: Severity
    message: str
    fix: str
    codes: tuple[str, ...]
    lines: tuple[int, ...]
    column2: str | None = None
    modifier_indicator: ModifierIndicator | None = None
    bypass_modifier: str | None = None
    limit: int | None = None
    units: int | None = None
    source: str = ""
    confidence: Confidence | None = None

    def as_finding(self) -> Finding:
        """The scrubber's finding; it points at the line that will be denied."""
        line = self.lines[-1] if self.lines else None
        code = self.column2 or (self.codes[0] if self.codes else None)
        return Finding(self.rule, self.severity, self.message, self.fix, line=line, code=code)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
            "codes": list(self.codes),
            "lines": list(self.lines),
        }
        optional: Mapping[str, Any] = {
            "column2": self.column2,
            "modifier_indicator": self.modifier_indicator.value
            if self.modifier_indicator else None,
            "bypass_modifier": self.bypass_modifier,
            "limit": self.limit,
            "units": self.units,
            "source": self.source or None,
            "confidence": self.confidence.value if self.confidence else None,
        }
        result.update({key: value for key, value in optional.items() if value is not None})
        return result


def _caveat(confidence: Confidence) -> str:
    if confidence is Confidence.VERIFIED:
        return ""
    return (
        f" [{confidence.value} row from Handbill's starter table: import the CMS NCCI file to "
        "confirm it]"
    )


def _bypass_hint(column1: str, column2: str) -> str:
    if _pair_key(column1, column2) in _TIME_BLOCK_PAIRS:
        return (
            f"XU (or 59) on {column2} if the note shows the two were done in separate time "
            "blocks; never when done in the same block"
        )
    if column1 in _CMT_CODES:
        return (
            f"XS (or 59) on {column2} if the note documents it on a region that was not "
            f"adjusted, with {column2}'s diagnosis pointer on that region"
        )
    return (
        f"XS/59 on {column2} if the note documents a separate region, or XU/59 for a separate "
        "time block"
    )


def _ptp_finding(
    edit: PtpEdit,
    column1_lines: list[int],
    column1_modifiers: set[str],
    position: int,
    line: LineLike,
) -> EditFinding:
    c1, c2 = edit.column1, edit.column2
    mi = edit.modifier_indicator
    bypass = sorted(BYPASS_MODIFIERS.intersection(line.modifiers))
    label = f"{c2} is bundled into {c1} (NCCI PTP edit, modifier indicator {mi.value})"
    caveat = _caveat(edit.confidence)
    common: dict[str, Any] = {
        "rule": "ncci.ptp",
        "codes": (c1, c2),
        "lines": (*column1_lines, position),
        "column2": c2,
        "modifier_indicator": mi,
        "source": edit.source,
        "confidence": edit.confidence,
    }
    if mi is ModifierIndicator.NOT_ALLOWED:
        extra = f"; {bypass[0]} does not bypass it" if bypass else ""
        return EditFinding(
            severity=Severity.BLOCKING,
            message=f"{label}: no modifier can bypass it, so {c2} will be denied{extra}{caveat}",
            fix=f"Remove {c2} from this date of service; bill it only if it was a separate "
            "encounter the payer accepts, or appeal with the note",
            bypass_modifier=bypass[0] if bypass else None,
            **common,
        )
    if bypass:
        chosen = bypass[0]
        better = (
            " Use an X modifier (XS, XU) instead of 59 where one fits and the payer takes it."
            if chosen == "59" else ""
        )
        return EditFinding(
            severity=Severity.INFO,
            message=f"{label}: bypassed by {chosen} on {c2} — documentation must support it"
            f"{caveat}",
            fix=f"Make sure the note supports it: {_bypass_hint(c1, c2)}.{better}",
            bypass_modifier=chosen,
            **common,
        )
    misplaced = sorted(BYPASS_MODIFIERS.intersection(column1_modifiers))
    moved = (
        f"The {misplaced[0]} on {c1} does not help: the modifier goes on the column-2 code. "
        if misplaced else ""
    )
    return EditFinding(
        severity=Severity.BLOCKING,
        message=f"{label}: {c2} will be denied unless a modifier on {c2} bypasses it{caveat}",
        fix=f"{moved}Add {_bypass_hint(c1, c2)}; otherwise remove {c2}",
        **common,
    )


def _mue_findings(
    lines: Sequence[LineLike], date_of_service: date, edits: EditTables
) -> list[EditFinding]:
    positions: dict[str, list[int]] = defaultdict(list)
    for position, line in enumerate(lines, start=1):
        positions[line.code].append(position)
    findings: list[EditFinding] = []
    for code, where in positions.items():
        limit = edits.mue_limit(code, date_of_service)
        if limit is None:
            continue
        caveat = _caveat(limit.confidence)
        indicator = limit.adjudication_indicator
        common: dict[str, Any] = {
            "rule": "ncci.mue",
            "severity": Severity.BLOCKING,
            "codes": (code,),
            "limit": limit.units,
            "source": limit.source,
            "confidence": limit.confidence,
        }
        if limit.per_date_of_service:
            total_units = sum(lines[position - 1].units for position in where)
            if total_units <= limit.units:
                continue
            if indicator is AdjudicationIndicator.DATE_POLICY:
                how = "MAI 2, per date of service, policy: an appeal will not change it"
                fix = f"Bill at most {limit.units} unit(s) of {code} on this date"
            elif indicator is AdjudicationIndicator.DATE_CLINICAL:
                how = "MAI 3, per date of service, clinical"
                fix = (
                    f"Bill at most {limit.units} unit(s) of {code} on this date; if more were "
                    "medically necessary, expect a denial and appeal with the note"
                )
            else:
                how = "adjudication indicator not known, so counted per date of service"
                fix = f"Bill at most {limit.units} unit(s) of {code} on this date"
            findings.append(EditFinding(
                message=f"{total_units} units of {code} on this date exceed its MUE of "
                f"{limit.units} ({how}); the line(s) will be denied{caveat}",
                fix=fix, lines=tuple(where), units=total_units,
                **common,
            ))
            continue
        for position in where:
            units = lines[position - 1].units
            if units <= limit.units:
                continue
            findings.append(EditFinding(
                message=f"line {position}: {units} units of {code} exceed its MUE of "
                f"{limit.units} per line (MAI 1, line edit); the line will be denied{caveat}",
                fix=f"Bill at most {limit.units} unit(s) per line; units for a separately "
                "documented site or session go on their own line with the modifier that "
                "shows it (e.g. XS, XE or 59)",
                lines=(position,), units=units,
                **common,
            ))
    return findings


def check(
    lines: Sequence[LineLike], date_of_service: date, edits: EditTables
) -> list[EditFinding]:
    """Findings for the lines one provider bills for one patient on ``date_of_service``.

    PTP: for each column-1/column-2 pair billed together, one finding per column-2 line
    (bypassed, bypassable, or not). MUE: units above the limit, counted per line (MAI 1) or
    summed per code over the date (MAI 2/3). Also warns when 59 and an X modifier share a line.
    """
    findings: list[EditFinding] = []
    for position, line in enumerate(lines, start=1):
        xs = sorted(X_MODIFIERS.intersection(line.modifiers))
        if "59" in line.modifiers and xs:
            findings.append(EditFinding(
                rule="ncci.modifier_59_with_x", severity=Severity.WARNING,
                message=f"line {position}: {line.code} carries both 59 and {xs[0]}",
                fix=f"Keep only {xs[0]} (the more specific modifier); never put 59 and an X "
                "modifier on the same line",
                codes=(line.code,), lines=(position,),
            ))
    positions: dict[str, list[int]] = defaultdict(list)
    for position, line in enumerate(lines, start=1):
        positions[line.code].append(position)
    hits = [
        edit
        for column2 in positions
        for column1 in positions
        if column1 != column2
        and (edit := edits.ptp_edit(column1, column2, date_of_service)) is not None
    ]
    column2_codes = {edit.column2 for edit in hits}
    for edit in hits:
        column1_positions = positions[edit.column1]
        # A bypass modifier on a column-1 line is misplaced, unless that line is itself the
        # column 2 of another edit and the modifier is there for that one.
        misplaced = (
            set()
            if edit.column1 in column2_codes
            else {modifier for at in column1_positions for modifier in lines[at - 1].modifiers}
        )
        for position in positions[edit.column2]:
            findings.append(
                _ptp_finding(edit, column1_positions, misplaced, position, lines[position - 1])
            )
    findings.extend(_mue_findings(lines, date_of_service, edits))
    return findings
