"""The one function actions call to leave an audit row."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models

from handbill.audit.context import current_source
from handbill.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from handbill.practice.models import Practice

# How to reach the patient from a row that is not one: the first link that a row has wins.
_PATIENT_LINKS = ("claim", "visit", "coverage")


def patient_of(target: models.Model | None) -> int | None:
    """The patient a row concerns (a patient, or a row with a patient, a claim, a visit or a
    coverage), so the trail can answer "who looked at or changed this patient"."""
    if target is None:
        return None
    if target._meta.label_lower == "patients.patient":
        return int(target.pk)
    direct = getattr(target, "patient_id", None)
    if direct is not None:
        return int(direct)
    for link in _PATIENT_LINKS:
        if getattr(target, f"{link}_id", None) is not None:
            return patient_of(getattr(target, link))
    return None


def record(
    *,
    action: str,
    at: datetime,
    by: AbstractBaseUser | AnonymousUser | None,
    practice: Practice | None = None,
    target: models.Model | None = None,
    patient_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    source = current_source()
    return AuditEvent.objects.create(
        practice=practice,
        actor=by if by is not None and by.is_authenticated else None,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        detail=detail,
        occurred_at=at,
        patient_id=patient_id if patient_id is not None else patient_of(target),
        source_address=source.address if source is not None else None,
        channel=source.channel if source is not None else "cli",
    )
