"""``handbill claims correct|reopen|secondary|withdraw|appeal``: after a claim came back.

- ``correct CLAIM --replace|--void``: a replacement (frequency 7) or void (8) of a paid,
  partially paid or denied claim, naming the payer's claim number (REF*F8);
- ``reopen CLAIM``: a rejected claim back to draft, to be fixed and sent as a new original;
- ``secondary CLAIM``: the secondary claim with the primary payer's adjudication;
- ``withdraw CLAIM``: void a claim not sent yet (a correction or secondary not needed);
- ``appeal CLAIM --out FILE.pdf``: the appeal letter (``--mark-appealed`` records it as sent).

They act as the system (``by=None``), as the other operator commands do, and print the claim
as ``handbill claims show`` does. Bad input exits 2 with the reason.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from handbill.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    from handbill.cli.claims import CLAIMS_ACTIONS

    if not CLAIMS_ACTIONS:
        raise RuntimeError("handbill.cli.claims must be registered before money_back")
    actions = CLAIMS_ACTIONS[-1]

    correct = actions.add_parser(
        "correct", help="replace (7) or void (8) a paid, partially paid or denied claim")
    kind = correct.add_mutually_exclusive_group(required=True)
    kind.add_argument("--replace", action="store_const", dest="kind", const="replace",
                      help="send a replacement, coded again from the note")
    kind.add_argument("--void", action="store_const", dest="kind", const="void",
                      help="cancel the claim at the payer")
    correct.add_argument("claim", help="claim number (e.g. HB0000012) or database id")
    correct.add_argument("--reason", required=True, help="why (kept in the claim's history)")
    correct.add_argument("--payer-claim-number", default="",
                         help="the payer's claim number, when no remittance gave it")
    correct.add_argument("--practice", help="practice slug, when claim numbers repeat")
    correct.set_defaults(func=_correct)

    reopen = actions.add_parser(
        "reopen", help="a rejected claim back to draft, to be fixed and sent as a new original")
    reopen.add_argument("claim")
    reopen.add_argument("--reason", required=True, help="what the rejection was about")
    reopen.add_argument("--practice")
    reopen.set_defaults(func=_reopen)

    secondary = actions.add_parser(
        "secondary", help="bill the patient's second plan with the primary's adjudication")
    secondary.add_argument("claim", help="the primary claim")
    secondary.add_argument("--msp-type", default="",
                           help="Medicare as secondary: the MSP type (SBR05), e.g. 12")
    secondary.add_argument("--practice")
    secondary.set_defaults(func=_secondary)

    withdraw = actions.add_parser(
        "withdraw", help="void a claim not sent yet (a correction or secondary not needed)")
    withdraw.add_argument("claim")
    withdraw.add_argument("--reason", required=True)
    withdraw.add_argument("--practice")
    withdraw.set_defaults(func=_withdraw)

    appeal = actions.add_parser("appeal", help="write the appeal letter (PDF) for a claim")
    appeal.add_argument("claim")
    appeal.add_argument("--out", required=True, type=Path, help="where to write the PDF")
    appeal.add_argument("--argument", default="", help="a paragraph of your own to add")
    appeal.add_argument("--mark-appealed", metavar="NOTE",
                        help="also record the claim as appealed, saying how it was sent")
    appeal.add_argument("--practice")
    appeal.set_defaults(func=_appeal)


def _claim(args: argparse.Namespace) -> Any:
    setup_django()
    from handbill.cli.claims import _find_claim

    return _find_claim(args.claim, args.practice)


def _summary(claim: Any, **extra: Any) -> dict[str, Any]:
    from handbill.cli.claims import claim_json

    claim.refresh_from_db()
    return {**claim_json(claim), **extra}


def _act(action: Callable[..., Any], claim: Any, **kwargs: Any) -> Any:
    """Run a claim action as the system, now; a refusal becomes exit 2 with its reason."""
    from django.utils import timezone

    from handbill.claims.actions import ClaimError

    try:
        return action(claim=claim, by=None, at=timezone.now(), **kwargs)
    except ClaimError as exc:
        raise CommandError(str(exc)) from None


def _correct(args: argparse.Namespace) -> dict[str, Any]:
    from handbill.claims.corrections import correct_claim

    original = _claim(args)
    made = _act(correct_claim, original, kind=args.kind, reason=args.reason,
                payer_claim_number=args.payer_claim_number)
    original.refresh_from_db()
    return _summary(made, replaces=original.number,
                    payer_claim_number=original.payer_claim_number,
                    original_status=original.status)


def _reopen(args: argparse.Namespace) -> dict[str, Any]:
    from handbill.claims.corrections import reopen_claim

    return _summary(_act(reopen_claim, _claim(args), reason=args.reason))


def _secondary(args: argparse.Namespace) -> dict[str, Any]:
    from handbill.claims.secondary import build_secondary

    primary = _claim(args)
    made = _act(build_secondary, primary, msp_type=args.msp_type)
    return _summary(made, primary=primary.number, prior_payers=made.prior_payers,
                    msp_type=made.msp_type or None)


def _withdraw(args: argparse.Namespace) -> dict[str, Any]:
    from handbill.claims.corrections import withdraw_claim

    return _summary(_act(withdraw_claim, _claim(args), reason=args.reason))


def _appeal(args: argparse.Namespace) -> dict[str, Any]:
    claim = _claim(args)
    from django.utils import timezone

    from handbill.claims.actions import ClaimError
    from handbill.claims.appeals import appeal_letter, mark_appealed

    now = timezone.now()
    out: Path = args.out
    if not out.parent.is_dir():
        raise CommandError(f"the folder {out.parent} does not exist; create it or choose another")
    try:
        pdf = appeal_letter(claim, at=now, argument=args.argument)
        if args.mark_appealed is not None:
            mark_appealed(claim=claim, by=None, at=now, note=args.mark_appealed)
    except ClaimError as exc:
        raise CommandError(str(exc)) from None
    out.write_bytes(pdf)
    claim.refresh_from_db()
    return {"claim": claim.number, "status": claim.status, "file": str(out),
            "bytes": len(pdf), "payer_claim_number": claim.payer_claim_number}
