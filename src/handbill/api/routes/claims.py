"""/claims: build from a signed note, scrub, findings, override, mark ready, submit, status,
and the filtered list. Building, marking ready (which posts the charge) and submitting take an
``Idempotency-Key``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from handbill.api.access import by_of, field_ref, get_scoped, need, practice_of
from handbill.api.errors import ApiError, ErrorOut, naming, responses
from handbill.api.fields import Id, required_text, text
from handbill.api.idempotency import KeyHeader, idempotent
from handbill.api.pagination import PageMeta, Paging, page
from handbill.claims.actions import (
    build_claim,
    mark_ready,
    override_finding,
    scrub_claim,
    unresolved_blocking,
)
from handbill.claims.models import Claim
from handbill.claims.models import Status as ClaimStatus
from handbill.ledger.balances import claim_balance
from handbill.patients.models import Coverage
from handbill.practice.access import scoped
from handbill.submissions.actions import UploadFailedError, submit_claims
from handbill.submissions.models import Clearinghouse
from handbill.visits.models import Visit
from handbill.web.queries.claims import ClaimFilters, find_claims

router = Router(tags=["claims"])

StatusName = Literal[tuple(s.value for s in ClaimStatus)]  # type: ignore[valid-type]


class LineOut(Schema):
    number: int
    code: str
    modifiers: list[str]
    units: int
    minutes: int
    pointers: list[int]
    charge_cents: int
    rationale: str
    body_region: str
    control_number: str


class ClaimSummary(Schema):
    id: int
    number: str
    status: str
    patient_id: int
    provider_id: int
    payer_id: int | None
    coverage_id: int | None
    visit_id: int
    date_of_service: date
    total_charge_cents: int


class ClaimOut(ClaimSummary):
    frequency: str
    place_of_service: str
    diagnoses: list[str]
    rationale: str
    payer_claim_number: str
    created_at: datetime
    lines: list[LineOut]
    open_blocking: int
    balance_cents: int

    @staticmethod
    def resolve_lines(obj: Claim) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_open_blocking(obj: Claim) -> int:
        return len(unresolved_blocking(obj))

    @staticmethod
    def resolve_balance_cents(obj: Claim) -> int:
        return claim_balance(obj.practice, obj.number).value


class ClaimPage(PageMeta):
    results: list[ClaimSummary]


class FindingOut(Schema):
    rule: str
    severity: str
    message: str
    fix: str
    line: int | None
    code: str
    overridden: bool


class FindingsOut(Schema):
    claim_id: int
    status: str
    open_blocking: int
    findings: list[FindingOut]


class EventOut(Schema):
    from_status: str
    to_status: str
    note: str
    at: datetime


class StatusOut(Schema):
    claim_id: int
    number: str
    status: str
    events: list[EventOut]


class BuildIn(Schema):
    visit_id: Id
    coverage_id: Id | None = None


class OverrideIn(Schema):
    rule: required_text(40)  # type: ignore[valid-type]
    line: Annotated[int, Field(ge=1, le=50)] | None = None
    reason: required_text(2000)  # type: ignore[valid-type]


class SubmitIn(Schema):
    claim_ids: list[Id] = Field(min_length=1, max_length=500)
    clearinghouse_id: Id | None = None


class BatchOut(Schema):
    id: int
    file_name: str
    status: str
    claim_count: int
    claim_ids: list[int]


_CLAIM = Claim.objects.select_related("practice", "patient", "provider", "payer", "coverage",
                                      "visit")


def _claim(request: HttpRequest, claim_id: int) -> Claim:
    return get_scoped(_CLAIM, request, "claim", pk=claim_id)


def _json(schema: type[Schema], obj: Any) -> Any:
    return schema.from_orm(obj).model_dump(mode="json")


def _findings(claim: Claim) -> dict[str, Any]:
    overrides = {(o.rule, o.line) for o in claim.overrides.all()}
    return {
        "claim_id": claim.pk,
        "status": claim.status,
        "open_blocking": len(unresolved_blocking(claim)),
        "findings": [
            {"rule": f.rule, "severity": f.severity, "message": f.message, "fix": f.fix,
             "line": f.line, "code": f.code,
             "overridden": (f.rule, f.line) in overrides or (f.rule, None) in overrides}
            for f in claim.findings.all()
        ],
    }


@router.get("", response=responses({200: ClaimPage}), summary="Claims, filtered")
def list_claims(
    request: HttpRequest,
    paging: Query[Paging],  # type: ignore[type-arg]
    status: StatusName | None = None,
    payer_id: Id | None = None,
    provider_id: Id | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    rule: text(40) = "",  # type: ignore[valid-type]
    q: text(20) = "",  # type: ignore[valid-type]
) -> dict[str, object]:
    """``date_to`` is inclusive; ``rule`` keeps claims with a finding of that scrub rule; ``q``
    is a claim number or a patient's account number."""
    filters = ClaimFilters(status=status or "", payer=payer_id, provider=provider_id,
                           date_from=date_from, date_to=date_to, rule=rule, text=q)
    return page(request, find_claims(practice_of(request), filters), paging)


@router.post("", response=responses({201: ClaimOut}),
             summary="Build a claim from a signed note (coded and scrubbed)")
