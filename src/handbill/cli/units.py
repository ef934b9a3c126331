"""``handbill units``: documented minutes to billable units, with the rationale.

    handbill units --method cms 97124=38 97140=15 97010=10

Pure: no Django, so it answers at once and works without a database.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from handbill.cli import CommandError
from handbill.core.units import ServiceMinutes, UnitMethod, compute_units

_WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "units",
        help="turn documented minutes into billable units",
        description=(
            "Turn the minutes documented for each code on one date of service into units. "
            "cms: Medicare total time (8-minute rule); cpt: each code on its own (midpoint)."
        ),
    )
    parser.add_argument(
        "--method",
        choices=[m.value for m in UnitMethod],
        default=UnitMethod.CMS.value,
        help="unit method of the payer (default: cms)",
    )
    parser.add_argument(
        "services",
        nargs="+",
        metavar="CODE=MINUTES",
        help="a code and its documented minutes, e.g. 97124=38; repeat a code to add minutes",
    )
    parser.set_defaults(func=run)


def parse_service(text: str) -> ServiceMinutes:
    code, sep, minutes = text.partition("=")
    if not sep or not code.strip():
        raise CommandError(f"{text!r}: write each service as CODE=MINUTES, e.g. 97124=38")
    minutes = minutes.strip()
    if not _WHOLE_NUMBER.match(minutes):
        raise CommandError(
            f"{text!r}: minutes must be a whole number, e.g. {code.strip()}=38"
        )
    try:
        return ServiceMinutes(code, int(minutes))
    except ValueError as exc:  # also UnknownCodeError
        raise CommandError(f"{text!r}: {exc}") from exc


def run(args: argparse.Namespace) -> dict[str, Any]:
    services = [parse_service(text) for text in args.services]
    try:
        result = compute_units(services, UnitMethod(args.method))
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return result.as_dict()
