"""NCCI PTP/MUE: the CMS file readers, the starter table, the tables' precedence and check()."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbill.core.claimdata import ClaimLine, Finding, Severity
from handbill.core.edits import (
    STARTER_FILE,
    AdjudicationIndicator,
    BilledLine,
    Confidence,
    EditFileError,
    EditKind,
    EditTables,
    ModifierIndicator,
    MueFile,
    MueLimit,
    Program,
    PtpEdit,
    PtpFile,
    check,
    effective_date_from_name,
    read_edit_file,
    read_mue_file,
    read_ptp_file,
    read_starter,
    starter_tables,
)
from handbill.core.money import Cents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ncci"
PTP_TXT = FIXTURES / "ccipra-v321r0-f1.TXT"
PTP_CSV = FIXTURES / "medicare-ncci-2026q3-practitioner-ptp-edits-f1.csv"
PTP_MEDICAID = FIXTURES / "medicaid-ncci-2026q3-practitioner-ptp.txt"
MUE_CSV = FIXTURES / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
BAD_HALFWAY = FIXTURES / "ccipra-bad-date-halfway.TXT"

DOS = date(2026, 3, 2)
NOTICE = "Made-up notice line for a test file; codes only, no descriptors."
HEADER_TXT = [
    NOTICE,
    "Test title line",
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
]
MUE_HEADER = (
    "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale"
)


def write_cms(path: Path, lines: list[str]) -> Path:
    """A file as CMS ships it: latin-1, CRLF."""
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode("latin-1"))
    return path


def edit(
    column1: str,
    column2: str,
    indicator: str = "1",
    start: date = date(2020, 1, 1),
    end: date | None = None,
    confidence: Confidence = Confidence.VERIFIED,
    source: str = "test",
) -> PtpEdit:
    return PtpEdit(column1, column2, start, end, ModifierIndicator(indicator), "test pair", source,
                   confidence)


def limit(
    code: str,
    units: int,
    mai: str | None,
    start: date = date(2020, 1, 1),
    confidence: Confidence = Confidence.VERIFIED,
) -> MueLimit:
    return MueLimit(code, units, AdjudicationIndicator(mai) if mai else None, "test", start,
                    "test", confidence)


def lines(*texts: str) -> list[BilledLine]:
    return [BilledLine.parse(text) for text in texts]


# --- reading the PTP files ------------------------------------------------------------------


@pytest.mark.parametrize("path", [PTP_TXT, PTP_CSV, PTP_MEDICAID, MUE_CSV, BAD_HALFWAY])
def test_fixtures_are_in_the_cms_encoding(path: Path) -> None:
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") > 0
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # latin-1 letters present, so this is not UTF-8 by accident


def test_practitioner_txt_rows_notice_and_header_skipped() -> None:
    parsed = read_edit_file(PTP_TXT)
    assert isinstance(parsed, PtpFile)
    assert parsed.kind is EditKind.PTP
    assert parsed.program is Program.MEDICARE
    assert parsed.layout == "medicare-txt"
    # notice, title, a blank line and the header wrapped over four lines
    assert parsed.skipped_lines == 7
    assert len(parsed.rows) == 10
    assert parsed.duplicates_resolved == 2
    # v32.1 is 2026 Q2
    assert parsed.effective_date == date(2026, 4, 1)
    assert parsed.effective_date_from == "file name"
    assert len(parsed.sha256) == 64
    first = parsed.rows[0]
    assert first == PtpEdit(
        "98940", "97140", date(2020, 1, 1), None, ModifierIndicator.ALLOWED,
        "Misuse of column two code with column one code", "CMS file ccipra-v321r0-f1.TXT",
        Confidence.VERIFIED,
    )


def test_star_means_no_deletion_and_dates_are_read() -> None:
    rows = {(e.column1, e.column2): e for e in read_ptp_file(PTP_TXT).rows}
    assert rows[("98940", "97140")].deletion_date is None
    assert rows[("97140", "97124")].deletion_date == date(2026, 7, 1)
    # the pre-1996 flag in column 3 does not shift the columns
    assert rows[("97124", "97010")].effective_date == date(1996, 1, 1)
    assert rows[("97530", "97150")].modifier_indicator is ModifierIndicator.NOT_ALLOWED


def test_latin1_rationale_is_decoded() -> None:
    rows = {(e.column1, e.column2): e for e in read_ptp_file(PTP_TXT).rows}
    assert rows[("98940", "97124")].rationale == (
        "Mutually exclusive procedures (région différente, voir §2)"
    )


def test_duplicate_pairs_keep_the_row_in_force_or_deleted_last() -> None:
    rows = {(e.column1, e.column2): e for e in read_ptp_file(PTP_TXT).rows}
    # MI 9 (deleted 2021) and an active row: the active one stays
    replaced = rows[("97012", "97140")]
    assert (replaced.modifier_indicator, replaced.deletion_date) == (ModifierIndicator.ALLOWED,
                                                                      None)
    assert replaced.effective_date == date(2021, 1, 1)
    # a retroactive deletion and a deletion in April: the later deletion stays
    evaluation = rows[("97161", "97530")]
    assert evaluation.deletion_date == date(2020, 4, 1)
    assert evaluation.modifier_indicator is ModifierIndicator.NOT_ALLOWED


def test_csv_form_gives_the_same_rows_as_the_txt() -> None:
    csv_file = read_ptp_file(PTP_CSV)
    txt_rows = {(e.column1, e.column2): e for e in read_ptp_file(PTP_TXT).rows}
    assert csv_file.layout == "medicare-csv"
    assert csv_file.effective_date == date(2026, 7, 1)
    assert csv_file.skipped_lines == 2
    assert len(csv_file.rows) == 5
    for row in csv_file.rows:
        twin = txt_rows[(row.column1, row.column2)]
        assert (row.effective_date, row.deletion_date, row.modifier_indicator, row.rationale) == (
            twin.effective_date, twin.deletion_date, twin.modifier_indicator, twin.rationale
        )


def test_medicaid_layout_without_the_pre_1996_column() -> None:
    parsed = read_ptp_file(PTP_MEDICAID)
    assert parsed.program is Program.MEDICAID
    assert parsed.layout == "medicaid-txt"
    assert [(e.column1, e.column2) for e in parsed.rows] == [
        ("98940", "97140"), ("98941", "97140"), ("98940", "97124"), ("97140", "97530")
    ]
    assert all(e.effective_date == date(2020, 1, 1) for e in parsed.rows)


def test_text_stream_reads_like_the_path() -> None:
    with PTP_TXT.open(encoding="latin-1", newline="") as stream:
        from_stream = read_edit_file(stream)
    from_path = read_edit_file(PTP_TXT)
    assert from_stream.name == "ccipra-v321r0-f1.TXT"
    assert from_stream.rows == from_path.rows


def test_utf8_copy_of_a_file_still_reads(tmp_path: Path) -> None:
    # A spreadsheet may re-save the file as UTF-8 with a byte-order mark.
    text = PTP_TXT.read_bytes().decode("latin-1")
    copy = tmp_path / "ccipra-v321r0-f1.TXT"
    copy.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert read_ptp_file(copy).rows == read_ptp_file(PTP_TXT).rows


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MCR_MUE_PractitionerServices_Eff_07-01-2026.csv", date(2026, 7, 1)),
        ("medicare-ncci-2026q2-practitioner-ptp-edits-ccipra-v321r0-f1.zip", date(2026, 4, 1)),
        ("ccipra-v322r0-f3.TXT", date(2026, 7, 1)),
        ("ccipra-v310r0-f1.TXT", date(2025, 1, 1)),
        ("/some/dir/2025Q4_ptp.csv", date(2025, 10, 1)),
        ("edits.txt", None),
        ("MCR_MUE_Eff_13-45-2026.csv", None),
    ],
)
def test_effective_date_from_the_file_name(name: str, expected: date | None) -> None:
    assert effective_date_from_name(name) == expected


def test_effective_date_argument_wins_for_ptp_and_else_latest_row(tmp_path: Path) -> None:
    assert read_ptp_file(PTP_TXT, effective_date=date(2026, 5, 1)).effective_date_from == (
        "argument"
    )
    plain = write_cms(tmp_path / "pairs.txt", [
        *HEADER_TXT,
        "97140\t97124\t\t20200101\t*\t1\tMutually exclusive procedures",
        "97140\t97530\t\t20240701\t*\t1\tMutually exclusive procedures",
    ])
    parsed = read_ptp_file(plain)
    assert (parsed.effective_date, parsed.effective_date_from) == (date(2024, 7, 1),
                                                                   "latest row")


# --- reading the MUE file ---------------------------------------------------------------------


def test_mue_csv_rows_and_effective_date_from_the_name() -> None:
    parsed = read_edit_file(MUE_CSV)
    assert isinstance(parsed, MueFile)
    assert parsed.kind is EditKind.MUE
    assert parsed.program is Program.MEDICARE
    assert parsed.effective_date == date(2026, 7, 1)
    assert parsed.skipped_lines == 2  # the notice row and the header
    by_code = {row.code: row for row in parsed.rows}
    assert len(by_code) == 6
    assert by_code["97012"].adjudication_indicator is AdjudicationIndicator.LINE
    assert by_code["97010"].adjudication_indicator is AdjudicationIndicator.DATE_POLICY
    assert by_code["97124"].units == 4
    assert by_code["97124"].adjudication_indicator.text == "Date of Service Edit: Clinical"
    assert by_code["G0283"].rationale == "Clinical: Data (½ checked)"
    assert all(row.effective_date == date(2026, 7, 1) for row in parsed.rows)


def test_mue_needs_an_effective_date_when_the_name_has_none() -> None:
    text = "\r\n".join([f'"{NOTICE}"', MUE_HEADER, "97012,1,1 Line Edit,Clinical: Data"])
    with pytest.raises(EditFileError, match="give its effective date"):
        read_edit_file(io.StringIO(text), name="mue.csv")
    parsed = read_mue_file(io.StringIO(text), name="mue.csv", effective_date=date(2026, 4, 1))
    assert parsed.rows[0].effective_date == date(2026, 4, 1)
    assert parsed.effective_date_from == "argument"


def test_mue_date_argument_that_contradicts_the_name_is_refused() -> None:
    with pytest.raises(EditFileError, match="file name says effective 2026-07-01"):
        read_edit_file(MUE_CSV, effective_date=date(2026, 4, 1))


def test_asking_for_the_wrong_kind_says_so() -> None:
    with pytest.raises(EditFileError, match="is an MUE file, not a PTP file"):
        read_ptp_file(MUE_CSV)
    with pytest.raises(EditFileError, match="is a PTP file, not an MUE file"):
        read_mue_file(PTP_TXT)


# --- files that are not usable ----------------------------------------------------------------

GOOD_ROW = "97140\t97124\t\t20200101\t*\t1\tMutually exclusive procedures"


@pytest.mark.parametrize(
    ("bad_row", "problem"),
    [
        ("97140\t97530\t\t20201301\t*\t1\tMutually exclusive", "effective date '20201301'"),
        ("97140\t97530\t\t20200101\t2020-1-1\t1\tMutually exclusive", "deletion date"),
        ("97140\t97530\t\t20200101\t*\t2\tMutually exclusive", "modifier indicator '2'"),
        ("97140\t97530\t\t20200101\t20190101\t1\tMutually exclusive", "before effective date"),
        ("97140\t97530\tX\t20200101\t*\t1\tMutually exclusive", "columns shifted"),
        ("97140\t97530\t\t20200101", "has 4 columns"),
        ("97140\t97530\t\t20200101\t*\t1\tMutually exclusive\textra", "has 8 columns"),
        ("9714\t97530\t\t20200101\t*\t1\tMutually exclusive", "expected two five-character"),
    ],
)
def test_bad_ptp_row_names_file_and_line(tmp_path: Path, bad_row: str, problem: str) -> None:
    path = write_cms(tmp_path / "ccipra-v321r0-f2.TXT", [*HEADER_TXT, GOOD_ROW, bad_row, GOOD_ROW])
    with pytest.raises(EditFileError) as caught:
        read_edit_file(path)
    assert caught.value.file == "ccipra-v321r0-f2.TXT"
    assert caught.value.line == 6
    assert problem in str(caught.value)
    assert str(caught.value).startswith("ccipra-v321r0-f2.TXT, line 6: ")


def test_the_bad_fixture_fails_on_its_line() -> None:
    with pytest.raises(EditFileError, match=r"ccipra-bad-date-halfway.TXT, line 11: deletion"):
        read_edit_file(BAD_HALFWAY)


@pytest.mark.parametrize(
    ("bad_row", "problem"),
    [
        ("97012,one,1 Line Edit,Clinical: Data", "MUE value 'one'"),
        ("97012,-1,1 Line Edit,Clinical: Data", "MUE value '-1'"),
        ("97012,1,4 Something Else,Clinical: Data", "adjudication indicator '4 Something"),
        ("97012,1", "has 2 columns"),
        ("Total,,,", "expected a five-character code"),
    ],
)
def test_bad_mue_row_names_file_and_line(tmp_path: Path, bad_row: str, problem: str) -> None:
    path = write_cms(tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", [
        f'"{NOTICE}"', MUE_HEADER, "97010,1,2 Date of Service Edit: Policy,Policy", bad_row,
    ])
    with pytest.raises(EditFileError) as caught:
        read_edit_file(path)
    assert caught.value.line == 4
    assert problem in str(caught.value)


def test_mue_header_with_the_wrong_columns(tmp_path: Path) -> None:
    path = write_cms(tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", [
        f'"{NOTICE}"', "HCPCS/CPT Code,MUE Values,Rationale,Adjudication",
        "97010,1,2 Date of Service Edit: Policy,Policy",
    ])
    with pytest.raises(EditFileError, match="line 2: wrong columns"):
        read_edit_file(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"\r\n\r\n", "is empty"),
        (b"Just some notes\r\nabout nothing\r\n", "is neither a CMS NCCI PTP file"),
        (b"name,units\r\nmassage,2\r\n", "is neither"),
        (b"PK\x03\x04\x14\x00rest of a zip", "is a zip archive"),
        (b"\x00\x01\x02binary", "binary file"),
        ("notice only\r\n" + "\t".join(["Column 1", "Column 2"]) + "\r\n", "is neither"),
    ],
)
def test_files_that_are_not_cms_files(tmp_path: Path, content: bytes | str, problem: str) -> None:
    raw = content.encode("latin-1") if isinstance(content, str) else content
    path = tmp_path / "upload.txt"
    path.write_bytes(raw)
    with pytest.raises(EditFileError, match=problem) as caught:
        read_edit_file(path)
    assert caught.value.file == "upload.txt"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EditFileError, match="nope.TXT: cannot be read"):
        read_edit_file(tmp_path / "nope.TXT")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(EditFileError, match="cannot be read"):
        read_edit_file(tmp_path)


# --- round trip (property) --------------------------------------------------------------------

codes = st.sampled_from(["97124", "97140", "97112", "97110", "97530", "98940", "G0283", "0275T"])
days = st.dates(min_value=date(1996, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def ptp_rows(draw: st.DrawFn) -> PtpEdit:
    column1, column2 = draw(st.lists(codes, min_size=2, max_size=2, unique=True))
    start = draw(days)
    end = draw(st.none() | days.filter(lambda day: day >= start))
    return PtpEdit(
        column1, column2, start, end, draw(st.sampled_from(list(ModifierIndicator))),
        draw(st.sampled_from(["Mutually exclusive procedures", "Standards of médical practice"])),
        "CMS file ptp.txt", Confidence.VERIFIED,
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(ptp_rows(), min_size=1, max_size=12, unique_by=lambda e: (e.column1, e.column2)))
def test_written_rows_read_back_unchanged(rows: list[PtpEdit]) -> None:
    def when(day: date | None) -> str:
        return day.strftime("%Y%m%d") if day else "*"

    text = "\r\n".join([
        *HEADER_TXT,
        *(
            "\t".join([r.column1, r.column2, "", when(r.effective_date), when(r.deletion_date),
                       r.modifier_indicator.value, r.rationale])
            for r in rows
        ),
    ])
    parsed = read_ptp_file(io.StringIO(text), name="ptp.txt")
    assert parsed.rows == tuple(rows)


# --- the starter table ------------------------------------------------------------------------


def test_starter_table_loads_and_marks_every_row() -> None:
    tables = starter_tables()
    assert len(tables.ptp_rows) == 24
    assert len(tables.mue_rows) == 12
    for row in (*tables.ptp_rows, *tables.mue_rows):
        assert row.source.startswith("reference §2.")
        assert row.effective_date == date(2020, 1, 1)
    confidences = [row.confidence for row in (*tables.ptp_rows, *tables.mue_rows)]
    # Most of it is unverified, as the reference says.
    assert confidences.count(Confidence.UNVERIFIED) > len(confidences) / 2


def test_starter_marks_rows_as_the_reference_does() -> None:
    tables = starter_tables()
    assert tables.ptp_edit("98940", "97140", DOS).confidence is Confidence.VERIFIED
    assert tables.ptp_edit("97140", "97530", DOS).confidence is Confidence.VERIFIED
    assert tables.ptp_edit("97140", "97124", DOS).confidence is Confidence.UNVERIFIED
    assert tables.ptp_edit("98941", "97112", DOS).confidence is Confidence.UNVERIFIED
    assert tables.ptp_edit("97012", "97140", DOS).confidence is Confidence.SINGLE_SOURCE
    assert tables.ptp_edit("97530", "97164", DOS).confidence is Confidence.SINGLE_SOURCE
    # The 2020 hard edits on evaluations were deleted in April 2020.
    assert tables.ptp_edit("97161", "97530", date(2020, 2, 1)) is not None
    assert tables.ptp_edit("97161", "97530", DOS) is None
    assert all(row.confidence is Confidence.UNVERIFIED for row in tables.mue_rows)


def test_starter_guesses_no_mue_for_the_timed_codes_the_reference_excludes() -> None:
    guessed = {row.code for row in starter_tables().mue_rows}
    assert guessed.isdisjoint({"97110", "97112", "97124", "97140", "97530"})
    assert starter_tables().mue_limit("97012", DOS).units == 1


def test_starter_rows_are_catalogue_codes() -> None:
    from handbill.core.codes import cpt

    for row in starter_tables().ptp_rows:
        assert cpt.is_known(row.column1) and cpt.is_known(row.column2)
    for mue_row in starter_tables().mue_rows:
        assert cpt.is_known(mue_row.code)


def test_a_broken_starter_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "starter.csv"
    rows = STARTER_FILE.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(rows) if line.startswith("kind,"))
    path.write_text("\n".join([rows[header_at], "ptp,97140,97124,7,,,2020-01-01,,x,verified,y"]),
                    encoding="utf-8")
    with pytest.raises(EditFileError, match="starter.csv, line 2"):
        read_starter(path)


# --- in force on a date -----------------------------------------------------------------------


def test_periods_are_from_inclusive_to_exclusive() -> None:
    row = edit("97140", "97124", start=date(2026, 1, 1), end=date(2026, 7, 1))
    assert not row.in_force_on(date(2025, 12, 31))
    assert row.in_force_on(date(2026, 1, 1))
    assert row.in_force_on(date(2026, 6, 30))
    assert not row.in_force_on(date(2026, 7, 1))


def test_indicator_9_never_applies() -> None:
    assert not edit("97140", "97124", indicator="9").in_force_on(DOS)


def test_value_types_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="not a five-character"):
        edit("9714", "97124")
    with pytest.raises(ValueError, match="before effective date"):
        edit("97140", "97124", start=date(2026, 1, 1), end=date(2025, 1, 1))
    with pytest.raises(ValueError, match="units must be"):
        limit("97012", -1, "1")
    # A retroactive deletion: equal dates, an empty period.
    retro = edit("97140", "97124", "9", date(2026, 1, 1), date(2026, 1, 1))
    assert not retro.in_force_on(date(2026, 1, 1))


def test_mue_limit_in_force_is_the_latest_started() -> None:
    tables = EditTables(mue=[limit("97012", 2, "1", date(2025, 1, 1)),
                             limit("97012", 1, "1", date(2026, 7, 1))])
    assert tables.mue_limit("97012", date(2024, 12, 31)) is None
    assert tables.mue_limit("97012", date(2026, 6, 30)).units == 2
    assert tables.mue_limit("97012", date(2026, 7, 1)).units == 1


def test_imported_rows_win_over_the_starter_in_either_order() -> None:
    starter = EditTables(
        [edit("97140", "97124", confidence=Confidence.UNVERIFIED, source="starter"),
         edit("98940", "97140", source="starter")],
        [limit("97012", 1, None, confidence=Confidence.UNVERIFIED), limit("97035", 2, "3")],
    )
    imported = EditTables(
        # CMS has the pair the other way round, and already deleted
        [edit("97124", "97140", end=date(2021, 1, 1), source="cms")],
        [limit("97012", 3, "1", date(2026, 7, 1))],
    )
    merged = EditTables.merge(starter, imported)
    assert merged.ptp_edit("97140", "97124", DOS) is None
    assert merged.ptp_edit("97124", "97140", DOS) is None
    assert merged.ptp_edit("98940", "97140", DOS).source == "starter"
    # The imported MUE starts later; the starter's guess does not come back before it.
    assert merged.mue_limit("97012", DOS) is None
    assert merged.mue_limit("97012", date(2026, 7, 1)).units == 3
    assert merged.mue_limit("97035", DOS).units == 2


def test_in_force_on_and_for_codes_narrow_the_tables() -> None:
    tables = EditTables(
        [edit("97140", "97124"), edit("97140", "97530", end=date(2021, 1, 1)),
         edit("98940", "97140")],
        [limit("97012", 1, "1"), limit("97010", 1, "2", date(2027, 1, 1))],
    )
    today = tables.in_force_on(DOS)
    assert {(e.column1, e.column2) for e in today.ptp_rows} == {("97140", "97124"),
                                                                ("98940", "97140")}
    assert [m.code for m in today.mue_rows] == ["97012"]
    narrowed = tables.for_codes({"97140", "97124", "97012"})
    # a pair counts only when both of its codes were asked for
    assert [(e.column1, e.column2) for e in narrowed.ptp_rows] == [("97140", "97124")]
    assert [m.code for m in narrowed.mue_rows] == ["97012"]
    assert len(narrowed) == 2


# --- check() ----------------------------------------------------------------------------------

TABLES = EditTables(
    [
        edit("98940", "97140"),
        edit("97140", "97124", end=date(2026, 7, 1)),
        edit("97140", "97530"),
        edit("97530", "97150", indicator="0"),
        edit("97150", "97110", start=date(2026, 10, 1)),
        edit("97161", "97140", confidence=Confidence.UNVERIFIED, source="reference §2.2"),
    ],
    [
        limit("97012", 1, "1"),
        limit("97010", 1, "2"),
        limit("97124", 4, "3"),
        limit("G0283", 1, None, confidence=Confidence.UNVERIFIED),
    ],
)


def only(findings: list, rule: str) -> list:
    return [finding for finding in findings if finding.rule == rule]


def test_bypass_modifier_on_column_2_is_info_with_a_documentation_reminder() -> None:
    [finding] = check(lines("98940", "97140-XS"), DOS, TABLES)
    assert finding.rule == "ncci.ptp"
    assert finding.severity is Severity.INFO
    assert finding.codes == ("98940", "97140")
    assert finding.column2 == "97140"
    assert finding.lines == (1, 2)
    assert finding.bypass_modifier == "XS"
    assert finding.modifier_indicator is ModifierIndicator.ALLOWED
    assert "bypassed by XS" in finding.message
    assert "documentation must support it" in finding.message
    assert "region that was not adjusted" in finding.fix


def test_missing_modifier_on_a_bypassable_pair_blocks_with_the_fix() -> None:
    [finding] = check(lines("97140", "97124"), DOS, TABLES)
    assert finding.severity is Severity.BLOCKING
    assert finding.column2 == "97124"
    assert "97124 will be denied unless a modifier" in finding.message
    assert finding.fix.startswith("Add XS/59 on 97124 if the note documents a separate region")


def test_time_block_pair_suggests_xu() -> None:
    [finding] = check(lines("97140", "97530"), DOS, TABLES)
    assert "XU (or 59) on 97530" in finding.fix
    assert "separate time blocks" in finding.fix


def test_modifier_on_the_column_1_code_is_pointed_out() -> None:
    [finding] = check(lines("97140-59", "97124"), DOS, TABLES)
    assert finding.severity is Severity.BLOCKING
    assert "The 59 on 97140 does not help" in finding.fix


def test_modifier_on_column_1_that_serves_another_pair_is_not_called_misplaced() -> None:
    findings = check(lines("98940", "97140-XS", "97124"), DOS, TABLES)
    missing = [f for f in findings if f.column2 == "97124"]
    assert len(missing) == 1
    assert "does not help" not in missing[0].fix


def test_59_bypass_suggests_an_x_modifier() -> None:
    [finding] = check(lines("98940", "97140-59"), DOS, TABLES)
    assert finding.severity is Severity.INFO
    assert finding.bypass_modifier == "59"
    assert "Use an X modifier" in finding.fix


def test_indicator_0_blocks_even_with_a_modifier() -> None:
    [finding] = check(lines("97530", "97150-XU"), DOS, TABLES)
    assert finding.severity is Severity.BLOCKING
    assert finding.modifier_indicator is ModifierIndicator.NOT_ALLOWED
    assert "no modifier can bypass it" in finding.message
    assert "XU does not bypass it" in finding.message
    assert "Remove 97150" in finding.fix


def test_each_column_2_line_gets_its_own_finding() -> None:
    findings = check(lines("98940", "97140-XS", "97140"), DOS, TABLES)
    assert [(f.lines, f.severity) for f in findings] == [
        ((1, 2), Severity.INFO), ((1, 3), Severity.BLOCKING)
    ]


def test_date_windows_of_the_edits() -> None:
    pair = lines("97140", "97124")
    assert check(pair, date(2026, 6, 30), TABLES)
    assert check(pair, date(2026, 7, 1), TABLES) == []
    later = lines("97150", "97110")
    assert check(later, date(2026, 9, 30), TABLES) == []
    assert check(later, date(2026, 10, 1), TABLES)


def test_no_finding_for_unrelated_codes_or_a_code_alone() -> None:
    assert check(lines("97124", "97112"), DOS, TABLES) == []
    assert check(lines("97140x2"), DOS, TABLES) == []
    assert check([], DOS, TABLES) == []


def test_unverified_rows_say_so_in_the_message() -> None:
    [finding] = check(lines("97161", "97140"), DOS, TABLES)
    assert finding.confidence is Confidence.UNVERIFIED
    assert "unverified row from Handbill's starter table" in finding.message
    [verified] = check(lines("98940", "97140"), DOS, TABLES)
    assert "starter table" not in verified.message


def test_mue_line_edit_counts_each_line() -> None:
    [finding] = check(lines("97012x2"), DOS, TABLES)
    assert finding.rule == "ncci.mue"
    assert finding.severity is Severity.BLOCKING
    assert (finding.limit, finding.units, finding.lines) == (1, 2, (1,))
    assert "per line (MAI 1, line edit)" in finding.message
    # two lines of one unit each stay within a line edit
    assert check(lines("97012-XS", "97012"), DOS, TABLES) == []


def test_mue_date_of_service_edits_sum_the_lines() -> None:
    [policy] = check(lines("97010", "97010"), DOS, TABLES)
    assert (policy.units, policy.limit, policy.lines) == (2, 1, (1, 2))
    assert "MAI 2" in policy.message and "appeal will not change it" in policy.message
    [clinical] = check(lines("97124x3", "97124-59x2"), DOS, TABLES)
    assert (clinical.units, clinical.limit) == (5, 4)
    assert "MAI 3" in clinical.message
    assert "appeal" in clinical.fix
    assert check(lines("97124x2", "97124-59x2"), DOS, TABLES) == []


def test_mue_without_a_known_indicator_counts_per_date() -> None:
    [finding] = check(lines("G0283", "G0283"), DOS, TABLES)
    assert "not known" in finding.message
    assert finding.confidence is Confidence.UNVERIFIED


def test_59_and_an_x_modifier_on_one_line_warn() -> None:
    findings = check(lines("97124-59-XS"), DOS, TABLES)
    [finding] = only(findings, "ncci.modifier_59_with_x")
    assert finding.severity is Severity.WARNING
    assert finding.lines == (1,)
    assert "Keep only XS" in finding.fix


def test_findings_turn_into_scrub_findings_and_json() -> None:
    [finding] = check(lines("97140", "97124"), DOS, TABLES)
    assert finding.as_finding() == Finding(
        "ncci.ptp", Severity.BLOCKING, finding.message, finding.fix, line=2, code="97124"
    )
    data = finding.as_dict()
    assert data["severity"] == "blocking"
    assert data["modifier_indicator"] == "1"
    assert data["codes"] == ["97140", "97124"]
    assert "bypass_modifier" not in data


def test_check_reads_claim_lines_too() -> None:
    claim_lines = [
        ClaimLine(1, "98940", 1, (), (1,), Cents(5500), 0, ""),
        ClaimLine(2, "97140", 2, ("XS", "GP"), (2,), Cents(14000), 30, ""),
    ]
    [finding] = check(claim_lines, DOS, TABLES)
    assert finding.bypass_modifier == "XS"


# --- billed-line text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("97140", BilledLine("97140")),
        ("97140-XS", BilledLine("97140", ("XS",))),
        ("97140-xs-gp", BilledLine("97140", ("XS", "GP"))),
        ("97124x3", BilledLine("97124", (), 3)),
        ("97124-59*2", BilledLine("97124", ("59",), 2)),
        ("g0283", BilledLine("G0283")),
    ],
)
def test_billed_line_text(text: str, expected: BilledLine) -> None:
    assert BilledLine.parse(text) == expected


@pytest.mark.parametrize("text", ["9714", "97140-X", "97140x0", "97140-XS-", "97140 x2", "",
                                  "97140-A1-A2-A3-A4-A5"])
def test_billed_line_text_refused(text: str) -> None:
    with pytest.raises(ValueError):
        BilledLine.parse(text)


def test_billed_line_prints_back() -> None:
    assert str(BilledLine.parse("97140-XS-GPx3")) == "97140-XS-GPx3"
    assert str(BilledLine.parse("97124")) == "97124"