def build(request: HttpRequest, payload: BuildIn, key: KeyHeader = None) -> JsonResponse:
    """Takes an ``Idempotency-Key`` header: a retry with the same key returns the first claim."""
    need(request, "bill")

    def run() -> tuple[int, Any]:
        visit = field_ref(Visit, request, "visit_id", payload.visit_id)
        coverage = field_ref(Coverage, request, "coverage_id", payload.coverage_id)
        assert visit is not None  # noqa: S101 - visit_id is required
        with naming(BuildIn):
            claim = build_claim(visit=visit, coverage=coverage, by=by_of(request),
                                at=timezone.now())
        return 201, _json(ClaimOut, _CLAIM.get(pk=claim.pk))

    return idempotent(request, payload.model_dump(mode="json"), run)


# Before the /{claim_id} routes: Django tries URL patterns in order.
def _clearinghouse(request: HttpRequest, pk: int | None) -> Clearinghouse:
    houses = scoped(Clearinghouse.objects.filter(active=True), practice_of(request))
    if pk is not None:
        found = houses.filter(pk=pk).first()
        if found is None:
            raise ApiError(422, "invalid", f"no active clearinghouse {pk} in this practice",
                           [("clearinghouse_id", "no active clearinghouse with this id")])
        return found
    listed = list(houses.order_by("name")[:2])
    if len(listed) == 1:
        return listed[0]
    message = ("this practice has no active clearinghouse; add one first" if not listed
               else "this practice has several clearinghouses; choose one")
    raise ApiError(422, "invalid", message, [("clearinghouse_id", message)])


@router.post("/submit", response=responses({201: BatchOut, 502: ErrorOut}),
             summary="Send ready claims in one 837P batch to the clearinghouse")
def submit(request: HttpRequest, payload: SubmitIn, key: KeyHeader = None) -> JsonResponse:
    """All or nothing: a claim with a problem stops the batch and every problem is listed.
    Takes an ``Idempotency-Key`` header."""
    need(request, "bill")

    def run() -> tuple[int, Any]:
        house = _clearinghouse(request, payload.clearinghouse_id)
        ids = list(dict.fromkeys(payload.claim_ids))
        known = set(scoped(Claim.objects.filter(pk__in=ids), practice_of(request))
                    .values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in known]
        if missing:
            raise ApiError(422, "invalid", f"no claims {missing} in this practice",
                           [("claim_ids", "every id must be a claim of this practice")])
        try:
            with naming(SubmitIn):
                batch = submit_claims(practice=practice_of(request), claims=ids,
                                      clearinghouse=house, by=by_of(request), at=timezone.now())
        except UploadFailedError as exc:
            raise ApiError(502, "upload_failed", str(exc)) from exc
        return 201, {"id": batch.pk, "file_name": batch.file_name, "status": batch.status,
                     "claim_count": batch.claim_count,
                     "claim_ids": list(batch.items.values_list("claim_id", flat=True))}

    return idempotent(request, payload.model_dump(mode="json"), run)


@router.get("/{claim_id}", response=responses({200: ClaimOut}), summary="Read a claim")
def get_claim(request: HttpRequest, claim_id: Id) -> Claim:
    return _claim(request, claim_id)


@router.get("/{claim_id}/status", response=responses({200: StatusOut}),
            summary="A claim's status and every move it made, with the note of each move")
def claim_status(request: HttpRequest, claim_id: Id) -> dict[str, Any]:
    claim = _claim(request, claim_id)
    return {"claim_id": claim.pk, "number": claim.number, "status": claim.status,
            "events": list(claim.events.all())}


@router.get("/{claim_id}/findings", response=responses({200: FindingsOut}),
            summary="The latest scrub's findings, with overrides")
def findings(request: HttpRequest, claim_id: Id) -> dict[str, Any]:
    return _findings(_claim(request, claim_id))


@router.post("/{claim_id}/scrub", response=responses({200: FindingsOut}),
             summary="Scrub again and return the findings")
def scrub(request: HttpRequest, claim_id: Id) -> dict[str, Any]:
    need(request, "bill")
    claim = _claim(request, claim_id)
    with naming():
        scrub_claim(claim=claim, by=by_of(request), at=timezone.now())
    return _findings(claim)


@router.post("/{claim_id}/overrides", response=responses({200: FindingsOut}),
             summary="Send despite a blocking finding, with a reason an auditor would accept")
def override(request: HttpRequest, claim_id: Id, payload: OverrideIn) -> dict[str, Any]:
    need(request, "bill")
    claim = _claim(request, claim_id)
    with naming(OverrideIn):
        override_finding(claim=claim, rule=payload.rule, line=payload.line,
                         reason=payload.reason, by=by_of(request), at=timezone.now())
    return _findings(claim)


@router.post("/{claim_id}/ready", response=responses({200: ClaimOut}),
             summary="Mark ready (scrubs again; posts the charge). 409 while findings block")
def ready(request: HttpRequest, claim_id: Id, key: KeyHeader = None) -> JsonResponse:
    """Takes an ``Idempotency-Key`` header."""
    need(request, "bill")
    claim = _claim(request, claim_id)

    def run() -> tuple[int, Any]:
        with naming():
            mark_ready(claim=claim, by=by_of(request), at=timezone.now())
        return 200, _json(ClaimOut, _CLAIM.get(pk=claim.pk))

    return idempotent(request, {}, run)
