"""Claims: the filtered list, the claim page, and the biller's moves on a claim."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from handbill.claims.actions import (
    BlockedError,
    ClaimError,
    mark_ready,
    override_finding,
    scrub_claim,
)
from handbill.claims.models import Claim
from handbill.core.outbound import OutboundError
from handbill.web import outbound
from handbill.web.access import (
    current_practice,
    get_scoped,
    practice_view,
    viewed,
    visible_rows,
)
from handbill.web.forms.claims import ClaimFilterForm, OverrideForm
from handbill.web.pages import INVALID, go, now, paginate, render_page
from handbill.web.queries.claims import blocking_counts, claim_page, find_claims, finding_rules
from handbill.web.queries.money_back import get_paid

_CLAIM_PAGE = Claim.objects.select_related(
    "practice", "patient", "provider", "payer", "coverage", "visit", "authorization", "referral",
    "replaces", "primary_claim",
)


@practice_view("view")
def claim_list(request: HttpRequest) -> HttpResponse:
    practice = current_practice(request)
    form = ClaimFilterForm(
        request.GET or None, practice=practice,
        rules=finding_rules(request.GET.get("rule", "")[:40]),
    )
    if form.is_bound:
        form.is_valid()
    page = paginate(request, visible_rows(find_claims(practice, form.filters()), request))
    return render_page(
        request,
        "web/claims/list.html",
        {"form": form, "page": page, "blocking": blocking_counts(list(page.object_list))},
        partial="web/claims/_results.html",
    )


def _claim_response(
    request: HttpRequest, claim: Claim, *, status: int = 200, **extra: object
) -> HttpResponse:
    context = {
        "c": claim_page(claim), "outbound": outbound.available(), "get_paid": get_paid(claim),
        **extra,
    }
    return render_page(request, "web/claims/detail.html", context, status=status)


@practice_view("view")
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_scoped(_CLAIM_PAGE, request, pk=pk)
    viewed(request, claim)
    return _claim_response(request, claim)


@practice_view("bill")
@require_POST
def claim_scrub(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_scoped(_CLAIM_PAGE, request, pk=pk)
    found = scrub_claim(claim=claim, by=request.user, at=now())
    messages.success(request, f"Scrubbed again: {len(found)} finding(s).")
    return go(request, reverse("web:claim", args=[claim.pk]))


@practice_view("bill")
@require_POST
def claim_ready(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_scoped(_CLAIM_PAGE, request, pk=pk)
    try:
        mark_ready(claim=claim, by=request.user, at=now())
    except BlockedError as exc:
        messages.error(
            request,
            f"Not ready: {len(exc.findings)} blocking finding(s) are open. Fix them, or "
            "override each with a reason.",
        )
    except ClaimError as exc:
        messages.error(request, f"Not ready: {exc}")
    else:
        messages.success(request, f"Claim {claim.number} is ready to submit.")
    return go(request, reverse("web:claim", args=[claim.pk]))


@practice_view("bill")
@require_POST
def claim_override(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_scoped(_CLAIM_PAGE, request, pk=pk)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            override_finding(
                claim=claim,
                rule=form.cleaned_data["rule"],
                line=form.cleaned_data["line"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                at=now(),
            )
        except ClaimError as exc:
            form.add_error("reason", str(exc))
        else:
            messages.success(request, f"Override recorded for {form.cleaned_data['rule']}.")
            return go(request, reverse("web:claim", args=[claim.pk]) + "#findings")
    return _claim_response(request, claim, status=INVALID, override_form=form)


@practice_view("view")
def claim_837(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_scoped(_CLAIM_PAGE, request, pk=pk)
    viewed(request, claim, action="claim.export", format="837P")
    segments: list[str] = []
    problem = ""
    try:
        segments = outbound.segments_837(claim, at=now())
    except outbound.OutboundUnavailable as exc:
        problem = str(exc)
    except OutboundError as exc:
        problem = str(exc)
    return render_page(
        request,
        "web/claims/x12.html",
        {"claim": claim, "segments": segments, "problem": problem},
        partial="web/claims/_x12.html",
        status=200 if segments else INVALID,
    )


def _pdf(request: HttpRequest, claim: Claim, name: str, kind: str) -> HttpResponse:
    viewed(request, claim, action="claim.export", format=kind)
    render = outbound.cms1500_pdf if kind == "cms1500" else outbound.superbill_pdf
    try:
        body = render(claim, at=now())
    except (outbound.OutboundUnavailable, OutboundError) as exc:
        messages.error(request, f"No {name}: {exc}")
        return go(request, reverse("web:claim", args=[claim.pk]))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{claim.number}-{kind}.pdf"'
    return response


@practice_view("view")
def claim_cms1500(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(request, get_scoped(_CLAIM_PAGE, request, pk=pk), "CMS-1500", "cms1500")


@practice_view("view")
def claim_superbill(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(request, get_scoped(_CLAIM_PAGE, request, pk=pk), "superbill", "superbill")
