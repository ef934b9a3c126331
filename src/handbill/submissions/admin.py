"""Clearinghouses are setup data a practice owner edits; batches and inbox files are records,
shown read-only (they change only through ``submissions.actions``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from handbill.submissions.models import Clearinghouse, InboxFile, SubmissionBatch


@admin.register(Clearinghouse)
class ClearinghouseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "practice", "transport", "receiver_id", "production", "active")
    list_filter = ("transport", "production", "active")


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SubmissionBatch)
class SubmissionBatchAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "practice", "status", "claim_count", "created_at", "uploaded_at")
    list_filter = ("status",)


@admin.register(InboxFile)
class InboxFileAdmin(ReadOnlyAdmin):
    list_display = ("name", "practice", "kind", "received_at", "processed_at")
    list_filter = ("kind",)
    exclude = ("content",)
