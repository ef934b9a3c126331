"""Submit: choose ready claims, send them as a job with a progress bar, see each claim's result.

The job page polls (htmx ``every 1s``) a POST that sends one step and answers with the bar;
without htmx the same POST is a "Send the next step" button.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from handbill.submissions.actions import SubmissionError
from handbill.submissions.jobs import advance_job, retry_job, start_job
from handbill.submissions.models import JobOutcome, SubmissionJob
from handbill.web.access import current_practice, get_scoped, is_htmx, practice_view
from handbill.web.forms.submit import ReadyFilterForm, SubmitForm
from handbill.web.pages import INVALID, go, now, paginate, render_page
from handbill.web.queries.submit import (
    clearinghouses,
    job_items,
    job_progress,
    ready_claims,
    recent_jobs,
)

_JOB = SubmissionJob.objects.select_related("practice", "clearinghouse", "failed_batch")


def _submit_page(
    request: HttpRequest, form: SubmitForm | None = None, status: int = 200
) -> HttpResponse:
    practice = current_practice(request)
    filters = ReadyFilterForm(request.GET or None, practice=practice)
    payer = filters.payer_id()
    if form is None:
        form = SubmitForm(practice=practice, initial={"payer": payer})
    page = paginate(request, ready_claims(practice, payer))
    return render_page(
        request,
        "web/submit/page.html",
        {"filters": filters, "form": form, "page": page, "payer": payer,
         "houses": clearinghouses(practice), "jobs": recent_jobs(practice)},
        partial="web/submit/_claims.html",
        status=status,
    )


@practice_view("bill")
def submit_page(request: HttpRequest) -> HttpResponse:
    return _submit_page(request)


@practice_view("bill")
@require_POST
def submit_start(request: HttpRequest) -> HttpResponse:
    practice = current_practice(request)
    form = SubmitForm(request.POST, practice=practice)
    if form.is_valid():
        data = form.cleaned_data
        chosen = (
            list(ready_claims(practice, data.get("payer")).values_list("pk", flat=True))
            if data["everything"] else data["claims"]
        )
        try:
            job = start_job(practice=practice, claims=chosen,
                            clearinghouse=data["clearinghouse"], by=request.user, at=now())
        except SubmissionError as exc:
            form.add_error("claims", str(exc))
        else:
            return go(request, reverse("web:submit_job", args=[job.pk]))
    return _submit_page(request, form, status=INVALID)


def _job_response(request: HttpRequest, job: SubmissionJob) -> HttpResponse:
    outcome = request.GET.get("outcome", "")
    context = {
        "p": job_progress(job),
        "outcome": outcome if outcome in JobOutcome.values else "",
        "outcomes": JobOutcome.choices,
    }
    if job.status != "running":
        context["page"] = paginate(request, job_items(job, outcome))
    return render_page(request, "web/submit/job.html", context,
                       partial="web/submit/_job.html")


@practice_view("bill")
def submit_job(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_response(request, get_scoped(_JOB, request, pk=pk))


@practice_view("bill")
@require_POST
def submit_job_step(request: HttpRequest, pk: int) -> HttpResponse:
    job = advance_job(job=get_scoped(_JOB, request, pk=pk), by=request.user, at=now())
    if is_htmx(request):
        return _job_response(request, get_scoped(_JOB, request, pk=job.pk))
    return go(request, reverse("web:submit_job", args=[job.pk]))


@practice_view("bill")
@require_POST
def submit_job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_scoped(_JOB, request, pk=pk)
    try:
        job = retry_job(job=job, by=request.user, at=now())
    except SubmissionError as exc:
        messages.error(request, f"Not retried: {exc}")
    else:
        if job.status == "failed":
            messages.error(request, f"The upload failed again: {job.error}")
        else:
            messages.success(request, "The file arrived; sending the rest.")
    return go(request, reverse("web:submit_job", args=[job.pk]))
