"""The one function actions call to leave an audit row."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models

from handbill.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from handbill.practice.models import Practice


def record(
    *,
    action: str,
    at: datetime,
    by: AbstractBaseUser | None,
    practice: Practice | None = None,
    target: models.Model | None = None,
    **detail: Any,
) -> AuditEvent:
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return AuditEvent.objects.create(
        practice=practice,
        actor=by if by is not None and by.is_authenticated else None,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        detail=detail,
        occurred_at=at,
    )
