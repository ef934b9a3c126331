from __future__ import annotations

from django.contrib import admin

from handbill.patients.models import Authorization, Coverage, Patient


class CoverageInline(admin.StackedInline):  # type: ignore[type-arg]
    model = Coverage
    extra = 0


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "account_number", "birth_date", "practice")
    search_fields = ("last_name", "first_name", "account_number")
    list_filter = ("practice",)
    inlines = [CoverageInline]


@admin.register(Authorization)
class AuthorizationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "coverage", "kind", "visits_allowed", "start_date", "end_date")
    list_filter = ("kind", "practice")
