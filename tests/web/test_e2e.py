"""End to end: the real ``pruvon serve`` (gunicorn, gthread) against the simulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import websocket

from tests.web.server import BIN, Browser, Server, free_port, start_server, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("e2e"))
    yield running
    running.stop()


def test_login_dashboard_logout_through_gunicorn(server):
    browser = Browser(server.url)
    assert browser.request("/")[0] == 302
    assert browser.login("admin", server.passwords["admin"]) == 302
    status, headers, body = browser.request("/")
    assert status == 200 and 'aria-label="Host"' in body
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    assert browser.request("/logout", {"csrf_token": token})[0] == 302
    assert browser.request("/")[0] == 302


def test_csrf_less_post_refused(server):
    browser = Browser(server.url)
    browser.login("admin", server.passwords["admin"])
    status, _, body = browser.request("/settings/users", {"username": "eve", "password": "x" * 14})
    assert status == 403 and "CSRF" in body


def _ws(server: Server, origin: str, cookie: str) -> websocket.WebSocket:
    return websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/ws/ping", origin=origin, cookie=cookie, timeout=10)


def test_websocket_foreign_origin_refused_own_origin_accepted(server):
    browser = Browser(server.url)
    browser.login("admin", server.passwords["admin"])
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        _ws(server, "https://evil.example", browser.cookie_header())
    assert refused.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as anonymous:
        _ws(server, server.url, "")
    assert anonymous.value.status_code == 401
    ws = _ws(server, server.url, browser.cookie_header())
    ws.send("ping")
    assert json.loads(ws.recv()) == {"type": "pong", "user": "admin"}
    ws.close()


def test_open_websocket_closed_when_user_is_disabled(server):
    browser = Browser(server.url)
    browser.login("victor", server.passwords["victor"])
    ws = _ws(server, server.url, browser.cookie_header())
    ws.send("ping")
    assert json.loads(ws.recv())["type"] == "pong"
    original = server.config.read_text()
    try:
        server.config.write_text(original.replace(
            "    role: viewer\n", "    role: viewer\n    disabled: true\n", 1))
        ws.send("ping")
        assert json.loads(ws.recv()) == {"type": "error", "error": "your access was revoked"}
        assert browser.request("/")[0] == 302  # and the next click is sent to /login
    finally:
        server.config.write_text(original)
        ws.close()


def test_serve_refuses_an_invalid_config(tmp_path):
    config = tmp_path / "bad.yml"
    config.write_text("pruvon:\n  listen: nowhere\n")
    result = subprocess.run([str(BIN / "pruvon"), "--config", str(config), "serve"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "pruvon.listen" in result.stderr and "Traceback" not in result.stderr


def test_demo_sandbox_serves_with_a_printed_password(tmp_path):
    port = free_port()
    log = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUVON_")}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "pruvon"), "serve", "--demo", "--listen", f"127.0.0.1:{port}",
             "--threads", "4"], stdout=out, stderr=subprocess.STDOUT, env=env)
    demo = Server(root=tmp_path, port=port, process=process, config=Path(), state=Path(),
                  sim=Path())
    (tmp_path / "server.log").symlink_to(log)
    try:
        wait_ready(demo, timeout=60)
        text = log.read_text()
        password = re.search(r"password: (\S+)", text).group(1)
        sandbox = Path(re.search(r"sandbox:  (\S+)", text).group(1))
        assert sandbox.is_dir()
        browser = Browser(demo.url)
        assert browser.login("admin", "wrong-password-x") == 401
        assert browser.login("admin", password) == 302
        assert browser.request("/")[0] == 200
    finally:
        demo.stop()
    assert not sandbox.exists()  # the throw-away sandbox is removed on exit


def test_websocket_with_api_key_needs_no_origin_but_needs_scope(server):
    from datetime import UTC, datetime, timedelta

    from pruvon_auth.apikeys import ApiKeyStore

    store = ApiKeyStore(server.state)
    expires = datetime.now(UTC) + timedelta(hours=1)
    good, _ = store.create("admin", ["dashboard.read"], expires)
    narrow, _ = store.create("admin", ["users.read"], expires)
    url = f"ws://127.0.0.1:{server.port}/ws/ping"
    ws = websocket.create_connection(url, header=[f"Authorization: Bearer {good}"], timeout=10)
    ws.send("ping")
    assert json.loads(ws.recv())["type"] == "pong"
    ws.close()
    ws = websocket.create_connection(url, header=[f"Authorization: Bearer {narrow}"], timeout=10)
    assert json.loads(ws.recv()) == {"type": "error", "error": "not allowed: dashboard.read"}
    ws.close()
