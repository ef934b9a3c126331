from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "handbill.followup"
    label = "followup"
    verbose_name = "Follow-up"
