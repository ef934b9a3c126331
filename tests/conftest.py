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
