"""/docker and the dashboard's metrics in headless Chromium (Debian's), against real gunicorn:
restart a container and see its state change, live container logs, the CPU chart."""

from __future__ import annotations

from typing import Any

import pytest

from pruvon_testing.sim import containers, dockerobjects
from pruvon_testing.sim.core import SimState
from tests.apps.conftest import sim
from tests.browser import test_apps_browser as apps_browser
from tests.chromium import SHOTS
from tests.web.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
page = apps_browser.page  # the fixture (Chromium page on this module's server), shared
sign_in = apps_browser.sign_in


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    running = start_server(tmp_path_factory.mktemp("docker-browser"))
    sim(running.sim, "apps:create", "blog")
    sim(running.sim, "git:from-image", "blog", "example/web:1")
    dockerobjects.seed_examples(SimState(running.sim))
    yield running
    running.stop()


def state_cell(page: Any, name: str) -> Any:
    return page.locator(f"tr[data-container='{name}'] [data-state]")


def test_stop_then_restart_a_container_and_see_its_state(page: Any, server: Any) -> None:
    sign_in(page, server, "admin")
    page.click("nav a[href='/docker']")
    page.wait_for_url("**/docker")
    assert page.locator("#containers-table tbody tr").count() == 3  # blog.web.1, redis, worker
    assert "blog" in page.locator("tr[data-container='blog.web.1']").inner_text()
    assert state_cell(page, "redis-cache").inner_text() == "running"
    page.click("button[aria-label='stop redis-cache']")
    page.wait_for_selector(".flash-success")
    assert state_cell(page, "redis-cache").inner_text() == "exited"
    page.click("button[aria-label='start redis-cache']")
    page.wait_for_selector(".flash-success")
    assert state_cell(page, "redis-cache").inner_text() == "running"
    before = containers.find(SimState(server.sim), "redis-cache").started_at
    page.click("button[aria-label='restart redis-cache']")
    page.wait_for_selector(".flash-success")
    assert state_cell(page, "redis-cache").inner_text() == "running"
    assert containers.find(SimState(server.sim), "redis-cache").started_at != before
    assert page.locator("#volumes .pill.unused").count() >= 1
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "docker.png"), full_page=True)
    assert page.problems == []


def test_live_logs_of_a_container(page: Any, server: Any) -> None:
    state = SimState(server.sim)
    found = containers.find(state, "redis-cache")
    containers.append_log(state, found.id, "Ready to accept connections tcp")
    sign_in(page, server, "admin")
    page.goto("/docker")
    page.click("a[aria-label='logs of redis-cache']")
    page.wait_for_selector("#logs-output:has-text('Ready to accept connections')")
    containers.append_log(state, found.id, "Background saving started", stream="stderr")
    page.wait_for_selector("#logs-output:has-text('Background saving started')")
    assert page.locator("#logs-status").inner_text() == "live"


def test_dashboard_shows_the_cpu_chart(page: Any, server: Any) -> None:
    sign_in(page, server, "admin")
    page.goto("/")
    chart = page.locator("svg#cpu-chart")
    chart.wait_for()
    assert chart.get_attribute("role") == "img"
    assert "CPU" in chart.locator("title").text_content()
    for other in ("load-chart", "memory-chart", "disk-chart"):
        assert page.locator(f"svg#{other}").count() == 1
    assert page.locator("#host-metrics").inner_text().count("%") >= 2
    page.screenshot(path=str(SHOTS / "dashboard-metrics.png"), full_page=True)
    assert page.problems == []
