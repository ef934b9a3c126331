"""Two-factor sign-in (TOTP, django-otp): who must, and the gate that sends them to enrol or
to type their code before any page of the app.

An owner or biller working in a practice that requires two-factor
(``Practice.require_two_factor``) is not *verified* after the password alone: every page
redirects to the enrolment page (no confirmed device yet) or the code page. The rule follows
the practice being worked in (a billing company's biller switching to such a practice is
asked then), and reads the membership the practice middleware already loaded: no query.
The API (``/api/``) authenticates each request with a
token and is never redirected; sign-out, the two-factor pages themselves, static files and
the health check stay reachable.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from handbill.practice.access import TWO_FACTOR_ROLES
from handbill.practice.models import Membership


def step_url(step: str, next_path: str) -> str:
    """The two-factor page ``step`` (a URL name), coming back to ``next_path`` after: its
    query string encoded, so a filtered list (``/claims/?status=denied&payer=3``) keeps every
    filter."""
    return f"{reverse(step)}?{urlencode({'next': next_path}, safe='/')}"


# Paths a half-signed-in user may still reach.
OPEN_PREFIXES = ("/two-factor/", "/sign-out/", "/sign-in/", "/static/", "/health/", "/api/")


def must_use_two_factor(membership: Membership | None) -> bool:
    """An owner or biller of a practice that requires it."""
    return (
        membership is not None
        and membership.practice.require_two_factor
        and membership.role in TWO_FACTOR_ROLES
    )


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def enrolment_device(user: Any) -> TOTPDevice:
    """The unconfirmed device being enrolled (one at a time), made on first visit."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def qr_svg(text: str) -> str:
    """The otpauth:// link as an inline SVG QR code (no image library needed)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    # Inline in the page: drop the XML declaration a standalone file would carry.
    return svg[svg.index("<svg"):]


class TwoFactorMiddleware:
    """After django-otp's OTPMiddleware (``request.user.is_verified()``) and the current
    practice middleware (``request.membership``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and must_use_two_factor(getattr(request, "membership", None))
            and not user.is_verified()  # type: ignore[union-attr]
        ):
            step = "web:two_factor_verify" if confirmed_device(user) else "web:two_factor_enrol"
            return redirect(step_url(step, request.get_full_path()))
        return self.get_response(request)
