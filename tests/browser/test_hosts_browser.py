"""Several hosts in headless Chromium: switch hosts, open an app on the second host, and a
user scoped to one host - against hosts behind real sshd and a real gunicorn server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.fixtures_sim import DokkuSim
from pruvon_testing.fixtures_ssh import SSHD, SshDokkuHost, keygen
from tests.apps.conftest import sim
from tests.browser.test_apps_browser import page, sign_in  # noqa: F401 - page: a fixture
from tests.chromium import SHOTS
from tests.hosts.conftest import record_keys
from tests.web.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    if not Path(SSHD).exists() or shutil.which("ssh") is None:
        pytest.skip("OpenSSH server/client not installed (Debian: openssh-server)")
    base = tmp_path_factory.mktemp("hosts-browser")
    key = keygen(base / "id_ed25519")
    remote = [SshDokkuHost(name, base / name, key).start() for name in ("h1", "h2")]
    remote[0].sim.check("apps:create", "blog")
    remote[1].sim.check("apps:create", "blog")
    remote[1].sim.check("apps:create", "shop")
    remote[1].sim.check("redis:create", "cache")
    remote[1].sim.check("redis:link", "cache", "shop")
    entries = "".join(h.hosts_yaml_entry() for h in remote)
    running = start_server(base / "site", extra_config="hosts:\n" + entries)
    sim(running.sim, "apps:create", "home")
    record_keys(running.state, remote)
    text = running.config.read_text()  # alice: her apps on h1 only (re-read per request)
    running.config.write_text(text.replace("    can_create_apps: true\n",
                                           "    can_create_apps: true\n    hosts: [h1]\n", 1))
    running.remote = remote
    yield running
    running.stop()
    for host in remote:
        host.stop()


def test_switch_hosts_and_open_an_app_on_the_second_host(page: Any, server: Any) -> None:  # noqa: F811
    sign_in(page, server, "admin")
    page.goto("/apps")
    assert page.locator("[data-current-host]").inner_text() == "local"
    assert page.locator("#apps-table a[href='/apps/home']").count() == 1
    page.click("[data-host-switcher] summary")
    page.click("[data-host-switcher] a[href='/h/h2/apps']")
    page.wait_for_url("**/h/h2/apps")
    assert page.locator("[data-current-host]").inner_text() == "h2"
    assert page.locator("#apps-table tbody tr").count() == 2
    page.click("#apps-table a[href='/h/h2/apps/shop']")
    page.wait_for_url("**/h/h2/apps/shop")
    assert "shop" in page.locator("h1").inner_text()
    menu = page.locator("nav.nav a:has-text('Apps')")
    assert menu.get_attribute("href") == "/h/h2/apps"  # the menu stays on the host
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "hosts-app-on-h2.png"), full_page=True)
    page.goto("/hosts")
    for name in ("local", "h1", "h2"):
        assert page.locator(f"section[data-host='{name}']").count() == 1
    assert page.locator("section[data-host='h2'] table:not([data-host-services]) "
                        "a[href='/h/h2/apps/shop']").count() == 1
    page.screenshot(path=str(SHOTS / "hosts-all.png"), full_page=True)


def test_a_user_scoped_to_one_host(page: Any, server: Any) -> None:  # noqa: F811
    sign_in(page, server, "alice")
    page.goto("/h/h1/apps")
    rows = page.locator("#apps-table tbody tr")
    assert rows.count() == 1 and "blog" in rows.inner_text()
    assert page.locator("[data-host-switcher]").count() == 0  # nothing to switch to
    response = page.goto("/h/h2/apps/blog")
    assert response.status == 404  # blog exists on h2, but alice's grant is for h1
    page.goto("/hosts")
    assert page.locator("section[data-host]").count() == 1
    assert page.locator("section[data-host='h1']").count() == 1


def test_all_hosts_services_and_a_service_action_on_the_second_host(page: Any,  # noqa: F811
                                                                     server: Any) -> None:
    sign_in(page, server, "admin")
    page.goto("/hosts")
    row = page.locator("section[data-host='h2'] [data-host-services] tr[data-service='redis/cache']")
    assert row.count() == 1 and "shop" in row.inner_text()
    assert page.locator("section[data-host='h1'] [data-host-services] tbody tr").inner_text() \
        == "No services you may see."
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "hosts-all-services.png"), full_page=True)
    row.locator("a[href='/h/h2/services/redis/cache']").click()
    page.wait_for_url("**/h/h2/services/redis/cache")
    page.click("#manage-form button[value=stop]")
    page.wait_for_url(re.compile(r"/h/h2/services/redis/cache/operations/\w+$"))
    finished = ", ".join(f"#op-status.op-{s}" for s in ("succeeded", "failed", "cancelled",
                                                        "timed_out", "interrupted"))
    page.wait_for_selector(finished, timeout=90000)
    assert page.locator("#op-status").inner_text() == "succeeded"
    page.click("#op-next a:has-text('All services')")
    page.wait_for_url("**/h/h2/services")  # the operation page's links stay on h2
    status = server.remote[1].sim.check("redis:info", "cache", "--status").strip()
    assert status in (b"exited", b"missing", b"stopped"), status
    code, _out, _err = DokkuSim(server.sim).run("redis:info", "cache")
    assert code != 0  # nothing of the name on the default host: the stop went to h2
