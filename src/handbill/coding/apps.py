from django.apps import AppConfig


class CodingConfig(AppConfig):
    name = "handbill.coding"
    label = "coding"
