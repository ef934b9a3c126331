"""Account → API tokens: make a token (shown once), see when each was last used, revoke."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from handbill.api.models import ApiToken
from handbill.api.tokens import TokenError, create_token, revoke_token
from handbill.web.access import PracticeRequest, current_practice, get_scoped, practice_view
from handbill.web.pages import INVALID, go, now, render_page


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=60, label="Name",
        help_text="Where the token is used, e.g. “scheduling system” or “nightly export”.",
    )


def _tokens(request: HttpRequest) -> list[ApiToken]:
    """The member's own tokens; an owner also sees everyone's in the practice (to revoke)."""
    current = cast(PracticeRequest, request)
    tokens = ApiToken.objects.filter(practice=current_practice(request)).select_related(
        "membership__user"
    )
    if "administer" not in current.can:
        tokens = tokens.filter(membership=current.membership)
    return list(tokens)


@practice_view("view")
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            membership = cast(PracticeRequest, request).membership
            assert membership is not None  # noqa: S101 - practice_view guarantees it
            try:
                made = create_token(membership=membership, name=form.cleaned_data["name"],
                                    by=request.user, at=now())
            except TokenError as exc:
                form.add_error("name", str(exc))
            else:
                secret = made.secret
                form = TokenForm()
        if form.errors:
            status = INVALID
    response = render_page(
        request, "web/account/tokens.html",
        {"form": form, "secret": secret, "tokens": _tokens(request)}, status=status,
    )
    # The page that shows a new token must not be kept by the browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


@practice_view("view")
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    tokens = ApiToken.objects.filter(pk__in=[t.pk for t in _tokens(request)])
    token = get_scoped(tokens, request, pk=pk)
    revoke_token(token=token, by=request.user, at=now())
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return go(request, reverse("web:api_tokens"))
