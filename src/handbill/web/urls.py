"""The browser app's URLs. A new area adds its routes here and, for the header, a NavItem in
``handbill.web.navigation``."""

from django.urls import path

from handbill.web.views import (
    account,
    audit,
    claims,
    followup,
    home,
    money_back,
    patients,
    payers,
    remittances,
    reports,
    submit,
    tools,
    visits,
)
from handbill.web.views import tokens as api_tokens

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
    # Submitting ready claims, as a job with a progress bar.
    path("submit/", submit.submit_page, name="submit"),
    path("submit/start/", submit.submit_start, name="submit_start"),
    path("submit/jobs/<int:pk>/", submit.submit_job, name="submit_job"),
    path("submit/jobs/<int:pk>/step/", submit.submit_job_step, name="submit_job_step"),
    path("submit/jobs/<int:pk>/retry/", submit.submit_job_retry, name="submit_job_retry"),
    # Remittances: upload or fetch, the posting plan, commit, unmatched claims.
    path("remittances/", remittances.remittance_list, name="remittances"),
    path("remittances/upload/", remittances.remittance_upload, name="remittance_upload"),
    path("remittances/fetch/", remittances.remittance_fetch, name="remittance_fetch"),
    path("remittances/<int:pk>/", remittances.remittance_detail, name="remittance"),
    path("remittances/<int:pk>/commit/", remittances.remittance_commit,
         name="remittance_commit"),
    path("remittances/<int:pk>/resolve/", remittances.remittance_resolve,
         name="remittance_resolve"),
    # Payers and their policy versions.
    path("payers/", payers.payer_list, name="payers"),
    path("payers/<int:pk>/", payers.payer_detail, name="payer"),
    path("payers/<int:pk>/policy/new/", payers.policy_new, name="policy_new"),
    # Working what comes back: queues and policy proposals.
    path("queues/", followup.queues, name="queues"),
    path("queues/work/", followup.queue_work, name="queue_work"),
    path("proposals/", followup.proposals, name="proposals"),
    path("proposals/refresh/", followup.proposals_refresh, name="proposals_refresh"),
    path("proposals/<int:pk>/accept/", followup.proposal_decide, {"decision": "accept"},
         name="proposal_accept"),
    path("proposals/<int:pk>/dismiss/", followup.proposal_decide, {"decision": "dismiss"},
         name="proposal_dismiss"),
    # API tokens (handbill.api): made and revoked here, shown once.
    path("account/tokens/", api_tokens.token_list, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", api_tokens.token_revoke, name="api_token_revoke"),
    # Reports (money over a date range) and their CSV downloads.
    path("reports/", reports.reports, name="reports"),
    path("reports/<slug:name>.csv", reports.report_csv, name="report_csv"),
    # The audit trail (owner and auditor).
    path("audit/", audit.audit_log, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit_export"),
    # Two-factor sign-in, and the owner's switch that requires it.
    path("two-factor/enrol/", account.two_factor_enrol, name="two_factor_enrol"),
    path("two-factor/verify/", account.two_factor_verify, name="two_factor_verify"),
    path("practice/security/", account.practice_security, name="practice_security"),
]
