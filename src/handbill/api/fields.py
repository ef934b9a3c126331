"""Input field types with the database's own limits, so bad input is a 422 naming the field,
never a database error: text that fits its column and holds no NUL or lone surrogate (which
PostgreSQL refuses), and whole numbers that fit theirs."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def text(max_length: int) -> object:
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_storable)]


def required_text(max_length: int) -> object:
    return Annotated[
        str, StringConstraints(min_length=1, max_length=max_length), AfterValidator(_storable)
    ]


# Ids in paths and bodies; a row id is a positive 64-bit integer.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Money in whole cents: up to ten million dollars is far above any massage claim.
Cents = Annotated[int, Field(ge=0, le=1_000_000_000)]
