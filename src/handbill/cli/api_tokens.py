"""``handbill api-token create|revoke|list``: API tokens from the server's command line.

Run by the operator, these act as the system (``by=None``); the audit trail records that. A new
token is printed once, in the JSON, and never again.
"""

from __future__ import annotations

import argparse
from typing import Any

from handbill.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("api-token", help="make, list and revoke API tokens")
    actions = parser.add_subparsers(dest="token_command", required=True, metavar="ACTION")

    create = actions.add_parser("create", help="make a token for a user in a practice")
    create.add_argument("--user", required=True, help="the user's username")
    create.add_argument("--practice", required=True, help="practice slug")
    create.add_argument("--name", required=True, help="where the token is used")
    create.set_defaults(func=_create)

    revoke = actions.add_parser("revoke", help="stop a token from working")
    revoke.add_argument("token_id", type=int)
    revoke.set_defaults(func=_revoke)

    listing = actions.add_parser("list", help="tokens (never their text), newest first")
    listing.add_argument("--practice", help="practice slug (default: every practice)")
    listing.set_defaults(func=_list)


def _json(token: Any) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "practice": token.practice.slug,
        "user": token.membership.user.get_username(),
        "role": token.membership.role,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def _create(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.api.tokens import TokenError, create_token
    from handbill.practice.models import Membership

    membership = (
        Membership.objects.select_related("practice", "user")
        .filter(user__username=args.user, practice__slug=args.practice)
        .first()
    )
    if membership is None:
        raise CommandError(
            f"{args.user!r} has no membership in practice {args.practice!r}; add them to the "
            "practice first"
        )
    try:
        made = create_token(membership=membership, name=args.name, by=None, at=timezone.now())
    except TokenError as exc:
        raise CommandError(str(exc)) from None
    return {**_json(made.token), "token": made.secret,
            "note": "shown once: store it now; Handbill keeps only its SHA-256"}


def _revoke(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.utils import timezone

    from handbill.api.models import ApiToken
    from handbill.api.tokens import revoke_token

    token = ApiToken.objects.select_related("practice", "membership__user").filter(
        pk=args.token_id
    ).first()
    if token is None:
        raise CommandError(f"no API token {args.token_id}; see handbill api-token list")
    return _json(revoke_token(token=token, by=None, at=timezone.now()))


def _list(args: argparse.Namespace) -> list[dict[str, Any]]:
    setup_django()
    from handbill.api.models import ApiToken

    tokens = ApiToken.objects.select_related("practice", "membership__user")
    if args.practice:
        tokens = tokens.filter(practice__slug=args.practice)
    return [_json(token) for token in tokens]
