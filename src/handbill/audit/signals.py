"""Sign-in events, from Django's and django-axes' signals: every sign-in, failed sign-in,
sign-out and lockout leaves an audit row with the source address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from handbill.audit.context import audit_source, current_source
from handbill.audit.middleware import channel_of, source_address
from handbill.audit.record import record


def _write(
    request: HttpRequest | None, action: str, *, by: Any, target: Any, **detail: Any
) -> None:
    # A signal may come from outside the middleware's reach (authenticate() called with a
    # request by other code): take the address from that request then.
    if current_source() is None and request is not None:
        with audit_source(source_address(request), channel_of(request)):
            record(action=action, at=timezone.now(), by=by, target=target, **detail)
        return
    record(action=action, at=timezone.now(), by=by, target=target, **detail)


def _from_outside(request: HttpRequest | None) -> bool:
    """A sign-in over the network has a peer address. ``login()`` called by code with a
    request built in memory (the test client's ``force_login``) has none: nobody signed in."""
    return request is not None and bool(request.META.get("REMOTE_ADDR"))


@receiver(user_logged_in, dispatch_uid="handbill-audit-sign-in")
def signed_in(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if _from_outside(request):
        _write(request, "auth.sign_in", by=user, target=user)


@receiver(user_logged_out, dispatch_uid="handbill-audit-sign-out")
def signed_out(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _write(request, "auth.sign_out", by=user, target=user)


def _named(credentials: dict[str, Any]) -> tuple[Any, str]:
    """The account a failed attempt named (if it exists) and the name as typed."""
    typed = str(credentials.get("username", ""))[:150]
    model = get_user_model()
    found = model._default_manager.filter(**{model.USERNAME_FIELD: typed}).first()
    return found, typed


@receiver(user_login_failed, dispatch_uid="handbill-audit-sign-in-failed")
def sign_in_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    account, typed = _named(credentials)
    # The account is the target, not the actor: whoever typed the password is unknown.
    _write(request, "auth.sign_in_failed", by=None, target=account, username=typed)


def locked_out(sender: object, request: HttpRequest | None, username: str | None = None,
               ip_address: str | None = None, **kwargs: Any) -> None:
    account, typed = _named({"username": username or ""})
    _write(request, "auth.locked_out", by=None, target=account, username=typed)
