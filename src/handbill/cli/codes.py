"""``handbill icd10``, ``handbill npi`` and ``handbill codes``: code-set answers as JSON.

Pure commands: no Django. The code modules are imported inside the handlers so that building
the parser for other commands stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from handbill.cli import CommandError

ICD10_EPILOG = """\
Prints a JSON list with one object per code: code (dotted), code_no_dot (the claim form),
valid, billable, description, reason (why not billable, naming the fix), kind, parent,
unspecified, laterality_unspecified, seventh_character, suggestions, release and data_note.
An unknown or malformed code is an answer (valid: false), exit status 0; exit status 2 only
when no code is given or the code set cannot be loaded.

The first use builds a compact index of the ICD-10-CM code set (a few seconds, once) in
$HANDBILL_VAR_DIR, else $HANDBILL_HOME/var; --build-index does it explicitly.

examples:
  handbill icd10 M54.5 M54.50 S13.4XXA
  handbill icd10 --date-of-service 2026-05-04 m5450
  handbill icd10 --search "low back pain" --limit 5
"""

NPI_EPILOG = """\
Prints {"npi": ..., "valid": ..., "reason": ...}.
Exit status 0 for any ten-digit number: valid true, or valid false with the reason (wrong first
digit, wrong check digit; the reason names the expected check digit).
Exit status 2, with the reason on stderr, for text that is not an NPI at all: letters or other
characters, or not exactly ten digits.

example:
  handbill npi 1234567893
"""

CODES_EPILOG = """\
Tables: carc (adjustment reasons), rarc (remark codes), group (CAS01: CO, PR, OA, PI),
claim-status (CLP02), pos (place of service), taxonomy (provider taxonomy).
Prints a JSON list, one object per code. A CARC, RARC or claim status we do not list is an
answer (known: false); a malformed place of service, taxonomy or group exits 2.

examples:
  handbill codes carc 170 45
  handbill codes rarc N130
  handbill codes pos 11
"""


def register(subparsers: Any) -> None:
    icd10 = subparsers.add_parser(
        "icd10",
        help="check ICD-10-CM diagnosis codes: valid, billable, and what to use instead",
        description="Check ICD-10-CM diagnosis codes against the installed code set.",
        epilog=ICD10_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    icd10.add_argument("codes", nargs="*", metavar="CODE", help="codes, with or without the dot")
    icd10.add_argument(
        "--date-of-service", type=_date, metavar="YYYY-MM-DD",
        help="adds data_note when the date is outside the code set's period",
    )
    icd10.add_argument(
        "--search", metavar="TEXT", help="billable codes matching words or a code start"
    )
    icd10.add_argument("--limit", type=int, default=20, help="most search results (default 20)")
    icd10.add_argument(
        "--build-index", action="store_true",
        help="build (or rebuild) the ICD-10-CM index now and print where it is",
    )
    icd10.add_argument("--cache-dir", type=Path, metavar="DIR", help="where the index lives")
    icd10.set_defaults(func=run_icd10)

    npi = subparsers.add_parser(
        "npi",
        help="check an NPI's shape and check digit",
        description="Check a National Provider Identifier (10 digits, Luhn check digit).",
        epilog=NPI_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    npi.add_argument("npi", metavar="NPI")
    npi.set_defaults(func=run_npi)

    codes = subparsers.add_parser(
        "codes",
        help="explain remittance and claim codes (CARC, RARC, groups, POS, taxonomy)",
        description="Look codes up in Handbill's own tables.",
        epilog=CODES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    codes.add_argument(
        "table", choices=["carc", "rarc", "group", "claim-status", "pos", "taxonomy"]
    )
    codes.add_argument("codes", nargs="+", metavar="CODE")
    codes.set_defaults(func=run_codes)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-05-04"
        ) from None


def run_icd10(args: argparse.Namespace) -> Any:
    from handbill.core.codes import icd10, icd10_index

    if not (args.codes or args.search or args.build_index):
        raise CommandError(
            "give one or more diagnosis codes (handbill icd10 M54.50 S13.4XXA), --search TEXT "
            "or --build-index"
        )
    cache_dir = args.cache_dir if args.cache_dir is not None else icd10_index.default_cache_dir()
    try:
        if args.build_index:
            result = icd10_index.build_index(cache_dir=cache_dir)
            built = {
                "index": str(result.path),
                "release": result.release.name,
                "package_version": result.package_version,
                "codes": result.code_count,
                "billable_codes": result.billable_count,
                "stored_rows": result.stored_rows,
                "bytes": result.size_bytes,
            }
            if not (args.codes or args.search):
                return built
        elif not icd10_index.index_is_current(cache_dir):
            print(
                f"handbill icd10: building the ICD-10-CM index in {cache_dir} "
                "(once, a few seconds)…",
                file=sys.stderr,
            )
        index = icd10.default_index(cache_dir)
    except icd10_index.Icd10DataUnavailable as exc:
        raise CommandError(str(exc)) from exc
    if args.search:
        return [d.to_dict() for d in icd10.search(args.search, args.limit, index=index)]
    return [
        {"input": text, **icd10.lookup(text, date_of_service=args.date_of_service,
                                       index=index).to_dict()}
        for text in args.codes
    ]


def run_npi(args: argparse.Namespace) -> Any:
    from handbill.core.codes.npi import check_npi

    result = check_npi(args.npi)
    if result.problem is not None and result.problem.is_shape:
        raise CommandError(result.reason or "not an NPI")
    return result.to_dict()


def run_codes(args: argparse.Namespace) -> Any:
    from handbill.core.codes import carc, pos, rarc, taxonomy

    answers: list[dict[str, Any]] = []
    for code in args.codes:
        try:
            if args.table == "carc":
                entry = carc.carc(code)
                answers.append({
                    "code": entry.code, "known": entry.known, "meaning": entry.meaning,
                    "next_step": entry.next_step,
                    "usual_group": entry.usual_group.value if entry.usual_group else None,
                })
            elif args.table == "rarc":
                remark = rarc.rarc(code)
                answers.append({"code": remark.code, "known": remark.known,
                                "meaning": remark.meaning, "next_step": remark.next_step})
            elif args.table == "group":
                info = carc.group(code)
                answers.append({"code": info.group.value, "name": info.name,
                                "who_owes": info.who_owes})
            elif args.table == "claim-status":
                status = carc.claim_status(code)
                answers.append({"code": status.code, "known": status.known,
                                "meaning": status.meaning, "next_step": status.next_step})
            elif args.table == "pos":
                place = pos.get(code)
                answers.append({"code": place.code, "known": place.known, "name": place.name,
                                "note": place.note})
            else:
                found = taxonomy.get(code)
                answers.append({"code": found.code, "known": found.known, "label": found.label})
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
    return answers
