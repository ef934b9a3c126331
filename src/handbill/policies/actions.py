"""The write path for payer policies: a biller's edit, and loading the shipped profiles.

Both run in one transaction with an audit row. Every set of rules goes through
``handbill.core.policy`` first, so what the database holds always reads back as a policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from handbill.audit.record import record
from handbill.core import policy as core_policy
from handbill.core.policy import PayerPolicy, PolicyError, PolicyFile
from handbill.policies.models import PayerPolicyVersion, profile_of
from handbill.practice.models import Payer, Practice

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def practice_today(practice: Practice, at: datetime) -> date:
    """The practice's calendar day at ``at`` (a version "starts today" in the clinic's zone)."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(ZoneInfo(practice.timezone)).date()


def check_rules(
    *, payer: Payer, rules: Mapping[str, Any], effective_date: date
) -> PayerPolicy:
    """The policy these rules make from ``effective_date``, or a PolicyError saying why not."""
    if not isinstance(rules, Mapping):
        raise PolicyError("rules must be a table of fields, e.g. {\"unit_rule\": \"cms\", …}")
    if rules.get("end_date") is not None:
        raise PolicyError(
            "rules: leave end_date out; a version ends when a newer version starts"
        )
    return core_policy.policy_from_rules(
        profile=profile_of(payer),
        name=payer.name,
        rules={key: value for key, value in rules.items() if key != "end_date"},
        effective_date=effective_date,
        end_date=None,
        where=f"{payer.name} rules",
    )


def check_start(*, payer: Payer, effective_date: date, today: date) -> None:
    """Refuse a start date that would change rules claims may already have been billed under.

    A stored version that has not started yet cannot have been used by any claim (claims are
    for services already given), so a new version on the same date replaces it.
    """
    taken = PayerPolicyVersion.objects.filter(payer=payer, effective_date=effective_date)
    if effective_date <= today and taken.exists():
        raise PolicyError(
            f"{payer.name} already has a version starting {effective_date.isoformat()}, and "
            "claims may have been billed under it, so its rules stay as they are. Give the "
            "new rules the first day they apply (a later date)."
        )


def _source(by: AbstractBaseUser | None) -> str:
    return f"edited by {by.get_username()}"[:160] if by is not None else "edited"


