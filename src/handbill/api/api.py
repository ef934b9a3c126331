"""The API object: authentication, error handlers and the routers of each area.

Served under /api/v1/ (``handbill.urls``): the OpenAPI document at /api/v1/openapi.json and
interactive docs at /api/v1/docs.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from handbill.api.access import TokenAuth
from handbill.api.errors import ApiError, domain_error
from handbill.audit.middleware import denied

api = NinjaAPI(
    title="Handbill API",
    version="1",
    description=(
        "Insurance billing for hands-on practices. Authenticate with `Authorization: Bearer "
        "hb_…` (a token made on the Account → API tokens page). Errors share one shape: "
        '`{"error": {"code", "message", "fields": [{"field", "message"}], "problems"}}`.'
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _respond(request: HttpRequest, error: ApiError) -> HttpResponse:
    response = api.create_response(request, error.body(), status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_name(loc: list[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in _LOCATIONS:
        where = parts.pop(0)
        # A body's first part is the route's parameter name ("payload"), not a field.
        if where in {"body", "form"} and len(parts) > 1:
            parts.pop(0)
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = [
        (_field_name(list(e.get("loc", []))), str(e.get("msg", "invalid"))) for e in exc.errors
    ]
    named = ", ".join(dict.fromkeys(f for f, _ in fields))
    return _respond(request, ApiError(422, "invalid", f"check these fields: {named}", fields))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _respond(request, ApiError(
        401, "unauthenticated",
        "send a live API token as 'Authorization: Bearer hb_…'; tokens are made on the "
        "Account → API tokens page",
    ))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed"}.get(exc.status_code, "error")
    return _respond(request, ApiError(exc.status_code, code, exc.message))


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    reason = str(exc) or "your role may not do this"
    # The refusal goes to the audit trail as the web's are (ninja answers before Django's
    # middleware would see the exception).
    if getattr(request, "membership", None) is not None:
        denied(request, status=403, reason=reason)
    return _respond(request, ApiError(403, "forbidden", reason))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _respond(request, ApiError(404, "not_found", "not found in this practice"))


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _respond(request, exc)


def _refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    found = domain_error(exc)
    if found is None:  # not one of ours: let Django's 500 handling see it
        raise exc
    return _respond(request, found)


def _register() -> None:
    from handbill.api.errors import _domain_errors
    from handbill.api.routes import (
        claims,
        coverages,
        followup,
        patients,
        remittances,
        visits,
    )

    for kind in _domain_errors():
        api.add_exception_handler(kind, _refused)
    api.add_router("/patients", patients.router)
    api.add_router("/", coverages.router)
    api.add_router("/visits", visits.router)
    api.add_router("/claims", claims.router)
    api.add_router("/remittances", remittances.router)
    # Worklists and reports: kept apart so they can be rewired onto the follow-up queries.
    api.add_router("/", followup.router)


_register()
