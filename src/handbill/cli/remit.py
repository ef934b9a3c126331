"""What comes back, from the command line: post 835 remittances, read the inbox.

    handbill remit import FILE [--commit] [--summary] [--practice SLUG]
    handbill remit plan ERA_ID [--summary] [--practice SLUG]
    handbill remit post ERA_ID [--practice SLUG]
    handbill inbox process [--no-post] [--practice SLUG]

``remit import`` stores the file's payment(s) and prints each posting plan (which claim and
line every payment matched and how, what each adjustment does, what did not match and why);
with ``--commit`` it also posts them. ``remit post`` posts an imported payment. ``inbox
process`` reads every downloaded 999, 277CA and 835 not read yet; clean 835s (everything
matched, nothing to look at) are posted, the others wait for ``remit post`` after a look at
``remit plan``. Run by the operator, these act as the system (``by=None``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from handbill.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("remit", help="post 835 remittances to the ledger")
    actions = parser.add_subparsers(dest="remit_command", required=True, metavar="ACTION")
    imp = actions.add_parser(
        "import", help="store an 835 and print its posting plan",
        description="Read an 835 file, refuse it (exit 2, nothing stored) if it is malformed "
        "or does not balance, store each payment and print its posting plan as JSON.")
    imp.add_argument("file", type=Path)
    imp.add_argument("--commit", action="store_true", help="post the payment(s) as well")
    imp.add_argument("--summary", action="store_true",
                     help="print only the headline of each plan, not every claim")
    imp.add_argument("--practice", help="practice slug (needed when there are several)")
    imp.set_defaults(func=_import)
    plan = actions.add_parser("plan", help="print the posting plan of an imported payment")
    plan.add_argument("era", type=int, metavar="ERA_ID")
    plan.add_argument("--summary", action="store_true")
    plan.add_argument("--practice")
    plan.set_defaults(func=_plan)
    post = actions.add_parser("post", help="post an imported payment")
    post.add_argument("era", type=int, metavar="ERA_ID")
    post.add_argument("--practice")
    post.set_defaults(func=_post)
    _register_inbox_process(subparsers)


def _register_inbox_process(subparsers: Any) -> None:
    """``inbox process`` joins the ``inbox`` command that ``handbill.cli.submit`` defines."""
    inbox = subparsers.choices.get("inbox")
    if inbox is None:
        inbox = subparsers.add_parser("inbox", help="response files from the clearinghouse")
        inbox.add_subparsers(dest="inbox_command", required=True, metavar="ACTION")
    actions = next(a for a in inbox._actions if isinstance(a, argparse._SubParsersAction))
    process = actions.add_parser(
        "process", help="read downloaded 999, 277CA and 835 files",
        description="Read every downloaded response file not read yet: 999 and 277CA "
        "rejections move claims to rejected, 277CA acceptances to accepted, and 835s are "
        "imported — and posted when their plan is clean.")
    process.add_argument("--no-post", action="store_true",
                         help="import 835s but post none of them")
    process.add_argument("--practice")
    process.set_defaults(func=_inbox_process)


def _practice(slug: str | None) -> Any:
    from handbill.practice.models import Practice

    if slug:
        found = Practice.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"no practice {slug!r}")
        return found
    practices = list(Practice.objects.order_by("slug")[:6])
    if len(practices) == 1:
        return practices[0]
    if not practices:
        raise CommandError("there is no practice yet; load the demo with: handbill demo")
    names = ", ".join(p.slug for p in practices[:5])
    raise CommandError(f"several practices; name one with --practice (e.g. {names})")


def _era(practice: Any, era_id: int) -> Any:
    from handbill.remittance.models import EraFile

    found = EraFile.objects.filter(practice=practice, pk=era_id).first()
    if found is None:
        raise CommandError(f"{practice.slug} has no remittance (ERA) #{era_id}")
    return found


def _era_json(era: Any, plan: Any = None, *, summary: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {
        "era": era.pk, "status": era.status, "trace": era.trace_number,
        "payer": era.payer.name if era.payer_id else era.payer_name,
        "amount": _money(era.payment_amount_cents),
    }
    if plan is not None:
        result["plan"] = plan.summary() if summary else plan.as_dict()
    else:
        result["plan"] = era.plan_summary
    return result


def _money(cents: int) -> str:
    from handbill.core.money import Cents

    return Cents(cents).to_decimal_string()


def _import(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.remittance import actions
    from handbill.submissions.inbox import decode

    try:
        text = decode(args.file.read_bytes())
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    practice = _practice(args.practice)
    at = timezone.now()
    try:
        eras = actions.import_835(practice=practice, text=text, by=None, at=at,
                                  file_name=args.file.name)
        plans = [actions.plan_posting(era) for era in eras]
        if args.commit:
            eras = [actions.commit_posting(era=era, by=None, at=at) for era in eras]
    except (actions.RemittanceRefused, actions.RemittanceError) as exc:
        raise CommandError(str(exc)) from None
    return {"payments": [_era_json(era, plan, summary=args.summary)
                         for era, plan in zip(eras, plans, strict=True)]}


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from handbill.remittance import actions

    era = _era(_practice(args.practice), args.era)
    try:
        plan = actions.plan_posting(era)
    except actions.RemittanceError as exc:
        raise CommandError(str(exc)) from None
    return _era_json(era, plan, summary=args.summary)


def _post(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.remittance import actions

    era = _era(_practice(args.practice), args.era)
    try:
        era = actions.commit_posting(era=era, by=None, at=timezone.now())
    except actions.RemittanceError as exc:
        raise CommandError(str(exc)) from None
    return _era_json(era)


def _inbox_process(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.remittance import actions

    practice = _practice(args.practice)
    report = actions.process_inbox(practice=practice, by=None, at=timezone.now(),
                                   post=not args.no_post)
    return {"files": [item.as_dict() for item in report]}
