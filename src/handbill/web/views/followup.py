"""Working what comes back: the queues (rejections, denials, underpayments, timely filing, A/R
follow-up) and the policy changes proposed from repeated denials."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from handbill.core.followup import WorkKind, describe_change
from handbill.core.money import Cents
from handbill.followup import actions, queries
from handbill.followup.models import ProposalStatus, RuleProposal
from handbill.policies.actions import practice_today
from handbill.web.access import current_practice, get_scoped, practice_view
from handbill.web.pages import PER_PAGE, go, now, render_page

TABS = [
    (WorkKind.FOLLOWUP.value, "A/R follow-up"),
    (WorkKind.DENIAL.value, "Denials"),
    (WorkKind.REJECTION.value, "Rejections"),
    (WorkKind.UNDERPAID.value, "Underpaid"),
    (WorkKind.TIMELY.value, "Timely filing"),
]
_KINDS = {value for value, _label in TABS}


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or WorkKind.FOLLOWUP.value
    return kind if kind in _KINDS else WorkKind.FOLLOWUP.value


def _back(kind: str, page: str | None = None) -> str:
    query = {"kind": kind, **({"page": page} if page else {})}
    return f"{reverse('web:queues')}?{urlencode(query)}"


@practice_view("bill")
def queues(request: HttpRequest) -> HttpResponse:
    practice = current_practice(request)
    at = now()
    kind = _kind(request)
    # One pass builds every list: the tabs' counts and this tab's rows; only the rows shown
    # are read whole.
    everything = queries.worklist(practice, at=at, full=False)
    counts = {value: 0 for value, _label in TABS}
    for row in everything:
        counts[row.kind.value] += 1
    rows = [row for row in everything if row.kind.value == kind]
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    queries.hydrate(page.object_list)
    today = practice_today(practice, at)
    context = {
        "tabs": TABS, "kind": kind, "counts": counts, "page": page,
        "users": actions.assignable_users(practice),
        "snooze_default": (today + timedelta(days=7)).isoformat(),
        "snooze_min": (today + timedelta(days=1)).isoformat(),
        "can_post": "post_payments" in getattr(request, "can", ()),
    }
    return render_page(request, "web/followup/queues.html", context,
                       partial="web/followup/_queue.html")


@practice_view("bill")
@require_POST
def queue_work(request: HttpRequest) -> HttpResponse:
    """One move on one item: worked, snooze, assign or bill the patient."""
    practice = current_practice(request)
    at = now()
    key = request.POST.get("key", "")[:60]
    kind = _kind(request)
    # Another practice's item, or one that is no longer open, is not found here.
    if queries.find_row(practice, key, at=at) is None:
        raise Http404("no such worklist item")
    op = request.POST.get("op", "")
    note = request.POST.get("note", "")[:500]
    try:
        if op == "worked":
            actions.mark_worked(practice=practice, key=key, by=request.user, at=at, note=note)
            messages.success(request, "Marked worked.")
        elif op == "snooze":
            try:
                until = date.fromisoformat(request.POST.get("until", ""))
            except ValueError:
                raise actions.FollowupError("pick the day to snooze until") from None
            actions.snooze(practice=practice, key=key, until=until, by=request.user, at=at,
                           note=note)
            messages.success(request, f"Snoozed until {until:%m/%d/%Y}.")
        elif op == "assign":
            to = None
            chosen = request.POST.get("to", "")
            if chosen:
                to = next((u for u in actions.assignable_users(practice)
                           if str(u.pk) == chosen), None)
                if to is None:
                    raise actions.FollowupError("pick an owner or biller of this practice")
            actions.assign(practice=practice, key=key, to=to, by=request.user, at=at)
            messages.success(request, f"Assigned to {to.get_username()}." if to else
                             "Unassigned.")
        elif op == "bill_patient":
            txn = actions.bill_patient(practice=practice, key=key, by=request.user, at=at,
                                       patient_agreed=request.POST.get("agreed") == "on",
                                       note=note)
            moved = Cents(sum(leg.debit_cents for leg in txn.legs.all()))
            messages.success(request, f"Moved {moved.display()} to the patient's account.")
        else:
            raise actions.FollowupError("unknown action; use worked, snooze, assign or "
                                        "bill_patient")
    except actions.FollowupError as exc:
        messages.error(request, str(exc))
    return go(request, _back(kind, request.POST.get("page")))


@practice_view("bill")
def proposals(request: HttpRequest) -> HttpResponse:
    practice = current_practice(request)
    rows = (RuleProposal.objects.filter(practice=practice).select_related("payer")
            .order_by("status", "-count", "pk"))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for proposal in page.object_list:
        proposal.in_words = describe_change(proposal.change)  # type: ignore[attr-defined]
    return render_page(request, "web/followup/proposals.html", {
        "page": page, "proposed": ProposalStatus.PROPOSED.value,
        "can_decide": "edit_policy" in getattr(request, "can", ()),
        "today": practice_today(practice, now()).isoformat(),
    })


@practice_view("bill")
@require_POST
def proposals_refresh(request: HttpRequest) -> HttpResponse:
    practice = current_practice(request)
    before = RuleProposal.objects.filter(practice=practice).count()
    actions.refresh_proposals(practice=practice, by=request.user, at=now())
    found = RuleProposal.objects.filter(practice=practice).count() - before
    messages.success(request, f"{found} new proposal{'s' if found != 1 else ''}.")
    return go(request, reverse("web:proposals"))


@practice_view("edit_policy")
@require_POST
def proposal_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    practice = current_practice(request)
    proposal = get_scoped(RuleProposal, request, pk=pk)
    try:
        if decision == "accept":
            start = None
            if request.POST.get("effective_date"):
                try:
                    start = date.fromisoformat(request.POST["effective_date"])
                except ValueError:
                    raise actions.FollowupError("the first day must be a date") from None
            done = actions.accept_proposal(practice=practice, proposal_id=proposal.pk,
                                           by=request.user, at=now(), effective_date=start)
            version = done.policy_version
            messages.success(request, f"{proposal.payer.name}: new policy version from "
                             f"{version.effective_date:%m/%d/%Y}." if version else "Accepted.")
        else:
            actions.dismiss_proposal(practice=practice, proposal_id=proposal.pk,
                                     by=request.user, at=now(),
                                     note=request.POST.get("note", "")[:500])
            messages.success(request, "Dismissed; it will not be proposed again.")
    except actions.FollowupError as exc:
        messages.error(request, str(exc))
    # The payer page decides its own proposals and wants the biller back there.
    if request.POST.get("back") == "payer":
        return go(request, reverse("web:payer", args=[proposal.payer_id]))
    return go(request, reverse("web:proposals"))
