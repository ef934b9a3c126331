"""Stored NCCI tables: import (idempotent, atomic, audited), reading back with precedence, the
database constraints, and the ``handbill edits`` commands."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from handbill.audit.models import AuditEvent
from handbill.cli import main
from handbill.coding import actions
from handbill.coding.actions import import_edit_file
from handbill.coding.models import EditTableLoad, MueLimitRow, PtpEditRow
from handbill.coding.store import find_load, imported_tables, load_tables
from handbill.core.edits import Confidence, Program, read_edit_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ncci"
PTP_TXT = FIXTURES / "ccipra-v321r0-f1.TXT"
PTP_CSV_Q3 = FIXTURES / "medicare-ncci-2026q3-practitioner-ptp-edits-f1.csv"
PTP_MEDICAID = FIXTURES / "medicaid-ncci-2026q3-practitioner-ptp.txt"
MUE_CSV = FIXTURES / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
BAD_HALFWAY = FIXTURES / "ccipra-bad-date-halfway.TXT"
DOS = date(2026, 3, 2)

pytestmark = pytest.mark.django_db


def load(path: Path, now: datetime) -> actions.ImportResult:
    return import_edit_file(parsed=read_edit_file(path), at=now, by=None)


def write_cms(path: Path, lines: list[str]) -> Path:
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode("latin-1"))
    return path


# --- import -----------------------------------------------------------------------------------


def test_import_stores_the_file_its_rows_and_an_audit_row(now: datetime) -> None:
    result = load(PTP_TXT, now)
    assert not result.already_loaded
    stored = result.load
    assert (stored.kind, stored.program, stored.layout) == ("ptp", "medicare", "medicare-txt")
    assert stored.file_name == "ccipra-v321r0-f1.TXT"
    assert stored.effective_date == date(2026, 4, 1)
    assert (stored.row_count, stored.skipped_lines, stored.duplicates_resolved) == (10, 7, 2)
    assert stored.loaded_at == now
    assert stored.loaded_by is None
    assert PtpEditRow.objects.filter(load=stored).count() == 10
    row = PtpEditRow.objects.get(load=stored, column1="98940", column2="97124")
    assert row.rationale == "Mutually exclusive procedures (région différente, voir §2)"
    assert row.deletion_date is None
    [event] = AuditEvent.objects.filter(action="coding.edit_table.import")
    assert event.practice is None
    assert event.occurred_at == now
    assert event.object_id == str(stored.pk)
    assert event.detail["rows"] == 10
    assert event.detail["sha256"] == stored.sha256


def test_importing_the_same_file_twice_changes_nothing(now: datetime) -> None:
    first = load(MUE_CSV, now)
    second = load(MUE_CSV, now)
    assert second.already_loaded
    assert second.load.pk == first.load.pk
    assert EditTableLoad.objects.count() == 1
    assert MueLimitRow.objects.count() == 6
    assert AuditEvent.objects.filter(action="coding.edit_table.import").count() == 1
    assert find_load(first.load.sha256) == first.load


def test_a_failure_halfway_through_the_rows_stores_nothing(
    now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "CHUNK_SIZE", 3)
    calls = {"n": 0}
    real_bulk_create = PtpEditRow.objects.bulk_create

    def failing_bulk_create(objs: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise IntegrityError("simulated failure in the second chunk")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(PtpEditRow.objects, "bulk_create", failing_bulk_create)
    with pytest.raises(IntegrityError):
        load(PTP_TXT, now)
    assert calls["n"] == 2
    assert EditTableLoad.objects.count() == 0
    assert PtpEditRow.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_large_file_is_written_in_chunks(now: datetime, tmp_path: Path) -> None:
    codes = [f"{n:04d}T" for n in range(120)]
    rows = [
        f"{a}\t{b}\t\t20200101\t*\t1\tMutually exclusive procedures"
        for a in codes[:60] for b in codes[60:]
    ]
    path = write_cms(tmp_path / "ccipra-v322r0-f4.TXT", ["notice", *rows])
    result = load(path, now)
    assert result.load.row_count == 3600 == PtpEditRow.objects.count()
    assert result.load.effective_date == date(2026, 7, 1)


# --- reading back -----------------------------------------------------------------------------


def test_without_imports_the_starter_answers(now: datetime) -> None:
    tables = load_tables(DOS, codes={"98940", "97140", "97012"})
    assert tables.ptp_edit("98940", "97140", DOS).source.startswith("reference §2.2")
    assert tables.mue_limit("97012", DOS).confidence is Confidence.UNVERIFIED
    assert load_tables(DOS, include_starter=False).ptp_rows == ()


def test_imported_rows_replace_the_starter_for_their_pairs(now: datetime) -> None:
    load(PTP_TXT, now)
    tables = load_tables(DOS)
    cms = tables.ptp_edit("98940", "97140", DOS)
    assert cms.source == "CMS file ccipra-v321r0-f1.TXT"
    assert cms.confidence is Confidence.VERIFIED
    # Pairs the file does not hold still come from the starter.
    assert tables.ptp_edit("98942", "97140", DOS).source.startswith("reference §2.2")
    # The file deletes 97140/97124 on 2026-07-01; the starter's guess must not come back.
    after = load_tables(date(2026, 8, 1))
    assert after.ptp_edit("97140", "97124", date(2026, 8, 1)) is None


def test_the_newest_file_holding_a_pair_answers_for_it(now: datetime, tmp_path: Path) -> None:
    load(PTP_TXT, now)  # 2026 Q2: 98940/97140 in force, no deletion
    newer = write_cms(tmp_path / "ccipra-v322r0-f1.TXT", [
        "notice", "98940\t97140\t\t20200101\t20260701\t1\tMisuse of column two code",
    ])
    load(newer, now)
    assert load_tables(DOS).ptp_edit("98940", "97140", DOS).source.endswith("v322r0-f1.TXT")
    # After the Q3 deletion neither the Q2 row nor the starter answers.
    later = date(2026, 8, 1)
    assert load_tables(later).ptp_edit("98940", "97140", later) is None
    # Pairs only the older file holds stay.
    assert load_tables(DOS).ptp_edit("97140", "97530", DOS).source.endswith("v321r0-f1.TXT")


def test_mue_limits_start_on_their_file_date(now: datetime) -> None:
    load(MUE_CSV, now)
    before, on = date(2026, 6, 30), date(2026, 7, 1)
    assert load_tables(on).mue_limit("97012", on).units == 1
    assert load_tables(on).mue_limit("97012", on).source.startswith("CMS file MCR_MUE")
    # Imported data for 97012 exists, so the starter guess is not used before it starts...
    assert load_tables(before).mue_limit("97012", before) is None
    # ...but codes the file does not hold keep the starter's guess.
    assert load_tables(before).mue_limit("97035", before).units == 2


def test_codes_narrow_what_is_read(now: datetime) -> None:
    load(PTP_TXT, now)
    narrow = imported_tables(codes={"98940", "97140"})
    assert [(e.column1, e.column2) for e in narrow.ptp_rows] == [("98940", "97140")]


def test_programs_are_kept_apart(now: datetime) -> None:
    load(PTP_MEDICAID, now)
    assert imported_tables(program=Program.MEDICARE).ptp_rows == ()
    assert len(imported_tables(program=Program.MEDICAID).ptp_rows) == 4


# --- database constraints ---------------------------------------------------------------------


def make_load(now: datetime, **changes: Any) -> EditTableLoad:
    fields: dict[str, Any] = {
        "kind": "ptp", "program": "medicare", "file_name": "x.txt", "sha256": "a" * 64,
        "layout": "medicare-txt", "effective_date": date(2026, 1, 1),
        "effective_date_from": "argument", "row_count": 0, "loaded_at": now,
    }
    fields.update(changes)
    return EditTableLoad.objects.create(**fields)


@pytest.mark.parametrize(
    "changes",
    [{"kind": "xyz"}, {"program": "tricare"}, {"row_count": -1}, {"sha256": "not-a-hash"}],
)
def test_load_constraints(now: datetime, changes: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_load(now, **changes)


def test_same_file_cannot_be_stored_twice(now: datetime) -> None:
    make_load(now)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_load(now, file_name="copy.txt")


@pytest.mark.parametrize(
    "changes",
    [
        {"modifier_indicator": "2"},
        {"deletion_date": date(2019, 12, 31)},
    ],
)
def test_ptp_row_constraints(now: datetime, changes: dict[str, Any]) -> None:
    stored = make_load(now)
    fields: dict[str, Any] = {
        "load": stored, "column1": "97140", "column2": "97124",
        "effective_date": date(2020, 1, 1), "modifier_indicator": "1",
    }
    # A retroactive deletion (equal dates) is allowed.
    PtpEditRow.objects.create(**{**fields, "column2": "97530", "deletion_date": date(2020, 1, 1),
                                 "modifier_indicator": "9"})
    with pytest.raises(IntegrityError), transaction.atomic():
        PtpEditRow.objects.create(**{**fields, **changes})


def test_one_row_per_pair_per_load(now: datetime) -> None:
    stored = make_load(now)
    fields: dict[str, Any] = {
        "load": stored, "column1": "97140", "column2": "97124",
        "effective_date": date(2020, 1, 1), "modifier_indicator": "1",
    }
    PtpEditRow.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        PtpEditRow.objects.create(**fields)


@pytest.mark.parametrize("changes", [{"units": -1}, {"adjudication_indicator": "4"},
                                     {"adjudication_indicator": ""}])
def test_mue_row_constraints(now: datetime, changes: dict[str, Any]) -> None:
    stored = make_load(now, kind="mue")
    fields: dict[str, Any] = {
        "load": stored, "code": "97012", "units": 0, "adjudication_indicator": "1",
        "effective_date": date(2026, 1, 1),
    }
    MueLimitRow.objects.create(**{**fields, "code": "97010"})  # zero units is a real MUE
    with pytest.raises(IntegrityError), transaction.atomic():
        MueLimitRow.objects.create(**{**fields, **changes})


# --- the commands -----------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_cli_import_reports_each_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, reports, _ = run(capsys, "edits", "import", str(PTP_TXT), str(MUE_CSV))
    assert code == 0
    assert [(r["file"], r["kind"], r["rows"], r["already_loaded"]) for r in reports] == [
        ("ccipra-v321r0-f1.TXT", "ptp", 10, False),
        ("MCR_MUE_PractitionerServices_Eff_07-01-2026.csv", "mue", 6, False),
    ]
    assert reports[0]["skipped_lines"] == 7
    assert reports[0]["duplicates_resolved"] == 2
    assert reports[1]["effective_date"] == "2026-07-01"
    assert AuditEvent.objects.filter(action="coding.edit_table.import").count() == 2
    code, again, _ = run(capsys, "edits", "import", str(PTP_TXT))
    assert code == 0
    assert again[0]["already_loaded"] is True
    assert EditTableLoad.objects.count() == 2


def test_cli_import_of_a_bad_file_loads_nothing_from_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, reports, err = run(capsys, "edits", "import", str(BAD_HALFWAY), str(MUE_CSV))
    assert code == 2
    assert "ccipra-bad-date-halfway.TXT, line 11: deletion date" in err
    assert reports[0]["line"] == 11
    assert reports[1]["kind"] == "mue"
    assert list(EditTableLoad.objects.values_list("kind", flat=True)) == ["mue"]
    assert PtpEditRow.objects.count() == 0


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["edits", "import", "/no/such/file.TXT"], "cannot be read"),
        (["edits", "import", "--effective-date", "July", "x.csv"], "not a date"),
        (["edits", "check", "--date", "2026-02-30", "97140"], "not a date"),
        (["edits", "check", "--date", "2026-03-02", "9714"], "is not a billed line"),
        (["edits", "check", "--date", "2026-03-02", "97140x0"], "units must be"),
    ],
)
def test_cli_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 2
    assert problem in err


def test_cli_not_a_cms_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_text("patient,minutes\nsomeone,30\n", encoding="latin-1")
    code, _, err = run(capsys, "edits", "import", str(notes))
    assert code == 2
    assert "is neither a CMS NCCI PTP file" in err
    assert EditTableLoad.objects.count() == 0


def test_cli_check_prints_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, result, _ = run(
        capsys, "edits", "check", "--date", "2026-03-02", "97140-XS", "97124", "98940",
    )
    assert code == 0
    assert result["lines"] == ["97140-XS", "97124", "98940"]
    assert "No CMS PTP or MUE file is loaded" in result["note"]
    by_pair = {(f["codes"][0], f["codes"][1]): f for f in result["findings"]}
    assert by_pair[("98940", "97140")]["severity"] == "info"
    assert by_pair[("98940", "97140")]["bypass_modifier"] == "XS"
    assert by_pair[("97140", "97124")]["severity"] == "blocking"
    assert by_pair[("97140", "97124")]["confidence"] == "unverified"


def test_cli_check_uses_imported_tables(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "edits", "import", str(PTP_TXT), str(MUE_CSV))
    code, result, _ = run(
        capsys, "edits", "check", "--date", "2026-07-01", "--no-starter", "97012x2", "97530",
        "97150-XU",
    )
    assert code == 0
    assert "note" not in result
    assert result["cms_files_loaded"] == {"ptp": 1, "mue": 1}
    rules = sorted((f["rule"], f["severity"]) for f in result["findings"])
    assert rules == [("ncci.mue", "blocking"), ("ncci.ptp", "blocking")]
    assert all(f["source"].startswith("CMS file") for f in result["findings"])
