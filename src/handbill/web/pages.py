"""Shared page plumbing: full page or htmx fragment, redirect after a POST, pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from handbill.web.access import is_htmx

PER_PAGE = 25


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only ``partial`` when htmx asked for a fragment."""
    name = partial if partial is not None and is_htmx(request) else template
    return render(request, name, context, status=status)


def go(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect after a successful POST (htmx follows it as a full page change)."""
    if is_htmx(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def paginate(request: HttpRequest, items: QuerySet[Any], per_page: int = PER_PAGE) -> Page:
    """One page of ``items``; an out-of-range or malformed page number shows the nearest page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def now() -> datetime:
    """The request's moment: views are the edge where the clock is read and passed in."""
    return timezone.now()


INVALID = 422  # a form with errors: the page again, with the messages next to the fields
