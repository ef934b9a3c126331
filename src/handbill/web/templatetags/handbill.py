"""Template helpers: money, pointers as letters, the header's navigation, htmx availability."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django import template
from django.forms import BoundField
from django.http import HttpRequest

from handbill.core.money import Cents
from handbill.web.navigation import links_for

register = template.Library()

_HTMX = Path(__file__).resolve().parents[1] / "static" / "vendor" / "htmx.min.js"


@cache
def _htmx_present() -> bool:
    # Fetched by dev.py from the npm registry; without it every page still works with full
    # page loads, so the script tag is simply left out.
    return _HTMX.exists()


@register.simple_tag
def htmx_available() -> bool:
    return _htmx_present()


@register.filter
def money(value: Any) -> str:
    """Cents (an int or Cents) as dollars for people: $1,234.50."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Cents):
        return value.display()
    return Cents(int(value)).display()


@register.filter
def letters(pointers: Any) -> str:
    """Diagnosis pointers 1..12 as the claim form's letters A..L."""
    return "".join("ABCDEFGHIJKL"[int(p) - 1] for p in pointers or () if 1 <= int(p) <= 12)


@register.filter
def letter(position: Any) -> str:
    """A diagnosis position 1..12 as its letter A..L."""
    return letters([position])


@register.filter
def joined(values: Any, separator: str = ", ") -> str:
    return separator.join(str(v) for v in values or ())


@register.filter
def described(field: BoundField) -> str:
    """The field's widget, pointing screen readers at its help text and its errors."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    attrs = {"aria-describedby": " ".join(ids)} if ids else None
    return field.as_widget(attrs=attrs)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.inclusion_tag("web/_nav.html", takes_context=True)
def navigation(context: template.Context, menu: str = "main") -> dict[str, Any]:
    request: HttpRequest = context["request"]
    return {"links": links_for(request, menu), "request": request}


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, number: int) -> str:
    """The current list's URL with another page number, keeping its filters."""
    request: HttpRequest = context["request"]
    query = request.GET.copy()
    query["page"] = str(number)
    return "?" + urlencode(sorted(query.items()))


@register.filter
def carc_words(reason: Any) -> str:
    """A claim adjustment reason code's meaning in Handbill's own words."""
    from handbill.web.charts import carc_words as words

    return words(str(reason))
