"""Services in headless Chromium (Debian's): create a postgres service, link it to an
app (its DATABASE_URL on the app's config tab), run a query in its console, export it
and import the file back with the progress bar reaching 100 %, unlink, destroy - and
what a scoped user sees."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.apps.conftest import sim
from tests.chromium import SHOTS, browser_page
from tests.chromium import sign_in as sign_in_as
from tests.web.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    root = tmp_path_factory.mktemp("services-browser")
    # the destroy's safety backup (backups plugin) stays in the sandbox
    running = start_server(root, extra_config=f"\nbackup:\n  backup_dir: {root / 'backups'}\n")
    for app in ("blog", "secret"):
        sim(running.sim, "apps:create", app)
        sim(running.sim, "git:from-image", app, "example/web:1")
    sim(running.sim, "postgres:create", "blog-db")
    sim(running.sim, "postgres:create", "crm-db")
    yield running
    running.stop()


@pytest.fixture
def page(chromium: Any, server: Any) -> Any:
    with browser_page(chromium, server.url, 60000, accept_downloads=True) as page:
        yield page


def sign_in(page: Any, server: Any, username: str) -> None:
    sign_in_as(page, username, server.passwords[username])


def wait_operation(page: Any) -> str:
    page.wait_for_url(re.compile(r"/operations/\w+$|/services/create\?operation=\w+$"))
    finished = ", ".join(f"#op-status.op-{s}" for s in (
        "succeeded", "failed", "cancelled", "timed_out", "interrupted"))
    page.wait_for_selector(finished, timeout=90000)  # the CSP forbids wait_for_function
    return page.locator("#op-status").inner_text()


@pytest.mark.timeout(480)  # a dozen background operations; the shared CI VM is slow under load
def test_create_link_console_export_import_unlink_destroy(page: Any, server: Any,
                                                          tmp_path: Path) -> None:
    sign_in(page, server, "admin")
    page.click("nav >> text=Services")
    page.wait_for_url("**/services")
    page.click("#create-service")
    page.select_option("select[name=type]", "postgres")
    page.fill("input[name=name]", "shop-db")
    page.click("#create-service-form button[type=submit]")
    assert wait_operation(page) == "succeeded"
    expect(page.locator("#op-percent")).to_have_text("100")

    page.goto("/services/postgres/shop-db")
    page.select_option("#link-form select[name=app]", "blog")
    page.click("#link-form button[type=submit]")
    assert wait_operation(page) == "succeeded"
    page.goto("/apps/blog?tab=config")
    expect(page.locator("#config-table")).to_contain_text("DATABASE_URL")

    page.goto("/services/postgres/shop-db")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "service-detail.png"), full_page=True)
    page.click("#open-console")
    page.wait_for_url("**/services/postgres/shop-db/console")
    expect(page.locator("#terminal-status")).to_contain_text("connected")
    page.click("#terminal")
    page.keyboard.type("SELECT 1;\n")
    expect(page.locator(".xterm-rows")).to_contain_text("(1 row)")

    page.goto("/services/postgres/shop-db")
    with page.expect_download() as download:
        page.click("#export-link")
    assert download.value.suggested_filename == "shop-db.dump"
    dump = tmp_path / "shop-db.dump"
    download.value.save_as(dump)
    assert dump.read_bytes().startswith(b"PGDMP")

    page.set_input_files("#import-file", str(dump))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-state")).to_contain_text("100%", timeout=60000)
    expect(page.locator("#import-progress")).to_have_attribute("data-percent", "100")
    expect(page.locator("#import-error")).to_be_hidden()

    page.click("[data-unlink=blog]")
    assert wait_operation(page) == "succeeded"
    page.goto("/services/postgres/shop-db")
    page.click("#destroy-link")
    expect(page.locator("#destroy-linked")).to_have_count(0)
    page.fill("#destroy-form input[name=confirm]", "shop-db")
    page.click("#destroy-form button[type=submit]")
    assert wait_operation(page) == "succeeded"
    page.goto("/services")
    expect(page.locator("#services-table")).not_to_contain_text("shop-db")
    assert list((server.root / "backups").rglob("shop-db_safety.*.dump*")), "no safety export"
    assert page.problems == []


def test_a_scoped_user_sees_only_granted_services(page: Any, server: Any) -> None:
    sign_in(page, server, "alice")  # postgres blog-db, redis *
    page.goto("/services")
    expect(page.locator("#services-table")).to_contain_text("blog-db")
    expect(page.locator("#services-table")).not_to_contain_text("crm-db")
    response = page.goto("/services/postgres/crm-db")
    assert response.status == 403
    response = page.goto("/services/postgres/crm-db/console")
    assert response.status == 403
