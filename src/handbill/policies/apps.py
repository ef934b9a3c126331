from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "handbill.policies"
    label = "policies"
    verbose_name = "Payer policies"
