"""The isolation probe: every route, found by walking the URL resolver (web pages and the
``/api/`` routes alike), is asked for practice B's objects by a signed-in owner of practice A.

- A route with path parameters is filled with B's objects (``KWARG_OBJECTS``,
  ``SEGMENT_OBJECTS``, ``ROUTE_OBJECTS``) and requested with each method: it must answer exactly
  as it answers for an id that exists nowhere (so nothing tells that B's row exists), and
  never with success or a redirect; a GET must be a 404 (or 405 where GET is not served).
- A route without path parameters (lists, exports, tools) is requested with GET, and with
  POST carrying B's ids in the usual form fields: B's identifying strings must never appear.

A new route whose parameters the tables cannot fill fails the probe with a message saying what
to add: a route nobody has thought about for tenancy does not pass silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import product
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from handbill.claims.models import Claim
from handbill.eligibility.models import EligibilityCheck
from handbill.patients.models import Patient
from handbill.practice.models import Role
from handbill.remittance import actions as remit_actions
from tests.conftest import FIXED_NOW
from tests.integration.remittance_setup import Clp, Svc, write_835
from tests.integration.web_clinic import Clinic, draft_claim, make_clinic, signed_visit

pytestmark = pytest.mark.django_db

# Route prefixes the probe does not ask, each with the reason.
EXEMPT = {
    "admin/": "Django's admin is the operator's setup screen: it admits staff users only "
    "(is_staff), never a practice member as such, so it has no practice to scope to.",
}

# Which of practice B's objects fills a path parameter, by the parameter's name …
KWARG_OBJECTS: dict[str, str] = {
    "patient_pk": "patient", "patient_id": "patient",
    "coverage_pk": "coverage", "coverage_id": "coverage",
    "authorization_pk": "authorization", "authorization_id": "authorization",
    "visit_pk": "visit", "visit_id": "visit", "note_pk": "visit", "note_id": "visit",
    "claim_pk": "claim", "claim_id": "claim",
    "era_pk": "era", "era_id": "era", "remittance_pk": "era", "remittance_id": "era",
    "check_pk": "eligibility_check", "check_id": "eligibility_check",
    "provider_pk": "provider", "provider_id": "provider",
    "payer_pk": "payer",
    "batch_pk": "batch", "batch_id": "batch",
    "token_pk": "api_token", "token_id": "api_token",
}
# … or, for a generic name (pk, id), by the path segment just before it: patients/<pk>/.
SEGMENT_OBJECTS: dict[str, str] = {
    "patients": "patient", "coverages": "coverage", "authorizations": "authorization",
    "visits": "visit", "notes": "visit", "claims": "claim",
    "remittances": "era", "eras": "era", "era": "era", "payments": "era",
    "eligibility": "eligibility_check", "checks": "eligibility_check",
    "providers": "provider", "payers": "payer", "batches": "batch", "submissions": "batch",
    "tokens": "api_token", "jobs": "submission_job", "proposals": "rule_proposal",
}
# Path parameters that name no row but one of a few fixed choices, by the segment before
# them: each choice is asked like a list page (B's strings must not appear).
VALUE_SEGMENTS: dict[str, tuple[str, ...]] = {
    "worklists": ("followup", "denials", "rejections", "underpaid", "timely"),
    "reports": ("ar-aging", "denials", "payments", "units"),
}
# Exact routes where neither rule picks the right object: route path → {parameter: object}.
ROUTE_OBJECTS: dict[str, dict[str, str]] = {}

# An id that exists in no practice: the answer B's object gets must be the same as for it.
MISSING_INT = 2_147_483_000
MISSING_STR = "no-such-row"

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_FORM_FIELDS = ("patient", "visit", "claim", "coverage", "era", "practice", "provider", "payer")


@dataclass(frozen=True)
class Route:
    path: str  # Django route syntax, from the site root, e.g. "patients/<int:pk>/"
    name: str  # namespaced URL name ("web:patient"), "" when the route has none
    is_api: bool

    @property
    def params(self) -> list[tuple[str, str]]:
        """(name, converter) of each path parameter, in order."""
        return [(m["name"], m["converter"] or "str") for m in _PARAM.finditer(self.path)]

    def url(self, values: dict[str, object]) -> str:
        return "/" + _PARAM.sub(lambda m: str(values[m["name"]]), self.path)


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    """Every URL pattern under ``patterns``, following include()s, with its full route."""
    for entry in patterns:
        piece = str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            yield from walk(entry.url_patterns, prefix + piece, inner)
        elif isinstance(entry, URLPattern):
            route = prefix + piece
            if piece.startswith("^") or "(?P<" in route:
                # Regex routes (only the admin uses them) keep their own syntax.
                route = re.sub(r"\^|\$|\\Z", "", route)
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(route, name, route.startswith("api/"))


def all_routes() -> list[Route]:
    return [r for r in walk(get_resolver().url_patterns) if not r.path.startswith(tuple(EXEMPT))]


class PracticeB:
    """Practice B's objects, made when a route first asks for them."""

    def __init__(self, clinic: Clinic) -> None:
        self.clinic = clinic

    @cached_property
    def patient(self) -> Patient:
        return self.clinic.patient

    @cached_property
    def coverage(self) -> Any:
        return self.clinic.coverage

    @cached_property
    def authorization(self) -> Any:
        return self.clinic.prescription

    @cached_property
    def provider(self) -> Any:
        return self.clinic.provider

    @cached_property
    def payer(self) -> Any:
        return self.clinic.coverage.payer

    @cached_property
    def visit(self) -> Any:
        return self.claim.visit

    @cached_property
    def claim(self) -> Claim:
        return draft_claim(self.clinic, signed_visit(self.clinic))

    @cached_property
    def era(self) -> Any:
        text = write_835(
            [Clp("ZZ-NOT-OURS", [Svc("97124", 12000, 7500, [("CO", "45", 4500)], ["GP"], 2,
                                     "ZZ-1")], payer_claim_number="OAKPCN1")],
            payer_id=self.clinic.coverage.payer.payer_id, trace="OAKTRACE77",
        )
        (era,) = remit_actions.import_835(practice=self.clinic.practice, text=text, by=None,
                                          at=FIXED_NOW)
        return era

    @cached_property
    def eligibility_check(self) -> EligibilityCheck:
        # A built, unsent check: the row is what matters here, not a clearinghouse's answer.
        return EligibilityCheck.objects.create(
            practice=self.clinic.practice, coverage=self.coverage, patient=self.patient,
            service_date=FIXED_NOW.date(), status="built", trace_number="OAKTRN1",
            interchange_control=1, file_name="oak-270.x12", request_270="ISA*",
            created_at=FIXED_NOW,
        )

    @cached_property
    def batch(self) -> Any:
        from tests.integration.remittance_setup import sent_batch

        return sent_batch(self.clinic.practice, [self.claim])

    @cached_property
    def api_token(self) -> Any:
        # B's owner's API token (handbill.api); ImportError where the API is not installed.
        from django.utils import timezone

        from handbill.api import tokens  # type: ignore[import-not-found, unused-ignore]
        from handbill.practice.models import Membership

        member = Membership.objects.get(user=self.clinic.users[Role.OWNER.value],
                                        practice=self.clinic.practice)
        return tokens.create_token(membership=member, name="Oakhollow sync", by=None,
                                   at=timezone.now()).token

    @cached_property
    def submission_job(self) -> Any:
        from handbill.submissions.models import SubmissionJob

        return SubmissionJob.objects.create(
            practice=self.clinic.practice, clearinghouse=self.batch.clearinghouse,
            claim_count=1, created_at=FIXED_NOW,
        )

    @cached_property
    def rule_proposal(self) -> Any:
        from handbill.followup.models import RuleProposal

        return RuleProposal.objects.create(
            practice=self.clinic.practice, payer=self.payer, code="97140", carc="170", count=3,
            change={"not_covered_codes": ["97140"]}, change_key="oak-97140-170",
            reason="Oakhollow's denials", created_at=FIXED_NOW,
        )

    def get(self, kind: str) -> Any:
        maker: Callable[[], Any] | None = getattr(type(self), kind, None)
        if maker is None:
            raise AssertionError(f"the probe has no maker for {kind!r}; add it to PracticeB")
        return getattr(self, kind)


