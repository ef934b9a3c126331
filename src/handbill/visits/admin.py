from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from handbill.visits.models import Addendum, ServiceEntry, Visit, VisitDiagnosis


class DiagnosisInline(admin.TabularInline):  # type: ignore[type-arg]
    model = VisitDiagnosis
    extra = 0


class ServiceInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ServiceEntry
    extra = 0


class AddendumInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Addendum
    extra = 0


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "provider", "practice", "signed_at")
    list_filter = ("practice", "provider")
    inlines = [DiagnosisInline, ServiceInline, AddendumInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Signed notes are locked; notes are written in Handbill's note page.
        return obj is None or not obj.signed
