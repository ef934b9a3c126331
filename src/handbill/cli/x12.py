"""``handbill x12``: read or check an X12 file (835, 999, 277CA, 837P) from the command line.

    handbill x12 read FILE     # JSON: the envelope and each transaction set's content
    handbill x12 check FILE    # JSON {valid, errors, warnings}; exit 2 when invalid

Pure: no Django, so it works on any file without a database. The transaction set is chosen
by ST01 (835, 999, 277, 837).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handbill.cli import CommandError, emit
from handbill.x12.r277ca import read_277ca
from handbill.x12.r835 import read_835
from handbill.x12.r999 import read_999
from handbill.x12.tokens import Transaction, X12Error, X12Reader


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "x12", help="read or check an X12 file (835, 999, 277CA, 837P)",
        description="Read or check an X12 5010 file: remittances (835), acknowledgements "
                    "(999, 277CA) and claims (837P).")
    actions = parser.add_subparsers(dest="x12_action", required=True, metavar="ACTION")
    read = actions.add_parser(
        "read", help="print the envelope and each transaction set as JSON",
        description="Print the envelope and the content of each transaction set as JSON; "
                    "for an 835 also whether it balances.")
    read.add_argument("file", type=Path, help="the X12 file")
    read.set_defaults(func=run_read)
    check = actions.add_parser(
        "check", help="validate envelope, counts, control numbers and 835 balancing",
        description="Validate the envelope (SE/GE/IEA counts and control numbers), the "
                    "content each reader checks, and 835 balancing. Prints "
                    "{valid, errors, warnings}; exits 2 when the file is invalid.")
    check.add_argument("file", type=Path, help="the X12 file")
    check.set_defaults(func=run_check)


@dataclass
class _Content:
    """One transaction set as read: its summary and what is wrong with it."""

    summary: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    balanced: bool | None = None  # 835 only


def _located(transaction: Transaction, messages: Any) -> list[str]:
    label = f"{transaction.set_id} {transaction.control_number}"
    return [f"transaction set {label}: {message}" for message in messages]


def _read_835(transaction: Transaction) -> _Content:
    remittance = read_835(transaction)
    summary = remittance.as_dict()
    return _Content(summary, _located(transaction, remittance.errors),
                    _located(transaction, remittance.warnings), remittance.balanced)


def _read_999(transaction: Transaction) -> _Content:
    ack = read_999(transaction)
    return _Content(ack.as_dict(), _located(transaction, ack.problems))


def _read_277(transaction: Transaction) -> _Content:
    ack = read_277ca(transaction)
    return _Content(ack.as_dict(), _located(transaction, ack.problems))


def _p837() -> Any:
    try:
        module = importlib.import_module("handbill.x12.p837")
    except ImportError:
        return None
    return module if hasattr(module, "read_837") else None


def _read_837(transaction: Transaction) -> _Content:
    module = _p837()
    if module is None:
        raise X12Error("837 reading not available", position=transaction.start,
                       segment_id="ST")
    try:
        claims = module.read_837(transaction)
    except X12Error:
        raise
    except ValueError as exc:  # the 837 reader's own error names the segment
        raise X12Error(str(exc)) from None
    errors: list[str] = []
    check = getattr(module, "check_837", None)
    if check is not None:
        errors = _located(transaction, check(transaction))
    return _Content(claims.as_dict(), errors)


READERS: dict[str, Callable[[Transaction], _Content]] = {
    "835": _read_835, "999": _read_999, "277": _read_277, "837": _read_837,
}


def _content(transaction: Transaction) -> _Content:
    reader = READERS.get(transaction.set_id)
    if reader is None:
        # Still X12 with a sound envelope; only its content is not Handbill's to judge.
        known = ", ".join(sorted(READERS))
        note = (f"content not read: Handbill reads {known} transaction sets, not "
                f"{transaction.set_id or 'unnamed'} ones; only the envelope was checked")
        return _Content({"note": note}, warnings=_located(transaction, [note]))
    return reader(transaction)


def _transaction_dict(transaction: Transaction, content: _Content) -> dict[str, Any]:
    return {
        "set_id": transaction.set_id,
        "control_number": transaction.control_number,
        "convention": transaction.convention,
        "envelope": {
            "interchange_control_number": transaction.interchange.control_number,
            "group_control_number": transaction.group.control_number,
            "functional_id": transaction.group.functional_id,
            "segments": len(transaction.segments),
            "position": transaction.start,
        },
        **content.summary,
    }


def run_read(args: argparse.Namespace) -> dict[str, Any]:
    path: Path = args.file
    _require_file(path)
    reader = X12Reader(path, strict=False)
    transactions: list[dict[str, Any]] = []
    errors: list[str] = []
    warnings: list[str] = []
    balanced = True
    try:
        for transaction in reader:
            content = _content(transaction)
            transactions.append(_transaction_dict(transaction, content))
            errors.extend(content.errors)
            warnings.extend(content.warnings)
            if content.balanced is False:
                balanced = False
    except X12Error as exc:
        raise CommandError(f"{path}: {exc}") from None
    errors[:0] = [str(e) for e in reader.errors if e.severity == "error"]
    warnings[:0] = [str(e) for e in reader.errors if e.severity != "error"]
    return {
        "file": str(path),
        "interchanges": [isa.as_dict() for isa in reader.interchanges],
        "groups": [gs.as_dict() for gs in reader.groups],
        "transactions": transactions,
        "balanced": balanced,
        "errors": errors,
        "warnings": warnings,
    }


def run_check(args: argparse.Namespace) -> dict[str, Any]:
    path: Path = args.file
    _require_file(path)
    reader = X12Reader(path, strict=False)
    errors: list[str] = []
    warnings: list[str] = []
    counted: dict[str, int] = {}
    try:
        for transaction in reader:
            counted[transaction.set_id] = counted.get(transaction.set_id, 0) + 1
            try:
                content = _content(transaction)
            except X12Error as exc:
                errors.append(str(exc))
                continue
            errors.extend(content.errors)
            warnings.extend(content.warnings)
    except X12Error as exc:  # not X12 at all: nothing to check
        raise CommandError(f"{path}: {exc}") from None
    errors[:0] = [str(e) for e in reader.errors if e.severity == "error"]
    warnings[:0] = [str(e) for e in reader.errors if e.severity != "error"]
    result = {"file": str(path), "valid": not errors, "transactions": counted,
              "errors": errors, "warnings": warnings}
    if errors:
        emit(result)
        raise CommandError(f"{path} is not valid: {len(errors)} error"
                           f"{'s' if len(errors) != 1 else ''}, the first: {errors[0]}")
    return result


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
