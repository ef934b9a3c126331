"""Shared test setup. Tests that touch the database ask for it (``db`` fixture or mark)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

# A fixed, timezone-aware "now" for tests: time is an input, never read from the clock.
FIXED_NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW
