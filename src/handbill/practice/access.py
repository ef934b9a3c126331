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
    "view_audit": frozenset({Role.OWNER, Role.AUDITOR}),
    "administer": frozenset({Role.OWNER}),
}

# The roles that must sign in with a one-time code when their practice requires two-factor.
TWO_FACTOR_ROLES: frozenset[Role] = frozenset({Role.OWNER, Role.BILLER})

# What each permission lets a member do, in the words docs/roles.md prints.
MEANINGS: dict[str, str] = {
    "view": "Open the practice's pages (a therapist: only her own notes, claims and patients)",
    "edit_patients": "Register patients, edit demographics, coverages and authorizations",
    "write_notes": "Write and correct unsigned visit notes, add addenda (a therapist: her own)",
    "sign_notes": "Sign a visit note, which locks it (a therapist: her own)",
    "bill": "Build, scrub, override, mark ready and submit claims",
    "post_payments": "Import and post remittances (835) and payments",
    "edit_policy": "Change payer policy, fee schedule and payer setup",
    "view_audit": "Read the audit log and export it",
    "administer": "Manage members and practice settings (two-factor requirement)",
}

# A therapist sees only the rows of the patients she treats: per model, the lookup from the
# row to the rendering provider. ``None`` means a therapist sees none of that model (whole
# remittance files and ledgers mix every therapist's patients). Models not named here
# (payers, providers, locations, fees) are practice setup and visible to every member.
# A patient nobody has seen yet (no visit at all) is visible to every therapist too, so she can
# write the first note; UNSEEN names the lookup to the patient's visits for those models.
OWN_ROWS: dict[str, str | None] = {
    "visits.visit": "provider",
    "visits.addendum": "visit__provider",
    "claims.claim": "provider",
    "claims.claimline": "claim__provider",
    "claims.claimevent": "claim__provider",
    "claims.claimfinding": "claim__provider",
    "patients.patient": "visits__provider",
    "patients.coverage": "patient__visits__provider",
    "patients.authorization": "coverage__patient__visits__provider",
    "eligibility.eligibilitycheck": "patient__visits__provider",
    "remittance.erafile": None,
    "remittance.claimpayment": "claim__provider",
    "ledger.account": None,
    "ledger.ledgertransaction": None,
    "submissions.submissionbatch": None,
    "submissions.inboxfile": None,
}
UNSEEN: dict[str, str] = {
    "patients.patient": "visits",
    "patients.coverage": "patient__visits",
    "patients.authorization": "coverage__patient__visits",
    "eligibility.eligibilitycheck": "patient__visits",
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


def visible(queryset: models.QuerySet[M], member: Membership) -> models.QuerySet[M]:
    """The rows of ``member``'s practice that ``member`` may see: all of them for every role
    but a therapist, who sees her own patients, notes and claims (``OWN_ROWS``)."""
    rows = scoped(queryset, member.practice)
    if member.role != Role.THERAPIST:
        return rows
    label = rows.model._meta.label_lower
    if label not in OWN_ROWS:
        return rows
    path = OWN_ROWS[label]
    if path is None or member.provider_id is None:
        return rows.none()
    # A subquery, not a join: a patient seen many times must still appear once.
    manager = rows.model._default_manager
    own = models.Q(pk__in=manager.filter(**{path: member.provider_id}).values("pk"))
    if label in UNSEEN:
        own |= models.Q(pk__in=manager.filter(**{f"{UNSEEN[label]}__isnull": True}).values("pk"))
    return rows.filter(own)


def authorize_own(
    by: AbstractBaseUser | AnonymousUser | None,
    practice: Practice,
    permission: str,
    provider_id: int | None,
) -> Membership | None:
    """:func:`authorize`, and a therapist acts only on her own notes (the rendering provider
    is the one her membership links)."""
    found = authorize(by, practice, permission)
    if found is not None and found.role == Role.THERAPIST and (
        found.provider_id is None or found.provider_id != provider_id
    ):
        raise PermissionDenied("a therapist may only write and sign her own notes")
    return found


def roles_table() -> list[tuple[str, str, dict[Role, bool]]]:
    """(permission, what it allows, role → granted) for every permission, in table order."""
    return [
        (name, MEANINGS[name], {role: role in roles for role in Role})
        for name, roles in PERMISSIONS.items()
    ]


def roles_markdown() -> str:
    """The permission table as docs/roles.md prints it (a test keeps the two equal)."""
    roles = list(Role)
    head = "| permission | what it allows | " + " | ".join(r.label for r in roles) + " |"
    rule = "|---|---|" + "---|" * len(roles)
    rows = [
        f"| `{name}` | {meaning} | "
        + " | ".join("yes" if granted[r] else "—" for r in roles)
        + " |"
        for name, meaning, granted in roles_table()
    ]
    return "\n".join([head, rule, *rows]) + "\n"


def practices_of(user: AbstractBaseUser | AnonymousUser | None) -> Iterable[Practice]:
    if user is None or not user.is_authenticated:
        return Practice.objects.none()
    return Practice.objects.filter(memberships__user=user).order_by("legal_name")
