"""Working what comes back, from the command line.

    handbill followup [--practice SLUG] [--as-of DATE]
    handbill followup worklist [--kind rejections|denials|underpaid|timely|followup] [--all]
    handbill followup aging
    handbill followup proposals [--accept ID [--effective-date DATE] | --dismiss ID]
                                [--threshold N]
    handbill followup work KEY (--worked | --snooze DATE) [--note TEXT]

``followup`` alone prints the A/R follow-up queue, most money at risk first (see
docs/followup.md for the formula). ``proposals`` looks at the denials again, stores any new
policy-change proposal and prints the open ones; ``--accept`` applies one as a new version
of the payer's policy. Run by the operator, these act as the system (``by=None``).
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from handbill.cli import CommandError, setup_django

KINDS = ("rejections", "denials", "underpaid", "timely", "followup")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date; write it like 2026-11-23") from None


def _common(parser: Any, *, top: bool = False) -> None:
    # The options go before or after the action; an action's own copy must not reset a
    # value given before it, so only the top parser has defaults.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--practice", default=default,
                        help="practice slug (needed when there are several)")
    parser.add_argument("--as-of", dest="as_of", metavar="DATE", default=default,
                        help="work as on this day (default: today)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "followup", help="A/R follow-up, worklists, aging and rule proposals",
        description="With no action: the A/R follow-up queue as JSON, most money at risk "
        "first.")
    _common(parser, top=True)
    parser.set_defaults(func=_queue)
    actions = parser.add_subparsers(dest="followup_command", required=False, metavar="ACTION")
    work = actions.add_parser("worklist", help="rejections, denials, underpayments, timely "
                              "filing and follow-up items")
    work.add_argument("--kind", help="one list: " + ", ".join(KINDS))
    work.add_argument("--all", action="store_true",
                      help="include items marked worked or snoozed")
    _common(work)
    work.set_defaults(func=_worklist)
    aging = actions.add_parser("aging", help="A/R by payer in 0-30 … >120 day buckets")
    _common(aging)
    aging.set_defaults(func=_aging)
    proposals = actions.add_parser(
        "proposals", help="policy changes proposed from repeated denials",
        description="Look at the denials again, store new proposals, print the open ones.")
    which = proposals.add_mutually_exclusive_group()
    which.add_argument("--accept", type=int, metavar="ID",
                       help="apply a proposal as a new policy version")
    which.add_argument("--dismiss", type=int, metavar="ID", help="decline a proposal")
    proposals.add_argument("--effective-date", dest="effective_date", metavar="DATE",
                           help="with --accept: the first day the new rules apply "
                           "(default: today)")
    proposals.add_argument("--threshold", type=int, default=None,
                           help="denials of the same code and CARC needed (default 3)")
    _common(proposals)
    proposals.set_defaults(func=_proposals)
    item = actions.add_parser("work", help="mark an item worked or snooze it")
    item.add_argument("key", help="the item's key, e.g. denial:42 (from worklist)")
    what = item.add_mutually_exclusive_group(required=True)
    what.add_argument("--worked", action="store_true")
    what.add_argument("--snooze", metavar="DATE", help="hide it until this day")
    item.add_argument("--note", default="")
    _common(item)
    item.set_defaults(func=_work)


def _context(args: Any) -> tuple[Any, datetime]:
    setup_django()
    from django.utils import timezone

    from handbill.cli.remit import _practice

    practice = _practice(args.practice)
    if args.as_of:
        day = _day(args.as_of)
        return practice, datetime.combine(day, time(12), tzinfo=ZoneInfo(practice.timezone))
    return practice, timezone.now()


def _queue(args: Any) -> Any:
    practice, at = _context(args)
    from handbill.followup import queries

    rows = queries.worklist(practice, at=at, kind="followup")
    return {"practice": practice.slug, "as_of": at.date().isoformat(),
            "formula": "balance × (30 + min(age, 180)) × deadline factor ÷ 30",
            "items": [row.as_dict() for row in rows]}


def _worklist(args: Any) -> Any:
    if args.kind is not None and args.kind not in KINDS:
        raise CommandError(f"--kind is {args.kind!r}; use one of {', '.join(KINDS)}")
    practice, at = _context(args)
    from handbill.followup import queries

    rows = queries.worklist(practice, at=at, kind=args.kind, include_done=args.all)
    return {"practice": practice.slug, "kind": args.kind or "all",
            "items": [row.as_dict() for row in rows]}


def _aging(args: Any) -> Any:
    practice, at = _context(args)
    from handbill.followup import queries

    return queries.aging(practice, at=at).as_dict()


def _proposal_json(proposal: Any) -> dict[str, Any]:
    from handbill.core.followup import describe_change

    return {"id": proposal.pk, "payer": proposal.payer.name, "code": proposal.code,
            "carc": proposal.carc, "count": proposal.count, "change": proposal.change,
            "in_words": describe_change(proposal.change), "reason": proposal.reason,
            "claims": proposal.claims, "status": proposal.status,
            "policy_version": proposal.policy_version_id}


def _proposals(args: Any) -> Any:
    from handbill.core.followup import DEFAULT_THRESHOLD

    if args.effective_date and args.accept is None:
        raise CommandError("--effective-date goes with --accept ID")
    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if threshold < 1:
        raise CommandError(f"--threshold must be 1 or more, not {threshold}")
    start = _day(args.effective_date) if args.effective_date else None
    practice, at = _context(args)
    from handbill.followup import actions

    try:
        if args.accept is not None:
            return _proposal_json(actions.accept_proposal(
                practice=practice, proposal_id=args.accept, by=None, at=at,
                effective_date=start))
        if args.dismiss is not None:
            return _proposal_json(actions.dismiss_proposal(
                practice=practice, proposal_id=args.dismiss, by=None, at=at))
        found = actions.refresh_proposals(practice=practice, by=None, at=at,
                                          threshold=threshold)
    except actions.FollowupError as exc:
        raise CommandError(str(exc)) from None
    return {"practice": practice.slug, "threshold": threshold,
            "proposals": [_proposal_json(p) for p in found]}


def _work(args: Any) -> Any:
    until = _day(args.snooze) if args.snooze else None
    practice, at = _context(args)
    from handbill.followup import actions

    try:
        if until is not None:
            item = actions.snooze(practice=practice, key=args.key, until=until, by=None, at=at,
                                  note=args.note)
        else:
            item = actions.mark_worked(practice=practice, key=args.key, by=None, at=at,
                                       note=args.note)
    except actions.FollowupError as exc:
        raise CommandError(str(exc)) from None
    return {"key": item.key, "claim": item.claim.number,
            "worked_at": item.worked_at.isoformat() if item.worked_at else None,
            "snoozed_until": item.snoozed_until.isoformat() if item.snoozed_until else None,
            "note": item.note}
