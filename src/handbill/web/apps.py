from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "handbill.web"
    label = "web"
