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
