"""Shared test setup. Tests that touch the database ask for it (``db`` fixture or mark)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

# A fixed, timezone-aware "now" for tests: time is an input, never read from the clock.
FIXED_NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashing() -> None:
    """Django's default hasher is slow on purpose (about half a second per password here);
    the suite makes hundreds of users, so it hashes with a fast algorithm instead. Sign-in,
    validation and lockout behave the same; only the cost of a hash changes."""
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()


@pytest.fixture(autouse=True, scope="session")
def _audit_guard_lifts_only_for_the_flush() -> None:
    """The audit table refuses DELETE and TRUNCATE (audit migration 0003). Tests that use real
    transactions (``transactional_db``, the live server) are cleaned by Django's flush, which
    empties every table: for that one statement list, and only here, the guard's triggers are
    dropped before the emptying and created again after it, in the flush's own transaction."""
    import importlib

    guard = importlib.import_module("handbill.audit.migrations.0003_append_only_guard")
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):  # type: ignore[no-untyped-def]
        vendor = self.connection.vendor
        statements = type(self)._handbill_plain_flush(  # type: ignore[attr-defined]
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if "audit_auditevent" not in tables or vendor not in guard.FORWARD:
            return statements
        return [*guard.BACKWARD[vendor], *statements, *guard.FORWARD[vendor]]

    from django.db import connections

    for alias in connections:
        ops_class = type(connections[alias].ops)
        if not hasattr(ops_class, "_handbill_plain_flush"):
            ops_class._handbill_plain_flush = ops_class.sql_flush  # type: ignore[attr-defined]
            ops_class.sql_flush = sql_flush  # type: ignore[method-assign]
