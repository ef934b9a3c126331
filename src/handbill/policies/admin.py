"""Admin pages for stored payer policies.

A version is never changed in place: saving the change form stores a new version from the
form's effective date through the same action as every other edit.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from handbill.policies.actions import save_policy_version
from handbill.policies.forms import PolicyVersionForm
from handbill.policies.models import PayerPolicyVersion

_COPIED = ("id", "practice_id", "effective_date", "end_date", "rules", "source", "created_at",
           "created_by_id")


@admin.register(PayerPolicyVersion)
class PayerPolicyVersionAdmin(admin.ModelAdmin):
    form = PolicyVersionForm
    list_display = ("payer", "practice", "effective_date", "end_date", "source", "created_at")
    list_filter = ("practice", "payer")
    list_select_related = ("payer", "practice")
    ordering = ("practice", "payer__name", "effective_date")
    readonly_fields = ("practice", "end_date", "source", "created_at", "created_by")

    def get_readonly_fields(
        self, request: HttpRequest, obj: PayerPolicyVersion | None = None
    ) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        return ("payer", *fields) if obj is not None else fields

    def has_delete_permission(
        self, request: HttpRequest, obj: PayerPolicyVersion | None = None
    ) -> bool:
        return False  # claims may have been billed under any stored version

    def save_model(
        self, request: HttpRequest, obj: PayerPolicyVersion, form: Any, change: bool
    ) -> None:
        if change and not form.has_changed():
            return
        user = request.user if request.user.is_authenticated else None
        version = save_policy_version(
            payer=obj.payer,
            rules=form.cleaned_data["rules"],
            effective_date=form.cleaned_data["effective_date"],
            by=user,
            at=timezone.now(),
        )
        # The admin goes on to log and redirect to ``obj``: point it at the stored version.
        for name in _COPIED:
            setattr(obj, name, getattr(version, name))
        if change:
            messages.info(
                request,
                f"Saved as a new version from {version.effective_date}; the earlier version "
                "keeps its rules.",
            )
