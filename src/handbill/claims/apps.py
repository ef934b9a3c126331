from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "handbill.claims"
    label = "claims"
