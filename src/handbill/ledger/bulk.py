"""Inserting many append-only rows fast: COPY on PostgreSQL, executemany on SQLite.

Django's ``bulk_create`` spends most of its time turning each field of each model instance into
SQL; an 835 of 10,000 claims writes a few hundred thousand rows. Callers here hand over rows
already in database form — ints, text, dates, aware datetimes, JSON as text — in the column
order they name, and get the new primary keys back when they ask for them.

Rows go in inside the caller's transaction, so the database's constraints and triggers still
check every one of them (at commit for the deferred ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connections, models

_SQLITE_BATCH = 5000


def _sqlite_value(connection: Any, value: object) -> object:
    # The conversions Django applies to these field types on SQLite, so the rows read back
    # exactly as rows saved by the ORM.
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _sqlite_rows(connection: Any, rows: Sequence[Sequence[object]]) -> Sequence[Sequence[object]]:
    """The rows with dates, times and decimals converted; other columns pass as they are."""
    width = len(rows[0])
    special = [i for i in range(width)
               if any(isinstance(row[i], date | Decimal) for row in rows)]
    if not special:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for i in special:
            values[i] = _sqlite_value(connection, values[i])
        converted.append(values)
    return converted


def _allocate_ids(connection: Any, table: str, pk: str, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, taken the way the backend hands them out."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite runs one writer at a time and this runs inside its (immediate) transaction,
        # so nobody else can take these numbers. AUTOINCREMENT never reuses a number, hence
        # sqlite_sequence as well as the highest id present.
        qn = connection.ops.quote_name
        cursor.execute(f"SELECT COALESCE(MAX({qn(pk)}), 0) FROM {qn(table)}")  # noqa: S608
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    with_ids: bool = False,
    using: str = "default",
) -> list[int]:
    """Insert ``rows`` (values in ``columns`` order) into ``model``'s table.

    With ``with_ids`` the primary keys are allocated first and returned in row order. Must run
    inside ``transaction.atomic()``: the rows are only as safe as the transaction around them.
    """
    if not rows:
        return []
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("insert_rows() must run inside transaction.atomic()")
    meta = model._meta
    table = meta.db_table
    names = list(columns)
    ids: list[int] = []
    if with_ids:
        pk = meta.pk.column if meta.pk is not None else "id"
        ids = _allocate_ids(connection, table, pk, len(rows))
        names.insert(0, pk)
        rows = [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)]
    qn = connection.ops.quote_name
    column_list = ", ".join(qn(name) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(table)} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(names))
            sql = f"INSERT INTO {qn(table)} ({column_list}) VALUES ({placeholders})"  # noqa: S608
            ready = _sqlite_rows(connection, rows)
            for start in range(0, len(ready), _SQLITE_BATCH):
                cursor.executemany(sql, ready[start:start + _SQLITE_BATCH])
    return ids
