"""The ``handbill`` command.

Every sub-command prints JSON on stdout and exits 0 on success, or prints the reason on
stderr and exits 2 on bad input. A check that finds a problem (``handbill ledger check``)
prints its JSON, then the reason on stderr, and exits 1. Pure commands (units, icd10, npi)
never start Django, so they answer quickly; commands that need the database call
:func:`setup_django` first.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

# Each module here has ``register(subparsers)``; it sets ``func`` on its parser, which takes the
# parsed namespace and returns the object to print as JSON (or raises CommandError).
COMMAND_MODULES: list[str] = [
    "handbill.cli.codes",
    "handbill.cli.units",
    "handbill.cli.claims",
    "handbill.cli.submit",
    "handbill.cli.remit",
    "handbill.cli.edits",
    "handbill.cli.demo",
    "handbill.cli.x12",
    "handbill.cli.sandbox",
    "handbill.cli.eligibility",
    # After claims: it adds correct, reopen, secondary and appeal under ``handbill claims``.
    "handbill.cli.money_back",
    "handbill.cli.followup",
    "handbill.cli.portability",
    "handbill.cli.api_tokens",
    "handbill.cli.audit",
    "handbill.cli.ledger",
]


class CommandError(Exception):
    """Bad input: printed on stderr, exit status 2."""


class CheckFailed(Exception):
    """A check ran and found a problem: its findings (``payload``) go to stdout as JSON, the
    reason to stderr, exit status 1."""

    def __init__(self, message: str, payload: Any) -> None:
        super().__init__(message)
        self.payload = payload


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbill.settings")
    import django

    django.setup()


def emit(payload: Any) -> None:
    json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handbill", description="Insurance billing for hands-on practices."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except CommandError as exc:
        print(f"handbill {args.command}: {exc}", file=sys.stderr)
        return 2
    except CheckFailed as exc:
        emit(exc.payload)
        print(f"handbill {args.command}: {exc}", file=sys.stderr)
        return 1
    if result is not None:
        try:
            emit(result)
        except BrokenPipeError:
            # The reader (e.g. `| head`) closed early; that is not an error of ours.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stop the flush at exit from failing
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