def _in_force_on(payer: Payer, on: date) -> PayerPolicyVersion | None:
    return (
        PayerPolicyVersion.objects.filter(payer=payer, effective_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("-effective_date")
        .first()
    )


@transaction.atomic
def save_policy_version(
    *,
    payer: Payer,
    rules: Mapping[str, Any],
    effective_date: date,
    by: AbstractBaseUser | None,
    at: datetime,
) -> PayerPolicyVersion:
    """Store new rules for ``payer`` from ``effective_date`` on.

    The version in force on that date is closed the day before it (its ``end_date`` becomes
    ``effective_date``); its rules are untouched. The new version runs until the next stored
    version starts, or with no end. Invalid rules raise PolicyError and nothing is written.
    """
    # Serialise edits of one payer's versions (PostgreSQL; SQLite already writes one at a time).
    payer = Payer.objects.select_for_update().select_related("practice").get(pk=payer.pk)
    policy = check_rules(payer=payer, rules=rules, effective_date=effective_date)
    check_start(
        payer=payer, effective_date=effective_date, today=practice_today(payer.practice, at)
    )

    replaced = PayerPolicyVersion.objects.filter(
        payer=payer, effective_date=effective_date
    ).first()
    replaced_detail: dict[str, Any] | None = None
    end_date: date | None
    if replaced is not None:
        # Only a version that has not started yet gets here (check_start).
        replaced_detail = {"id": replaced.pk, "rules": replaced.rules}
        end_date = replaced.end_date
        replaced.delete()
        closed = None
    else:
        closed = _in_force_on(payer, effective_date)
        if closed is not None:
            end_date = closed.end_date
            closed.end_date = effective_date
            closed.save(update_fields=["end_date"])
        else:
            following = (
                PayerPolicyVersion.objects.filter(payer=payer, effective_date__gt=effective_date)
                .order_by("effective_date")
                .first()
            )
            end_date = following.effective_date if following is not None else None

    version = PayerPolicyVersion.objects.create(
        practice=payer.practice,
        payer=payer,
        effective_date=effective_date,
        end_date=end_date,
        rules=core_policy.rules_of(policy),
        source=_source(by),
        created_at=at,
        created_by=by,
    )
    record(
        action="policy.version.save",
        at=at,
        by=by,
        practice=payer.practice,
        target=version,
        payer=payer.pk,
        effective_date=effective_date.isoformat(),
        end_date=end_date.isoformat() if end_date else None,
        closed_version=closed.pk if closed is not None else None,
        replaced_version=replaced_detail,
    )
    return version


# --- shipped profiles --------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippedLoad:
    """What loading one shipped profile did for one payer of the practice."""

    profile: str
    payer: Payer
    payer_created: bool
    created: tuple[date, ...]  # effective dates of the versions stored now
    closed: tuple[date, ...]  # stored versions given the end date the file now sets
    kept: int  # versions already stored as shipped
    conflicts: tuple[str, ...]  # shipped versions left out, and why

    @property
    def changed(self) -> bool:
        return self.payer_created or bool(self.created) or bool(self.closed)


def _payers_for(practice: Practice, shipped: PolicyFile) -> tuple[list[Payer], bool]:
    payers = list(
        Payer.objects.select_for_update()
        .filter(practice=practice, policy_profile=shipped.profile)
        .order_by("pk")
    )
    if payers:
        return payers, False
    if not shipped.payer_id:
        raise PolicyError(f"{shipped.profile}: [payer] needs a payer_id to create the payer")
    if Payer.objects.filter(practice=practice, payer_id=shipped.payer_id).exists():
        raise PolicyError(
            f"{shipped.profile}: this practice already has a payer with payer ID "
            f"{shipped.payer_id!r}; set its policy profile to {shipped.profile!r} to use the "
            "shipped policy, or change that payer's ID"
        )
    payer = Payer.objects.create(
        practice=practice,
        name=shipped.payer_name,
        payer_id=shipped.payer_id,
        payer_type=shipped.payer_type,
        claim_filing_indicator=shipped.claim_filing_indicator,
        policy_profile=shipped.profile,
    )
    return [payer], True


def _overlaps(stored: PayerPolicyVersion, version: PayerPolicy) -> bool:
    starts_before_end = version.end_date is None or stored.effective_date < version.end_date
    ends_after_start = stored.end_date is None or stored.end_date > version.effective_date
    return starts_before_end and ends_after_start


def _load_versions(
    payer: Payer, shipped: PolicyFile, *, by: AbstractBaseUser | None, at: datetime,
    payer_created: bool,
) -> ShippedLoad:
    created: list[date] = []
    closed: list[date] = []
    conflicts: list[str] = []
    kept = 0
    for version in shipped.versions:
        rules = core_policy.rules_of(version)
        stored = {row.effective_date: row for row in payer.policy_versions.all()}
        same_start = stored.get(version.effective_date)
        start = version.effective_date.isoformat()
        if same_start is not None:
            if same_start.rules != rules:
                conflicts.append(
                    f"kept the stored version from {start}: its rules differ from the shipped "
                    "ones"
                )
            elif same_start.end_date is None and version.end_date is not None:
                # A newer release of the file closed this version; the next one follows.
                same_start.end_date = version.end_date
                same_start.save(update_fields=["end_date"])
                closed.append(version.effective_date)
            else:
                kept += 1
            continue
        clash = next((row for row in stored.values() if _overlaps(row, version)), None)
        if clash is not None:
            conflicts.append(
                f"left out the shipped version from {start}: it overlaps the stored version "
                f"from {clash.effective_date.isoformat()}"
            )
            continue
        PayerPolicyVersion.objects.create(
            practice=payer.practice,
            payer=payer,
            effective_date=version.effective_date,
            end_date=version.end_date,
            rules=rules,
            source=f"shipped:{shipped.profile}",
            created_at=at,
            created_by=by,
        )
        created.append(version.effective_date)
    return ShippedLoad(
        profile=shipped.profile,
        payer=payer,
        payer_created=payer_created,
        created=tuple(created),
        closed=tuple(closed),
        kept=kept,
        conflicts=tuple(conflicts),
    )


@transaction.atomic
def load_shipped_policies(
    *, practice: Practice, by: AbstractBaseUser | None, at: datetime
) -> list[ShippedLoad]:
    """Give ``practice`` every shipped payer profile; running it again changes nothing.

    Each profile applies to the practice's payers whose ``policy_profile`` names it; when
    there is none, a payer is created from the file's ``[payer]`` table. A biller's own
    versions are never overwritten: a shipped version that clashes with them is left out and
    reported in ``conflicts``.
    """
    results: list[ShippedLoad] = []
    for shipped in core_policy.read_shipped_policies():
        payers, payer_created = _payers_for(practice, shipped)
        for payer in payers:
            outcome = _load_versions(payer, shipped, by=by, at=at, payer_created=payer_created)
            if outcome.changed:
                record(
                    action="policy.shipped.load",
                    at=at,
                    by=by,
                    practice=practice,
                    target=payer,
                    profile=shipped.profile,
                    payer_created=outcome.payer_created,
                    created=[day.isoformat() for day in outcome.created],
                    closed=[day.isoformat() for day in outcome.closed],
                    conflicts=list(outcome.conflicts),
                )
            results.append(outcome)
    return results
