"""Our side of the match: the practice's claims as the posting planner takes them.

Plain SQL on purpose: a remittance of 10,000 claims names 10,000 claims and 37,000 lines, and
the ORM's per-row work would cost more than the planning itself.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import connection

from handbill.claims.models import Claim, ClaimLine
from handbill.core.money import Cents
from handbill.core.posting_plan import OurClaim, OurLine
from handbill.practice.models import Payer, Practice
from handbill.remittance.reading import ReadPayment

# Ids per IN (...) query: within SQLite's limit on bound parameters.
BATCH = 900


def chunks(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def in_groups(values: Sequence[Any]) -> Iterable[tuple[str, list[Any]]]:
    """(SQL condition placeholder, parameters) covering ``values``: one array on PostgreSQL,
    chunks of IN lists within SQLite's parameter limit."""
    if connection.vendor == "postgresql":
        yield "= ANY(%s)", [list(values)]
        return
    for chunk in chunks(values):
        yield f"IN ({', '.join(['%s'] * len(chunk))})", list(chunk)


def our_claims(
    practice: Practice, numbers: Iterable[str], payer_numbers: Iterable[str] = (),
    *, lock: bool = False,
) -> list[OurClaim]:
    """The practice's claims named by CLP01 (``numbers``) or by a PLB reference, with lines;
    locked (PostgreSQL) with ``lock``, so nothing moves them between planning and posting."""
    qn = connection.ops.quote_name
    claim_table, line_table = qn(Claim._meta.db_table), qn(ClaimLine._meta.db_table)
    patient_table = qn(Claim._meta.get_field("patient").related_model._meta.db_table)
    # Locks the claims (PostgreSQL) so nothing moves them between planning and posting.
    suffix = " FOR UPDATE OF c" if lock and connection.vendor == "postgresql" else ""
    select = (f"SELECT c.id, c.number, c.status, c.payer_id, p.account_number, "  # noqa: S608
              f"c.date_of_service FROM {claim_table} c JOIN {patient_table} p "
              f"ON p.id = c.patient_id WHERE c.practice_id = %s AND ")
    rows: dict[int, tuple[Any, ...]] = {}
    with connection.cursor() as cursor:
        for column, values in (("c.number", sorted(set(numbers))),
                               ("c.payer_claim_number", sorted(set(payer_numbers))),
                               ("c.number", sorted(set(payer_numbers)))):
            for condition, params in in_groups(values) if values else ():
                cursor.execute(f"{select}{column} {condition}{suffix}", [practice.pk, *params])
                for row in cursor.fetchall():
                    rows[row[0]] = row
        lines: dict[int, list[OurLine]] = defaultdict(list)
        for condition, params in in_groups(sorted(rows)) if rows else ():
            cursor.execute(
                f"SELECT id, claim_id, control_number, code, modifiers, units, "  # noqa: S608
                f"charge_cents FROM {line_table} WHERE claim_id {condition} "
                f"ORDER BY claim_id, number", params)
            for pk, claim_id, control, code, modifiers, units, charge in cursor.fetchall():
                if isinstance(modifiers, str):
                    modifiers = json.loads(modifiers)
                day = rows[claim_id][5]
                lines[claim_id].append(OurLine(
                    pk, control, code, tuple(modifiers), units, Cents(charge),
                    date.fromisoformat(day) if isinstance(day, str) else day))
    return [
        OurClaim(pk, number, status, account, payer_id, tuple(lines[pk]))
        for pk, (_pk, number, status, payer_id, account, _day) in rows.items()
    ]


def resolve_payer(practice: Practice, payment: ReadPayment) -> Payer | None:
    """The practice's payer the file names (REF*2U, N1*PR id, TRN03), else the one payer of
    every claim the file pays."""
    if payment.payer_ids:
        found = {p.payer_id: p for p in Payer.objects.filter(
            practice=practice, payer_id__in=list(payment.payer_ids))}
        for identifier in payment.payer_ids:
            if identifier in found:
                return found[identifier]
    numbers = sorted({c.claim_id for c in payment.remit.claims})
    payer_ids: set[int] = set()
    for chunk in chunks(numbers):
        payer_ids.update(
            Claim.objects.filter(practice=practice, number__in=chunk, payer__isnull=False)
            .values_list("payer_id", flat=True).distinct())
    if len(payer_ids) == 1:
        return Payer.objects.get(pk=payer_ids.pop())
    return None
