"""The append-only audit trail: who did what to which record, and when."""
from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "handbill.audit"
    label = "audit"

    def ready(self) -> None:
        from django.apps import apps

        from handbill.audit import signals  # noqa: F401 - connects the sign-in receivers

        if not apps.is_installed("axes"):  # no lockouts to record
            return
        from axes.signals import user_locked_out

        user_locked_out.connect(signals.locked_out, dispatch_uid="handbill-audit-lockout")
