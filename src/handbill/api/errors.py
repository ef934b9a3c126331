"""One JSON shape for every error the API returns::

    {"error": {"code": "invalid", "message": "…", "fields": [{"field": "birth_date",
                                                              "message": "…"}]}}

``code`` is stable for programs; ``message`` is for people and says what to fix; ``fields``
names the input at fault (empty when the problem is not one field's). Schema violations are
422 ``invalid``; a record the billing rules refuse is 422 ``rejected``; a move the object's
state forbids is 409 ``conflict``; another practice's object is 404 like a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ninja import Schema


class FieldError(Schema):
    field: str
    message: str


class ErrorBody(Schema):
    code: str
    message: str
    fields: list[FieldError] = []
    # Blocking scrub findings or per-claim problems, when the refusal has several reasons.
    problems: list[str] = []


class ErrorOut(Schema):
    error: ErrorBody


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Iterable[tuple[str, str]] = (),
        problems: Iterable[str] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.problems = list(problems)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "fields": [{"field": f, "message": m} for f, m in self.fields],
                "problems": self.problems,
            }
        }


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what} with that id in this practice")


# The responses every route may give besides its own; listed so the OpenAPI document (and
# schemathesis' conformance check) knows their shape.
ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
}


def responses(ok: dict[int, Any]) -> dict[int, Any]:
    return {**ok, **ERRORS}


def _domain_errors() -> dict[type[Exception], tuple[int, str]]:
    from handbill.api.tokens import TokenError
    from handbill.claims.actions import ClaimError
    from handbill.patients.actions import RecordError
    from handbill.remittance.actions import RemittanceError, RemittanceRefused
    from handbill.submissions.actions import SubmissionError
    from handbill.visits.actions import NoteError
    from handbill.visits.models import NoteLockedError

    return {
        RecordError: (422, "rejected"),
        NoteError: (422, "rejected"),
        TokenError: (422, "rejected"),
        RemittanceRefused: (422, "rejected"),
        RemittanceError: (422, "rejected"),
        SubmissionError: (422, "rejected"),
        # The object's state forbids the move (signed note, claim already built, blocked).
        NoteLockedError: (409, "conflict"),
        ClaimError: (409, "conflict"),
    }


def domain_error(exc: Exception, field_names: Sequence[str] = ()) -> ApiError | None:
    """The API error for an action's refusal, naming the input field its message is about."""
    known = next(
        (answer for kind, answer in _domain_errors().items() if isinstance(exc, kind)), None
    )
    if known is None:
        return None
    status, code = known
    message = str(exc)
    problems = [str(p) for p in getattr(exc, "problems", [])]
    findings = getattr(exc, "findings", None)
    if findings:
        problems = [f"{f.rule}: {f.message} Fix: {f.fix}" for f in findings]
    field = field_named_in(message, field_names)
    fields = [(field, message)] if field else []
    return ApiError(status, code, message, fields, problems)


def field_named_in(message: str, field_names: Sequence[str]) -> str | None:
    """The input field the action's message names first ("member ID is required" →
    ``member_id``). The actions word their errors for people, naming the field in words; this
    finds that name again so a program can put the message beside its input."""
    text = message.lower()
    best: tuple[int, int, str] | None = None
    for name in field_names:
        words = re.sub(r"_(cents|id|ids)$", "", name).replace("_", " ")
        # A list field is named in the singular ("diagnosis 'Z99': …" is about diagnoses).
        singular = re.sub(r"ses$", "sis", words) if words.endswith("ses") else words.rstrip("s")
        for candidate in {words, name.replace("_", " "), singular}:
            at = text.find(candidate)
            if at < 0:
                continue
            # The earliest mention wins; a longer name wins a tie ("end date" over "end").
            rank = (at, -len(candidate), name)
            if best is None or rank < best:
                best = rank
    return best[2] if best else None


@contextmanager
def naming(*schemas: type[Schema]) -> Iterator[None]:
    """Turn an action's refusal into an API error naming the field of these input schemas."""
    names = [name for schema in schemas for name in schema.model_fields]
    try:
        yield
    except Exception as exc:
        found = domain_error(exc, names)
        if found is None:
            raise
        raise found from exc
