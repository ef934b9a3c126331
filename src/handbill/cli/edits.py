"""``handbill edits``: import the CMS NCCI files and check billed lines against them.

    handbill edits import ccipra-v321r0-f1.TXT MCR_MUE_PractitionerServices_Eff_07-01-2026.csv
    handbill edits check --date 2026-03-02 97140-XS 97124 98940

Both need the database (the stored tables), so Django starts inside the command, not at import.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from handbill.cli import CommandError, emit, setup_django
from handbill.core.edits import BilledLine, EditFile, EditFileError, Program, read_edit_file

_LINE_HELP = (
    "a billed line: CODE, then -MODIFIER for each modifier, then xUNITS (or *UNITS) when more "
    "than 1 unit, e.g. 97140-XS, 97124x2, 97140-XS-GPx3 (units default to 1; quote the * "
    "form for the shell: '97124*2')"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "edits",
        help="NCCI pair edits and MUEs: import the CMS files, check billed lines",
        description="NCCI procedure-to-procedure (PTP) edits and medically unlikely edits.",
    )
    commands = parser.add_subparsers(dest="edits_command", required=True, metavar="ACTION")

    importer = commands.add_parser(
        "import",
        help="load CMS PTP (.TXT/.csv) and MUE (.csv) files",
        description=(
            "Load CMS NCCI files; the kind (PTP or MUE) is read from the content. Unzip the "
            "CMS downloads first. A file already loaded (same contents) is left as it is. A "
            "file that cannot be read or is not a CMS file loads nothing and makes the "
            "command exit 2; the other files still load."
        ),
    )
    importer.add_argument(
        "files", nargs="+", metavar="FILE", type=Path,
        help="an unzipped CMS file: practitioner PTP .TXT/.csv or MUE .csv",
    )
    importer.add_argument(
        "--effective-date",
        metavar="YYYY-MM-DD",
        help="the quarter the files are for, when their names do not say "
        "(MUE files need it unless named ..._Eff_MM-DD-YYYY.csv)",
    )
    importer.set_defaults(func=run_import)

    checker = commands.add_parser(
        "check",
        help="check the lines billed on one date of service",
        description=(
            "Check lines billed by one provider for one patient on one date against the PTP "
            "edits and MUEs in force that day: imported CMS tables first, Handbill's starter "
            "table (mostly unverified) for anything they do not cover."
        ),
        epilog="example: handbill edits check --date 2026-03-02 97140-XS 97124 98940 97012x2",
    )
    checker.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="date of service")
    checker.add_argument(
        "--program",
        choices=[program.value for program in Program],
        default=Program.MEDICARE.value,
        help="which NCCI set to use (default: medicare)",
    )
    checker.add_argument(
        "--no-starter",
        action="store_true",
        help="use only imported CMS tables, not Handbill's starter table",
    )
    checker.add_argument("lines", nargs="+", metavar="LINE", help=_LINE_HELP)
    checker.set_defaults(func=run_check)


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not a date; write YYYY-MM-DD") from None


def _database_ready() -> None:
    from django.db import DatabaseError

    from handbill.coding.models import EditTableLoad

    try:
        EditTableLoad.objects.exists()
    except DatabaseError as exc:
        raise CommandError(
            f"the database is not ready ({exc}); run `python manage.py migrate` first"
        ) from None


def _file_report(parsed: EditFile, load: Any, already_loaded: bool) -> dict[str, Any]:
    return {
        "file": parsed.name,
        "kind": parsed.kind.value,
        "program": parsed.program.value,
        "layout": parsed.layout,
        "rows": len(parsed.rows),
        "skipped_lines": parsed.skipped_lines,
        "duplicates_resolved": parsed.duplicates_resolved,
        "effective_date": parsed.effective_date.isoformat(),
        "effective_date_from": parsed.effective_date_from,
        "already_loaded": already_loaded,
        "load_id": load.pk,
        "sha256": parsed.sha256,
    }


def run_import(args: argparse.Namespace) -> Any:
    effective = (
        _parse_date(args.effective_date, "--effective-date") if args.effective_date else None
    )
    setup_django()
    from django.utils import timezone

    from handbill.coding.actions import import_edit_file

    _database_ready()
    reports: list[dict[str, Any]] = []
    problems: list[str] = []
    for path in args.files:
        # One file at a time: a full practitioner part is large, and each is its own
        # transaction, so a bad file never leaves half its rows behind.
        try:
            parsed = read_edit_file(path, name=path.name, effective_date=effective)
        except EditFileError as exc:
            problems.append(str(exc))
            reports.append({"file": str(path), "error": exc.problem, "line": exc.line})
            continue
        result = import_edit_file(parsed=parsed, at=timezone.now(), by=None)
        reports.append(_file_report(parsed, result.load, result.already_loaded))
    if problems:
        emit(reports)
        raise CommandError("nothing loaded from: " + "; ".join(problems))
    return reports


def run_check(args: argparse.Namespace) -> dict[str, Any]:
    day = _parse_date(args.date, "--date")
    lines: list[BilledLine] = []
    for text in args.lines:
        try:
            lines.append(BilledLine.parse(text))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    program = Program(args.program)
    setup_django()
    from handbill.coding.store import load_tables, loaded_counts
    from handbill.core.edits import check

    _database_ready()
    tables = load_tables(
        day, codes={line.code for line in lines}, program=program,
        include_starter=not args.no_starter,
    )
    findings = check(lines, day, tables)
    loaded = loaded_counts(program)
    result: dict[str, Any] = {
        "date_of_service": day.isoformat(),
        "program": program.value,
        "lines": [str(line) for line in lines],
        "findings": [finding.as_dict() for finding in findings],
        "cms_files_loaded": loaded,
    }
    missing = [kind.upper() for kind, count in loaded.items() if count == 0]
    if missing and not args.no_starter:
        result["note"] = (
            f"No CMS {' or '.join(missing)} file is loaded for {program.value}; those checks use "
            "Handbill's starter table, which is mostly unverified. Load the quarterly files "
            "with `handbill edits import`."
        )
    return result
