"""The reverse-proxy path end to end: Debian's nginx serving etc/nginx/pruvon.conf (TLS, an
IP allowlist, WebSocket headers) in front of a real ``pruvon serve`` on the simulator."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator

import pytest
import websocket

from tests.terminals.conftest import Term, seed
from tests.web.nginx import NGINX, Nginx, get_from, insecure_context, start_nginx
from tests.web.server import BIN, Browser, Server, free_port, server_env, start_server

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not shutil.which(NGINX), reason="nginx is not installed")]

PROXY_CONFIG = """security:
  trusted_proxies: [127.0.0.1, '::1']
  allowed_hosts: [pruvon.example.internal]
"""
SITES = {"good": {}, "no-upgrade": {"upgrade": False}, "host-var": {"host_var": "$host"}}
SSLOPT = {"cert_reqs": ssl.CERT_NONE}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("nginx-e2e"), extra_config=PROXY_CONFIG)
    seed(running)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def nginx(server: Server) -> Iterator[Nginx]:
    proxy = start_nginx(server.port, SITES, allow=("127.0.0.1",))
    yield proxy
    proxy.stop()


def signed_in(nginx: Nginx, server: Server, site: str = "good") -> tuple[Browser, dict]:
    browser = Browser(nginx.url(site), context=insecure_context())
    token = browser.csrf("/login")
    status, headers, _ = browser.request("/login", {"username": "admin", "csrf_token": token,
                                                    "password": server.passwords["admin"]})
    assert status == 302, headers
    return browser, headers


def ws_through(nginx: Nginx, browser: Browser, path: str, site: str = "good") -> websocket.WebSocket:
    base = nginx.url(site)
    return websocket.create_connection("wss" + base[len("https"):] + path, origin=base,
                                       cookie=browser.cookie_header(), sslopt=SSLOPT, timeout=20)


def audit(server: Server, *args: str) -> list[dict]:
    proc = subprocess.run([str(BIN / "pruvon"), "--config", str(server.config), "audit", "list",
                           "--format", "json", *args], capture_output=True, text=True,
                          env=server_env(server.root, server.sim, server.state, server.config),
                          check=True, timeout=60)
    return json.loads(proc.stdout)["events"]


def test_sign_in_over_https_through_nginx_sets_a_secure_cookie(nginx, server):
    browser, headers = signed_in(nginx, server)
    assert "pruvon_session=" in headers["Set-Cookie"] and "Secure" in headers["Set-Cookie"]
    assert "max-age=" in headers["Strict-Transport-Security"]
    status, _, body = browser.request("/")
    assert status == 200 and 'aria-label="Host"' in body


def test_audit_log_records_the_client_not_a_forged_forwarded_for(nginx, server):
    browser = Browser(nginx.url("good"), context=insecure_context())
    token = browser.csrf("/login")
    status, _, _ = browser.request(
        "/login", {"username": "admin", "password": "wrong-password-123", "csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.7"})
    assert status == 401
    failed = audit(server, "--action", "auth.login", "--result", "failed")
    assert failed and failed[-1]["source_ip"] == "127.0.0.1"
    assert all(e["source_ip"] != "198.51.100.7" for e in audit(server))


def test_app_terminal_through_the_proxy(nginx, server):
    browser, _ = signed_in(nginx, server)
    term = Term(ws_through(nginx, browser, "/ws/apps/blog/terminal?shell=/bin/sh"))
    try:
        term.status("ready")
        term.send("echo via-nginx-$((6*7))\r")
        term.expect(b"via-nginx-42")
    finally:
        term.close()


def test_live_log_stream_through_the_proxy(nginx, server):
    from pruvon_testing.sim.core import SimState

    SimState(server.sim).set_knobs(log_traffic_interval=0.2)
    browser, _ = signed_in(nginx, server)
    ws = ws_through(nginx, browser, "/ws/apps/blog/logs")
    try:
        line = ws.recv()
        assert line and not line.startswith("{"), line
    finally:
        ws.close()


def test_nginx_allowlist_denies_another_address(nginx, server):
    status, body = get_from("127.0.0.2", nginx.ports["good"], "/login")
    assert status == 403 and "nginx" in body  # nginx's own page: Pruvon never saw it
    assert get_from("127.0.0.1", nginx.ports["good"], "/login")[0] == 200


def test_proxy_without_upgrade_headers_is_named(nginx, server):
    browser, _ = signed_in(nginx, server, "no-upgrade")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        ws_through(nginx, browser, "/ws/apps/blog/terminal", site="no-upgrade")
    assert refused.value.status_code == 426
    error = json.loads(refused.value.resp_body)
    assert error["missing"] == ["Upgrade", "Connection"]
    assert "docs/reverse-proxy.md" in error["error"]


def test_host_without_port_on_a_non_443_port_is_explained(nginx, server):
    browser, _ = signed_in(nginx, server, "host-var")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        ws_through(nginx, browser, "/ws/apps/blog/terminal", site="host-var")
    assert refused.value.status_code == 403
    error = json.loads(refused.value.resp_body)["error"]
    assert "WebSocket origin not allowed" in error and "$http_host" in error


def browser_page(chromium, nginx: Nginx, server: Server, site: str):
    """A signed-in Chromium page on one proxy site (self-signed certificate accepted)."""
    context = chromium.new_context(base_url=nginx.url(site), ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", server.passwords["admin"])
    page.click("button[type=submit]")
    page.wait_for_selector("section[aria-label=Host]")
    return context, page


HINT = "must pass the Upgrade and Connection headers (see docs/reverse-proxy.md"


@pytest.mark.browser
@pytest.mark.parametrize(("site", "path", "element", "status"), [
    ("good", "/apps/blog/terminal?shell=/bin/sh", "#terminal-status", "connected: "),
    ("good", "/apps/blog?tab=logs", "#logs-status", "live"),
    # a proxy that drops the upgrade: the pages say why instead of "connecting…"
    ("no-upgrade", "/apps/blog/terminal?shell=/bin/sh", "#terminal-status", HINT),
    ("no-upgrade", "/apps/blog?tab=logs", "#logs-status", HINT),
])
def test_websocket_pages_through_nginx(chromium, nginx, server, site, path, element, status):
    from playwright.sync_api import expect

    context, page = browser_page(chromium, nginx, server, site)
    try:
        page.goto(path)
        expect(page.locator(element)).to_contain_text(status)
    finally:
        context.close()


def check_url(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pruvon"), "check", "--url", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_check_url_passes_through_the_good_proxy_and_directly(nginx, server):
    for args in ((nginx.url("good"), "--insecure"), (server.url,)):
        proc = check_url(*args)
        assert (proc.returncode, proc.stdout.strip()) == (0, "no findings"), proc.stdout


def test_check_url_names_a_self_signed_certificate(nginx):
    proc = check_url(nginx.url("good"), "--format", "json")
    assert proc.returncode == 1
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["id"] == "url.tls" and "--insecure" in finding["fix"]


def test_check_url_names_the_missing_upgrade_headers(nginx):
    proc = check_url(nginx.url("no-upgrade"), "--insecure", "--format", "json")
    assert proc.returncode == 1
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["id"] == "url.websocket.headers"
    assert "Upgrade, Connection missing" in finding["message"]
    assert "proxy_set_header Upgrade $http_upgrade" in finding["fix"]


def test_check_url_names_the_host_without_its_port(nginx):
    proc = check_url(nginx.url("host-var"), "--insecure", "--format", "json")
    assert proc.returncode == 1
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["id"] == "url.websocket.origin" and "$http_host" in finding["fix"]


def test_check_url_names_an_untrusted_proxy(nginx, server):
    original = server.config.read_text()
    server.config.write_text(original.replace("  trusted_proxies: [127.0.0.1, '::1']\n", ""))
    try:
        proc = check_url(nginx.url("good"), "--insecure", "--format", "json")
    finally:
        server.config.write_text(original)
    assert proc.returncode == 1
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["id"] == "url.forwarded_proto" and "trusted_proxies" in finding["fix"]


def test_check_url_refuses_a_bad_url_and_names_a_dead_port(nginx, server):
    proc = check_url("ftp://x", "--insecure")
    assert proc.returncode == 2 and "use http:// or https://" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = check_url(f"https://127.0.0.1:{free_port()}", "--format", "json")
    assert proc.returncode == 1
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["id"] == "url.unreachable" and "cannot connect" in finding["message"]
