from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "handbill.practice"
    label = "practice"
