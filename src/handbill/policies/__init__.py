"""Stored, versioned payer policies: the editable copy of the rules in handbill.core.policy."""
