"""The current practice of each request.

A billing company's staff belong to several practices; the one they are working in is kept in
the session (the practice switcher in the header changes it). Without a choice, or when the
stored choice is no longer theirs, it is their first practice by name.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from handbill.practice.models import Membership
from handbill.web.access import permissions_of

SESSION_KEY = "handbill.practice_id"


def memberships_of(user: object) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user)
        .select_related("practice")
        .order_by("practice__legal_name", "practice_id")
    )


def current_membership(request: HttpRequest) -> Membership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        found = (
            Membership.objects.filter(user=user, practice_id=chosen)
            .select_related("practice")
            .first()
        )
        if found is not None:
            return found
    # One query for the usual case; the switcher's list is read only when a page shows it.
    first = (
        Membership.objects.filter(user=user)
        .select_related("practice")
        .order_by("practice__legal_name", "practice_id")
        .first()
    )
    if first is not None:
        request.session[SESSION_KEY] = first.practice_id
    return first


class CurrentPracticeMiddleware:
    """Sets ``request.practice``, ``request.membership``, ``request.can`` (the permission
    names of the member's role) and ``request.memberships`` (lazy, for the switcher), and
    shows times in the practice's time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = current_membership(request)
        request.membership = found  # type: ignore[attr-defined]
        request.practice = found.practice if found is not None else None  # type: ignore[attr-defined]
        request.can = permissions_of(found.role if found is not None else None)  # type: ignore[attr-defined]
        user = request.user
        request.memberships = SimpleLazyObject(lambda: memberships_of(user))  # type: ignore[attr-defined]
        if found is None:
            return self.get_response(request)
        # Times on the pages read in the clinic's own zone, as its staff live them.
        timezone.activate(ZoneInfo(found.practice.timezone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
