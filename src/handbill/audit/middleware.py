"""Per request: where it came from (for every audit row written meanwhile), and a row for each
refusal (403). Refusals by scoping (404 for a row the user may not see) are written where the
row is looked up, :func:`handbill.web.access.get_scoped`, which knows the row exists."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from handbill.audit.context import audit_source
from handbill.audit.record import record


def source_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind one trusted proxy (HANDBILL_BEHIND_PROXY)
    the address that proxy appended last to X-Forwarded-For (the earlier ones are whatever
    the client chose to send)."""
    raw = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "HANDBILL_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            raw = forwarded.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def channel_of(request: HttpRequest) -> str:
    return "api" if request.path.startswith("/api/") else "web"


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_source(source_address(request), channel_of(request)):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            denied(request, status=403, reason=str(exception))


def denied(
    request: HttpRequest, *, status: int, reason: str, practice: object = None, **detail: object
) -> None:
    """One row for a refused request: who, what path, why; in the trail of ``practice`` (by
    default the practice the user was working in)."""
    user = getattr(request, "user", None)
    record(
        action="access.denied",
        at=timezone.now(),
        by=user if user is not None and user.is_authenticated else None,
        practice=practice or getattr(request, "practice", None),  # type: ignore[arg-type]
        status=status,
        method=request.method,
        path=request.path[:300],
        reason=reason[:300],
        **detail,
    )
