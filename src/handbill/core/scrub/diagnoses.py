"""Diagnoses: real, billable codes, complete with a 7th character where one is needed,
documented in the note, and pointed to by every line (reference §4.2)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from handbill.core.claimdata import Claim, Finding, Severity
from handbill.core.codes import icd10
from handbill.core.scrub._common import insured, normalize_diagnosis

MAX_DIAGNOSES = 12  # 837P HI segments and CMS-1500 box 21 (A-L)
MAX_POINTERS = 4  # 837P SV107 and CMS-1500 box 24E

# Title words that say nothing about the condition, so a statement need not repeat them.
_TITLE_NOISE = frozenset(
    {"unspecified", "other", "site", "sites", "initial", "encounter", "subsequent",
     "sequela", "with", "without", "region", "level", "part", "parts", "specified",
     "elsewhere", "classified", "left", "right", "side", "multiple", "type", "intractable",
     "not", "and", "the", "due"}
)
_WORD = re.compile(r"[a-z]{4,}")


def _or_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def _lookup(code: str, on: date) -> icd10.Diagnosis:
    return icd10.lookup(code, date_of_service=on)


def _code_set_missing(error: icd10.Icd10DataUnavailable) -> list[Finding]:
    return [
        Finding(
            rule="diagnosis.valid",
            severity=Severity.WARNING,
            message=f"The diagnosis codes could not be checked: {error}",
            fix="Install the ICD-10-CM code set (see the setup guide) and scrub again.",
        )
    ]


def _missing_seventh(diagnosis: icd10.Diagnosis) -> bool:
    seventh = diagnosis.seventh_character
    if seventh is not None and seventh.required and seventh.present is None:
        return True
    # "S13.4XX": written with its placeholders but without the 7th character itself; the
    # code set suggests the complete forms, each one character longer at most.
    key = diagnosis.code_no_dot
    return (
        not diagnosis.valid
        and bool(diagnosis.suggestions)
        and len(key) < 7
        and all(
            s.replace(".", "").startswith(key) and len(s.replace(".", "")) == 7
            for s in diagnosis.suggestions
        )
    )


def diagnosis_present(claim: Claim, as_of: date) -> list[Finding]:
    if claim.diagnoses:
        return []
    return [
        Finding(
            rule="diagnosis.present",
            severity=Severity.BLOCKING if insured(claim) else Severity.WARNING,
            message="The claim has no diagnosis.",
            fix="Add the diagnoses from the note (ICD-10-CM, most important first); every "
            "line needs at least one.",
        )
    ]


def diagnosis_count(claim: Claim, as_of: date) -> list[Finding]:
    findings: list[Finding] = []
    count = len(claim.diagnoses)
    if count > MAX_DIAGNOSES:
        findings.append(
            Finding(
                rule="diagnosis.count",
                severity=Severity.BLOCKING,
                message=f"The claim has {count} diagnoses; a claim holds at most "
                f"{MAX_DIAGNOSES}.",
                fix=f"Keep the {MAX_DIAGNOSES} that the billed services treat, most important "
                "first.",
            )
        )
    repeated = [
        code for code, n in Counter(normalize_diagnosis(c) for c in claim.diagnoses).items()
        if n > 1
    ]
    if repeated:
        findings.append(
            Finding(
                rule="diagnosis.count",
                severity=Severity.BLOCKING,
                message=f"Diagnosis listed more than once: {', '.join(repeated)}.",
                fix="List each diagnosis once and point the lines at that one entry.",
            )
        )
    return findings


def diagnosis_valid(claim: Claim, as_of: date) -> list[Finding]:
    findings: list[Finding] = []
    try:
        answers = [_lookup(code, claim.date_of_service) for code in claim.diagnoses]
    except icd10.Icd10DataUnavailable as exc:
        return _code_set_missing(exc)
    for raw, answer in zip(claim.diagnoses, answers, strict=True):
        if answer.billable or _missing_seventh(answer):
            continue
        instead = (
            f" Use {_or_list(list(answer.suggestions[:3]))} if one fits the note."
            if answer.suggestions else ""
        )
        findings.append(
            Finding(
                rule="diagnosis.valid",
                severity=Severity.BLOCKING,
                message=f"{raw} cannot go on a claim for "
                f"{claim.date_of_service.isoformat()}: {answer.reason or 'not billable'}.",
                fix="Pick the complete, billable code the note supports." + instead,
                code=raw,
            )
        )
    notes = {answer.data_note for answer in answers if answer.data_note}
    if notes:
        findings.append(
            Finding(
                rule="diagnosis.valid",
                severity=Severity.INFO,
                message="Diagnoses were " + sorted(notes)[0] + ".",
                fix="Load the ICD-10-CM release for this date of service to check the codes "
                "against it.",
            )
        )
    return findings


def diagnosis_seventh_character(claim: Claim, as_of: date) -> list[Finding]:
    findings: list[Finding] = []
    try:
        answers = [_lookup(code, claim.date_of_service) for code in claim.diagnoses]
    except icd10.Icd10DataUnavailable:
        return []  # diagnosis.valid reports the missing code set once
    for raw, answer in zip(claim.diagnoses, answers, strict=True):
        if not _missing_seventh(answer):
            continue
        options = _or_list(list(answer.suggestions)) or "the complete code"
        findings.append(
            Finding(
                rule="diagnosis.seventh_character",
                severity=Severity.BLOCKING,
                message=f"{raw} needs a 7th character (the encounter: initial, subsequent "
                "or sequela).",
                fix=f"Use {options}. Therapy after the acute phase is usually D "
                "(subsequent encounter); check the payer's rule for open auto/WC claims.",
                code=raw,
            )
        )
    return findings


def _billable_answers(claim: Claim) -> list[tuple[str, icd10.Diagnosis]]:
    try:
        answers = [_lookup(code, claim.date_of_service) for code in claim.diagnoses]
    except icd10.Icd10DataUnavailable:
        return []  # diagnosis.valid reports the missing code set once
    return [
        (raw, answer)
        for raw, answer in zip(claim.diagnoses, answers, strict=True)
        if answer.billable
    ]


def diagnosis_laterality(claim: Claim, as_of: date) -> list[Finding]:
    return [
        Finding(
            rule="diagnosis.laterality",
            severity=Severity.WARNING,
            message=f"{raw} ({answer.description}) leaves the side unspecified.",
            fix="If the note says which side, use the right- or left-side code; payers deny "
            "unspecified-side codes.",
            code=raw,
        )
        for raw, answer in _billable_answers(claim)
        if answer.laterality_unspecified
    ]


def diagnosis_unspecified(claim: Claim, as_of: date) -> list[Finding]:
    # An unspecified side is the sharper complaint; diagnosis.laterality makes it.
    return [
        Finding(
            rule="diagnosis.unspecified",
            severity=Severity.WARNING,
            message=f"{raw} ({answer.description}) is an unspecified code.",
            fix="Use a more specific code if the note supports one; payers question therapy "
            "billed only on unspecified diagnoses.",
            code=raw,
        )
        for raw, answer in _billable_answers(claim)
        if answer.unspecified and not answer.laterality_unspecified
    ]


def diagnosis_in_note(claim: Claim, as_of: date) -> list[Finding]:
    in_note = {normalize_diagnosis(code) for code in claim.note.diagnoses}
    missing = [code for code in claim.diagnoses if normalize_diagnosis(code) not in in_note]
    return [
        Finding(
            rule="diagnosis.in_note",
            severity=Severity.BLOCKING if insured(claim) else Severity.WARNING,
            message=f"{code} is on the claim but not among the note's diagnoses.",
            fix=f"Bill only diagnoses the note documents: add {code} to the note by addendum "
            "if the therapist assessed it, or remove it from the claim.",
            code=code,
        )
        for code in missing
    ]


def diagnosis_pointers(claim: Claim, as_of: date) -> list[Finding]:
    count = len(claim.diagnoses)
    findings: list[Finding] = []
    for line in claim.lines:
        problems: list[str] = []
        if not line.pointers:
            problems.append("no diagnosis pointer")
        if len(line.pointers) > MAX_POINTERS:
            problems.append(f"{len(line.pointers)} pointers, at most {MAX_POINTERS} allowed")
        dangling = [p for p in line.pointers if not 1 <= p <= count]
        if dangling:
            shown = ", ".join(str(p) for p in dangling)
            problems.append(f"pointer {shown} points past the {count} diagnoses")
        repeated = [str(p) for p, n in Counter(line.pointers).items() if n > 1]
        if repeated:
            problems.append(f"pointer {', '.join(repeated)} repeated")
        if problems:
            findings.append(
                Finding(
                    rule="diagnosis.pointers",
                    severity=Severity.BLOCKING,
                    message=f"Line {line.number} ({line.code}): {'; '.join(problems)}.",
                    fix="Point each line at 1 to 4 of the claim's diagnoses, the one the "
                    "service treats first.",
                    line=line.number,
                    code=line.code,
                )
            )
    return findings


def _mentions(statement: str, diagnosis: str, title: str | None) -> bool:
    text = statement.lower()
    code = diagnosis.strip().lower()
    if code and (code in text or code.replace(".", "") in text):
        return True
    words = {w for w in _WORD.findall((title or "").lower()) if w not in _TITLE_NOISE}
    return any(word in text for word in words)


def note_necessity_tied(claim: Claim, as_of: date) -> list[Finding]:
    statement = claim.note.medical_necessity
    if not statement.strip() or not claim.diagnoses:
        return []  # note.medical_necessity and diagnosis.present report these
    try:
        titles = [_lookup(code, claim.date_of_service).description for code in claim.diagnoses]
    except icd10.Icd10DataUnavailable:
        titles = [None] * len(claim.diagnoses)
    if any(
        _mentions(statement, code, title)
        for code, title in zip(claim.diagnoses, titles, strict=True)
    ):
        return []
    return [
        Finding(
            rule="note.necessity_tied",
            severity=Severity.WARNING,
            message="The medical-necessity statement does not name any of the claim's "
            "diagnoses.",
            fix="Tie the statement to the diagnoses: name the condition (or its code) and the "
            "function it limits.",
        )
    ]
