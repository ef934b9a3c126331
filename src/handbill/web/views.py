"""Thin views: read the request, make one call, render."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

import handbill


def health(request: HttpRequest) -> JsonResponse:
    """Load balancers and the README's smoke check read this; it touches the database once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse(
        {"status": "ok", "version": handbill.__version__, "database": connection.vendor}
    )


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"version": handbill.__version__})
