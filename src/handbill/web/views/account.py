"""Signing in and out, and choosing the practice to work in."""

from __future__ import annotations

from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from handbill.audit.record import record
from handbill.practice.actions import set_two_factor_requirement
from handbill.practice.models import Membership
from handbill.web.access import current_practice, practice_view
from handbill.web.middleware import SESSION_KEY
from handbill.web.pages import INVALID, now
from handbill.web.two_factor import confirmed_device, enrolment_device, qr_svg, step_url


class SignInView(auth_views.LoginView):
    template_name = "web/account/sign_in.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


@require_POST
@login_required
def switch_practice(request: HttpRequest) -> HttpResponse:
    """Work in another of the user's practices; a practice that is not theirs is ignored."""
    chosen = request.POST.get("practice", "")
    if chosen.isdigit() and Membership.objects.filter(
        user=request.user, practice_id=int(chosen)
    ).exists():
        request.session[SESSION_KEY] = int(chosen)
    # The page the user was on shows the old practice's rows (a 404 in the new one): start
    # from the new practice's own first page.
    return redirect(reverse("web:home"))


# --- Two-factor sign-in (handbill.web.two_factor) ----------------------------------------------


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return wanted
    return reverse("web:home")


_WRONG = "That code does not match. Type the 6 digits the app shows now."
# django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s …).
_THROTTLED = "Too many wrong codes: wait a little, then type the code the app shows then."


def _code(request: HttpRequest) -> str:
    return "".join(request.POST.get("code", "").split())


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Scan the QR code with an authenticator app, type the code it shows: enrolled."""
    if confirmed_device(request.user) is not None:
        return redirect(step_url("web:two_factor_verify", _next(request)))
    device = enrolment_device(request.user)
    error = ""
    if request.method == "POST":
        code = _code(request)
        allowed, _why = device.verify_is_allowed()
        if allowed and code.isdigit() and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            record(action="auth.two_factor_enrolled", at=now(), by=request.user,
                   target=request.user)
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(_next(request))
        error = _WRONG if allowed else _THROTTLED
    return render(
        request, "web/account/two_factor_enrol.html",
        {"qr": qr_svg(device.config_url), "secret": b32encode(device.bin_key).decode(),
         "next": _next(request), "error": error},
        status=INVALID if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    device = confirmed_device(request.user)
    if device is None:
        return redirect(step_url("web:two_factor_enrol", _next(request)))
    error = ""
    if request.method == "POST":
        code = _code(request)
        # verify_is_allowed: django-otp's own throttle after wrong codes (doubling delays).
        allowed, _why = device.verify_is_allowed()
        if allowed and code.isdigit() and device.verify_token(code):
            otp_login(request, device)
            record(action="auth.two_factor_verified", at=now(), by=request.user,
                   target=request.user)
            return redirect(_next(request))
        record(action="auth.two_factor_failed", at=now(), by=request.user,
               target=request.user)
        error = _WRONG if allowed else _THROTTLED
    return render(request, "web/account/two_factor_verify.html",
                  {"next": _next(request), "error": error}, status=INVALID if error else 200)


@practice_view("administer")
@require_http_methods(["GET", "POST"])
def practice_security(request: HttpRequest) -> HttpResponse:
    """The owner's switch: require two-factor sign-in from owners and billers."""
    practice = current_practice(request)
    if request.method == "POST":
        required = request.POST.get("require_two_factor") == "1"
        set_two_factor_requirement(practice=practice, required=required, by=request.user,
                                   at=now())
        messages.success(request, "Two-factor sign-in is now required for owners and billers."
                         if required else "Two-factor sign-in is no longer required.")
        return redirect("web:practice_security")
    return render(request, "web/account/practice_security.html", {"practice": practice})
