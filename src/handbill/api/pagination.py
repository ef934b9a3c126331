"""limit/offset pages: ``{"count": n, "next": url|null, "previous": url|null, "results": […]}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Far beyond any practice's row count, but small enough for every database's OFFSET.
MAX_OFFSET = 10_000_000


class Paging(Schema):
    """The query parameters of every list (``paging: Query[Paging]``)."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PageMeta(Schema):
    count: int
    next: str | None
    previous: str | None


def _url(request: HttpRequest, offset: int, limit: int) -> str:
    query = request.GET.copy()
    query["offset"] = str(offset)
    query["limit"] = str(limit)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def page(
    request: HttpRequest,
    items: QuerySet[Any] | Sequence[Any],
    paging: Paging,
    *,
    convert: Callable[[Any], Any] = lambda row: row,
) -> dict[str, Any]:
    limit, offset = paging.limit, paging.offset
    count = len(items) if isinstance(items, Sequence) else items.count()
    rows = list(items[offset : offset + limit])
    following = offset + limit
    return {
        "count": count,
        "next": _url(request, following, limit) if following < count else None,
        "previous": _url(request, max(0, offset - limit), limit) if offset > 0 else None,
        "results": [convert(row) for row in rows],
    }
