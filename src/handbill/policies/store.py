"""Reading stored payer policies (the claim builder and scrubber ask here)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from handbill.core.policy import PayerPolicy
from handbill.policies.models import PayerPolicyVersion
from handbill.practice.models import Payer


def policy_for(payer: Payer, on: date) -> PayerPolicy | None:
    """The payer's rules in force on ``on`` (a date of service), or None when none is stored."""
    version = (
        PayerPolicyVersion.objects.select_related("payer")
        .filter(payer=payer, effective_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("-effective_date")
        .first()
    )
    return version.as_policy() if version is not None else None


def versions_of(payer: Payer) -> list[PayerPolicyVersion]:
    """Every stored version of the payer's policy, oldest first."""
    return list(PayerPolicyVersion.objects.filter(payer=payer).order_by("effective_date"))
