"""Read-only views of claims: they change only through the claim actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from handbill.claims.models import Claim, ClaimEvent, ClaimFinding, ClaimLine


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LineInline(ReadOnlyInline):
    model = ClaimLine


class FindingInline(ReadOnlyInline):
    model = ClaimFinding


class EventInline(ReadOnlyInline):
    model = ClaimEvent


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "number",
        "practice",
        "patient",
        "payer",
        "date_of_service",
        "status",
        "total_charge_cents",
    )
    list_filter = ("status", "practice", "payer")
    search_fields = ("number", "patient__last_name")
    inlines = [LineInline, FindingInline, EventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
