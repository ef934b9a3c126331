"""Payers and their policies: the list, a payer's versions with their dates, a new version."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from handbill.core.policy import PolicyError
from handbill.followup.queries import open_proposals
from handbill.policies.actions import practice_today, save_policy_version
from handbill.practice.models import Payer
from handbill.web.access import current_practice, get_scoped, practice_view
from handbill.web.forms.payers import PolicyVersionForm
from handbill.web.pages import INVALID, go, now, paginate, render_page
from handbill.web.queries.payers import payer_page, payers


@practice_view("view")
def payer_list(request: HttpRequest) -> HttpResponse:
    return render_page(request, "web/payers/list.html",
                       {"page": paginate(request, payers(current_practice(request)))})


@practice_view("view")
def payer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payer = get_scoped(Payer, request, pk=pk)
    practice = current_practice(request)
    today = practice_today(practice, now())
    can = getattr(request, "can", ())
    # Proposals are worked by billers (the queues' role); deciding one edits the policy.
    proposals = open_proposals(practice, payer=payer) if "bill" in can else []
    return render_page(request, "web/payers/detail.html",
                       {"p": payer_page(payer, today), "today": today,
                        "proposals": proposals, "can_decide": "edit_policy" in can})


@practice_view("edit_policy")
@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A new version of the payer's rules from a date (stored versions are never edited)."""
    payer = get_scoped(Payer, request, pk=pk)
    at = now()
    today = practice_today(current_practice(request), at)
    page = payer_page(payer, today)
    if request.method == "POST":
        form = PolicyVersionForm(request.POST, payer=payer, today=today)
        if form.is_valid():
            try:
                version = save_policy_version(
                    payer=payer, rules=form.rules(),
                    effective_date=form.cleaned_data["effective_date"], by=request.user, at=at)
            except PolicyError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{payer.name}: new rules from "
                                          f"{version.effective_date:%m/%d/%Y} saved.")
                return go(request, reverse("web:payer", args=[payer.pk]))
    else:
        start = page.latest.rules if page.latest is not None else {}
        form = PolicyVersionForm(
            initial={**PolicyVersionForm.initial_from(start), "effective_date": today},
            payer=payer, today=today)
    return render_page(request, "web/payers/policy_form.html",
                       {"p": page, "form": form, "today": today},
                       status=INVALID if form.errors else 200)
