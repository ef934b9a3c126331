"""Who may open a page, and which rows a page may show.

Every practice page is wrapped in :func:`practice_view` (signed in, a membership in the current
practice, a permission from :data:`handbill.practice.access.PERMISSIONS`), and reads its rows
through :func:`get_scoped` or :func:`handbill.practice.access.scoped`. A row of another practice
is a 404, never a 403: a user must not learn that it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from handbill.audit.middleware import denied
from handbill.audit.record import record
from handbill.practice.access import PERMISSIONS, scoped, visible
from handbill.practice.models import Membership, Practice, Role

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

M = TypeVar("M", bound=models.Model)
View = Callable[..., HttpResponse]


class PracticeRequest(HttpRequest):
    """What :class:`~handbill.web.middleware.CurrentPracticeMiddleware` and django-htmx add to
    every request (for type hints only; requests are never built from this class)."""

    practice: Practice | None
    membership: Membership | None
    can: frozenset[str]
    htmx: HtmxDetails


def permissions_of(role: str | None) -> frozenset[str]:
    """The permission names a role grants (empty without a role)."""
    if role is None:
        return frozenset()
    granted = Role(role)
    return frozenset(name for name, roles in PERMISSIONS.items() if granted in roles)


def practice_view(permission: str = "view") -> Callable[[View], View]:
    """Require a signed-in user with a role in the current practice that grants ``permission``.

    Anonymous users go to the sign-in page; a user without the permission gets 403 with the
    reason. The permission is kept on the view (``handbill_permission``) so tests can list
    every practice page and what it requires.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; see PERMISSIONS")

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            current = cast(PracticeRequest, request)
            if current.membership is None:
                raise PermissionDenied(
                    "your account has no practice yet; ask the practice owner to add you"
                )
            if permission not in current.can:
                role = current.membership.get_role_display().lower()
                raise PermissionDenied(f"a {role} may not {permission.replace('_', ' ')}")
            return view(request, *args, **kwargs)

        guarded.handbill_permission = permission  # type: ignore[attr-defined]
        return guarded

    return decorate


def current_practice(request: HttpRequest) -> Practice:
    """The practice of a request that passed :func:`practice_view`."""
    practice = cast(PracticeRequest, request).practice
    if practice is None:  # only reachable from a view that skipped practice_view
        raise PermissionDenied("no current practice")
    return practice


def visible_rows(source: type[M] | models.QuerySet[M], request: HttpRequest) -> models.QuerySet[M]:
    """The rows of the current practice this member may see (a therapist: her own; see
    :func:`handbill.practice.access.visible`)."""
    queryset = source._default_manager.all() if isinstance(source, type) else source
    member = cast(PracticeRequest, request).membership
    if member is None:
        return scoped(queryset, current_practice(request))
    return visible(queryset, member)


def get_scoped(
    source: type[M] | models.QuerySet[M], request: HttpRequest, **lookup: Any
) -> M:
    """The one row matching ``lookup`` in the current practice that this member may see, or
    404 (also for a row that exists in another practice, or another therapist's note)."""
    rows = visible_rows(source, request)
    try:
        return rows.get(**lookup)
    except (rows.model.DoesNotExist, ValueError, TypeError):
        _refused_by_scoping(rows.model, request, lookup)
        raise Http404(f"No {rows.model._meta.verbose_name} matches the given query.") from None


def _refused_by_scoping(model: type[models.Model], request: HttpRequest, lookup: Any) -> None:
    """A row that exists but is not this member's to see: the 404 hides it from the user,
    the audit trail keeps the attempt (a truly missing row leaves nothing). The row goes to
    the trail of the practice that owns the record, whose owner and auditor should know;
    the user's own practice is not told which record of another practice was asked for."""
    try:
        found = model._default_manager.filter(**lookup).first()
    except (ValueError, TypeError):
        return
    if found is None:
        return
    ours = getattr(found, "practice_id", None) == current_practice(request).pk
    denied(
        request, status=404,
        reason="another therapist's row" if ours else "a row of another practice",
        practice=getattr(found, "practice", None),
        model=model._meta.label_lower, object_id=str(found.pk),
    )


def viewed(request: HttpRequest, obj: models.Model, *, action: str = "", **detail: Any) -> None:
    """Leave the row that says who opened which record: patient, visit, claim and remittance
    pages call this once they have found their row (exports pass ``action="….export"``)."""
    record(
        action=action or f"{obj._meta.model_name}.view",
        at=timezone.now(),
        by=request.user,
        practice=current_practice(request),
        target=obj,
        **detail,
    )


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a boosted link wants the whole page)."""
    details = getattr(request, "htmx", None)
    return bool(details) and not getattr(details, "boosted", False)
