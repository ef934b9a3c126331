"""Read-only admin for the stored NCCI tables.

Loads arrive only through ``handbill edits import``, which checks the file, writes every row
in one transaction and leaves an audit row; editing a row here would break that record.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from handbill.coding.models import EditTableLoad, MueLimitRow, PtpEditRow


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EditTableLoad)
class EditTableLoadAdmin(ReadOnlyAdmin):
    list_display = (
        "file_name", "kind", "program", "effective_date", "row_count", "duplicates_resolved",
        "loaded_at", "loaded_by",
    )
    list_filter = ("kind", "program", "effective_date")
    search_fields = ("file_name", "sha256")
    date_hierarchy = "loaded_at"


@admin.register(PtpEditRow)
class PtpEditRowAdmin(ReadOnlyAdmin):
    list_display = (
        "column1", "column2", "modifier_indicator", "effective_date", "deletion_date", "load",
    )
    list_filter = ("modifier_indicator", "load__program")
    search_fields = ("column1", "column2")
    list_select_related = ("load",)
    show_full_result_count = False  # a full practitioner file has a great many rows


@admin.register(MueLimitRow)
class MueLimitRowAdmin(ReadOnlyAdmin):
    list_display = ("code", "units", "adjudication_indicator", "effective_date", "load")
    list_filter = ("adjudication_indicator", "load__program")
    search_fields = ("code",)
    list_select_related = ("load",)
    show_full_result_count = False
