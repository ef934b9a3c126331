"""``handbill demo [--seed N] [--reset]``: load the synthetic demo practice.

Cedar Street Massage Therapy, with three months of history ending yesterday, so a new user
lands in a practice that looks real. Running it again while the demo practice exists changes
nothing and says so. ``--reset`` retires the existing demo practice (renamed, no members;
its ledger and audit rows are append-only, so it is not deleted) and builds a new one.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from handbill.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="load the synthetic demo practice (Cedar Street Massage Therapy)",
        description="Create the demo practice with three months of synthetic history. Every "
        "demo user signs in with the password printed in the output.",
    )
    parser.add_argument(
        "--seed", type=int, default=None,
        help="random seed; the same seed on the same day builds the same practice "
        "(default 2026)",
    )
    parser.add_argument(
        "--reset", action="store_true",
        help="retire the existing demo practice (renamed, its members removed) and build a "
        "new one",
    )
    parser.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.db import transaction
    from django.utils import timezone

    from handbill.demo import builder

    at = timezone.now()
    as_of = at.astimezone(builder.ZONE).date()
    seed = builder.DEFAULT_SEED if args.seed is None else args.seed
    existing = builder.find_demo()
    if existing is not None and not args.reset:
        return {
            "created": False,
            "message": f"The demo practice ({builder.DEMO_SLUG}) is already loaded; nothing "
            "changed. Use --reset to retire it and build a new one.",
            **builder.summarize(existing),
        }
    started = time.perf_counter()
    try:
        with transaction.atomic():
            retired = builder.retire_demo(at=at) if args.reset else None
            practice = builder.build_demo(as_of=as_of, at=at, seed=seed)
    except builder.DemoError as exc:
        raise CommandError(str(exc)) from None
    seconds = time.perf_counter() - started
    message = f"Loaded {builder.PRACTICE_NAME} with history up to {as_of.isoformat()}."
    if retired is not None:
        message += f" The previous demo practice is kept, retired, as {retired.slug!r}."
    return {
        "created": True,
        "message": message,
        "seconds": round(seconds, 1),
        "retired": retired.slug if retired is not None else None,
        **builder.summarize(practice),
    }
