"""The browser app's URLs. A new area adds its routes here and, for the header, a NavItem in
``handbill.web.navigation``."""

from django.urls import path

from handbill.web.views import account, claims, home, money_back, patients, tools, visits

app_name = "web"
urlpatterns = [
    path("", home.root, name="root"),
    path("health/", tools.health, name="health"),
    path("tools/units/", tools.units, name="units"),
    # Signing in and out; the practice switcher.
    path("sign-in/", account.SignInView.as_view(), name="login"),
    path("sign-out/", account.SignOutView.as_view(), name="logout"),
    path("practice/switch/", account.switch_practice, name="switch_practice"),
    path("today/", home.home, name="home"),
    # Patients, coverages, authorizations.
    path("patients/", patients.patient_list, name="patients"),
    path("patients/new/", patients.patient_new, name="patient_new"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient"),
    path("patients/<int:pk>/coverages/new/", patients.coverage_form, name="coverage_new"),
    path(
        "patients/<int:pk>/coverages/<int:coverage_pk>/",
        patients.coverage_form,
        name="coverage_edit",
    ),
    path(
        "patients/<int:pk>/coverages/<int:coverage_pk>/authorizations/new/",
        patients.authorization_new,
        name="authorization_new",
    ),
    # Visit notes.
    path("patients/<int:pk>/visits/new/", visits.visit_new, name="visit_new"),
    path("visits/", visits.visit_list, name="visits"),
    path("visits/preview/", visits.visit_preview, name="visit_preview"),
    path("visits/<int:pk>/", visits.visit_detail, name="visit"),
    path("visits/<int:pk>/addenda/", visits.addendum_new, name="addendum_new"),
    path("visits/<int:pk>/claim/", visits.claim_build, name="claim_build"),
    path("codes/icd10/", visits.icd10_options, name="icd10_options"),
    # Claims.
    path("claims/", claims.claim_list, name="claims"),
    path("claims/<int:pk>/", claims.claim_detail, name="claim"),
    path("claims/<int:pk>/scrub/", claims.claim_scrub, name="claim_scrub"),
    path("claims/<int:pk>/ready/", claims.claim_ready, name="claim_ready"),
    path("claims/<int:pk>/override/", claims.claim_override, name="claim_override"),
    path("claims/<int:pk>/837/", claims.claim_837, name="claim_837"),
    path("claims/<int:pk>/cms1500.pdf", claims.claim_cms1500, name="claim_cms1500"),
    path("claims/<int:pk>/superbill.pdf", claims.claim_superbill, name="claim_superbill"),
    # Getting paid after the claim came back: corrections, reopen, secondary, appeal.
    path("claims/<int:pk>/correct/", money_back.claim_correct, name="claim_correct"),
    path("claims/<int:pk>/reopen/", money_back.claim_reopen, name="claim_reopen"),
    path("claims/<int:pk>/withdraw/", money_back.claim_withdraw, name="claim_withdraw"),
    path("claims/<int:pk>/secondary/", money_back.claim_secondary, name="claim_secondary"),
    path("claims/<int:pk>/appeal.pdf", money_back.claim_appeal_pdf, name="claim_appeal_pdf"),
    path("claims/<int:pk>/appealed/", money_back.claim_appealed, name="claim_appealed"),
]
