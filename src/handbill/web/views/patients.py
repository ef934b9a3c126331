"""Patients: search, the patient page, and the forms for a patient, a coverage and an
authorization."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from handbill.eligibility.display import eligibility_context
from handbill.patients.actions import (
    RecordError,
    add_authorization,
    add_coverage,
    register_patient,
    update_coverage,
)
from handbill.patients.models import Coverage, Patient
from handbill.web.access import (
    current_practice,
    get_scoped,
    practice_view,
    viewed,
    visible_rows,
)
from handbill.web.forms.patients import AuthorizationForm, CoverageForm, PatientForm
from handbill.web.pages import INVALID, go, now, paginate, render_page
from handbill.web.queries.patients import patient_page, search_patients


@practice_view("view")
def patient_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()
    page = paginate(
        request, visible_rows(search_patients(current_practice(request), text), request)
    )
    return render_page(
        request,
        "web/patients/list.html",
        {"page": page, "q": text},
        partial="web/patients/_results.html",
    )


@practice_view("view")
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_scoped(Patient, request, pk=pk)
    viewed(request, patient)
    return render_page(request, "web/patients/detail.html", {
        "p": patient_page(patient, at=now()),
        "eligibility": eligibility_context(patient),
    })


@practice_view("edit_patients")
@require_http_methods(["GET", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = register_patient(
                practice=current_practice(request), data=form.to_input(), by=request.user,
                at=now(),
            )
        except RecordError as exc:
            form.add_error(None, str(exc))
        else:
            return go(request, reverse("web:patient", args=[patient.pk]))
    return render_page(
        request, "web/patients/patient_form.html", {"form": form},
        status=INVALID if form.errors else 200,
    )


@practice_view("edit_patients")
@require_http_methods(["GET", "POST"])
def coverage_form(request: HttpRequest, pk: int, coverage_pk: int | None = None) -> HttpResponse:
    """Add a coverage to a patient, or correct one (order, dates, member ID …)."""
    patient = get_scoped(Patient, request, pk=pk)
    coverage = (
        get_scoped(Coverage, request, pk=coverage_pk, patient=patient)
        if coverage_pk is not None
        else None
    )
    practice = current_practice(request)
    if request.method == "POST":
        form = CoverageForm(request.POST, practice=practice)
    else:
        # A second card is usually the secondary coverage.
        initial = CoverageForm.initial_from(coverage) if coverage else {
            "order": 2 if patient.coverages.exists() else 1
        }
        form = CoverageForm(initial=initial, practice=practice)
    if request.method == "POST" and form.is_valid():
        try:
            if coverage is None:
                add_coverage(
                    patient=patient, payer=form.cleaned_data["payer"], data=form.to_input(),
                    by=request.user, at=now(),
                )
            else:
                update_coverage(
                    coverage=coverage, payer=form.cleaned_data["payer"], data=form.to_input(),
                    by=request.user, at=now(),
                )
        except RecordError as exc:
            form.add_error(None, str(exc))
        else:
            return go(request, reverse("web:patient", args=[patient.pk]) + "#coverages")
    return render_page(
        request,
        "web/patients/coverage_form.html",
        {"form": form, "patient": patient, "coverage": coverage},
        status=INVALID if form.errors else 200,
    )


@practice_view("edit_patients")
@require_http_methods(["GET", "POST"])
def authorization_new(request: HttpRequest, pk: int, coverage_pk: int) -> HttpResponse:
    patient = get_scoped(Patient, request, pk=pk)
    coverage = get_scoped(Coverage, request, pk=coverage_pk, patient=patient)
    form = AuthorizationForm(request.POST or None, initial={"kind": "prescription"})
    if request.method == "POST" and form.is_valid():
        try:
            add_authorization(coverage=coverage, data=form.to_input(), by=request.user, at=now())
        except RecordError as exc:
            form.add_error(None, str(exc))
        else:
            return go(request, reverse("web:patient", args=[patient.pk]) + "#authorizations")
    return render_page(
        request,
        "web/patients/authorization_form.html",
        {"form": form, "patient": patient, "coverage": coverage},
        status=INVALID if form.errors else 200,
    )
