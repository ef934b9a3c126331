from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "handbill.audit"
    label = "audit"
