"""Thin views, one module per area: each reads the request, makes one action or query call,
and renders (a fragment for htmx). Practice pages are wrapped in ``practice_view``."""
