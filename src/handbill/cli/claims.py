"""``handbill claims build|scrub|show``: the note-to-claim workflow from the command line.

Run by the operator on the server, these act as the system (``by=None``), which the audit
trail records as such.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from handbill.cli import CommandError, setup_django

# The ``handbill claims`` sub-command group, once registered (see money_back).
CLAIMS_ACTIONS: list[Any] = []


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("claims", help="build, scrub and show claims")
    actions = parser.add_subparsers(dest="claims_command", required=True, metavar="ACTION")
    # Other modules add their actions under ``handbill claims`` (money_back: correct, reopen,
    # secondary, appeal); they find this group here.
    CLAIMS_ACTIONS.append(actions)

    build = actions.add_parser("build", help="build claims from signed notes")
    build.add_argument(
        "--all", action="store_true", help="every signed visit that has no claim yet"
    )
    build.add_argument("--practice", help="practice slug (default: every practice)")
    build.add_argument("visit_ids", nargs="*", type=int, help="visit ids to build")
    build.set_defaults(func=_build)

    scrub = actions.add_parser("scrub", help="scrub a claim and print its lines and findings")
    scrub.add_argument("--json", action="store_true", help="JSON output (the default)")
    scrub.add_argument("claim", help="claim number (CLM01, e.g. HB0000012) or database id")
    scrub.add_argument("--practice", help="practice slug, when claim numbers repeat")
    scrub.set_defaults(func=_scrub)

    show = actions.add_parser("show", help="print a claim's lines, findings and events")
    show.add_argument("claim")
    show.add_argument("--practice")
    show.set_defaults(func=_show)

    from handbill.cli.submit import SUBMIT_DESCRIPTION, SUBMIT_HELP, add_submit_arguments

    submit = actions.add_parser("submit", help=SUBMIT_HELP, description=SUBMIT_DESCRIPTION)
    add_submit_arguments(submit)


def _find_claim(ref: str, practice_slug: str | None) -> Any:
    from handbill.claims.models import Claim

    claims = Claim.objects.select_related("practice", "patient", "payer", "provider")
    if practice_slug:
        claims = claims.filter(practice__slug=practice_slug)
    found = list(claims.filter(number=ref.strip().upper())[:2])
    if not found and ref.strip().isdigit():
        found = list(claims.filter(pk=int(ref))[:1])
    if not found:
        raise CommandError(f"no claim {ref!r}; give a claim number such as HB0000012 or an id")
    if len(found) > 1:
        raise CommandError(f"claim number {ref} exists in several practices; add --practice")
    return found[0]


def claim_json(claim: Any) -> dict[str, Any]:
    from handbill.claims.actions import unresolved_blocking
    from handbill.core.money import Cents

    overrides = [
        {"rule": o.rule, "line": o.line, "reason": o.reason, "at": o.at.isoformat()}
        for o in claim.overrides.all()
    ]
    blocking_left = {(f.rule, f.line) for f in unresolved_blocking(claim)}
    return {
        "id": claim.pk,
        "number": claim.number,
        "practice": claim.practice.slug,
        "status": claim.status,
        "patient": claim.patient.account_number,
        "payer": claim.payer.name if claim.payer else None,
        "policy": claim.policy_profile or None,
        "date_of_service": claim.date_of_service.isoformat(),
        "place_of_service": claim.place_of_service,
        "frequency": claim.frequency,
        "diagnoses": claim.diagnoses,
        "total_charge": Cents(claim.total_charge_cents).to_decimal_string(),
        "rationale": claim.rationale,
        "authorization": claim.authorization.number if claim.authorization else None,
        "referral": claim.referral.number if claim.referral else None,
        "lines": [
            {
                "number": line.number,
                "code": line.code,
                "modifiers": line.modifiers,
                "units": line.units,
                "minutes": line.minutes,
                "pointers": line.pointers,
                "charge": Cents(line.charge_cents).to_decimal_string(),
                "control_number": line.control_number,
                "rationale": line.rationale,
            }
            for line in claim.lines.all()
        ],
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity,
                "line": f.line,
                "message": f.message,
                "fix": f.fix,
                "overridden": f.severity == "blocking" and (f.rule, f.line) not in blocking_left,
            }
            for f in claim.findings.all()
        ],
        "overrides": overrides,
        "events": [
            {
                "from": e.from_status or None,
                "to": e.to_status,
                "at": e.at.isoformat(),
                "note": e.note,
            }
            for e in claim.events.all()
        ],
    }


def _build(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.claims.actions import ClaimError, build_claim
    from handbill.claims.models import Claim
    from handbill.visits.models import Visit

    if not args.all and not args.visit_ids:
        raise CommandError("name visit ids, or use --all for every signed visit without a claim")
    visits = Visit.objects.select_related("practice", "provider", "patient", "coverage")
    if args.practice:
        visits = visits.filter(practice__slug=args.practice)
        if not visits.exists():
            raise CommandError(f"no visits for practice {args.practice!r}")
    if args.visit_ids:
        visits = visits.filter(pk__in=args.visit_ids)
        missing = set(args.visit_ids) - set(visits.values_list("pk", flat=True))
        if missing:
            raise CommandError(f"no visit with id {', '.join(map(str, sorted(missing)))}")
    else:
        visits = visits.filter(signed_at__isnull=False).exclude(
            pk__in=Claim.objects.exclude(status__in=["void", "rejected"]).values("visit_id")
        )
    started = time.perf_counter()
    built, refused = [], []
    findings: Counter[str] = Counter()
    clean = 0
    for visit in visits.order_by("date_of_service", "pk"):
        try:
            claim = build_claim(visit=visit, by=None, at=timezone.now())
        except ClaimError as exc:
            refused.append({"visit": visit.pk, "reason": str(exc)})
            continue
        rules = [f.rule for f in claim.findings.all() if f.severity == "blocking"]
        findings.update(rules)
        clean += not rules
        built.append(claim.number)
    return {
        "built": len(built),
        "clean": clean,
        "with_blocking_findings": len(built) - clean,
        "blocking_by_rule": dict(sorted(findings.items())),
        "refused": refused,
        "seconds": round(time.perf_counter() - started, 3),
        "claims": built,
    }


def _scrub(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.claims.actions import scrub_claim

    claim = _find_claim(args.claim, args.practice)
    scrub_claim(claim=claim, by=None, at=timezone.now())
    return claim_json(claim)


def _show(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    return claim_json(_find_claim(args.claim, args.practice))
