"""Where the current request came from, for every audit row written while it runs.

The web's :class:`~handbill.audit.middleware.AuditMiddleware` sets it once per request, so
actions (which know nothing of requests) still record the source address. Outside a
request (the command line, a job) there is none, and the rows say so by leaving it empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    address: str | None
    channel: str  # web, api or cli


_current: ContextVar[Source | None] = ContextVar("handbill_audit_source", default=None)


def current_source() -> Source | None:
    return _current.get()


@contextmanager
def audit_source(address: str | None, channel: str) -> Iterator[Source]:
    source = Source(address, channel)
    token = _current.set(source)
    try:
        yield source
    finally:
        _current.reset(token)
