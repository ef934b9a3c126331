"""The header's navigation, by role.

A page that belongs in the header adds one ``NavItem`` here; the header shows it only to roles
whose permission (from ``PERMISSIONS``) allows it, and marks it current when the path starts
with its ``section``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str
    section: str  # path prefix that marks the item current, e.g. "/patients/"
    staff_only: bool = False  # Django's admin also wants is_staff


NAVIGATION: list[NavItem] = [
    NavItem("Today", "web:home", "view", "/today/"),
    NavItem("Patients", "web:patients", "view", "/patients/"),
    NavItem("Notes", "web:visits", "view", "/visits/"),
    NavItem("Claims", "web:claims", "view", "/claims/"),
    NavItem("Submit", "web:submit", "bill", "/submit/"),
    NavItem("Remittances", "web:remittances", "view", "/remittances/"),
    NavItem("Payers", "web:payers", "view", "/payers/"),
    NavItem("Queues", "web:queues", "bill", "/queues/"),
    NavItem("Reports", "web:reports", "bill", "/reports/"),
    NavItem("Units", "web:units", "view", "/tools/"),
    NavItem("Setup", "admin:index", "administer", "/admin/", staff_only=True),
    NavItem("API tokens", "web:api_tokens", "view", "/account/tokens/"),
    NavItem("Audit", "web:audit", "view_audit", "/audit/"),
    NavItem("Security", "web:practice_security", "administer", "/practice/security/"),
]


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool


def links_for(request: HttpRequest) -> list[NavLink]:
    allowed: frozenset[str] = getattr(request, "can", frozenset())
    links = []
    for item in NAVIGATION:
        if item.permission not in allowed:
            continue
        if item.staff_only and not getattr(request.user, "is_staff", False):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # a page registered before its URL exists
            continue
        current = request.path.startswith(item.section) or (
            item.url_name == "web:home" and request.path == "/"
        )
        links.append(NavLink(item.label, url, current))
    return links
