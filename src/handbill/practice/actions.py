"""Changes to a practice's own settings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from handbill.audit.record import record
from handbill.practice.access import authorize
from handbill.practice.models import Practice

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@transaction.atomic
def set_two_factor_requirement(
    *, practice: Practice, required: bool, by: AbstractBaseUser | None, at: datetime
) -> Practice:
    """Require (or stop requiring) a one-time code at sign-in from the practice's owners and
    billers. Those not yet enrolled are sent to enrol at their next page."""
    authorize(by, practice, "administer")
    locked = Practice.objects.select_for_update().get(pk=practice.pk)
    was = locked.require_two_factor
    locked.require_two_factor = required
    locked.save(update_fields=["require_two_factor"])
    record(action="practice.two_factor", at=at, by=by, practice=locked, target=locked,
           required=required, was=was)
    practice.require_two_factor = required
    return locked
