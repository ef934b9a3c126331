"""Eligibility from the command line: ask the payer before the visit.

    handbill eligibility check --patient ACCOUNT [--date DATE] [--order 1|2|3]
    handbill eligibility batch --date DATE          (DATE: YYYY-MM-DD, today or tomorrow)
    handbill eligibility answers                    (read 271s waiting in the inbox)
    handbill eligibility show --patient ACCOUNT     (the latest answer per coverage)

All take ``--practice SLUG`` and ``--clearinghouse NAME`` when there are several, and
``--sandbox`` / ``--no-sandbox`` to force Handbill's payer sandbox on or off; by default the
sandbox answers when the clearinghouse's receiver ID is HBSANDBOX (the demo's outbox is).
Dates named today and tomorrow are the practice's own calendar days. Run by the operator,
these act as the system (``by=None``).
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any

from handbill.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eligibility", help="ask payers about coverage and massage benefits (270/271)",
        description="Send 270 eligibility inquiries and read the 271 answers in plain words.",
    )
    actions = parser.add_subparsers(dest="eligibility_command", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="check one patient's coverage for a date")
    check.add_argument("--patient", required=True, help="the patient's account number")
    check.add_argument("--date", default="today",
                       help="date of the visit: YYYY-MM-DD, today (default) or tomorrow")
    check.add_argument("--order", type=int, choices=(1, 2, 3),
                       help="which coverage: 1 primary (default: the first in force), "
                       "2 secondary, 3 tertiary")
    _common(check)
    check.set_defaults(func=_check)
    batch = actions.add_parser(
        "batch", help="check everyone planned on a date and every coverage not checked in 30 "
        "days",
    )
    batch.add_argument("--date", required=True, help="YYYY-MM-DD, today or tomorrow")
    _common(batch)
    batch.set_defaults(func=_batch)
    answers = actions.add_parser("answers", help="read the 271 answers waiting in the inbox")
    _common(answers)
    answers.set_defaults(func=_answers)
    show = actions.add_parser("show", help="the latest answer for each of a patient's coverages")
    show.add_argument("--patient", required=True)
    show.add_argument("--practice")
    show.set_defaults(func=_show)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--practice", help="practice slug (needed when there are several)")
    parser.add_argument("--clearinghouse", help="clearinghouse name (needed when several)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--sandbox", dest="sandbox", action="store_true", default=None,
                      help="answer from Handbill's payer sandbox, never a real payer")
    mode.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                      help="send to the clearinghouse even if it is the sandbox's")


def _day(text: str, practice: Any, now: Any) -> date:
    today = practice.local_date(now)
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"{text!r} is not a date: use YYYY-MM-DD, today or tomorrow") from None


def _setup(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.cli.submit import _clearinghouse, _practice

    practice = _practice(args.practice)
    house = _clearinghouse(practice, getattr(args, "clearinghouse", None))
    return practice, house, timezone.now()


def _patient(practice: Any, account: str) -> Any:
    from handbill.patients.models import Patient

    found = Patient.objects.filter(practice=practice, account_number=account.strip()).first()
    if found is None:
        raise CommandError(f"{practice.slug} has no patient with account number {account!r}")
    return found


def _coverage(patient: Any, on: date, order: int | None) -> Any:
    from django.db.models import Q

    coverages = patient.coverages.filter(start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=on)).select_related("payer", "practice")
    if order is not None:
        coverages = coverages.filter(order=order)
    chosen = coverages.order_by("order", "-start_date").first()
    if chosen is None:
        which = f"no {['', 'primary', 'secondary', 'tertiary'][order]} coverage" if order \
            else "no coverage"
        raise CommandError(f"{patient.first_name} {patient.last_name} has {which} in force on "
                           f"{on.isoformat()}: add it on the patient's page, or see them as "
                           "self-pay")
    return chosen


def _check(args: argparse.Namespace) -> dict[str, Any]:
    practice, house, now = _setup(args)
    from handbill.eligibility.actions import EligibilityError, check_eligibility
    from handbill.eligibility.display import check_json

    on = _day(args.date, practice, now)
    coverage = _coverage(_patient(practice, args.patient), on, args.order)
    try:
        check = check_eligibility(coverage=coverage, on=on, by=None, at=now,
                                  clearinghouse=house, sandbox=args.sandbox)
    except EligibilityError as exc:
        raise CommandError(str(exc)) from None
    return check_json(check)


def _brief(check: Any) -> dict[str, Any]:
    from handbill.eligibility.display import check_json

    full = check_json(check)
    return {key: full[key] for key in ("patient", "name", "payer", "member_id", "status",
                                       "plain_words", "alerts")}


def _answers_json(report: Any) -> dict[str, Any]:
    return {
        "answered": [_brief(c) for c in report.answered],
        "problems": report.problems,
        "unmatched": report.unmatched,
        "claims_rescrubbed": report.rescrubbed,
    }


def _batch(args: argparse.Namespace) -> dict[str, Any]:
    practice, house, now = _setup(args)
    from handbill.eligibility.actions import EligibilityError, run_batch

    on = _day(args.date, practice, now)
    try:
        report = run_batch(practice=practice, on=on, by=None, at=now, clearinghouse=house,
                           sandbox=args.sandbox)
    except EligibilityError as exc:
        raise CommandError(str(exc)) from None
    answers = _answers_json(report.answers)
    return {
        "date": on.isoformat(),
        "clearinghouse": house.name,
        "sent": len(report.sent),
        "already_checked": report.already_checked,
        "failed": [{"patient": c.patient.account_number, "error": c.error}
                   for c in report.failed],
        "skipped": report.skipped,
        "needs_attention": [a for a in answers["answered"] if a["alerts"]],
        **answers,
    }


def _answers(args: argparse.Namespace) -> dict[str, Any]:
    practice, house, now = _setup(args)
    from handbill.eligibility.actions import EligibilityError, read_answers

    try:
        report = read_answers(practice=practice, by=None, at=now, clearinghouse=house,
                              sandbox=args.sandbox)
    except EligibilityError as exc:
        raise CommandError(str(exc)) from None
    return _answers_json(report)


def _show(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from handbill.cli.submit import _practice
    from handbill.eligibility.display import check_json, latest_answered

    patient = _patient(_practice(args.practice), args.patient)
    shown = []
    for coverage in patient.coverages.select_related("payer").order_by("order", "-start_date"):
        check = latest_answered(coverage)
        shown.append({
            "coverage": f"{coverage.get_order_display()} {coverage.payer.name} "
                        f"{coverage.member_id}",
            "latest": check_json(check) if check is not None else None,
        })
    return {"patient": patient.account_number,
            "name": f"{patient.first_name} {patient.last_name}", "coverages": shown}
