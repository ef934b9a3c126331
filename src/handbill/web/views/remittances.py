"""Remittances: the list, an 835 upload, fetching the inbox, the posting plan, commit, the
posted payment, and choosing our claim for an unmatched one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from handbill.remittance.actions import (
    RemittanceError,
    RemittanceRefused,
    commit_posting,
    import_835,
    plan_posting,
    process_inbox,
    resolve_unmatched,
)
from handbill.remittance.models import EraFile, EraStatus
from handbill.submissions.actions import SubmissionError, fetch_inbox
from handbill.web.access import (
    current_practice,
    get_scoped,
    practice_view,
    viewed,
    visible_rows,
)
from handbill.web.forms.remittances import ResolveForm, UploadForm
from handbill.web.pages import INVALID, go, now, paginate, render_page
from handbill.web.queries.remittances import eras, plan_page, posted_claims
from handbill.web.queries.submit import clearinghouses

_ERA = EraFile.objects.select_related("practice", "payer", "posted_by", "imported_by")


def _list(request: HttpRequest, form: UploadForm | None = None, status: int = 200) -> HttpResponse:
    practice = current_practice(request)
    wanted = request.GET.get("status", "")
    return render_page(
        request, "web/remittances/list.html",
        {"page": paginate(request, visible_rows(eras(practice, wanted), request)),
         "form": form or UploadForm(),
         "status": wanted, "statuses": EraStatus.choices,
         "houses": clearinghouses(practice)},
        partial="web/remittances/_results.html", status=status,
    )


@practice_view("view")
def remittance_list(request: HttpRequest) -> HttpResponse:
    return _list(request)


@practice_view("post_payments")
@require_POST
def remittance_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imported = import_835(practice=current_practice(request), text=form.text,
                                  by=request.user, at=now(), file_name=upload.name)
        except RemittanceRefused as exc:
            form.add_error("file", str(exc))
        else:
            if not imported:
                form.add_error("file", "this file carries no payment")
            else:
                messages.success(request, f"Imported {len(imported)} payment(s) from "
                                          f"{upload.name}; check the plan, then post it.")
                return go(request, reverse("web:remittance", args=[imported[0].pk]))
    return _list(request, form, status=INVALID)


@practice_view("post_payments")
@require_POST
def remittance_fetch(request: HttpRequest) -> HttpResponse:
    """Download what every clearinghouse has for us, then read it: acknowledgements move
    claims, clean remittances post, the rest wait here for a look."""
    practice = current_practice(request)
    at = now()
    fetched = 0
    for house in clearinghouses(practice):
        try:
            fetched += len(fetch_inbox(practice=practice, clearinghouse=house,
                                       by=request.user, at=at))
        except SubmissionError as exc:
            messages.error(request, str(exc))
    outcomes = process_inbox(practice=practice, by=request.user, at=at)
    messages.success(request, f"Fetched {fetched} new file(s); read {len(outcomes)}.")
    for outcome in outcomes:
        text = f"{outcome.file}: {outcome.result}" + (f" — {outcome.detail}"
                                                     if outcome.detail else "")
        if outcome.result in ("refused", "failed"):
            messages.error(request, text)
        else:
            messages.info(request, text)
    return go(request, reverse("web:remittances"))


def _era_response(request: HttpRequest, era: EraFile, *, status: int = 200,
                  resolve_form: ResolveForm | None = None) -> HttpResponse:
    context: dict[str, object] = {"era": era, "resolve_form": resolve_form}
    if era.status == EraStatus.POSTED:
        context["page"] = paginate(request, posted_claims(era))
        context["provider_adjustments"] = list(era.provider_adjustments.order_by("position"))
        template = "web/remittances/posted.html"
    elif era.status == EraStatus.REFUSED:
        template = "web/remittances/refused.html"
    else:
        try:
            context["p"] = plan_page(era, plan_posting(era), request.GET.get("page"))
        except RemittanceError as exc:
            context["problem"] = str(exc)
        template = "web/remittances/plan.html"
    return render_page(request, template, context, status=status)


@practice_view("view")
def remittance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    era = get_scoped(_ERA, request, pk=pk)
    viewed(request, era)
    return _era_response(request, era)


@practice_view("post_payments")
@require_POST
def remittance_commit(request: HttpRequest, pk: int) -> HttpResponse:
    era = get_scoped(_ERA, request, pk=pk)
    try:
        era = commit_posting(era=era, by=request.user, at=now())
    except RemittanceError as exc:
        messages.error(request, f"Not posted: {exc}")
    else:
        messages.success(request, f"Posted payment {era.trace_number}.")
    return go(request, reverse("web:remittance", args=[era.pk]))


@practice_view("post_payments")
@require_POST
def remittance_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    era = get_scoped(_ERA, request, pk=pk)
    form = ResolveForm(request.POST, practice=current_practice(request))
    if form.is_valid():
        try:
            resolve_unmatched(era=era, patient_control_number=form.cleaned_data["clp01"],
                              claim=form.cleaned_data["claim"], by=request.user, at=now())
        except RemittanceError as exc:
            form.add_error("claim", str(exc))
        else:
            messages.success(request, f"CLP01 {form.cleaned_data['clp01']} now pays claim "
                                      f"{form.cleaned_data['claim'].number}.")
            return go(request, reverse("web:remittance", args=[era.pk]))
    return _era_response(request, era, status=INVALID, resolve_form=form)
