from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "handbill.ledger"
    label = "ledger"
    verbose_name = "Ledger"
