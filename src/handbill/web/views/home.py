"""The start page after signing in."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from handbill.practice.models import Role
from handbill.web.access import PracticeRequest, current_practice, practice_view
from handbill.web.queries.home import today


def root(request: HttpRequest) -> HttpResponse:
    """``/``: the start page when signed in, the sign-in page otherwise."""
    if not request.user.is_authenticated:
        return redirect("web:login")
    return redirect("web:home")


@practice_view("view")
def home(request: HttpRequest) -> HttpResponse:
    membership = cast(PracticeRequest, request).membership
    assert membership is not None  # noqa: S101 - practice_view guarantees it
    own = membership.provider_id if membership.role == Role.THERAPIST else None
    counts = today(current_practice(request), provider_id=own)
    return render(request, "web/home.html", {"today": counts, "own_notes": own is not None})
