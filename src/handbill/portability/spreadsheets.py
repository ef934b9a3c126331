"""CSV copies of the tables a biller opens in a spreadsheet.

These are for reading, not for import (the JSON Lines files are the export's record): names
and numbers instead of ids, money as dollars with two decimals.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import models

from handbill.core.money import Cents


@dataclass(frozen=True)
class Column:
    header: str
    lookup: str
    money: bool = False


@dataclass(frozen=True)
class Sheet:
    file_name: str
    model: str
    practice_lookup: str
    columns: tuple[Column, ...]
    order_by: tuple[str, ...]


def _c(header: str, lookup: str | None = None, *, money: bool = False) -> Column:
    return Column(header, lookup or header, money)


SHEETS: tuple[Sheet, ...] = (
    Sheet("patients.csv", "patients.patient", "practice", (
        _c("account_number"), _c("last_name"), _c("first_name"), _c("middle_initial"),
        _c("birth_date"), _c("sex"), _c("address_line1"), _c("address_line2"), _c("city"),
        _c("state"), _c("postal_code"), _c("phone"), _c("email"), _c("created_at"),
    ), ("account_number",)),
    Sheet("claims.csv", "claims.claim", "practice", (
        _c("claim_number", "number"), _c("status"), _c("frequency"), _c("date_of_service"),
        _c("patient_account", "patient__account_number"),
        _c("patient_last_name", "patient__last_name"),
        _c("patient_first_name", "patient__first_name"),
        _c("provider_npi", "provider__npi"), _c("provider_last_name", "provider__last_name"),
        _c("payer", "payer__name"), _c("payer_id", "payer__payer_id"),
        _c("member_id", "coverage__member_id"), _c("place_of_service"), _c("diagnoses"),
        _c("total_charge", "total_charge_cents", money=True), _c("payer_claim_number"),
        _c("replaces", "replaces__number"), _c("created_at"),
    ), ("number",)),
    Sheet("claim_lines.csv", "claims.claimline", "claim__practice", (
        _c("claim_number", "claim__number"), _c("line", "number"), _c("code"), _c("modifiers"),
        _c("units"), _c("minutes"), _c("pointers"), _c("charge", "charge_cents", money=True),
        _c("control_number"), _c("body_region"),
    ), ("claim__number", "number")),
    Sheet("payments.csv", "remittance.claimpayment", "practice", (
        _c("payment_date", "era__payment_date"), _c("trace_number", "era__trace_number"),
        _c("payer", "era__payer_name"), _c("era_status", "era__status"),
        _c("patient_control_number"), _c("claim_number", "claim__number"),
        _c("claim_status_code", "status_code"), _c("charge", "charge_cents", money=True),
        _c("paid", "paid_cents", money=True),
        _c("patient_responsibility", "patient_responsibility_cents", money=True),
        _c("payer_claim_number"), _c("outcome"),
    ), ("era__payment_date", "era__trace_number", "position")),
    Sheet("ledger.csv", "ledger.leg", "practice", (
        _c("transaction", "transaction_id"), _c("effective_date", "transaction__effective_date"),
        _c("recorded_at", "transaction__occurred_at"), _c("kind", "transaction__kind"),
        _c("memo", "transaction__memo"), _c("account", "account__name"),
        _c("account_kind", "account__kind"), _c("debit", "debit_cents", money=True),
        _c("credit", "credit_cents", money=True), _c("claim", "claim_ref"),
        _c("line", "line_ref"), _c("patient", "patient_ref"),
    ), ("transaction__effective_date", "transaction_id", "id")),
)


def _cell(value: Any, money: bool) -> Any:
    if value is None:
        return ""
    if money:
        return Cents(int(value)).to_decimal_string()
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def rows_of(sheet: Sheet, practice: models.Model) -> Iterator[list[Any]]:
    from django.apps import apps

    model = apps.get_model(sheet.model)
    lookups = [c.lookup for c in sheet.columns]
    query = (model.objects.filter(**{sheet.practice_lookup: practice})
             .order_by(*sheet.order_by).values_list(*lookups))
    for values in query.iterator(chunk_size=2000):
        yield [_cell(v, c.money) for v, c in zip(values, sheet.columns, strict=True)]


def write_sheet(sheet: Sheet, practice: models.Model, path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.header for c in sheet.columns])
        for row in rows_of(sheet, practice):
            writer.writerow(row)
            count += 1
    return count
