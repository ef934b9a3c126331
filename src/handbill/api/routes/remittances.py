"""/remittances: upload an 835 (→ one ERA per payment, each planned), read its posting plan,
commit it. Upload and commit take an ``Idempotency-Key``; both are also idempotent by
themselves (the same file imports once, a posted payment posts once)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile

from handbill.api.access import by_of, get_scoped, need, practice_of
from handbill.api.errors import ApiError, naming, responses
from handbill.api.fields import Id
from handbill.api.idempotency import KeyHeader, idempotent
from handbill.api.pagination import PageMeta, Paging, page
from handbill.practice.access import scoped
from handbill.remittance.actions import commit_posting, import_835, plan_posting
from handbill.remittance.models import EraFile

router = Router(tags=["remittances"])

# A large 835 of a busy billing company is a few MB; refuse anything far beyond.
MAX_BYTES = 50 * 1024 * 1024


class EraOut(Schema):
    id: int
    file_name: str
    trace_number: str
    payer_identifier: str
    payer_name: str
    payment_amount_cents: int
    payment_method: str
    payment_date: date | None
    claim_count: int
    status: str
    warnings: list[str]
    errors: list[str]
    plan_summary: dict[str, Any]
    imported_at: datetime
    posted_at: datetime | None


class EraPage(PageMeta):
    results: list[EraOut]


class UploadOut(Schema):
    remittances: list[EraOut]


class PlanOut(Schema):
    remittance_id: int
    status: str
    plan: dict[str, Any]


def _json(era: EraFile) -> Any:
    return EraOut.from_orm(era).model_dump(mode="json")


@router.get("", response=responses({200: EraPage}), summary="Remittances, newest first")
def list_remittances(
    request: HttpRequest,
    paging: Query[Paging],  # type: ignore[type-arg]
    status: Literal["imported", "planned", "posted", "refused"] | None = None,
) -> dict[str, object]:
    found = scoped(EraFile.objects.all(), practice_of(request)).defer("raw")
    if status:
        found = found.filter(status=status)
    return page(request, found.order_by("-imported_at", "-pk"), paging)


@router.post("", response=responses({201: UploadOut}),
             summary="Upload an 835: each payment is stored and planned, nothing posted yet")
def upload(
    request: HttpRequest, file: UploadedFile = File(...), key: KeyHeader = None  # noqa: B008
) -> JsonResponse:
    """multipart/form-data with ``file``. Takes an ``Idempotency-Key`` header."""
    need(request, "post_payments")
    if file.size is not None and file.size > MAX_BYTES:
        raise ApiError(422, "invalid", "the file is larger than 50 MB; split the 835",
                       [("file", "too large")])
    raw = file.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid", "an 835 is text; this file is not UTF-8 or ASCII",
                       [("file", "not text")]) from None
    name = (file.name or "")[:255]
    fingerprint = {"file_name": name, "sha256": hashlib.sha256(raw).hexdigest()}

    def run() -> tuple[int, Any]:
        with naming():
            eras = import_835(practice=practice_of(request), text=text, by=by_of(request),
                              at=timezone.now(), file_name=name)
        return 201, {"remittances": [_json(era) for era in eras]}

    return idempotent(request, fingerprint, run)


@router.get("/{remittance_id}", response=responses({200: EraOut}), summary="Read a remittance")
def get_remittance(request: HttpRequest, remittance_id: Id) -> EraFile:
    return get_scoped(EraFile.objects.defer("raw"), request, "remittance", pk=remittance_id)


@router.get("/{remittance_id}/plan", response=responses({200: PlanOut}),
            summary="The posting preview: every claim, line, ledger entry and status change")
def plan(request: HttpRequest, remittance_id: Id) -> dict[str, Any]:
    need(request, "post_payments")
    era = get_scoped(EraFile, request, "remittance", pk=remittance_id)
    with naming():
        preview = plan_posting(era)
    return {"remittance_id": era.pk, "status": era.status, "plan": preview.as_dict()}


@router.post("/{remittance_id}/commit", response=responses({200: EraOut}),
             summary="Post the payment: rows, ledger entries and claim statuses at once")
def commit(request: HttpRequest, remittance_id: Id, key: KeyHeader = None) -> JsonResponse:
    """Committing a posted remittance again changes nothing. Takes an ``Idempotency-Key``."""
    need(request, "post_payments")
    era = get_scoped(EraFile, request, "remittance", pk=remittance_id)

    def run() -> tuple[int, Any]:
        with naming():
            posted = commit_posting(era=era, by=by_of(request), at=timezone.now())
        return 200, _json(EraFile.objects.defer("raw").get(pk=posted.pk))

    return idempotent(request, {}, run)
