"""Who is calling and what they may reach: a bearer token stands for one membership.

The token's membership gives the same role and the same practice as the web app's current
practice does: routes check the role with :func:`need` (the web's ``PERMISSIONS`` table) and
read rows through :func:`get_scoped` and :func:`rows_for` (``practice.access.visible``: a
therapist sees her own patients, notes and claims), so another practice's row — or another
therapist's — is a 404, exactly like a missing one. As on the web, a refusal and a record
opened leave audit rows.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from handbill.api.errors import not_found
from handbill.api.models import ApiToken
from handbill.api.tokens import find_active
from handbill.audit.middleware import denied
from handbill.audit.record import record
from handbill.practice.access import PERMISSIONS, visible
from handbill.practice.models import Membership, Practice, Role

M = TypeVar("M", bound=models.Model)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer hb_…``. Checked against the stored hashes directly, never
    through ``django.contrib.auth.authenticate`` (sign-in lockout counts passwords only)."""

    openapi_description = "An API token made on the Account → API tokens page (hb_…)."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = find_active(token, at=timezone.now())
        if found is not None:
            # What the web's middleware gives a signed-in request, so the shared audit helpers
            # (who, which practice) read an API call the same way. No session, no login.
            request.user = found.membership.user
            request.practice = found.membership.practice  # type: ignore[attr-defined]
            request.membership = found.membership  # type: ignore[attr-defined]
        return found


def token_of(request: HttpRequest) -> ApiToken:
    token = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):  # only reachable from a route without auth
        raise PermissionDenied("an API token is required")
    return token


def membership_of(request: HttpRequest) -> Membership:
    return token_of(request).membership


def practice_of(request: HttpRequest) -> Practice:
    return membership_of(request).practice


def by_of(request: HttpRequest) -> AbstractBaseUser:
    """The person the token acts for: actions record them in the audit trail."""
    user: AbstractBaseUser = membership_of(request).user
    return user


def need(request: HttpRequest, permission: str) -> Membership:
    """Refuse (403, with the reason) unless the token's role grants ``permission``."""
    found = membership_of(request)
    if Role(found.role) not in PERMISSIONS[permission]:
        raise PermissionDenied(
            f"a {found.get_role_display().lower()} may not {permission.replace('_', ' ')}"
        )
    return found


def rows_for(source: type[M] | models.QuerySet[M], request: HttpRequest) -> models.QuerySet[M]:
    """The rows of the token's practice its member may see (a therapist: her own)."""
    queryset = source._default_manager.all() if isinstance(source, type) else source
    return visible(queryset, membership_of(request))


def get_scoped(
    source: type[M] | models.QuerySet[M], request: HttpRequest, what: str, **lookup: Any
) -> M:
    """The one row matching ``lookup`` that the token's member may see, else 404 (also when
    it exists in another practice, or is another therapist's)."""
    rows = rows_for(source, request)
    found = rows.filter(**lookup).first()
    if found is None:
        _refused_by_scoping(rows.model, request, lookup)
        raise not_found(what)
    return found


def _refused_by_scoping(model: type[models.Model], request: HttpRequest, lookup: Any) -> None:
    """A row that exists but is not this member's: the 404 hides it, the audit trail (of the
    practice that owns the row) keeps the attempt, as the web's ``get_scoped`` does."""
    found = model._default_manager.filter(**lookup).first()
    if found is None:
        return
    ours = getattr(found, "practice_id", None) == practice_of(request).pk
    denied(
        request, status=404,
        reason="another therapist's row" if ours else "a row of another practice",
        practice=getattr(found, "practice", None),
        model=model._meta.label_lower, object_id=str(found.pk),
    )


def viewed(request: HttpRequest, obj: models.Model) -> None:
    """Who opened which patient, note, claim or remittance (as the web's pages record)."""
    record(action=f"{obj._meta.model_name}.view", at=timezone.now(), by=by_of(request),
           practice=practice_of(request), target=obj)


def field_ref(
    source: type[M] | models.QuerySet[M], request: HttpRequest, field: str, pk: int | None
) -> M | None:
    """A row named by an id in the request body: missing or another practice's is a 422
    naming the field (the body was wrong, the URL was not)."""
    if pk is None:
        return None
    found = rows_for(source, request).filter(pk=pk).first()
    if found is None:
        from handbill.api.errors import ApiError

        label = field.removesuffix("_id").replace("_", " ")
        raise ApiError(422, "invalid", f"no {label} {pk} in this practice",
                       [(field, f"no {label} with this id in this practice")])
    return found
