"""Backups in headless Chromium: run a backup now, see it on /backups, verify it, restore it
into a new service with the progress bar (fed by the WebSocket) reaching 100 %."""

from __future__ import annotations

from typing import Any

import pytest

from tests.backups.conftest import sim
from tests.backups.web.conftest import backups_server
from tests.browser import test_apps_browser as apps_browser
from tests.chromium import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# pytest finds fixtures by their name in this module: the apps tests' Chromium page
page = apps_browser.page
sign_in = apps_browser.sign_in


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    running = backups_server(tmp_path_factory.mktemp("backups-browser"))
    yield running
    running.stop()


def finished(page: Any) -> str:
    page.wait_for_url("**/backups/operations/*")
    page.wait_for_selector("#op-status.op-succeeded, #op-status.op-failed", timeout=60000)
    return page.locator("#op-status").inner_text()


def test_run_now_verify_and_restore_into_a_new_service(page: Any, server: Any) -> None:
    sign_in(page, server, "admin")
    page.click("nav >> a[href='/backups']")
    page.wait_for_url("**/backups")
    row = page.locator("#service-postgres-blog-db")
    assert "stale" in (row.get_attribute("class") or "")  # never backed up: red
    row.locator("button[data-run='postgres:blog-db']").click()
    assert finished(page) == "succeeded"
    page.click("a:has-text('← Backups')")
    assert "stale" not in (page.locator("#service-postgres-blog-db").get_attribute("class")
                           or "")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "backups-list.png"), full_page=True)
    backup = page.locator("#backup-list tbody tr").first
    assert "blog-db" in backup.inner_text() and "good" in backup.inner_text()
    backup.locator("button:has-text('Verify')").click()
    page.wait_for_selector(".flash-success")
    assert "verified" in page.locator(".flash-success").inner_text()
    page.locator("#backup-list tbody tr").first.locator("a:has-text('Restore')").click()
    page.wait_for_url("**/restore")
    page.check("#restore-new")
    page.fill("#restore-into", "blog-db-check")
    page.fill("#restore-confirm", "blog-db")
    page.click("#restore-form button[type=submit]")
    assert finished(page) == "succeeded"
    page.wait_for_selector("#op-done:not([hidden])")
    assert page.locator("#op-progress").evaluate("el => el.value") == 100
    assert page.locator("#op-percent").inner_text() == "100"
    assert page.locator("#op-steps li.step-running").count() == 0
    page.screenshot(path=str(SHOTS / "backups-restore.png"), full_page=True)
    query = b"SELECT count(*) FROM posts;\n"
    assert sim(server.sim, "postgres:connect", "blog-db-check", stdin=query) == sim(
        server.sim, "postgres:connect", "blog-db", stdin=query)
    assert page.problems == []


def test_wrong_confirmation_is_refused_in_the_form(page: Any, server: Any) -> None:
    sign_in(page, server, "admin")
    page.goto("/backups")
    page.locator("#backup-list tbody tr").first.locator("a:has-text('Restore')").click()
    page.fill("#restore-confirm", "not-it")
    page.click("#restore-form button[type=submit]")
    page.wait_for_selector(".flash-error")
    assert "type the service name (blog-db) exactly" in page.locator(".flash-error").inner_text()
    assert page.locator("#restore-form").count() == 1
