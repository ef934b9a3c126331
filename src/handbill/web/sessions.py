"""Sessions end after ``SESSION_COOKIE_AGE`` (30 minutes) without a request.

Django moves a session's end only when the session is saved. Saving on every request
(``SESSION_SAVE_EVERY_REQUEST``) would add a write to each page and each htmx fragment; this
middleware saves at most once a minute instead, so the idle limit is exact to a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SEEN_KEY = "handbill.seen"
GRANULARITY_SECONDS = 60


class SlidingSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and request.user.is_authenticated:
            # Wall-clock seconds, compared only with itself: a clock read at the edge.
            now = int(time.time())
            if now - int(session.get(SEEN_KEY, 0)) >= GRANULARITY_SECONDS:
                session[SEEN_KEY] = now  # modified: SessionMiddleware saves, with a new end
        return response
