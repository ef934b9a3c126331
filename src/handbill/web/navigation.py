"""The header's navigation, by role.

A page that belongs in the header adds one ``NavItem`` here; the header shows it only to roles
whose permission (from ``PERMISSIONS``) allows it, and marks it current when the path starts
with its ``section``.

Two menus: ``main``, the day's work, in the header bar; ``account``, the pages an owner or
auditor opens now and then (tokens, audit, security, setup), behind the account button so the
bar fits a tablet.
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
    menu: str = "main"  # or "account"


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
    NavItem("API tokens", "web:api_tokens", "view", "/account/tokens/", menu="account"),
    NavItem("Audit", "web:audit", "view_audit", "/audit/", menu="account"),
    NavItem("Security", "web:practice_security", "administer", "/practice/security/",
            menu="account"),
    NavItem("Setup", "admin:index", "administer", "/admin/", staff_only=True, menu="account"),
]


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool


def links_for(request: HttpRequest, menu: str = "main") -> list[NavLink]:
    allowed: frozenset[str] = getattr(request, "can", frozenset())
    links = []
    for item in NAVIGATION:
        if item.menu != menu or item.permission not in allowed:
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
