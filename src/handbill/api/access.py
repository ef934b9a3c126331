"""Who is calling and what they may reach: a bearer token stands for one membership.

The token's membership gives the same role and the same practice as the web app's current
practice does: routes check the role with :func:`need` (the web's ``PERMISSIONS`` table) and
read rows through :func:`get_scoped` (``practice.access.scoped``), so another practice's row is
a 404, exactly like a missing one.
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
from handbill.practice.access import PERMISSIONS, scoped
from handbill.practice.models import Membership, Practice, Role

M = TypeVar("M", bound=models.Model)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer hb_…``. Checked against the stored hashes directly, never
    through ``django.contrib.auth.authenticate`` (sign-in lockout counts passwords only)."""

    openapi_description = "An API token made on the Account → API tokens page (hb_…)."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return find_active(token, at=timezone.now())


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


def get_scoped(
    source: type[M] | models.QuerySet[M], request: HttpRequest, what: str, **lookup: Any
) -> M:
    """The one row matching ``lookup`` in the token's practice, else 404 (also when it exists
    in another practice)."""
    queryset = source._default_manager.all() if isinstance(source, type) else source
    found = scoped(queryset, practice_of(request)).filter(**lookup).first()
    if found is None:
        raise not_found(what)
    return found


def field_ref(
    source: type[M] | models.QuerySet[M], request: HttpRequest, field: str, pk: int | None
) -> M | None:
    """A row named by an id in the request body: missing or another practice's is a 422
    naming the field (the body was wrong, the URL was not)."""
    if pk is None:
        return None
    queryset = source._default_manager.all() if isinstance(source, type) else source
    found = scoped(queryset, practice_of(request)).filter(pk=pk).first()
    if found is None:
        from handbill.api.errors import ApiError

        label = field.removesuffix("_id").replace("_", " ")
        raise ApiError(422, "invalid", f"no {label} {pk} in this practice",
                       [(field, f"no {label} with this id in this practice")])
    return found
