"""Read-only views of the ledger: money moves only through handbill.ledger.posting."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from handbill.ledger.models import Account, LedgerTransaction, Leg


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LegInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Leg
    fields = ["account", "debit_cents", "credit_cents", "claim_ref", "line_ref", "patient_ref"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "payer", "normal_side", "practice"]
    list_filter = ["kind", "practice"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "effective_date", "memo", "practice", "occurred_at"]
    list_filter = ["kind", "practice"]
    search_fields = ["memo", "source_id", "idempotency_key", "legs__claim_ref"]
    date_hierarchy = "effective_date"
    inlines = [LegInline]
