"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live
server.

``python3 dev.py test`` installs Chromium (apt) when it is missing and it runs as root; where
it cannot be installed these tests skip, saying why. Screenshots of the main pages are written
to ``docs/tour/`` on every run (the README's tour).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

CHROMIUM = Path("/usr/bin/chromium")
TOUR = Path(__file__).resolve().parents[2] / "docs" / "tour"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package", autouse=True)
def orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an event loop running in this thread while the browser is
    open, and Django refuses ORM calls under a running loop as if they came from async code.
    The allowance lasts only while the browser tests run: the rest of the suite (and any
    process it starts) sees the environment as it was."""
    before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    yield
    if before is None:
        os.environ.pop(ASYNC_UNSAFE, None)
    else:
        os.environ[ASYNC_UNSAFE] = before


@pytest.fixture(scope="package")
def browser(orm_beside_playwright: None) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (/usr/bin/chromium); `python3 dev.py test` "
            "installs it with apt-get when run as root"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def shoot(page: Any, name: str, *, full_page: bool = True, from_top: bool = True) -> Path:
    """Save a screenshot for the tour (overwritten on every run)."""
    TOUR.mkdir(parents=True, exist_ok=True)
    path = TOUR / f"{name}.png"
    if from_top:  # so sticky panels sit where a reader first sees them
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/sign-in/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/today/")


def sign_out(page: Any) -> None:
    # Sign out is in the account menu (a <details>): open it as a user would.
    page.locator("details.account-menu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")
