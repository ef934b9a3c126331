"""The audit trail from the command line.

    handbill audit --patient ACCOUNT [--user USERNAME] [--since DATE] [--until DATE]
                   [--action ACTION] [--practice SLUG] [--limit N]

Prints the matching events, newest first, as JSON. ``--patient`` takes the patient's account
number (or the patient number shown on the audit page); ``--action`` an exact action
(``claim.view``) or a family ending in a dot (``auth.``); dates are YYYY-MM-DD days in the
practice's time zone, both ends included. Reading the trail is itself recorded.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from handbill.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit", help="who viewed or changed a patient's records, sign-ins, refusals",
        description="Read the append-only audit trail of one practice, filtered, as JSON.",
    )
    parser.add_argument("--patient", help="the patient's account number (or patient number)")
    parser.add_argument("--user", default="", help="only this username")
    parser.add_argument("--action", default="", help="claim.view, or a family such as auth.")
    parser.add_argument("--since", type=_day, help="first day, YYYY-MM-DD")
    parser.add_argument("--until", type=_day, help="last day, YYYY-MM-DD")
    parser.add_argument("--practice", help="practice slug (needed when there are several)")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many (1000)")
    parser.set_defaults(func=_audit)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _patient(practice: Any, text: str) -> Any:
    from handbill.patients.models import Patient
    from handbill.practice.access import scoped

    patients = scoped(Patient.objects.all(), practice)
    found = patients.filter(account_number=text).first()
    if found is None and text.isdigit():
        found = patients.filter(pk=int(text)).first()
    if found is None:
        raise CommandError(
            f"no patient {text!r} in {practice.slug}; give the account number from the "
            "patient page"
        )
    return found


def _audit(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.audit.queries import AuditFilter, as_row, events
    from handbill.audit.record import record
    from handbill.cli.remit import _practice

    if args.limit < 1:
        raise CommandError("--limit must be 1 or more")
    if args.since and args.until and args.until < args.since:
        raise CommandError("--until is before --since; give the earlier day first")
    practice = _practice(args.practice)
    patient = _patient(practice, args.patient) if args.patient else None
    wanted = AuditFilter(
        patient_id=patient.pk if patient is not None else None,
        username=args.user, action=args.action, since=args.since, until=args.until,
    )
    rows = [as_row(e) for e in events(practice, wanted)[: args.limit]]
    record(action="audit.export", at=timezone.now(), by=None, practice=practice,
           target=patient, matched=len(rows))
    return {
        "practice": practice.slug,
        "patient": (
            {"id": patient.pk, "account_number": patient.account_number}
            if patient is not None else None
        ),
        "count": len(rows),
        "events": rows,
    }
