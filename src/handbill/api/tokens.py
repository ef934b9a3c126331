"""Making, revoking and reading API tokens.

A token is ``hb_`` and 43 random URL-safe characters. Only its SHA-256 is stored: a stolen
database copy does not hand out working tokens. The token text is returned once, by
:func:`create_token`; nobody (not even an owner) can see it again.

Tokens are checked here, never through Django's ``authenticate()``: the sign-in throttling
(django-axes) counts password sign-ins only, and an API client with a wrong token gets 401
without locking the person out of the web app.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction

from handbill.api.models import ApiToken
from handbill.audit.record import record
from handbill.practice.models import Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

PREFIX = "hb_"
# Writing last_used_at on every call would turn each read into a write; a minute is enough to
# tell which tokens are alive.
_TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    """A token request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@transaction.atomic
def create_token(
    *, membership: Membership, name: str, by: AbstractBaseUser | None, at: datetime
) -> NewToken:
    """A new token for ``membership``: the owner of the membership makes their own; the
    operator (``by=None``, the ``handbill`` command) may make one for anyone."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    if by is not None and by.pk != membership.user_id:
        raise TokenError("a token is made by the person it acts for")
    name = name.strip()
    if not name:
        raise TokenError("name the token after where it is used (e.g. 'scheduling system')")
    if len(name) > 60:
        raise TokenError("a token name is at most 60 characters")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        membership=membership,
        practice_id=membership.practice_id,
        name=name,
        prefix=secret[:10],
        token_hash=digest(secret),
        created_at=at,
    )
    record(action="api_token.create", at=at, by=by, practice=membership.practice, target=token,
           name=name, user=membership.user_id)
    return NewToken(token, secret)


@transaction.atomic
def revoke_token(*, token: ApiToken, by: AbstractBaseUser | None, at: datetime) -> ApiToken:
    """Stop a token from working. Its owner, or an owner of the practice, may revoke it."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    locked = ApiToken.objects.select_for_update().select_related("membership").get(pk=token.pk)
    if by is not None and by.pk != locked.membership.user_id:
        from handbill.practice.access import authorize

        authorize(by, locked.membership.practice, "administer")
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = at
    locked.save(update_fields=["revoked_at"])
    record(action="api_token.revoke", at=at, by=by, practice=locked.membership.practice,
           target=locked, name=locked.name)
    return locked


def find_active(secret: str, *, at: datetime) -> ApiToken | None:
    """The live token with this text, with its membership, practice and user; else None."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("membership__practice", "membership__user")
        .filter(token_hash=digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.membership.user.is_active:
        return None
    if token.last_used_at is None or at - token.last_used_at >= _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
        token.last_used_at = at
    return token
