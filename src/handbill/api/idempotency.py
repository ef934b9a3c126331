"""``Idempotency-Key`` on the POSTs that create claims or move money.

A client that timed out does not know whether its claim was built or its payment posted; it
sends the same request again with the same key. The first request takes the key (a row,
committed before the work starts); its successful response is stored with it. Then:

- same key, same method, path and body → the stored response, nothing done again;
- same key, anything else different → 422 ``idempotency_key_reused``;
- same key while the first request still runs → 409 ``idempotency_key_in_progress``.

A request that fails (4xx or an exception) gives its key back, so the client can fix the
problem and retry with the same key. Keys are per practice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Header

from handbill.api.access import practice_of
from handbill.api.errors import ApiError
from handbill.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY = 100
# Sent back on a stored answer, so a client can tell a replay from a fresh one.
REPLAYED = "Idempotent-Replayed"

Result = tuple[int, Any]


def fingerprint(request: HttpRequest, payload: Any) -> str:
    """Of the method, the path and the parsed body (so key order or spacing do not count)."""
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": payload},
        sort_keys=True, default=str, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# The header as a route parameter, so the OpenAPI document lists it on each route that
# takes it (the value is read from the request itself).
KeyHeader = Annotated[
    str | None,
    Header(None, alias=HEADER, max_length=MAX_KEY,
           description="A fresh value (e.g. a UUID) per operation; a retry sends the same"),
]


def _key_of(request: HttpRequest) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY or not key.isprintable():
        raise ApiError(422, "invalid", f"{HEADER} must be 1 to {MAX_KEY} printable characters",
                       [(HEADER, "use a fresh random value (e.g. a UUID) per operation")])
    return key


def idempotent(request: HttpRequest, payload: Any, run: Callable[[], Result]) -> JsonResponse:
    """Run ``run`` once per key; ``run`` returns ``(status, JSON-ready body)``. The body is
    sent as it was stored (already shaped by the route's output schema)."""
    status, body, replayed = _once(request, payload, run)
    response = JsonResponse(body, status=status, safe=False)
    if replayed:
        response[REPLAYED] = "true"
    return response


def _once(
    request: HttpRequest, payload: Any, run: Callable[[], Result]
) -> tuple[int, Any, bool]:
    key = _key_of(request)
    if key is None:
        return (*run(), False)
    practice = practice_of(request)
    wanted = fingerprint(request, payload)
    try:
        with transaction.atomic():
            taken = IdempotencyKey.objects.create(
                practice=practice, key=key, request_hash=wanted, created_at=timezone.now()
            )
    except IntegrityError:
        earlier = IdempotencyKey.objects.get(practice=practice, key=key)
        if earlier.request_hash != wanted:
            raise ApiError(
                422, "idempotency_key_reused",
                f"{HEADER} {key!r} was used for a different request; use a new key for a new "
                "operation", [(HEADER, "already used with another body or path")],
            ) from None
        if earlier.response_status is None:
            raise ApiError(409, "idempotency_key_in_progress",
                           f"the request with {HEADER} {key!r} is still running; retry shortly"
                           ) from None
        return earlier.response_status, earlier.response_body, True
    try:
        status, body = run()
    except BaseException:
        IdempotencyKey.objects.filter(pk=taken.pk).delete()
        raise
    if status >= 300:
        IdempotencyKey.objects.filter(pk=taken.pk).delete()
    else:
        IdempotencyKey.objects.filter(pk=taken.pk).update(
            response_status=status, response_body=body
        )
    return status, body, False
