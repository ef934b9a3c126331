from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "handbill.eligibility"
    label = "eligibility"
    verbose_name = "Eligibility checks"
