"""ICD-10-CM diagnoses: is this code real, can it go on a claim, and if not, what instead.

Answers come from a compact index of the CDC code set (:mod:`.icd10_index`), so a fresh
process answers its first lookup in a fraction of a second. Input is forgiving about case,
the dot and surrounding spaces ("m545", "S134XXA", " s13.4xxa "); the answer is never an
exception for an unknown or malformed code: it is a :class:`Diagnosis` with ``valid`` False
and a reason that names the fix.

Only a leaf of the classification is billable (reference §4.2). Codes in the injury chapter
and a few others take a 7th character, padded with the placeholder X to the 7th position
(S13.4XXA).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from datetime import date
from pathlib import Path
from typing import Any

from handbill.core.codes.icd10_index import (
    CodeRow,
    Icd10DataUnavailable,
    Icd10Index,
    Release,
    default_cache_dir,
    iter_extended,
    open_index,
    padded_stem,
)

__all__ = [
    "Diagnosis",
    "Icd10DataUnavailable",
    "Icd10FormatError",
    "Release",
    "SeventhCharacter",
    "default_index",
    "lookup",
    "normalize",
    "search",
    "to_claim_form",
]

# Codes that were billable until the fiscal year named here split them: old superbills and
# intake forms still carry them, so the reason says when it changed (reference §4.1).
_BECAME_HEADER: dict[str, tuple[int, date]] = {
    "M545": (2022, date(2021, 10, 1)),
    "R51": (2021, date(2020, 10, 1)),
    "M791": (2021, date(2020, 10, 1)),
}

# Few enough billable codes under a header to name them all in the reason.
_LIST_ALL_UP_TO = 6
_EXAMPLES = 3

_DOTTED = re.compile(r"^([A-Z][0-9A-Z][0-9A-Z])\.([0-9A-Z]{1,4})$")
_UNDOTTED = re.compile(r"^([A-Z][0-9A-Z][0-9A-Z])([0-9A-Z]{0,4})$")
_BLOCK = re.compile(r"^[A-Z][0-9A-Z]{2}-[A-Z][0-9A-Z]{2}$")
_CHAPTER = re.compile(r"^[0-9]{1,2}$")


class Icd10FormatError(ValueError):
    """Text that does not have the shape of an ICD-10-CM code."""


@dataclass(frozen=True, slots=True)
class SeventhCharacter:
    """The 7th character a code family uses: which ones exist and which one the code has."""

    required: bool
    values: dict[str, str]  # character → meaning, e.g. {"A": "initial encounter", …}
    present: str | None  # the code's own 7th character, if it has one

    def to_dict(self) -> dict[str, Any]:
        return {"required": self.required, "values": dict(self.values), "present": self.present}


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str  # dotted, upper case: "M54.50"; for malformed input, the cleaned-up text
    code_no_dot: str  # "M5450", the form the 837 carries
    valid: bool  # exists in ICD-10-CM at all (headers, blocks and chapters included)
    billable: bool  # a leaf: may go on a claim
    description: str | None
    reason: str | None  # why it is not billable (or not valid), naming the fix
    kind: str | None = None  # chapter | block | category | subcategory | extended
    parent: str | None = None
    unspecified: bool = False  # the title says "unspecified"
    laterality_unspecified: bool = False  # a right/left version exists and was not chosen
    seventh_character: SeventhCharacter | None = None
    suggestions: tuple[str, ...] = field(default=())  # codes to use instead, best first
    release: str | None = None  # the ICD-10-CM release that answered
    data_note: str | None = None  # date of service outside that release's period

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "code_no_dot": self.code_no_dot,
            "valid": self.valid,
            "billable": self.billable,
            "description": self.description,
            "reason": self.reason,
            "kind": self.kind,
            "parent": self.parent,
            "unspecified": self.unspecified,
            "laterality_unspecified": self.laterality_unspecified,
            "seventh_character": (
                self.seventh_character.to_dict() if self.seventh_character else None
            ),
            "suggestions": list(self.suggestions),
            "release": self.release,
            "data_note": self.data_note,
        }


# --------------------------------------------------------------------------------------------
# The shared index

_default_lock = threading.Lock()
_default: dict[Path, Icd10Index] = {}


def default_index(cache_dir: Path | None = None) -> Icd10Index:
    """The index for ``cache_dir`` (default: see :func:`.icd10_index.default_cache_dir`),
    opened once per process and built first if needed."""
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    with _default_lock:
        index = _default.get(directory)
        if index is None:
            index = open_index(directory)
            _default[directory] = index
        return index


# --------------------------------------------------------------------------------------------
# Text in, code out


def normalize(text: str) -> str:
    """The dotted, upper-case form of a code-shaped text: "s134xxa" → "S13.4XXA".

    Raises :class:`Icd10FormatError` naming the problem when the text is not code-shaped.
    Says nothing about whether the code exists; :func:`lookup` does.
    """
    cleaned = text.strip().upper() if isinstance(text, str) else text
    if not isinstance(cleaned, str):
        raise Icd10FormatError(f"a diagnosis code is text, not {type(text).__name__}")
    if not cleaned:
        raise Icd10FormatError("no diagnosis code given: enter an ICD-10-CM code such as M54.50")
    if _BLOCK.match(cleaned) or _CHAPTER.match(cleaned):
        return cleaned
    if any(ch.isspace() for ch in cleaned):
        raise Icd10FormatError(
            f"{cleaned!r} has spaces inside: enter one code, e.g. M54.50 (or M5450)"
        )
    if cleaned[0].isdigit():
        raise Icd10FormatError(
            f"{cleaned} is not an ICD-10-CM code: these start with a letter (e.g. M54.50); "
            "a code of digits only is ICD-9 or a procedure code"
        )
    match = _DOTTED.match(cleaned) if "." in cleaned else _UNDOTTED.match(cleaned)
    if match is None:
        if "." in cleaned and cleaned.index(".") != 3:
            raise Icd10FormatError(
                f"{cleaned} has the dot in the wrong place: it goes after the third character, "
                "e.g. M54.50"
            )
        raise Icd10FormatError(
            f"{cleaned} is not shaped like an ICD-10-CM code: a letter, a digit, a digit or "
            "letter, then up to four more letters or digits after the dot (M54.50, S13.4XXA)"
        )
    head, tail = match.group(1), match.group(2)
    return f"{head}.{tail}" if tail else head


def to_claim_form(code: str | Diagnosis) -> str:
    """The form the 837 carries: upper case without the dot ("M54.50" → "M5450").

    Formatting only; check the code with :func:`lookup` first.
    """
    if isinstance(code, Diagnosis):
        return code.code_no_dot
    return normalize(code).replace(".", "")


# --------------------------------------------------------------------------------------------
# Lookup


def lookup(
    code: str,
    *,
    date_of_service: date | None = None,
    index: Icd10Index | None = None,
) -> Diagnosis:
    """What ICD-10-CM says about ``code``. Never raises for a bad code; raises
    :class:`Icd10DataUnavailable` only when no code set is installed at all."""
    source = index if index is not None else default_index()
    note = _data_note(source.release, date_of_service)
    try:
        dotted = normalize(code)
    except Icd10FormatError as exc:
        shown = code.strip().upper() if isinstance(code, str) else repr(code)
        return Diagnosis(
            code=shown,
            code_no_dot=shown.replace(".", ""),
            valid=False,
            billable=False,
            description=None,
            reason=str(exc),
            release=source.release.name,
            data_note=note,
        )
    answer = _lookup_normalized(source, dotted)
    return _replace(answer, release=source.release.name, data_note=note)


def _lookup_normalized(index: Icd10Index, dotted: str) -> Diagnosis:
    key = dotted if "-" in dotted else dotted.replace(".", "")
    row = index.get(key)
    if row is not None:
        return _from_row(index, row)
    if "-" in dotted or _CHAPTER.match(dotted):
        return _unknown(dotted, f"{dotted} is not a chapter or block of ICD-10-CM")
    return _seventh_character_form(index, dotted, key) or _not_found(index, dotted, key)


def _from_row(index: Icd10Index, row: CodeRow) -> Diagnosis:
    definition = (
        index.seventh_definition(row.seventh_def) if row.seventh_def is not None else None
    )
    seventh = None
    if definition:
        available = {c: m for c, m in definition.items() if c in row.seventh} or definition
        seventh = SeventhCharacter(required=True, values=available, present=None)
    base = Diagnosis(
        code=row.code,
        code_no_dot=row.key if row.kind in ("category", "subcategory") else row.code,
        valid=True,
        billable=row.billable,
        description=row.description,
        reason=None,
        kind=row.kind,
        parent=_dotted(index, row.parent),
        unspecified=_says_unspecified(row.description),
        laterality_unspecified=row.laterality_unspecified,
        seventh_character=seventh,
    )
    if row.billable:
        return base
    reason, suggestions = _why_not_billable(index, row)
    return _replace(base, reason=reason, suggestions=suggestions)


def _why_not_billable(index: Icd10Index, row: CodeRow) -> tuple[str, tuple[str, ...]]:
    if row.kind == "chapter":
        return (
            f"chapter {row.code} ({row.description}) is a chapter of the classification, "
            "not a code; pick a code inside it",
            (),
        )
    if row.kind == "block":
        return (
            f"{row.code} is a block (a range of categories: {row.description}), not a code; "
            "pick a code inside it",
            (),
        )
    if row.seventh:
        options = list(iter_extended(row))
        definition = (
            index.seventh_definition(row.seventh_def) if row.seventh_def is not None else {}
        )
        described = [f"{c} ({definition.get(c[-1], '?')})" for c in options]
        padding = " (placeholder X fills the gap)" if len(row.key) < 6 else ""
        return (
            f"{row.code} needs a 7th character{padding}: use {_or_list(described)}",
            tuple(options),
        )
    billable = _billable_under(index, row, _LIST_ALL_UP_TO + 1)
    history = _BECAME_HEADER.get(row.key)
    since = (
        f" since FY{history[0]} ({history[1].day} {history[1]:%b} {history[1].year})"
        if history
        else ""
    )
    if row.billable_count <= _LIST_ALL_UP_TO:
        return (
            f"{row.code} is a {row.kind} header{since}, not a billable code; "
            f"use {_or_list(billable)}",
            tuple(billable),
        )
    examples = billable[:_EXAMPLES]
    return (
        f"{row.code} is a {row.kind} header{since}, not a billable code: it needs more "
        f"characters ({row.billable_count} billable codes under it, e.g. {', '.join(examples)})",
        tuple(examples),
    )


def _billable_under(index: Icd10Index, row: CodeRow, limit: int) -> list[str]:
    """The first ``limit`` billable codes under ``row``, in code order (M25.50, M25.511, …)."""
    found: list[str] = []
    pending = list(reversed(index.children(row.key)))
    while pending and len(found) < limit:
        current = pending.pop()
        if current.billable:
            found.append(current.code)
        elif current.seventh:
            found.extend(iter_extended(current))
        else:
            pending.extend(reversed(index.children(current.key)))
    return found[:limit]


def _seventh_character_form(index: Icd10Index, dotted: str, key: str) -> Diagnosis | None:
    """Codes the index does not store because they are generated: S13.4XXA (valid), and the
    near misses S13.4XX (7th character missing), S13.4A (placeholder missing), S13.4XXB."""
    if len(key) < 4:
        return None
    # A code that takes a 7th character, written with some or all of its placeholder Xs.
    base = index.get(key.rstrip("X")) if key.endswith("X") else None
    if base is not None and base.seventh and padded_stem(base.code).startswith(dotted):
        reason, suggestions = _why_not_billable(index, base)
        return _unknown(dotted, f"{dotted} is not a complete code: {reason}", suggestions)
    character, stem = key[-1], key[:-1]
    base = _seventh_character_parent(index, stem)
    if base is None:
        return None
    definition = (
        index.seventh_definition(base.seventh_def) if base.seventh_def is not None else {}
    )
    expected = padded_stem(base.code) + character
    if character not in base.seventh:
        valid_ones = [f"{c} ({definition.get(c, '?')})" for c in base.seventh]
        if character in definition:
            problem = (
                f"{base.code} does not take the 7th character {character} "
                f"({definition[character]}); it takes only {_or_list(valid_ones)}"
            )
        else:
            problem = (
                f"{character} is not a 7th character of {base.code}; use "
                f"{_or_list(valid_ones)}"
            )
        options = tuple(iter_extended(base))
        return _unknown(dotted, f"{dotted} is not in ICD-10-CM: {problem}", options)
    if expected.replace(".", "") != key:
        return _unknown(
            dotted,
            f"{dotted} is not a valid code: the 7th character must sit in the 7th position, "
            f"with the placeholder X filling the gap; write {expected}",
            (expected,),
        )
    laterality = base.laterality_unspecified or _meaning_leaves_side_open(
        definition, character
    )
    description = f"{base.description}, {definition.get(character, '')}"
    return Diagnosis(
        code=expected,
        code_no_dot=key,
        valid=True,
        billable=True,
        description=description,
        reason=None,
        kind="extended",
        parent=base.code,
        unspecified=_says_unspecified(description),
        laterality_unspecified=laterality,
        seventh_character=SeventhCharacter(
            required=True,
            values={c: definition.get(c, "") for c in base.seventh},
            present=character,
        ),
    )


def _seventh_character_parent(index: Icd10Index, stem: str) -> CodeRow | None:
    """The code that takes a 7th character and that ``stem`` (the text before it) spells,
    with its placeholders written or not: "S134XX" and "S134" both give S13.4."""
    candidate = stem
    while len(candidate) >= 3:
        row = index.get(candidate)
        if row is not None:
            return row if row.seventh else None
        if not candidate.endswith("X"):
            return None
        candidate = candidate[:-1]
    return None


def _not_found(index: Icd10Index, dotted: str, key: str) -> Diagnosis:
    for length in range(len(key) - 1, 2, -1):
        nearest = index.get(key[:length])
        if nearest is None:
            continue
        hint = f"{nearest.code} ({nearest.description})"
        if nearest.billable:
            return _unknown(
                dotted,
                f"{dotted} is not in ICD-10-CM; {hint} is billable as it stands",
                (nearest.code,),
            )
        if nearest.seventh:
            options = tuple(iter_extended(nearest))
            return _unknown(
                dotted,
                f"{dotted} is not in ICD-10-CM; {hint} takes a 7th character: "
                f"{_or_list(list(options))}",
                options,
            )
        shown = _billable_under(index, nearest, _EXAMPLES)
        return _unknown(
            dotted,
            f"{dotted} is not in ICD-10-CM; the nearest code is the header {hint}, e.g. "
            f"{', '.join(shown)}",
            tuple(shown),
        )
    return _unknown(dotted, f"{dotted} is not in ICD-10-CM (no such category)")


def _unknown(dotted: str, reason: str, suggestions: tuple[str, ...] = ()) -> Diagnosis:
    return Diagnosis(
        code=dotted,
        code_no_dot=dotted.replace(".", ""),
        valid=False,
        billable=False,
        description=None,
        reason=reason,
        suggestions=suggestions,
    )


# --------------------------------------------------------------------------------------------
# Search


def search(
    text: str, limit: int = 20, *, index: Icd10Index | None = None
) -> list[Diagnosis]:
    """Billable codes whose code starts with ``text`` or whose title holds every word of it,
    in code order: for an as-you-type picker. 7th-character codes are listed in full."""
    source = index if index is not None else default_index()
    words = [w for w in re.split(r"[\s,]+", text.strip().upper()) if w]
    if not words or limit <= 0:
        return []
    code_prefix: str | None = None
    if len(words) == 1 and _looks_like_code_start(words[0]):
        code_prefix = words[0].replace(".", "")
        words = []
    results: list[Diagnosis] = []
    for row in source.search_rows([w.lower() for w in words], code_prefix, limit):
        if row.billable:
            results.append(_replace(_from_row(source, row), release=source.release.name))
        else:
            for extended in iter_extended(row):
                answer = lookup(extended, index=source)
                if code_prefix and not answer.code_no_dot.startswith(code_prefix):
                    continue
                if all(w.lower() in (answer.description or "").lower() for w in words):
                    results.append(answer)
        if len(results) >= limit:
            break
    return results[:limit]


# --------------------------------------------------------------------------------------------
# Small helpers


def _looks_like_code_start(word: str) -> bool:
    # "M54", "s13.4", "QA0" or a lone chapter letter; "PAIN" is a word, not a code.
    shaped = re.match(r"^[A-Z][0-9A-Z]{0,2}(\.?[0-9A-Z]{0,4})?$", word) is not None
    return shaped and (len(word) == 1 or any(ch.isdigit() for ch in word))


def _data_note(release: Release, date_of_service: date | None) -> str | None:
    if date_of_service is None or release.covers(date_of_service):
        return None
    return (
        f"checked against the {release.describe()}; the date of service "
        f"{date_of_service.isoformat()} is outside it, so a code added or retired since may be "
        "judged wrongly"
    )


def _says_unspecified(description: str | None) -> bool:
    return bool(description) and re.search(r"\bunspecified\b", description or "", re.I) is not None


def _meaning_leaves_side_open(definition: dict[str, str], character: str) -> bool:
    """A 7th character such as 9 = "unspecified eye" beside 1 = "right eye"."""
    meaning = definition.get(character, "")
    if "unspecified" not in meaning:
        return False
    right = meaning.replace("unspecified", "right")
    return right in definition.values()


def _dotted(index: Icd10Index, key: str) -> str | None:
    if not key:
        return None
    row = index.get(key)
    return row.code if row is not None else key


def _or_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"
