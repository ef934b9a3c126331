from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "handbill.remittance"
    label = "remittance"
