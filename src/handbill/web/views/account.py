"""Signing in and out, and choosing the practice to work in."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from handbill.practice.models import Membership
from handbill.web.middleware import SESSION_KEY


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
