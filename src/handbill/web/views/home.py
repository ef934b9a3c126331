"""The start page after signing in."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from handbill.practice.models import Role
from handbill.web import charts
from handbill.web.access import PracticeRequest, current_practice, practice_view
from handbill.web.pages import now
from handbill.web.queries.home import dashboard, today


def root(request: HttpRequest) -> HttpResponse:
    """``/``: the start page when signed in, the sign-in page otherwise."""
    if not request.user.is_authenticated:
        return redirect("web:login")
    return redirect("web:home")


@practice_view("view")
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: what waits for whom and, for those who bill, the money at a glance."""
    membership = cast(PracticeRequest, request).membership
    assert membership is not None  # noqa: S101 - practice_view guarantees it
    practice = current_practice(request)
    own = membership.provider_id if membership.role == Role.THERAPIST else None
    if "bill" not in getattr(request, "can", frozenset()):
        counts = today(practice, provider_id=own)
        return render(request, "web/home.html", {"today": counts, "own_notes": own is not None})
    board = dashboard(practice, as_of=practice.local_date(now()), provider_id=own)
    return render(request, "web/home.html", {
        "today": board.today, "own_notes": own is not None, "board": board,
        "aging_chart": charts.aging_chart(board.aging),
        "denial_chart": charts.denial_chart(board.denials),
    })
