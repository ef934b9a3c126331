"""Reading the audit trail: one filter for the /audit/ page, its CSV export and
``handbill audit``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from handbill.audit.models import AuditEvent
from handbill.practice.models import Membership, Practice

USER_LABEL = "auth.user"
COLUMNS = ("occurred_at", "user", "action", "object_type", "object_id", "patient_id",
           "source_address", "channel", "detail")


@dataclass(frozen=True)
class AuditFilter:
    patient_id: int | None = None
    username: str = ""
    # An exact action ("claim.view") or a family ending in a dot ("auth.").
    action: str = ""
    since: date | None = None  # first day shown, in the practice's time zone
    until: date | None = None  # last day shown, inclusive


def _day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


def events(practice: Practice | None, wanted: AuditFilter) -> QuerySet[AuditEvent]:
    """The practice's trail, newest first: its own rows, and the sign-in rows (which belong
    to no practice) of its members and of attempts on their accounts. ``practice=None`` is the
    operator's view of everything (the command line without --practice)."""
    rows = AuditEvent.objects.select_related("actor")
    zone = practice.timezone if practice is not None else "UTC"
    if practice is not None:
        members = Membership.objects.filter(practice=practice)
        member_ids = members.values("user_id")
        member_keys = members.annotate(key=Cast("user_id", CharField())).values("key")
        rows = rows.filter(
            Q(practice=practice)
            | Q(practice__isnull=True, actor_id__in=member_ids)
            | Q(practice__isnull=True, object_type=USER_LABEL, object_id__in=member_keys)
        )
    if wanted.patient_id is not None:
        rows = rows.filter(patient_id=wanted.patient_id)
    if wanted.username:
        rows = rows.filter(
            Q(actor__username=wanted.username)
            | Q(actor__isnull=True, detail__username=wanted.username)
        )
    if wanted.action:
        if wanted.action.endswith("."):
            rows = rows.filter(action__startswith=wanted.action)
        else:
            rows = rows.filter(action=wanted.action)
    if wanted.since is not None:
        rows = rows.filter(occurred_at__gte=_day_start(wanted.since, zone))
    if wanted.until is not None:
        rows = rows.filter(occurred_at__lt=_day_start(wanted.until + timedelta(days=1), zone))
    return rows.order_by("-occurred_at", "-pk")


def as_row(event: AuditEvent) -> dict[str, Any]:
    """One event as plain values (JSON for the command line, a CSV line for the export)."""
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "user": event.actor.get_username() if event.actor is not None else "",
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "patient_id": event.patient_id,
        "source_address": event.source_address or "",
        "channel": event.channel,
        "detail": event.detail,
    }


def csv_cells(event: AuditEvent) -> list[str]:
    row = as_row(event)
    row["detail"] = json.dumps(row["detail"], sort_keys=True)
    return ["" if row[c] is None else str(row[c]) for c in COLUMNS]
