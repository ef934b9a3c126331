"""The double-entry ledger: every money event is a balanced, append-only transaction in cents."""
