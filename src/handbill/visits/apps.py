from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "handbill.visits"
    label = "visits"
