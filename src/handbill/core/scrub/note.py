"""Is the note an auditor would accept behind this claim?

A payer that audits a massage claim reads the note first: signed, dated for the visit, an
assessment, why the treatment is medically necessary, what was done for each billed code, how
the patient responded and what comes next. Missing items that make the billed service
unsupportable block an insurance claim; items that only weaken the record are warnings. On a
self-pay claim (a superbill) no payer audits the note, so gaps there are warnings.
"""

from __future__ import annotations

import difflib
from datetime import date

from handbill.core.claimdata import Claim, Finding, Severity
from handbill.core.scrub._common import (
    billed_codes,
    documented,
    insured,
    line_number,
    plural,
)

# Word-level SequenceMatcher ratio at or above which two notes count as copied forward.
# Measured on synthetic SOAP notes: a note cloned with only the pain scores changed scores
# about 0.97; a note rewritten on the same template (same headings and necessity statement,
# new findings and plan) scores about 0.63. 0.9 leaves room for a few edited numbers and
# still flags notes where fewer than one word in ten is new. Words, not characters, so a
# changed "6/10" counts as a changed finding rather than one character.
COPY_FORWARD_RATIO = 0.9


def _gap_severity(claim: Claim) -> Severity:
    return Severity.BLOCKING if insured(claim) else Severity.WARNING


def note_signed(claim: Claim, as_of: date) -> list[Finding]:
    if claim.note.signed:
        return []
    return [
        Finding(
            rule="note.signed",
            severity=Severity.BLOCKING,
            message="The visit note is not signed.",
            fix="Have the treating therapist read and sign the note; a claim goes out only "
            "from a signed note.",
        )
    ]


def note_date(claim: Claim, as_of: date) -> list[Finding]:
    if claim.note.date_of_service == claim.date_of_service:
        return []
    return [
        Finding(
            rule="note.date",
            severity=Severity.BLOCKING,
            message=(
                f"The note is dated {claim.note.date_of_service.isoformat()} but the claim "
                f"bills {claim.date_of_service.isoformat()}."
            ),
            fix="Bill the date the note records, or attach the note of the billed date.",
        )
    ]


def note_assessment(claim: Claim, as_of: date) -> list[Finding]:
    if documented(claim.note.assessment):
        return []
    return [
        Finding(
            rule="note.assessment",
            severity=_gap_severity(claim),
            message="The note has no assessment.",
            fix="Add an assessment: what you found today and how it relates to the "
            "diagnoses (as an addendum if the note is signed).",
        )
    ]


def note_medical_necessity(claim: Claim, as_of: date) -> list[Finding]:
    # With no diagnoses at all, diagnosis.present reports the claim; here we only judge
    # whether the statement exists.
    if documented(claim.note.medical_necessity):
        return []
    return [
        Finding(
            rule="note.medical_necessity",
            severity=_gap_severity(claim),
            message="The note does not say why the treatment is medically necessary.",
            fix="Add a medical-necessity statement that names the diagnoses and the "
            "function they limit, e.g. \"massage to reduce lumbar spasm (M62.830) that "
            "limits sitting to 20 minutes\".",
        )
    ]


def note_technique(claim: Claim, as_of: date) -> list[Finding]:
    billed = set(billed_codes(claim))
    missing: list[str] = []
    for entry in claim.note.entries:
        code = entry.code.strip().upper()
        if code in billed and not documented(entry.technique) and code not in missing:
            missing.append(code)
    return [
        Finding(
            rule="note.technique",
            severity=_gap_severity(claim),
            message=f"The note does not say what technique was used for {code}.",
            fix=f"Record the technique for {code} in the note (e.g. \"myofascial release, "
            "upper trapezius\"); without it an auditor cannot tell which service was done.",
            line=line_number(claim, code),
            code=code,
        )
        for code in missing
    ]


def note_response(claim: Claim, as_of: date) -> list[Finding]:
    if documented(claim.note.response_to_treatment):
        return []
    return [
        Finding(
            rule="note.response",
            severity=Severity.WARNING,
            message="The note does not record the patient's response to treatment.",
            fix="Add how the patient responded (pain scale, range of motion, function) so "
            "the next visit can show progress.",
        )
    ]


def note_plan(claim: Claim, as_of: date) -> list[Finding]:
    if documented(claim.note.plan):
        return []
    return [
        Finding(
            rule="note.plan",
            severity=Severity.WARNING,
            message="The note has no plan.",
            fix="Add the plan: frequency, duration and goals of further treatment, or "
            "discharge.",
        )
    ]


def _words(text: str) -> list[str]:
    return text.lower().split()


def note_copy_forward(claim: Claim, as_of: date) -> list[Finding]:
    current = _words(claim.note.text)
    if not current:
        return []
    best = 0.0
    for earlier in claim.history.earlier_notes:
        words = _words(earlier)
        if not words:
            continue
        matcher = difflib.SequenceMatcher(None, current, words, autojunk=False)
        # The quick upper bounds skip the full comparison for clearly different notes.
        if matcher.real_quick_ratio() < COPY_FORWARD_RATIO:
            continue
        if matcher.quick_ratio() < COPY_FORWARD_RATIO:
            continue
        best = max(best, matcher.ratio())
    if best < COPY_FORWARD_RATIO:
        return []
    count = len(claim.history.earlier_notes)
    return [
        Finding(
            rule="note.copy_forward",
            severity=Severity.WARNING,
            message=(
                f"The note is {best:.0%} identical to an earlier note of this patient "
                f"(compared with the last {plural(count, 'note')})."
            ),
            fix="Make sure the note describes this visit: today's findings, today's "
            "response and any change to the plan. Cloned notes are a top audit target.",
        )
    ]
