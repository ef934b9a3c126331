from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "handbill.submissions"
    label = "submissions"
