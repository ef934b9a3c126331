from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "handbill.api"
    label = "api"
