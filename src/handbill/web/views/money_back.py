"""The claim page's "Get paid" moves: replace or void an adjudicated claim, reopen a rejected
one, bill the secondary plan, and the appeal letter. Each view is one action call; a refusal
comes back to the claim page with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from handbill.claims.actions import ClaimError
from handbill.claims.appeals import appeal_letter, mark_appealed
from handbill.claims.corrections import correct_claim, reopen_claim, withdraw_claim
from handbill.claims.models import Claim
from handbill.claims.secondary import build_secondary
from handbill.web.access import get_scoped, practice_view, viewed
from handbill.web.pages import go, now

_CLAIMS = Claim.objects.select_related("practice", "patient", "payer", "coverage", "visit")


def _back(request: HttpRequest, claim: Claim) -> HttpResponse:
    return go(request, reverse("web:claim", args=[claim.pk]) + "#get-paid")


def _text(request: HttpRequest, name: str, limit: int = 500) -> str:
    return request.POST.get(name, "").strip()[:limit]


def _move(request: HttpRequest, pk: int, action: Callable[..., Any], refused: str,
          done: str, *fields: str) -> HttpResponse:
    """One claim action with the form's ``fields`` as its arguments; back to the claim with
    what happened."""
    claim = get_scoped(_CLAIMS, request, pk=pk)
    values = {name: _text(request, name) for name in fields}
    try:
        action(claim=claim, by=request.user, at=now(), **values)
    except ClaimError as exc:
        messages.error(request, f"{refused}: {exc}")
    else:
        messages.success(request, done.format(number=claim.number))
    return _back(request, claim)


@practice_view("bill")
@require_POST
def claim_correct(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_scoped(_CLAIMS, request, pk=pk)
    try:
        made = correct_claim(
            claim=claim, kind=_text(request, "kind", 10), by=request.user, at=now(),
            reason=_text(request, "reason"),
            payer_claim_number=_text(request, "payer_claim_number", 50),
        )
    except ClaimError as exc:
        messages.error(request, f"No correction made: {exc}")
        return _back(request, claim)
    messages.success(request, f"{made.get_frequency_display()} {made.number} of claim "
                              f"{claim.number} is a draft: check it, then mark it ready.")
    return go(request, reverse("web:claim", args=[made.pk]))


@practice_view("bill")
@require_POST
def claim_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _move(request, pk, reopen_claim, "Not reopened",
                 "Claim {number} is a draft again: fix what the rejection names, then mark "
                 "it ready.", "reason")


@practice_view("bill")
@require_POST
def claim_secondary(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_scoped(_CLAIMS, request, pk=pk)
    try:
        made = build_secondary(claim=claim, by=request.user, at=now(),
                               msp_type=_text(request, "msp_type", 2))
    except ClaimError as exc:
        messages.error(request, f"No secondary claim: {exc}")
        return _back(request, claim)
    messages.success(request, f"Secondary claim {made.number} to {made.payer.name} is a "
                              "draft: check it, then mark it ready.")
    return go(request, reverse("web:claim", args=[made.pk]))


@practice_view("bill")
def claim_appeal_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_scoped(_CLAIMS, request, pk=pk)
    viewed(request, claim, action="claim.export", format="appeal")
    try:
        body = appeal_letter(claim, at=now(), argument=request.GET.get("argument", "")[:2000])
    except ClaimError as exc:
        messages.error(request, f"No appeal letter: {exc}")
        return _back(request, claim)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{claim.number}-appeal.pdf"'
    return response


@practice_view("bill")
@require_POST
def claim_appealed(request: HttpRequest, pk: int) -> HttpResponse:
    return _move(request, pk, mark_appealed, "Not recorded",
                 "Claim {number} is waiting on the appeal.", "note")


@practice_view("bill")
@require_POST
def claim_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _move(request, pk, withdraw_claim, "Not withdrawn",
                 "Claim {number} is withdrawn (void).", "reason")
