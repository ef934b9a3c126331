"""Printed documents: CMS-1500, superbill, statement, appeal letter (pure)."""
