"""The visit note: write, preview the claim live, save, sign; then read-only with addenda."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from handbill.claims.actions import ClaimError, billing_coverage, build_claim
from handbill.core.codes import icd10
from handbill.patients.models import Coverage, Patient
from handbill.practice.access import scoped
from handbill.practice.models import Provider
from handbill.visits.actions import (
    NoteError,
    NoteInput,
    ServiceInput,
    add_addendum,
    create_visit,
    sign_visit,
    update_note,
)
from handbill.visits.models import NoteLockedError, Visit
from handbill.web.access import (
    PracticeRequest,
    current_practice,
    get_scoped,
    is_htmx,
    practice_view,
    viewed,
    visible_rows,
)
from handbill.web.forms.visits import NOTE_FIELDS, VisitNoteForms, row_edit
from handbill.web.pages import INVALID, go, now, paginate, render_page
from handbill.web.queries.preview import ClaimPreview, preview_claim
from handbill.web.queries.visits import find_visits, signed_note

SAVE, SIGN, PREVIEW = "save", "sign", "preview"


@practice_view("view")
def visit_list(request: HttpRequest) -> HttpResponse:
    shown = request.GET.get("signed", "")
    signed = {"yes": True, "no": False}.get(shown)
    provider = request.GET.get("provider", "")
    unbilled = request.GET.get("unbilled") == "1"
    visits = visible_rows(find_visits(
        current_practice(request),
        signed=signed,
        provider_id=int(provider) if provider.isdigit() else None,
        unbilled=unbilled,
    ), request)
    providers = scoped(Provider.objects.all(), current_practice(request)).order_by("last_name")
    return render_page(
        request,
        "web/visits/list.html",
        {"page": paginate(request, visits), "signed": shown, "provider": provider,
         "providers": providers, "unbilled": unbilled},
        partial="web/visits/_results.html",
    )


def _bills(patient: Patient, coverage: Coverage | None, on: date | None) -> Coverage | None:
    """What a claim for this note would bill: the chosen coverage, else the primary in force
    on the date of service (the claim builder's own rule, ``billing_coverage``)."""
    if coverage is not None or on is None:
        return coverage
    return billing_coverage(Visit(patient=patient, date_of_service=on, coverage=None))


def _preview(forms: VisitNoteForms, request: HttpRequest, visit: Visit | None) -> ClaimPreview:
    """The claim this note would become, from whatever in the form is valid so far."""
    forms.is_valid()
    data: dict[str, Any] = getattr(forms.note, "cleaned_data", {})
    return preview_claim(
        practice=current_practice(request),
        patient=forms.patient,
        provider=data.get("provider"),
        coverage=_bills(forms.patient, data.get("coverage"), forms.date_of_service),
        date_of_service=forms.date_of_service,
        place_of_service=data.get("place_of_service") or "11",
        note=forms.note_input_so_far(),
        diagnoses=forms.diagnosis_codes(),
        services=forms.service_inputs(),
        visit=visit,
        at=now(),
        problems=forms.problems(),
    )


def _stored_preview(request: HttpRequest, visit: Visit) -> ClaimPreview:
    """The preview of a saved, unsigned note, from what is stored."""
    return preview_claim(
        practice=current_practice(request),
        patient=visit.patient,
        provider=visit.provider,
        coverage=_bills(visit.patient, visit.coverage, visit.date_of_service),
        date_of_service=visit.date_of_service,
        place_of_service=visit.place_of_service,
        note=NoteInput(**{name: getattr(visit, name) for name in NOTE_FIELDS}),
        diagnoses=[d.code for d in visit.diagnoses.all()],
        services=[
            ServiceInput(s.code, s.minutes, s.technique, s.body_region, s.start_time)
            for s in visit.services.all()
        ],
        visit=visit,
        at=now(),
    )


def _new_note_initial(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    practice = current_practice(request)
    membership = cast(PracticeRequest, request).membership
    on = practice.local_date(now())
    primary = (
        scoped(Coverage.objects.all(), practice)
        .filter(patient=patient, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("order", "-start_date")
        .first()
    )
    provider = membership.provider_id if membership is not None else None
    if provider is None:
        first = scoped(Provider.objects.filter(active=True), practice).order_by("last_name").first()
        provider = first.pk if first is not None else None
    return {
        "date_of_service": on,
        "provider": provider,
        "coverage": primary.pk if primary else None,
        "place_of_service": "11",
    }


def _note_page(
    request: HttpRequest,
    forms: VisitNoteForms,
    *,
    visit: Visit | None,
    preview: ClaimPreview | None,
    status: int = 200,
) -> HttpResponse:
    return render_page(
        request, "web/visits/note_form.html", _note_context(forms, visit, preview), status=status
    )


def _note_context(
    forms: VisitNoteForms, visit: Visit | None, preview: ClaimPreview | None
) -> dict[str, Any]:
    return {
        "forms": forms,
        "patient": forms.patient,
        "visit": visit,
        "preview": preview,
        "form_action": (
            reverse("web:visit", args=[visit.pk]) if visit is not None
            else reverse("web:visit_new", args=[forms.patient.pk])
        ),
    }


def _write(
    request: HttpRequest, forms: VisitNoteForms, visit: Visit | None, *, sign: bool
) -> Visit:
    """Save the note (create or update) and, for "Save and sign", sign it: all or nothing."""
    data = forms.note.cleaned_data
    at = now()
    with transaction.atomic():
        if visit is None:
            visit = create_visit(
                practice=current_practice(request),
                patient=forms.patient,
                provider=data["provider"],
                coverage=data.get("coverage"),
                location=data.get("location"),
                place_of_service=data["place_of_service"],
                date_of_service=data["date_of_service"],
                note=forms.note.note_input(),
                diagnoses=forms.diagnosis_codes(),
                services=forms.service_inputs(),
                by=request.user,
                at=at,
            )
        else:
            visit = update_note(
                visit=visit,
                note=forms.note.note_input(),
                diagnoses=forms.diagnosis_codes(),
                services=forms.service_inputs(),
                by=request.user,
                at=at,
            )
        if sign:
            visit = sign_visit(visit=visit, by=request.user, at=at)
    return visit


def _handle_note_post(request: HttpRequest, patient: Patient, visit: Visit | None) -> HttpResponse:
    practice = current_practice(request)
    rows = row_edit(request.POST)
    if rows is not None:
        forms = VisitNoteForms(None, practice=practice, patient=patient, rows=rows)
        if is_htmx(request):
            return render_page(
                request, "web/visits/_rows.html", _note_context(forms, visit, None),
                partial="web/visits/_rows.html",
            )
        return _note_page(request, forms, visit=visit, preview=None)
    forms = VisitNoteForms(request.POST, practice=practice, patient=patient, visit=visit)
    action = request.POST.get("action", SAVE)
    if action == PREVIEW or not forms.is_valid():
        status = 200 if action == PREVIEW else INVALID
        return _note_page(
            request, forms, visit=visit, preview=_preview(forms, request, visit), status=status
        )
    if action == SIGN and "sign_notes" not in cast(PracticeRequest, request).can:
        raise PermissionDenied("your role may write notes but not sign them")
    try:
        visit = _write(request, forms, visit, sign=action == SIGN)
    except (NoteError, NoteLockedError) as exc:
        forms.note.add_error(None, str(exc))
        return _note_page(
            request, forms, visit=visit, preview=_preview(forms, request, visit), status=INVALID
        )
    messages.success(request, "Note signed and locked." if action == SIGN else "Note saved.")
    return go(request, reverse("web:visit", args=[visit.pk]))


@practice_view("write_notes")
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_scoped(Patient, request, pk=pk)
    if request.method == "POST":
        return _handle_note_post(request, patient, None)
    forms = VisitNoteForms(
        None, practice=current_practice(request), patient=patient,
        initial=_new_note_initial(request, patient),
    )
    return _note_page(request, forms, visit=None, preview=None)


@practice_view("view")
@require_http_methods(["GET", "POST"])
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An unsigned note opens as the form (for those who write notes); a signed one reads."""
    visit = get_scoped(
        Visit.objects.select_related("patient", "provider", "coverage__payer", "location"),
        request, pk=pk,
    )
    writer = "write_notes" in cast(PracticeRequest, request).can
    if request.method == "GET":
        viewed(request, visit)
    if request.method == "POST":
        if not writer:
            raise PermissionDenied("your role may not write notes")
        if visit.signed:
            raise PermissionDenied("this note is signed and locked; add an addendum instead")
        return _handle_note_post(request, visit.patient, visit)
    if not visit.signed and writer:
        forms = VisitNoteForms(
            None, practice=current_practice(request), patient=visit.patient, visit=visit
        )
        return _note_page(request, forms, visit=visit, preview=_stored_preview(request, visit))
    return render_page(request, "web/visits/note_read.html", {"n": signed_note(visit)})


@practice_view("write_notes")
@require_POST
def visit_preview(request: HttpRequest) -> HttpResponse:
    """The live preview panel: units with the rationale, the would-be claim lines and their
    findings, for the note as typed so far. Nothing is written."""
    patient = get_scoped(Patient, request, pk=request.POST.get("patient") or 0)
    visit_id = request.POST.get("visit", "")
    visit = get_scoped(Visit, request, pk=visit_id, patient=patient) if visit_id else None
    if visit is not None and visit.signed:
        raise PermissionDenied("this note is signed; its claim is on the claim page")
    forms = VisitNoteForms(request.POST, practice=current_practice(request), patient=patient)
    preview = _preview(forms, request, visit)
    return render_page(
        request, "web/visits/_preview.html", {"preview": preview},
        partial="web/visits/_preview.html",
    )


@practice_view("write_notes")
@require_POST
def addendum_new(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_scoped(Visit, request, pk=pk)
    text = request.POST.get("text", "")
    try:
        add_addendum(visit=visit, text=text, by=request.user, at=now())
    except NoteError as exc:
        return render_page(
            request, "web/visits/note_read.html",
            {"n": signed_note(visit), "addendum_error": str(exc), "addendum_text": text},
            status=INVALID,
        )
    messages.success(request, "Addendum added.")
    return go(request, reverse("web:visit", args=[visit.pk]) + "#addenda")


@practice_view("bill")
@require_POST
def claim_build(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_scoped(Visit, request, pk=pk)
    try:
        claim = build_claim(visit=visit, by=request.user, at=now())
    except ClaimError as exc:
        messages.error(request, f"No claim built: {exc}")
        return go(request, reverse("web:visit", args=[visit.pk]))
    messages.success(request, f"Claim {claim.number} built and scrubbed.")
    return go(request, reverse("web:claim", args=[claim.pk]))


@practice_view("view")
def icd10_options(request: HttpRequest) -> HttpResponse:
    """Billable ICD-10-CM codes matching what is typed, as <option>s for the note's picker."""
    text = request.GET.get("q", "") or next(
        (v for k, v in request.GET.items() if k.startswith("dx-") and k.endswith("-code")), ""
    )
    found = icd10.search(text, limit=15) if len(text.strip()) >= 2 else []
    return render_page(
        request, "web/visits/_icd10_options.html", {"found": found, "q": text},
        partial="web/visits/_icd10_options.html",
    )
