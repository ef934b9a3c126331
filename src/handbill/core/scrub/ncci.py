"""NCCI pair edits and MUEs, read through :func:`handbill.core.edits.check` when the caller
passes the edit tables (the Django side loads them from the imported CMS files)."""

from __future__ import annotations

from datetime import date

from handbill.core.claimdata import Claim, Finding
from handbill.core.edits import EditFinding, EditTables, check

PTP = "ncci.ptp"
MUE = "ncci.mue"


def _convert(claim: Claim, found: EditFinding) -> Finding:
    # check() numbers lines by their position in the list it was given; the finding should
    # carry the claim's own line number, on the line that will be denied.
    line = None
    if found.lines:
        position = found.lines[-1]
        if 1 <= position <= len(claim.lines):
            line = claim.lines[position - 1].number
    code = found.column2 or (found.codes[0] if found.codes else None)
    return Finding(found.rule, found.severity, _sentence(found.message), _sentence(found.fix),
                   line=line, code=code)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "]")) else text + "."


def _edit_findings(claim: Claim, edits: EditTables | None, rule: str) -> list[Finding]:
    if edits is None or not claim.lines:
        return []
    return [
        _convert(claim, found)
        for found in check(claim.lines, claim.date_of_service, edits)
        if found.rule == rule
    ]


def ncci_ptp(claim: Claim, as_of: date, edits: EditTables | None = None) -> list[Finding]:
    return _edit_findings(claim, edits, PTP)


def ncci_mue(claim: Claim, as_of: date, edits: EditTables | None = None) -> list[Finding]:
    return _edit_findings(claim, edits, MUE)
