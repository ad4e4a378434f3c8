"""Debian's headless Chromium for the browser tests (never ``playwright install``).

``make test`` installs the ``chromium`` package when run as root and sets
``PRUVON_REQUIRE_BROWSER=1``, so a missing browser fails the run there instead
of silently skipping the browser tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parent / "browser" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def launched() -> Iterator[Any]:
    """A Playwright browser on /usr/bin/chromium, closed on exit."""
    if not CHROMIUM.exists():
        message = "Debian chromium is not installed (make deps installs it)"
        if os.environ.get("PRUVON_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(chromium: Any, base_url: str, timeout_ms: int = 20000,
                 **context_args: Any) -> Iterator[Any]:
    """A fresh context and page on ``base_url``, closed on exit.

    The page's console errors are collected in ``page.problems``: a test can
    assert that a page it drove logged none (a CSP violation, a failed fetch).
    """
    context = chromium.new_context(base_url=base_url, viewport={"width": 1280, "height": 800},
                                   **context_args)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.problems = problems
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Any, username: str, password: str, wait: bool = True) -> None:
    """Sign in through the login form; with ``wait``, until the login page is left."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    if wait:
        page.wait_for_url(lambda url: "/login" not in url)
