"""What the payer pages show: the practice's payers and each one's policy versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from handbill.core.policy import LineStyle, ReferralKind, UnitRule
from handbill.policies.models import PayerPolicyVersion
from handbill.practice.access import scoped
from handbill.practice.models import Payer, Practice


def payers(practice: Practice) -> QuerySet[Payer]:
    """The practice's payers, each with the start of its current (open-ended) version."""
    current = PayerPolicyVersion.objects.filter(payer=OuterRef("pk"), end_date__isnull=True)
    return scoped(Payer.objects.all(), practice).annotate(
        policy_since=Subquery(current.values("effective_date")[:1]),
    ).order_by("name", "pk")


@dataclass(frozen=True)
class VersionShown:
    version: PayerPolicyVersion
    in_force: bool  # on the practice's today
    upcoming: bool


@dataclass(frozen=True)
class PayerPage:
    payer: Payer
    versions: list[VersionShown]  # newest first
    in_force: PayerPolicyVersion | None
    latest: PayerPolicyVersion | None  # the one a new version starts from
    rules: list[tuple[str, str, Any]]  # (name, label, value) of the rules in force


UNIT_RULES = [(UnitRule.CMS.value, "CMS total time (8-minute rule)"),
              (UnitRule.CPT.value, "Each code on its own (8 minutes or more makes a unit)")]
MODIFIER_STYLES = [("x", "XE/XS/XP/XU where one fits"), ("59", "Only 59")]
THERAPY_MODIFIERS = [("", "None"), ("GP", "GP"), ("GO", "GO"), ("GN", "GN")]
REFERRALS = [(ReferralKind.NONE.value, "Not needed"),
             (ReferralKind.PRESCRIPTION.value, "A prescription on file"),
             (ReferralKind.REFERRAL.value, "A physician's order or referral")]
LINE_STYLES = [(LineStyle.ONE_LINE.value, "One line per code with its units"),
               (LineStyle.LINE_PER_UNIT.value, "One line per unit")]
# A stored value in the words the form offers it with.
VALUE_WORDS = {name: dict(choices) for name, choices in (
    ("unit_rule", UNIT_RULES), ("modifier_style", MODIFIER_STYLES),
    ("therapy_modifier", THERAPY_MODIFIERS), ("referral", REFERRALS),
    ("line_style", LINE_STYLES))}

# The rules in the order of docs/policies.md, with the words the edit form uses.
RULE_LABELS = {
    "unit_rule": "Minutes to units", "timely_filing_days": "Timely filing (days)",
    "referral": "Referral", "authorization_after_visits": "Authorization needed after visits",
    "prior_authorization_codes": "Codes needing authorization from the first visit",
    "visit_cap_per_year": "Visits paid per year", "daily_unit_cap": "Units paid per day",
    "modifier_style": "Distinct-procedure modifier", "therapy_modifier": "Therapy modifier",
    "line_style": "Claim lines", "bills_97010": "Pays hot/cold packs (97010)",
    "requires_claim_number": "Needs the accident or injury claim number",
    "allowed_codes": "Codes paid per provider taxonomy",
    "expected_allowed": "Expected allowed per unit", "notes": "Notes",
}


def _in_words(name: str, value: Any) -> Any:
    words = VALUE_WORDS.get(name)
    return words.get(value, value) if words is not None and isinstance(value, str) else value


def payer_page(payer: Payer, today: date) -> PayerPage:
    stored = list(PayerPolicyVersion.objects.filter(payer=payer)
                  .select_related("created_by").order_by("-effective_date"))
    in_force = next((v for v in stored if v.effective_date <= today
                     and (v.end_date is None or v.end_date > today)), None)
    shown = [VersionShown(v, v is in_force, v.effective_date > today) for v in stored]
    rules = in_force.rules if in_force is not None else {}
    return PayerPage(
        payer=payer, versions=shown, in_force=in_force,
        latest=stored[0] if stored else None,
        rules=[(name, label, _in_words(name, rules[name]))
               for name, label in RULE_LABELS.items() if name in rules],
    )
