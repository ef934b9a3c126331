"""The browser app's foundation: signing in and out, the current practice and its switcher,
role-aware navigation, permission refusals (403), tenant scoping (404), htmx fragments."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse

from handbill.practice.models import Membership, Role
from handbill.web.access import get_scoped, permissions_of, practice_view
from handbill.web.middleware import SESSION_KEY, CurrentPracticeMiddleware
from tests.factories import records as f
from tests.integration.web_clinic import PASSWORD, Clinic, draft_claim, make_clinic, signed_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


@pytest.fixture
def other() -> Clinic:
    return make_clinic("Birch Street Bodywork", patient_last="Oakhollow")


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/today/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/today/"
    assert client.get("/").headers["Location"] == "/sign-in/"
    page = client.get("/sign-in/")
    assert page.status_code == 200
    assert b'<label for="id_username">Email or username' in page.content


def test_sign_in_then_out(client: Client, clinic: Clinic) -> None:
    user = clinic.users["biller"]
    response = client.post(
        "/sign-in/", {"username": user.username, "password": PASSWORD, "next": "/patients/"}
    )
    assert response.status_code == 302 and response["Location"] == "/patients/"
    page = client.get("/today/")
    assert page.status_code == 200
    assert clinic.practice.legal_name.encode() in page.content
    response = client.post("/sign-out/")
    assert response.status_code == 302 and response["Location"] == "/sign-in/"
    assert client.get("/today/").status_code == 302


def test_a_wrong_password_is_refused_and_the_username_kept(client: Client, clinic: Clinic) -> None:
    user = clinic.users["biller"]
    response = client.post("/sign-in/", {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert f'value="{user.username}"'.encode() in response.content


def test_a_user_without_a_practice_gets_403(client: Client) -> None:
    client.force_login(f.make_user())
    response = client.get("/today/")
    assert response.status_code == 403
    assert b"no practice yet" in response.content


def test_the_current_practice_defaults_to_the_first_and_can_be_switched(
    clinic: Clinic, other: Clinic
) -> None:
    biller = clinic.users["biller"]
    Membership.objects.create(user=biller, practice=other.practice, role=Role.BILLER)
    client = Client()
    client.force_login(biller)
    # "Alder Creek" sorts before "Birch Street".
    page = client.get("/patients/")
    assert page.wsgi_request.practice == clinic.practice
    assert b'id="practice-switch"' in page.content
    assert b"Fairweather" in page.content

    response = client.post("/practice/switch/", {"practice": other.practice.pk})
    assert response.status_code == 302 and response["Location"] == "/today/"
    page = client.get("/patients/")
    assert page.wsgi_request.practice == other.practice
    assert page.wsgi_request.membership.practice == other.practice
    # Each practice's own rows: the first practice's patient is now out of reach.
    assert client.get(f"/patients/{clinic.patient.pk}/").status_code == 404
    assert client.get(f"/patients/{other.patient.pk}/").status_code == 200


def test_switching_to_a_practice_that_is_not_yours_is_ignored(
    clinic: Clinic, other: Clinic
) -> None:
    client = clinic.client_for("biller")
    client.post("/practice/switch/", {"practice": other.practice.pk})
    assert client.session[SESSION_KEY] == clinic.practice.pk
    assert client.get(f"/patients/{other.patient.pk}/").status_code == 404


def test_a_stale_session_choice_falls_back_to_a_practice_of_the_user(clinic: Clinic) -> None:
    client = clinic.client_for("biller")
    session = client.session
    session[SESSION_KEY] = 999999
    session.save()
    page = client.get("/today/")
    assert page.status_code == 200
    assert page.wsgi_request.practice == clinic.practice


def test_one_practice_shows_its_name_instead_of_a_switcher(clinic: Clinic) -> None:
    page = clinic.client_for("therapist").get("/today/")
    assert b'id="practice-switch"' not in page.content
    assert b'class="practice-name">Alder Creek Massage' in page.content


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("therapist", ["New visit note"], ["Add coverage", "Setup"]),
        ("front_desk", ["Add coverage"], ["New visit note"]),
        ("biller", ["Add coverage"], ["New visit note"]),
        ("auditor", [], ["New visit note", "Add coverage"]),
    ],
)
def test_navigation_and_buttons_follow_the_role(
    clinic: Clinic, role: str, shown: list[str], hidden: list[str]
) -> None:
    page = clinic.client_for(role).get(f"/patients/{clinic.patient.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for label in ("Today", "Patients", "Notes", "Claims"):
        assert f">{label}</a>" in text
    assert 'aria-current="page">Patients</a>' in text
    for label in shown:
        assert label in text, label
    for label in hidden:
        assert label not in text, label


def test_setup_link_only_for_an_owner_who_is_staff(clinic: Clinic) -> None:
    owner = clinic.users["owner"]
    assert b">Setup</a>" not in clinic.client_for("owner").get("/today/").content
    owner.is_staff = True
    owner.save()
    assert b">Setup</a>" in clinic.client_for("owner").get("/today/").content


def test_occasional_pages_sit_in_the_account_menu(clinic: Clinic) -> None:
    text = clinic.client_for("owner").get("/audit/").content.decode()
    main = text.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    account = text.split('aria-label="Account"', 1)[1].split("</nav>", 1)[0]
    assert ">Queues</a>" in main and ">Audit</a>" not in main
    for label in ("API tokens", "Audit", "Security"):
        assert f">{label}</a>" in account, label
    # The page being read is marked current in its menu, and sign-out sits with them.
    assert 'aria-current="page">Audit</a>' in account
    assert text.index('aria-label="Account"') < text.index(">Sign out</button>")
    biller = clinic.client_for("biller").get("/today/").content.decode()
    account = biller.split('aria-label="Account"', 1)[1].split("</nav>", 1)[0]
    assert ">API tokens</a>" in account and ">Audit</a>" not in account


def test_permissions_of_a_role_come_from_the_one_table() -> None:
    assert permissions_of("therapist") >= {"view", "write_notes", "sign_notes"}
    assert "bill" not in permissions_of("therapist")
    assert permissions_of("auditor") == {"view", "view_audit"}
    assert permissions_of(None) == frozenset()
    with pytest.raises(ValueError, match="unknown permission"):
        practice_view("fly")


# Every practice page, with the permission it needs: a role without it gets 403.
def _routes(c: Clinic) -> list[tuple[str, str, str]]:
    visit = signed_visit(c)
    claim = draft_claim(c, visit)
    patient, coverage = c.patient.pk, c.coverage.pk
    return [
        ("get", "/today/", "view"),
        ("get", "/patients/", "view"),
        ("get", f"/patients/{patient}/", "view"),
        ("get", "/patients/new/", "edit_patients"),
        ("get", f"/patients/{patient}/coverages/new/", "edit_patients"),
        ("get", f"/patients/{patient}/coverages/{coverage}/", "edit_patients"),
        ("get", f"/patients/{patient}/coverages/{coverage}/authorizations/new/", "edit_patients"),
        ("get", f"/patients/{patient}/visits/new/", "write_notes"),
        ("get", "/visits/", "view"),
        ("get", f"/visits/{visit.pk}/", "view"),
        ("post", f"/visits/{visit.pk}/addenda/", "write_notes"),
        ("post", f"/visits/{visit.pk}/claim/", "bill"),
        ("post", "/visits/preview/", "write_notes"),
        ("get", "/codes/icd10/?q=low+back", "view"),
        ("get", "/claims/", "view"),
        ("get", f"/claims/{claim.pk}/", "view"),
        ("post", f"/claims/{claim.pk}/scrub/", "bill"),
        ("post", f"/claims/{claim.pk}/ready/", "bill"),
        ("post", f"/claims/{claim.pk}/override/", "bill"),
        ("get", f"/claims/{claim.pk}/837/", "view"),
    ]


def test_every_page_refuses_a_role_without_its_permission(clinic: Clinic) -> None:
    routes = _routes(clinic)
    for role in Role:
        client = clinic.client_for(role.value)
        granted = permissions_of(role.value)
        for method, url, permission in routes:
            response = getattr(client, method)(url)
            if permission in granted:
                assert response.status_code != 403, (role, url)
                assert response.status_code < 500, (role, url)
            else:
                assert response.status_code == 403, (role, url, response.status_code)


def test_pages_render_for_the_roles_that_may_open_them(clinic: Clinic) -> None:
    for method, url, permission in _routes(clinic):
        if method != "get":
            continue
        role = "owner" if permission != "write_notes" else "therapist"
        response = clinic.client_for(role).get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_rows_of_another_practice_are_404_not_403(clinic: Clinic, other: Clinic) -> None:
    theirs = _routes(other)
    owner = clinic.client_for("owner")
    for method, url, _permission in theirs:
        if url.startswith(("/today/", "/codes/", "/visits/preview/")) or url in (
            "/patients/", "/visits/", "/claims/", "/patients/new/"
        ):
            continue
        response = getattr(owner, method)(url)
        assert response.status_code == 404, (url, response.status_code)
    # The preview names the patient in its form data: another practice's patient is a 404 too.
    response = clinic.client_for("therapist").post(
        "/visits/preview/", {"patient": other.patient.pk}
    )
    assert response.status_code == 404


def test_lists_never_show_another_practices_rows(clinic: Clinic, other: Clinic) -> None:
    draft_claim(other)
    draft_claim(clinic)
    owner = clinic.client_for("owner")
    for url in ("/patients/", "/visits/", "/claims/"):
        content = owner.get(url).content.decode()
        assert "Oakhollow" not in content, url
    assert owner.get("/patients/?q=Oakhollow").context["page"].paginator.count == 0
    assert "Fairweather" in owner.get("/claims/").content.decode()


def test_get_scoped_finds_own_rows_and_404s_others(clinic: Clinic, other: Clinic) -> None:
    from django.http import Http404

    from handbill.patients.models import Patient

    request = RequestFactory().get("/")
    request.user = clinic.users["biller"]
    request.session = {}  # type: ignore[assignment]
    CurrentPracticeMiddleware(lambda r: None)(request)  # type: ignore[arg-type, return-value]
    assert get_scoped(Patient, request, pk=clinic.patient.pk) == clinic.patient
    with pytest.raises(Http404):
        get_scoped(Patient, request, pk=other.patient.pk)
    with pytest.raises(Http404):
        get_scoped(Patient.objects.filter(last_name="Nobody"), request, pk=clinic.patient.pk)


def test_practice_view_refuses_with_the_reason(clinic: Clinic) -> None:
    request = RequestFactory().get("/")
    request.user = clinic.users["therapist"]
    request.session = {}  # type: ignore[assignment]
    CurrentPracticeMiddleware(lambda r: None)(request)  # type: ignore[arg-type, return-value]

    @practice_view("bill")
    def billing_page(request: object) -> None:
        raise AssertionError("not reached")

    with pytest.raises(PermissionDenied, match="a therapist may not bill"):
        billing_page(request)
    assert billing_page.handbill_permission == "bill"  # type: ignore[attr-defined]


def test_an_htmx_request_gets_a_fragment(clinic: Clinic) -> None:
    client = clinic.client_for("biller")
    full = client.get("/patients/", {"q": "Fairweather"})
    assert b"<html" in full.content and b"Fairweather" in full.content
    fragment = client.get("/patients/", {"q": "Fairweather"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert b"Fairweather" in fragment.content
    assert fragment.templates[0].name == "web/patients/_results.html"


def test_the_start_page_counts_what_is_waiting(clinic: Clinic) -> None:
    f.make_signed_visit(clinic.provider, clinic.patient, coverage=clinic.coverage, sign=False)
    draft_claim(clinic)
    page = clinic.client_for("therapist").get(reverse("web:home"))
    today = page.context["today"]
    assert today.notes_to_sign == 1
    assert today.claims_draft == 1
    assert page.context["own_notes"] is True
