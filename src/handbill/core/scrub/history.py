"""What the practice's own history says about this claim: the same service billed already,
and this payer's earlier denials of the same code."""

from __future__ import annotations

from datetime import date

from handbill.core.claim_status import ClaimStatus
from handbill.core.claimdata import Claim, Finding, Severity
from handbill.core.codes import carc
from handbill.core.scrub._common import line_number

# Claims that never reached adjudication, or were withdrawn, are not duplicates.
_NOT_COUNTED = frozenset({ClaimStatus.VOID.value, ClaimStatus.REJECTED.value})
# Frequency codes for a replacement or a void of an earlier claim: the earlier claim of the
# same service is expected, not a duplicate.
_REPLACES_EARLIER = frozenset({"7", "8"})

# CARCs that say the service itself is not paid to us: provider type, non-covered, not in
# the plan. Repeating the claim will bring the same denial.
LEARNED_DENIALS = frozenset({"170", "96", "204"})


def duplicate_line(claim: Claim, as_of: date) -> list[Finding]:
    if claim.frequency in _REPLACES_EARLIER:
        return []
    codes = {line.code.strip().upper() for line in claim.lines}
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for prior in claim.history.prior_lines:
        code = prior.code.strip().upper()
        if (
            prior.claim_id == claim.claim_id
            or (claim.secondary_to and prior.claim_id == claim.secondary_to)
            or prior.date_of_service != claim.date_of_service
            or code not in codes
            or prior.status.strip().lower() in _NOT_COUNTED
            or (prior.claim_id, code) in seen
        ):
            continue
        seen.add((prior.claim_id, code))
        findings.append(
            Finding(
                rule="duplicate.line",
                severity=Severity.BLOCKING,
                message=f"{code} on {claim.date_of_service.isoformat()} is already on claim "
                f"{prior.claim_id} ({prior.status}).",
                fix=f"Do not bill it twice: void this claim or drop the line. To change claim "
                f"{prior.claim_id}, send a corrected claim (frequency 7) instead.",
                line=line_number(claim, code),
                code=code,
            )
        )
    return findings


def history_denials(claim: Claim, as_of: date) -> list[Finding]:
    if claim.coverage is None:
        return []
    codes = {line.code.strip().upper() for line in claim.lines}
    grouped: dict[tuple[str, str], list[date]] = {}
    for denial in claim.history.denials:
        code = denial.code.strip().upper()
        reason = denial.reason.strip().upper().removeprefix("CO-").removeprefix("PR-")
        if code in codes and reason in LEARNED_DENIALS:
            grouped.setdefault((code, reason), []).append(denial.date_of_service)
    findings: list[Finding] = []
    for (code, reason), dates in sorted(grouped.items()):
        latest = max(dates).isoformat()
        meaning = carc.carc(reason).meaning
        times = "once" if len(dates) == 1 else f"{len(dates)} times"
        findings.append(
            Finding(
                rule="history.denials",
                severity=Severity.WARNING,
                message=f"{claim.coverage.payer_name} denied {code} "
                f"{times} before with CARC {reason} "
                f"({meaning[:1].lower() + meaning[1:]}), last for {latest}.",
                fix="Check the plan's benefit and provider-type rule before sending; if it "
                "will be denied again, tell the patient and bill them if the plan allows.",
                line=line_number(claim, code),
                code=code,
            )
        )
    return findings