def _segment_before(route: Route, param: str) -> str:
    before = route.path.split(f":{param}>")[0].split(f"<{param}>")[0].rstrip("/<")
    return before.rsplit("<", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def value_choices(route: Route, param: str) -> tuple[str, ...]:
    return VALUE_SEGMENTS.get(_segment_before(route, param), ())


def object_for(route: Route, param: str) -> str:
    """Which of B's objects fills ``param`` of ``route``, or a failure saying what to add."""
    if param in ROUTE_OBJECTS.get(route.path, {}):
        return ROUTE_OBJECTS[route.path][param]
    if param in KWARG_OBJECTS:
        return KWARG_OBJECTS[param]
    segment = _segment_before(route, param)
    if segment in SEGMENT_OBJECTS:
        return SEGMENT_OBJECTS[segment]
    pytest.fail(
        f"The isolation probe cannot fill <{param}> of the route /{route.path} "
        f"({route.name or 'unnamed'}). Say which practice-owned object it names: add "
        f"{param!r} to KWARG_OBJECTS, the segment {segment!r} to SEGMENT_OBJECTS, or the route "
        f"to ROUTE_OBJECTS in tests/integration/test_isolation_probe.py (and a maker to "
        "PracticeB if the object is new). If the route holds no practice data, add its "
        "prefix to EXEMPT with the reason."
    )


def value_of(obj: Any, param: str, converter: str) -> object:
    if param in ("slug",) or param.endswith("_slug"):
        return obj.slug
    if converter == "uuid":
        return obj.uuid
    return obj.pk


def missing_value(converter: str, like: object) -> object:
    """An id of the same shape as ``like`` (B's value) that names no row anywhere: a route
    typed as text but validated as a number must get a number."""
    if converter == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    return MISSING_INT if converter == "int" or isinstance(like, int) else MISSING_STR


@pytest.fixture
def practices() -> tuple[Clinic, Clinic]:
    mine = make_clinic("Alder Creek Massage", patient_last="Fairweather")
    theirs = make_clinic("Birch Street Bodywork", patient_last="Oakhollow")
    # Strings found only in B, so a leak is unmistakable.
    Patient.objects.filter(pk=theirs.patient.pk).update(
        first_name="Zebulon", account_number="B-77731"
    )
    theirs.coverage.__class__.objects.filter(pk=theirs.coverage.pk).update(member_id="BZ9990001")
    theirs.patient.refresh_from_db()
    theirs.coverage.refresh_from_db()
    # A's owner also sees a row of A on every list, to show the lists are not simply empty.
    draft_claim(mine, signed_visit(mine))
    return mine, theirs


B_STRINGS = ("Oakhollow", "Zebulon", "B-77731", "BZ9990001", "Birch Street Bodywork",
             "OAKTRACE77", "OAKPCN1")


def api_client(user: Any, practice: Any) -> Client:
    """A client that the API accepts as ``user`` working in ``practice``: a bearer token from
    ``handbill.api.tokens.create_token`` when the API is there (it authenticates by token
    only), the signed-in session otherwise. A route that refuses the probe as unauthenticated
    fails the probe: teach this function."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    try:
        from handbill.api import tokens  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return client
    from django.utils import timezone

    from handbill.practice.models import Membership

    member = Membership.objects.get(user=user, practice=practice)
    made = tokens.create_token(membership=member, name="isolation probe", by=None,
                               at=timezone.now())
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {made.secret}"
    return client


def _methods(route: Route) -> tuple[str, ...]:
    return ("get", "post", "put", "patch", "delete") if route.is_api else ("get", "post")


def _request(client: Client, method: str, url: str, route: Route) -> Any:
    if route.is_api and method != "get":
        return getattr(client, method)(url, data="{}", content_type="application/json")
    return getattr(client, method)(url)


def test_every_route_gives_practice_b_nothing(practices: tuple[Clinic, Clinic]) -> None:
    mine, theirs = practices
    b = PracticeB(theirs)
    owner = mine.users[Role.OWNER.value]
    # A crash is an answer too (500 for B's row, 404 for none is a leak): keep going.
    web, api = Client(raise_request_exception=False), api_client(owner, mine.practice)
    routes = all_routes()
    assert any(r.name == "web:patient" for r in routes), "the resolver walk found no pages"
    covered: list[str] = []
    problems: list[str] = []
    for route in routes:
        client = api if route.is_api else web
        client.force_login(owner)
        params = route.params
        if not params:
            covered.append(route.path)
            problems += _probe_list(client, route, b)
            continue
        if all(value_choices(route, p) for p, _conv in params):
            for combination in product(*(value_choices(route, p) for p, _conv in params)):
                values = dict(zip([p for p, _conv in params], combination, strict=True))
                problems += _probe_list(client, route, b, values)
            covered.append(route.path)
            continue
        filled = {
            p: (value_choices(route, p) or (None,))[0]
            or value_of(b.get(object_for(route, p)), p, conv)
            for p, conv in params
        }
        missing = {
            p: (value_choices(route, p) or (None,))[0] or missing_value(conv, filled[p])
            for p, conv in params
        }
        for method in _methods(route):
            client.force_login(owner)
            got = _request(client, method, route.url(filled), route).status_code
            client.force_login(owner)
            none = _request(client, method, route.url(missing), route).status_code
            where = f"{method.upper()} {route.url(filled)} ({route.name})"
            if got != none:
                problems.append(f"{where}: {got} for B's row but {none} for no row at all")
            if 200 <= got < 400:
                problems.append(f"{where}: {got}, practice B's row was served")
            if method == "get" and got not in (404, 405):
                problems.append(f"{where}: {got}, expected 404")
            if route.is_api and got in (401, 403) and none in (401, 403):
                problems.append(f"{where}: {got}, the probe is not signed in to the API; "
                                "teach api_client() how to get a token")
        covered.append(route.path)
    assert not problems, "\n".join(problems)
    assert len(covered) == len(routes)


def _probe_list(
    client: Client, route: Route, b: PracticeB, values: dict[str, object] | None = None
) -> list[str]:
    """GET the page, and POST B's ids in the usual fields: B's strings never appear."""
    if route.name in ("web:logout",):
        return []  # signing out shows nothing of anyone
    found: list[str] = []
    form = {name: b.get(SEGMENT_OBJECTS.get(f"{name}s", name)).pk
            for name in _FORM_FIELDS if name not in ("practice", "era")}
    form["practice"] = b.clinic.practice.pk
    url = route.url(values or {})
    for method in _methods(route)[:2]:
        response = (client.get(url) if method == "get"
                    else _request(client, "post", url, route) if route.is_api
                    else client.post(url, form))
        if values and method == "get" and response.status_code != 200:
            found.append(f"GET {url} ({route.name}): {response.status_code}; the probe's choice "
                         f"{values} is not one the route serves: update VALUE_SEGMENTS")
        body = _body(response)
        leaked = [s for s in B_STRINGS if s in body]
        if leaked:
            found.append(f"{method.upper()} {url} ({route.name}) shows {leaked}")
    return found


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_the_lists_the_probe_reads_show_practice_a(practices: tuple[Clinic, Clinic]) -> None:
    """The string check means something only if the lists show rows at all."""
    mine, _theirs = practices
    client = mine.client_for(Role.OWNER.value)
    for url in ("/patients/", "/visits/", "/claims/"):
        assert "Fairweather" in client.get(url).content.decode(), url


def test_an_unknown_parameter_fails_with_what_to_add() -> None:
    route = Route("widgets/<int:gizmo>/", "web:widget", is_api=False)
    with pytest.raises(pytest.fail.Exception, match="cannot fill <gizmo>.*KWARG_OBJECTS"):
        object_for(route, "gizmo")


def test_fixed_choices_are_asked_one_by_one() -> None:
    route = Route("api/v1/worklists/<kind>", "", True)
    assert "denials" in value_choices(route, "kind")
    assert value_choices(Route("claims/<int:pk>/", "", False), "pk") == ()


def test_generic_names_follow_the_segment_before_them() -> None:
    assert object_for(Route("patients/<int:pk>/", "", False), "pk") == "patient"
    route = Route("patients/<int:pk>/coverages/<int:coverage_pk>/", "", False)
    assert object_for(route, "pk") == "patient"
    assert object_for(route, "coverage_pk") == "coverage"
    assert object_for(Route("api/v1/claims/<int:id>/findings", "", True), "id") == "claim"


def test_the_walk_finds_included_routes_with_their_parameters() -> None:
    routes = {r.name: r for r in all_routes()}
    coverage = routes["web:coverage_edit"]
    assert coverage.path == "patients/<int:pk>/coverages/<int:coverage_pk>/"
    assert coverage.params == [("pk", "int"), ("coverage_pk", "int")]
    assert coverage.url({"pk": 3, "coverage_pk": 4}) == "/patients/3/coverages/4/"
    assert not any(r.path.startswith("admin/") for r in routes.values())


def test_every_maker_gives_a_row_of_practice_b(practices: tuple[Clinic, Clinic]) -> None:
    """Routes added later use makers no current route needs: they must work already."""
    _mine, theirs = practices
    b = PracticeB(theirs)
    for kind in sorted(set(KWARG_OBJECTS.values()) | set(SEGMENT_OBJECTS.values())):
        try:
            row = b.get(kind)
        except ImportError:  # the app that owns this kind of row is not installed here
            continue
        assert row.pk is not None, kind
        owner = getattr(row, "practice_id", None) or row.patient.practice_id
        assert owner == theirs.practice.pk, kind
