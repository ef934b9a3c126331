"""Checking the books from the command line.

    handbill ledger check [--practice SLUG]

For each practice (or the one named): the trial balance (debits must equal credits), and the
sums the ledger keeps from its legs by database triggers (A/R per claim and account, totals
per account, day and transaction kind; ADR 0004) summed again from the legs. Prints the
result as JSON; exits 0 when everything agrees and 1 when something does not, listing the
first differences. Run it after restoring a database copied by other means than
``handbill restore``, or whenever the books look wrong. It reads the whole ledger, so it
takes seconds on a large practice.
"""

from __future__ import annotations

import argparse
from typing import Any

from handbill.cli import CheckFailed, CommandError, setup_django

# Differences listed per table; the count says how many there are in all.
SHOWN = 20


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ledger", help="check the books: trial balance and the sums kept from the legs",
        description="Check that the ledger balances and that its kept sums agree with it.",
    )
    commands = parser.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    check = commands.add_parser(
        "check", help="trial balance and kept sums against the legs (exit 1 on a difference)"
    )
    check.add_argument("--practice", help="practice slug (default: every practice)")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from handbill.ledger.balances import daily_total_drift, receivable_drift, trial_balance
    from handbill.ledger.models import ClaimReceivable, DailyTotal, Leg
    from handbill.practice.models import Practice

    practices = Practice.objects.order_by("slug")
    if args.practice:
        practices = practices.filter(slug=args.practice)
        if not practices.exists():
            raise CommandError(f"no practice {args.practice!r}")
    results = []
    for practice in practices:
        books = trial_balance(practice)
        receivables = receivable_drift(practice)
        days = daily_total_drift(practice)
        results.append({
            "practice": practice.slug,
            "legs": Leg.objects.filter(practice=practice).count(),
            "trial_balance": {"debits": str(books.total_debits),
                              "credits": str(books.total_credits),
                              "balanced": books.is_balanced},
            "claim_receivables": {
                "rows": ClaimReceivable.objects.filter(practice=practice).count(),
                "differences": len(receivables),
                "first": [{"account": d.account_id, "claim": d.claim_ref,
                           "kept": str(d.kept), "legs": str(d.summed)}
                          for d in receivables[:SHOWN]],
            },
            "daily_totals": {
                "rows": DailyTotal.objects.filter(practice=practice).count(),
                "differences": len(days),
                "first": [{"account": account, "day": day.isoformat(), "kind": kind,
                           "kept": [kept_debits, kept_credits],
                           "legs": [debits, credits]}
                          for account, day, kind, kept_debits, kept_credits, debits, credits
                          in days[:SHOWN]],
            },
            "ok": books.is_balanced and not receivables and not days,
        })
    payload = {"ok": all(r["ok"] for r in results), "practices": results}
    if not payload["ok"]:
        wrong = ", ".join(r["practice"] for r in results if not r["ok"])
        raise CheckFailed(
            f"the books of {wrong} do not agree with their legs (see the JSON); the kept sums "
            "are written only by the database's triggers, so a difference means rows were "
            "changed outside Handbill — restore from a backup (handbill restore) or ask "
            "for help before posting more",
            payload,
        )
    return payload
