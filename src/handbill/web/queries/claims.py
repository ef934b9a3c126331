"""What the claim pages show.

The list stays fast on a practice with a hundred thousand claims: every filter is on an
indexed column of the claim ((practice, status), (practice, date_of_service), the payer and
provider keys) or an EXISTS on findings by rule; the page's rows come with their patient, payer
and provider in the same query, and the blocking counts of the page's claims in one more.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from handbill.claims.actions import unresolved_blocking
from handbill.claims.models import Claim, ClaimEvent, ClaimFinding, FindingOverride
from handbill.core.money import Cents
from handbill.core.scrub import rule_ids
from handbill.ledger.balances import claim_balance
from handbill.practice.access import scoped
from handbill.practice.models import Practice
from handbill.web.queries.visits import DiagnosisShown, describe


@dataclass(frozen=True)
class ClaimFilters:
    status: str = ""
    payer: int | None = None
    provider: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive: the last date of service shown
    rule: str = ""
    text: str = ""  # a claim number or a patient's account number

    def as_query(self) -> dict[str, Any]:
        values = {
            "status": self.status, "payer": self.payer, "provider": self.provider,
            "date_from": self.date_from, "date_to": self.date_to, "rule": self.rule,
            "q": self.text,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def find_claims(practice: Practice, filters: ClaimFilters) -> QuerySet[Claim]:
    claims = scoped(Claim.objects.all(), practice)
    if filters.status:
        claims = claims.filter(status=filters.status)
    if filters.payer is not None:
        claims = claims.filter(payer_id=filters.payer)
    if filters.provider is not None:
        claims = claims.filter(provider_id=filters.provider)
    if filters.date_from is not None:
        claims = claims.filter(date_of_service__gte=filters.date_from)
    if filters.date_to is not None:
        claims = claims.filter(date_of_service__lte=filters.date_to)
    if filters.rule:
        claims = claims.filter(
            Exists(ClaimFinding.objects.filter(claim=OuterRef("pk"), rule=filters.rule))
        )
    if filters.text:
        text = filters.text.strip()
        claims = claims.filter(number__iexact=text) | claims.filter(
            patient__account_number__iexact=text
        )
    return claims.select_related("patient", "payer", "provider").order_by(
        "-date_of_service", "-pk"
    )


def blocking_counts(claims: list[Claim]) -> dict[int, int]:
    """Blocking findings per claim, for one page of the list (one query)."""
    rows = ClaimFinding.objects.filter(
        claim_id__in=[c.pk for c in claims], severity="blocking"
    ).values_list("claim_id", flat=True)
    return dict(Counter(rows))


def finding_rules(requested: str = "") -> list[str]:
    """The rule ids to filter by: the scrubber's registry (no query: reading the distinct
    rules of a large practice's findings costs more than the page itself), plus a rule asked
    for by a link (the builder's own flags, ``build.*``, are not in the registry)."""
    rules = set(rule_ids())
    if requested:
        rules.add(requested)
    return sorted(rules)


@dataclass(frozen=True)
class FindingShown:
    finding: ClaimFinding
    override: FindingOverride | None

    @property
    def open(self) -> bool:
        return self.finding.severity == "blocking" and self.override is None


@dataclass(frozen=True)
class ClaimPage:
    claim: Claim
    lines: list[Any]
    findings: list[FindingShown]
    events: list[ClaimEvent]
    open_blocking: int
    balance: Cents
    diagnoses: list[tuple[str, DiagnosisShown]]  # (letter, code with its title)


LETTERS = "ABCDEFGHIJKL"


def claim_page(claim: Claim) -> ClaimPage:
    overrides = {(o.rule, o.line): o for o in claim.overrides.select_related("by")}
    findings = [
        FindingShown(f, overrides.get((f.rule, f.line)) or overrides.get((f.rule, None)))
        for f in claim.findings.all()
    ]
    return ClaimPage(
        claim=claim,
        lines=list(claim.lines.all()),
        findings=findings,
        events=list(claim.events.select_related("by")),
        open_blocking=len(unresolved_blocking(claim)),
        balance=claim_balance(claim.practice, claim.number),
        diagnoses=[
            (letter, describe(code, claim.date_of_service))
            for letter, code in zip(LETTERS, claim.diagnoses, strict=False)
        ],
    )
