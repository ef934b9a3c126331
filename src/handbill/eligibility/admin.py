"""Eligibility checks are records: shown read-only (they change only through
``eligibility.actions``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from handbill.eligibility.models import EligibilityCheck


@admin.register(EligibilityCheck)
class EligibilityCheckAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("patient", "coverage", "service_date", "status", "sandbox", "created_at",
                    "answered_at")
    list_filter = ("status", "sandbox")
    search_fields = ("trace_number", "patient__last_name", "coverage__member_id")
    exclude = ("request_270", "response_271")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
