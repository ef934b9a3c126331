from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "handbill.patients"
    label = "patients"
