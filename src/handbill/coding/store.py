"""Reading the stored NCCI tables back as the pure core's :class:`EditTables`.

Precedence, newest knowledge first:

1. Among imported CMS files, a pair's rows come from the newest file that holds the pair (by
   the file's effective quarter, then by load order). A quarterly PTP file repeats every
   earlier edit with its dates, so the newest file also answers for past dates of service;
   mixing files would let an old "still in force" row outlive its later deletion.
2. MUE limits apply from their file's effective date until a later file's limit starts.
3. Handbill's starter table fills in only pairs and codes no imported file mentions
   (:meth:`EditTables.merge`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from handbill.coding.models import EditKind, EditTableLoad, MueLimitRow, PtpEditRow
from handbill.core.edits import (
    AdjudicationIndicator,
    Confidence,
    EditTables,
    ModifierIndicator,
    MueLimit,
    Program,
    PtpEdit,
    starter_tables,
)


def find_load(sha256: str) -> EditTableLoad | None:
    return EditTableLoad.objects.filter(sha256=sha256).first()


def loaded_counts(program: Program = Program.MEDICARE) -> dict[str, int]:
    """How many files of each kind are loaded for ``program``."""
    loads = EditTableLoad.objects.filter(program=program.value)
    return {kind: loads.filter(kind=kind).count() for kind in EditKind.values}


def imported_tables(
    *, codes: Iterable[str] | None = None, program: Program = Program.MEDICARE
) -> EditTables:
    """Every imported row (for ``codes`` only, when given), newest file per pair."""
    wanted = sorted(set(codes)) if codes is not None else None
    ptp_query = PtpEditRow.objects.filter(load__program=program.value)
    mue_query = MueLimitRow.objects.filter(load__program=program.value)
    if wanted is not None:
        ptp_query = ptp_query.filter(column1__in=wanted, column2__in=wanted)
        mue_query = mue_query.filter(code__in=wanted)

    newest: dict[tuple[str, str], tuple[tuple[date, int], list[PtpEdit]]] = {}
    for c1, c2, effective, deletion, indicator, rationale, load_id, load_date, file_name in (
        ptp_query.values_list(
            "column1", "column2", "effective_date", "deletion_date", "modifier_indicator",
            "rationale", "load_id", "load__effective_date", "load__file_name",
        ).iterator(chunk_size=5000)
    ):
        rank = (load_date, load_id)
        held = newest.get((c1, c2))
        if held is not None and held[0] > rank:
            continue
        edit = PtpEdit(
            column1=c1, column2=c2, effective_date=effective, deletion_date=deletion,
            modifier_indicator=ModifierIndicator(indicator), rationale=rationale,
            source=f"CMS file {file_name}", confidence=Confidence.VERIFIED,
        )
        if held is not None and held[0] == rank:
            held[1].append(edit)
        else:
            newest[(c1, c2)] = (rank, [edit])

    mue = [
        MueLimit(
            code=code, units=units, adjudication_indicator=AdjudicationIndicator(indicator),
            rationale=rationale, effective_date=effective, source=f"CMS file {file_name}",
            confidence=Confidence.VERIFIED,
        )
        # Oldest first: among limits starting the same day, the later-loaded file wins.
        for code, units, indicator, rationale, effective, file_name in mue_query.order_by(
            "effective_date", "load_id"
        ).values_list(
            "code", "units", "adjudication_indicator", "rationale", "effective_date",
            "load__file_name",
        ).iterator(chunk_size=5000)
    ]
    ptp = [edit for _rank, rows in newest.values() for edit in rows]
    return EditTables(ptp, mue)


def load_tables(
    as_of: date,
    *,
    codes: Iterable[str] | None = None,
    program: Program = Program.MEDICARE,
    include_starter: bool = True,
) -> EditTables:
    """The PTP edits and MUE limits in force on ``as_of``: imported CMS rows merged over the
    starter table. Pass the billed ``codes`` to read only the rows that can matter; without
    them every stored row is read, which for full practitioner files is a lot of memory."""
    wanted = set(codes) if codes is not None else None
    imported = imported_tables(codes=wanted, program=program)
    starter = starter_tables() if include_starter else EditTables()
    if wanted is not None:
        starter = starter.for_codes(wanted)
    return EditTables.merge(starter, imported).in_force_on(as_of)
