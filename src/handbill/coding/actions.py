"""The write path for the stored NCCI tables: importing one parsed CMS file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, TypeVar

from django.db import IntegrityError, transaction

from handbill.audit.record import record
from handbill.coding.models import EditTableLoad, MueLimitRow, PtpEditRow
from handbill.core.edits import EditFile, MueFile, PtpFile

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Rows built and inserted per round trip: keeps memory flat on a full practitioner file.
CHUNK_SIZE = 5000

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ImportResult:
    load: EditTableLoad
    already_loaded: bool


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def import_edit_file(
    *, parsed: EditFile, at: datetime, by: AbstractBaseUser | None
) -> ImportResult:
    """Store a parsed CMS file: all its rows and an audit row in one transaction, or nothing.

    The same file (same sha256) a second time changes nothing and says so.
    """
    existing = EditTableLoad.objects.filter(sha256=parsed.sha256).first()
    if existing is not None:
        return ImportResult(load=existing, already_loaded=True)
    try:
        with transaction.atomic():
            load = _store(parsed, at=at, by=by)
    except IntegrityError:
        # Another process loaded the same file between our look and our insert.
        existing = EditTableLoad.objects.filter(sha256=parsed.sha256).first()
        if existing is None:
            raise
        return ImportResult(load=existing, already_loaded=True)
    return ImportResult(load=load, already_loaded=False)


def _store(parsed: EditFile, *, at: datetime, by: AbstractBaseUser | None) -> EditTableLoad:
    load = EditTableLoad.objects.create(
        kind=parsed.kind.value,
        program=parsed.program.value,
        file_name=parsed.name[:255],
        sha256=parsed.sha256,
        layout=parsed.layout,
        effective_date=parsed.effective_date,
        effective_date_from=parsed.effective_date_from,
        row_count=len(parsed.rows),
        skipped_lines=parsed.skipped_lines,
        duplicates_resolved=parsed.duplicates_resolved,
        loaded_at=at,
        loaded_by=by if by is not None and by.is_authenticated else None,
    )
    if isinstance(parsed, PtpFile):
        for ptp_chunk in _chunks(parsed.rows, CHUNK_SIZE):
            PtpEditRow.objects.bulk_create(
                PtpEditRow(
                    load_id=load.pk,
                    column1=edit.column1,
                    column2=edit.column2,
                    effective_date=edit.effective_date,
                    deletion_date=edit.deletion_date,
                    modifier_indicator=edit.modifier_indicator.value,
                    rationale=edit.rationale,
                )
                for edit in ptp_chunk
            )
    elif isinstance(parsed, MueFile):
        for mue_chunk in _chunks(parsed.rows, CHUNK_SIZE):
            MueLimitRow.objects.bulk_create(
                MueLimitRow(
                    load_id=load.pk,
                    code=limit.code,
                    units=limit.units,
                    # CMS rows always carry an MAI; only the starter table lacks some.
                    adjudication_indicator=limit.adjudication_indicator.value
                    if limit.adjudication_indicator is not None
                    else "",
                    rationale=limit.rationale,
                    effective_date=limit.effective_date,
                )
                for limit in mue_chunk
            )
    record(
        action="coding.edit_table.import",
        at=at,
        by=by,
        practice=None,
        target=load,
        kind=load.kind,
        program=load.program,
        file_name=load.file_name,
        sha256=load.sha256,
        rows=load.row_count,
        effective_date=load.effective_date.isoformat(),
    )
    return load
