"""End to end (real gunicorn, real TCP peers): DNS rebinding and proxy trust (issue 14).

Raw ``http.client`` requests so the Host header and the forwarding headers are
exactly what a rebound page's ``fetch()`` would send, from a real loopback peer.
"""

from __future__ import annotations

import http.client
import json

import pytest
import websocket

from pruvon_core import audit
from tests.web.server import Browser, Server, start_server

pytestmark = pytest.mark.e2e

EVIL = "rebind.attacker.example"
SPOOF = {"X-Forwarded-For": "203.0.113.10", "X-Forwarded-Host": "localhost",
         "X-Real-IP": "203.0.113.10", "Forwarded": "for=203.0.113.10;host=localhost",
         "X-Forwarded-Proto": "https"}
# exactly the lines docs/reverse-proxy.md tells the operator (or an installer) to write
SEED_PROXY_CONFIG = ("security:\n  trusted_proxies: [127.0.0.1, '::1']\n"
                     "  allowed_hosts: [pruvon.example.internal]\n")


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The default install: no proxy configured."""
    running = start_server(tmp_path_factory.mktemp("e2e-plain"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """The seed's nginx setup: a proxy on loopback, its public name listed."""
    running = start_server(tmp_path_factory.mktemp("e2e-proxied"), extra_config=SEED_PROXY_CONFIG)
    yield running
    running.stop()


def raw(server: Server, method: str, path: str, host: str, headers: dict[str, str],
        body: bytes | None = None) -> tuple[int, str]:
    """One request with exactly this Host (http.client would otherwise set its own)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def _session(server: Server, user: str = "admin") -> tuple[str, str]:
    browser = Browser(server.url)
    assert browser.login(user, server.passwords[user]) == 302
    token = browser.csrf("/account")
    return browser.cookie_header(), token


@pytest.mark.parametrize("fixture", ["plain", "proxied"])
def test_rebound_host_refused_on_every_route_whatever_it_forwards(request, fixture):
    server: Server = request.getfixturevalue(fixture)
    cookie, token = _session(server)
    headers = {**SPOOF, "Origin": f"http://{EVIL}", "Cookie": cookie}
    form = f"username=admin&password={server.passwords['admin']}&csrf_token={token}".encode()
    sign_in = raw(server, "POST", "/login", EVIL,
                  {**headers, "Content-Type": "application/x-www-form-urlencoded"}, form)
    users = raw(server, "GET", "/api/v1/users", EVIL, headers)
    write = raw(server, "POST", "/api/v1/users", EVIL,
                {**headers, "Content-Type": "application/json", "X-CSRF-Token": token},
                json.dumps({"username": "mallory", "password": "rebound-pass-123456",
                            "role": "admin"}).encode())
    upgrade = raw(server, "GET", "/ws/ping", EVIL,
                  {**headers, "Upgrade": "websocket", "Connection": "Upgrade",
                   "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    for status, text in (sign_in, users, write, upgrade):
        assert status == 400 and EVIL in text and "security.allowed_hosts" in text
    assert "mallory" not in server.config.read_text()
    assert "users" not in users[1]


def test_websocket_client_on_a_rebound_host_refused(plain):
    cookie, _ = _session(plain)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(f"ws://127.0.0.1:{plain.port}/ws/ping", host=EVIL,
                                    origin=f"http://{EVIL}", cookie=cookie,
                                    header=[f"X-Forwarded-For: {SPOOF['X-Forwarded-For']}"],
                                    timeout=10)
    assert refused.value.status_code == 400


def _failed_login(server: Server, host: str, headers: dict[str, str], username: str) -> None:
    browser = Browser(server.url)
    token = browser.csrf("/login")
    status, _, _ = browser.request("/login", {"username": username, "password": "nope-nope",
                                              "csrf_token": token},
                                   headers={"Host": host, **headers})
    assert status == 401


def test_loopback_client_keeps_its_own_address_without_a_configured_proxy(plain):
    _failed_login(plain, f"127.0.0.1:{plain.port}", SPOOF, "ghost-plain")
    events = audit.read(action="auth.login", state_dir=plain.state)
    assert [e.source_ip for e in events if e.details.get("username") == "ghost-plain"] == [
        "127.0.0.1"]
    status, headers, _ = Browser(plain.url).request("/login", headers=SPOOF)
    assert status == 200 and "Strict-Transport-Security" not in headers
    assert "Secure" not in headers["Set-Cookie"]


def test_seed_proxy_setup_serves_its_name_with_client_address_and_https(proxied):
    nginx = {"Host": "pruvon.example.internal", "X-Forwarded-For": "203.0.113.77",
             "X-Forwarded-Proto": "https"}
    status, headers, _ = Browser(proxied.url).request("/login", headers=nginx)
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    _failed_login(proxied, "pruvon.example.internal", nginx, "ghost-proxied")
    events = audit.read(action="auth.login", state_dir=proxied.state)
    assert [e.source_ip for e in events if e.details.get("username") == "ghost-proxied"] == [
        "203.0.113.77"]


def test_serve_warns_when_a_proxy_is_configured_without_its_name(tmp_path):
    server = start_server(tmp_path, extra_config="security:\n  trusted_proxies: [127.0.0.1]\n")
    try:
        output = server.output()
    finally:
        server.stop()
    assert "security.allowed_hosts is empty" in output and "allowed_hosts: [" in output
