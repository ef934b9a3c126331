"""Claim pages: the filtered list (with a bounded number of queries), the claim page with
lines, rationale, pointers, findings and history, override with a reason, mark ready, and the
outbound views (837P segments, CMS-1500, superbill)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils.html import escape

from handbill.claims import actions as claim_actions
from handbill.claims.models import Claim, FindingOverride
from handbill.visits.actions import ServiceInput
from handbill.web import outbound
from tests.conftest import FIXED_NOW
from tests.factories import records as f
from tests.integration.web_clinic import Clinic, draft_claim, make_clinic, signed_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


def blocked_claim(clinic: Clinic) -> Claim:
    """A claim whose note lacks the medical-necessity statement (a blocking finding)."""
    from tests.factories.records import FULL_NOTE

    note = FULL_NOTE.__class__(**{**FULL_NOTE.__dict__, "medical_necessity": ""})
    visit = signed_visit(clinic, note=note)
    claim = draft_claim(clinic, visit)
    assert claim.findings.filter(severity="blocking").exists()
    return claim


def test_the_claim_page_shows_lines_rationale_pointers_findings_and_history(
    clinic: Clinic,
) -> None:
    claim = blocked_claim(clinic)
    response = clinic.client_for("biller").get(f"/claims/{claim.pk}/")
    assert response.status_code == 200
    c = response.context["c"]
    assert [line.code for line in c.lines] == ["97124", "97140"]
    assert c.open_blocking >= 1
    text = response.content.decode()
    assert escape(claim.rationale) in text
    for line in c.lines:
        assert escape(line.rationale) in text
        assert " ".join(line.modifiers) in text
    # Pointers as the form's letters: each line points at diagnosis A and/or B.
    assert {line.pointers[0] for line in c.lines} <= {1, 2}
    assert "<td>A</td>" in text or "<td>AB</td>" in text or "<td>B</td>" in text
    assert "note.medical_necessity" in text and "Fix:" in text
    assert "Override with a reason" in text and "Mark ready" in text
    assert "Draft" in text  # the history's first event


def test_override_needs_a_reason_and_then_the_claim_can_be_ready(clinic: Clinic) -> None:
    claim = blocked_claim(clinic)
    client = clinic.client_for("biller")
    url = f"/claims/{claim.pk}/"
    refused = client.post(url + "ready/", follow=True)
    assert b"blocking finding(s) are open" in refused.content
    claim.refresh_from_db()
    assert claim.status == "draft"

    blocking = list(claim.findings.filter(severity="blocking"))
    empty = client.post(url + "override/", {"rule": blocking[0].rule, "reason": ""})
    assert empty.status_code == 422
    assert b"This field is required" in empty.content

    wrong = client.post(url + "override/", {"rule": "no.such.rule", "reason": "because"})
    assert wrong.status_code == 422 and b"has no blocking finding" in wrong.content

    for finding in blocking:
        data = {"rule": finding.rule, "reason": "Necessity documented in the plan of care."}
        if finding.line:
            data["line"] = str(finding.line)
        assert client.post(url + "override/", data).status_code == 302
    assert FindingOverride.objects.filter(claim=claim).count() == len(blocking)
    assert b"Overridden by" in client.get(url).content

    ready = client.post(url + "ready/", follow=True)
    claim.refresh_from_db()
    assert claim.status == "ready"
    assert b"is ready to submit" in ready.content
    assert b"Mark ready" not in ready.content


def test_scrub_again(clinic: Clinic) -> None:
    claim = draft_claim(clinic)
    response = clinic.client_for("biller").post(f"/claims/{claim.pk}/scrub/", follow=True)
    assert b"Scrubbed again" in response.content


def test_a_therapist_sees_the_claim_but_not_the_billers_buttons(clinic: Clinic) -> None:
    claim = blocked_claim(clinic)
    client = clinic.client_for("therapist")
    text = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "Mark ready" not in text and "Override with a reason" not in text
    assert client.post(f"/claims/{claim.pk}/ready/").status_code == 403


def _many_claims(clinic: Clinic, count: int) -> list[Claim]:
    claims = []
    for day in range(1, count + 1):
        visit = signed_visit(clinic, on=date(2026, 10, day))
        claims.append(draft_claim(clinic, visit))
    return claims


def test_the_list_filters_by_status_payer_provider_dates_and_finding(clinic: Clinic) -> None:
    claims = _many_claims(clinic, 4)
    claim_actions.mark_ready(claim=claims[0], by=None, at=FIXED_NOW)
    other_provider = f.make_provider(clinic.practice, first_name="Lin", last_name="Ostrander")
    f.enroll(other_provider, clinic.payers["cascade-mutual"])
    patient = f.make_patient(clinic.practice)
    coverage = f.make_coverage(patient, clinic.payers["cascade-mutual"])
    theirs = draft_claim(clinic, f.make_signed_visit(
        other_provider, patient, coverage=coverage, on=date(2026, 9, 15)))
    blocked = blocked_claim(clinic)
    client = clinic.client_for("biller")

    def shown(**query: str) -> set[str]:
        response = client.get("/claims/", query)
        assert response.status_code == 200
        return {c.number for c in response.context["page"].object_list}

    everyone = {c.number for c in [*claims, theirs, blocked]}
    assert shown() == everyone
    assert shown(status="ready") == {claims[0].number}
    assert shown(payer=str(clinic.payers["cascade-mutual"].pk)) == {theirs.number}
    assert shown(provider=str(other_provider.pk)) == {theirs.number}
    assert shown(date_from="2026-10-02", date_to="2026-10-03") == {
        claims[1].number, claims[2].number}
    assert shown(rule="note.medical_necessity") == {blocked.number}
    # A builder flag is not in the scrubber's registry; a link to it still filters.
    assert shown(rule="build.zero_units") == set()
    assert shown(q=theirs.number) == {theirs.number}
    assert shown(q=patient.account_number) == {theirs.number}
    # Dates the wrong way round are named and not applied.
    response = client.get("/claims/", {"date_from": "2026-10-03", "date_to": "2026-10-01"})
    assert "comes before the first" in response.context["form"].errors["date_to"][0]


def test_the_list_marks_claims_with_blocking_findings(clinic: Clinic) -> None:
    blocked = blocked_claim(clinic)
    response = clinic.client_for("biller").get("/claims/")
    assert response.context["blocking"][blocked.pk] >= 1
    assert b'class="badge blocking"' in response.content


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(
    clinic: Clinic, django_assert_max_num_queries: object
) -> None:
    _many_claims(clinic, 3)
    client = clinic.client_for("biller")
    client.get("/claims/")
    with django_assert_max_num_queries(12) as few:  # type: ignore[operator]
        client.get("/claims/")
    _many_claims(clinic, 12)[0]  # more rows on the page must not mean more queries
    with django_assert_max_num_queries(len(few.captured_queries)):  # type: ignore[operator]
        client.get("/claims/", {"status": "draft"})


def test_the_list_paginates(clinic: Clinic) -> None:
    claims = _many_claims(clinic, 27)
    client = clinic.client_for("biller")
    page = client.get("/claims/").context["page"]
    assert page.paginator.count == 27 and len(page.object_list) == 25
    second = client.get("/claims/", {"page": "2"}).context["page"]
    # Newest date of service first: the two oldest are on page 2.
    assert {c.number for c in second.object_list} == {claims[0].number, claims[1].number}


def test_htmx_filtering_returns_the_results_fragment(clinic: Clinic) -> None:
    draft_claim(clinic)
    response = clinic.client_for("biller").get(
        "/claims/", {"status": "draft"}, headers={"HX-Request": "true"}
    )
    assert response.templates[0].name == "web/claims/_results.html"
    assert b'id="claims-table"' in response.content and b"<html" not in response.content


@pytest.mark.skipif(not outbound.available()["x12"], reason="no 837P writer in this checkout")
def test_the_837_segment_view(clinic: Clinic) -> None:
    claim = draft_claim(clinic)
    response = clinic.client_for("biller").get(f"/claims/{claim.pk}/837/")
    assert response.status_code == 200, response.context["problem"]
    segments = response.context["segments"]
    assert segments[0].startswith("ISA*") and segments[-1].startswith("IEA*")
    assert any(s.startswith(f"CLM*{claim.number}*") for s in segments)
    assert sum(1 for s in segments if s.startswith("REF*6R*")) == claim.lines.count()


@pytest.mark.skipif(not outbound.available()["x12"], reason="no 837P writer in this checkout")
def test_the_837_view_names_what_stops_it(clinic: Clinic) -> None:
    clinic.practice.postal_code = "98501"
    clinic.practice.save()
    claim = draft_claim(clinic)
    response = clinic.client_for("biller").get(f"/claims/{claim.pk}/837/")
    assert response.status_code == 422
    assert b"ZIP" in response.content


@pytest.mark.skipif(
    not outbound.available()["cms1500"], reason="no CMS-1500 renderer in this checkout"
)
def test_cms1500_download(clinic: Clinic) -> None:
    claim = draft_claim(clinic)
    response = clinic.client_for("biller").get(f"/claims/{claim.pk}/cms1500.pdf")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f"{claim.number}-cms1500.pdf" in response["Content-Disposition"]


@pytest.mark.skipif(
    not outbound.available()["superbill"], reason="no superbill renderer in this checkout"
)
def test_superbill_download_for_a_self_pay_visit(clinic: Clinic) -> None:
    patient = f.make_patient(clinic.practice)
    visit = f.make_signed_visit(
        clinic.provider, patient,
        services=[ServiceInput("97124", 60, "Swedish massage", "low back")],
    )
    claim = draft_claim(clinic, visit)
    assert claim.payer is None
    client = clinic.client_for("biller")
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "Superbill (PDF)" in page and "CMS-1500 (PDF)" not in page
    response = client.get(f"/claims/{claim.pk}/superbill.pdf")
    assert response.status_code == 200, response.content[:500]
    assert response.content.startswith(b"%PDF")


def test_buttons_hide_when_a_writer_is_missing(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        outbound, "available", lambda: {"x12": False, "cms1500": False, "superbill": False}
    )
    claim = draft_claim(clinic)
    client = clinic.client_for("biller")
    text = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "837P segments" not in text and "(PDF)" not in text
    response = client.get(f"/claims/{claim.pk}/cms1500.pdf", follow=True)
    assert b"cannot produce cms1500 output" in response.content
