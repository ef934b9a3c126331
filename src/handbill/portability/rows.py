"""One row as a line of JSON, and back.

A row is written with its database column names (``claim_id``, not ``claim``) and its own old
id, so the import can renumber every key. Values keep their meaning across databases: times
as ISO 8601 with their offset, dates as ``YYYY-MM-DD``, decimals as strings (never floats),
JSON fields as JSON, bytes as base64.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models


def columns(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in the database; times must be timezone-aware")
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def dump_line(row: dict[str, Any]) -> str:
    """One JSON line; keys sorted so the same data always gives the same bytes."""
    encoded = {key: encode_value(value) for key, value in row.items()}
    return json.dumps(encoded, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def decode_row(model: type[models.Model], row: dict[str, Any], *,
               partial: bool = False) -> dict[str, Any]:
    """Column values ready for ``Model(**values)``, typed by the model's fields (only those
    in ``row`` when ``partial``)."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = sorted(set(row) - set(fields))
    if unknown:
        raise ValueError(f"{model._meta.label_lower} has no column(s) {', '.join(unknown)}: the "
                         "export was made by a Handbill with a different schema")
    values: dict[str, Any] = {}
    for attname, field in fields.items():
        if attname not in row and partial:
            continue
        if attname not in row:
            # An export from an older Handbill lacks a column added since: use its default.
            if field.has_default() or field.null:
                values[attname] = field.get_default()
                continue
            raise ValueError(f"{model._meta.label_lower} rows lack {attname}, which has no "
                             "default")
        raw = row[attname]
        if raw is None or isinstance(field, models.JSONField):
            values[attname] = raw
        else:
            values[attname] = field.to_python(raw)
    return values
