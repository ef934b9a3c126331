"""Tenant access in one place.

Actions, views, API routes, exports and jobs all go through these two functions: one answers
"may this user act for this practice in this way", the other scopes a query to one practice.
A row of another practice is never found (so a page gives 404, not 403: no existence leak).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models

from handbill.practice.models import Membership, Practice, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

M = TypeVar("M", bound=models.Model)

# What each role may do. Kept small and explicit; the docs print this table.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "view": frozenset(Role),
    "edit_patients": frozenset({Role.OWNER, Role.BILLER, Role.FRONT_DESK}),
    "write_notes": frozenset({Role.OWNER, Role.THERAPIST}),
    "sign_notes": frozenset({Role.OWNER, Role.THERAPIST}),
    "bill": frozenset({Role.OWNER, Role.BILLER}),
    "post_payments": frozenset({Role.OWNER, Role.BILLER}),
    "edit_policy": frozenset({Role.OWNER, Role.BILLER}),
    "administer": frozenset({Role.OWNER}),
}


class CrossPracticeError(PermissionDenied):
    """An object of one practice was handed to an action for another."""


def membership(
    user: AbstractBaseUser | AnonymousUser | None, practice: Practice
) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, practice=practice).first()


def authorize(
    by: AbstractBaseUser | AnonymousUser | None, practice: Practice, permission: str
) -> Membership | None:
    """Refuse unless ``by`` holds a role in ``practice`` that grants ``permission``.

    ``by=None`` means a trusted system caller (the ``handbill`` command run by the operator, a
    background job); it is recorded as such in the audit trail.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if by is None:
        return None
    found = membership(by, practice)
    if found is None:
        raise PermissionDenied("you have no access to this practice")
    if Role(found.role) not in PERMISSIONS[permission]:
        raise PermissionDenied(
            f"a {found.get_role_display().lower()} may not {permission.replace('_', ' ')}"
        )
    return found


def same_practice(practice: Practice, *objects: models.Model | None) -> None:
    """Every object handed to an action must belong to the practice it acts for."""
    for obj in objects:
        if obj is None:
            continue
        owner_id = getattr(obj, "practice_id", None)
        if owner_id != practice.pk:
            raise CrossPracticeError(f"{obj._meta.verbose_name} does not belong to this practice")


def scoped(queryset: models.QuerySet[M], practice: Practice) -> models.QuerySet[M]:
    """The rows of one practice; every tenant query starts here."""
    return queryset.filter(practice=practice)


def practices_of(user: AbstractBaseUser | AnonymousUser | None) -> Iterable[Practice]:
    if user is None or not user.is_authenticated:
        return Practice.objects.none()
    return Practice.objects.filter(memberships__user=user).order_by("legal_name")
