"""Real WebSockets through ``pruvon serve`` (gunicorn): service logs, console, operation
and import progress, and the scoped user's refusals on each."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any

import pytest
import websocket

from tests.apps.conftest import sim
from tests.web.server import Browser, Server, socket_closes, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    running = start_server(tmp_path_factory.mktemp("services-ws"))
    sim(running.sim, "apps:create", "blog")
    sim(running.sim, "git:from-image", "blog", "example/web:1")
    for name in ("blog-db", "crm-db"):
        sim(running.sim, "postgres:create", name)
    yield running
    running.stop()


def signed_in(server: Server, user: str) -> Browser:
    browser = Browser(server.url)
    assert browser.login(user, server.passwords[user]) == 302
    return browser


def connect(server: Server, path: str, user: str = "admin") -> websocket.WebSocket:
    browser = signed_in(server, user)
    return websocket.create_connection(f"ws://127.0.0.1:{server.port}{path}",
                                       origin=server.url, cookie=browser.cookie_header(),
                                       timeout=20)


def upload(server: Server, browser: Browser, path: str, body: bytes) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", path, body=body, headers={
        "Content-Type": "application/octet-stream", "X-CSRF-Token": browser.csrf("/account"),
        "Cookie": browser.cookie_header(), "Origin": server.url})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def log_tails(name: str) -> list[str]:
    """Running simulated ``postgres:logs NAME -t`` processes."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if b"postgres:logs" in words and name.encode() in words:
            found.append(entry.name)
    return found


def test_logs_socket_streams_the_service_log_and_leaves_no_tail(server: Server) -> None:
    ws = connect(server, "/ws/services/postgres/blog-db/logs")
    first = ws.recv()
    assert first and not first.startswith('{"type": "error"'), first
    assert log_tails("blog-db"), "the tail runs while the socket is open"
    ws.close()
    deadline = time.monotonic() + 10
    while log_tails("blog-db") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert log_tails("blog-db") == []


@pytest.mark.parametrize("path", ["/ws/services/postgres/crm-db/logs",
                                  "/ws/services/postgres/crm-db/console",
                                  "/ws/services/postgres/crm-db/operations/0123456789abcdef"])
def test_a_scoped_user_cannot_open_another_services_socket(server: Server, path: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(server, path, user="alice")
    assert refused.value.status_code == 403


def test_a_viewer_cannot_open_a_console(server: Server) -> None:
    ws = connect(server, "/ws/services/postgres/blog-db/console", user="victor")
    frame = json.loads(ws.recv())
    assert frame["type"] == "error" and "services.console" in frame["error"]


def test_import_progress_frames_reach_done_and_others_cannot_watch(server: Server) -> None:
    admin = signed_in(server, "admin")
    dump = admin.opener.open(server.url + "/services/postgres/blog-db/export").read()
    status, task = upload(server, admin, "/services/postgres/crm-db/import", dump)
    assert status == 202, task
    spy = connect(server, task["ws"], user="alice")  # alice holds no grant on crm-db
    refusal = json.loads(spy.recv())
    assert refusal["type"] == "error" and "services.import" in refusal["error"]
    ws = connect(server, task["ws"])
    frames = []
    while not frames or "status" not in frames[-1]:
        frames.append(json.loads(ws.recv()))
    final = frames[-1]
    assert final["status"] == "done" and final["error"] is None, final
    assert final["bytes"] == final["total"] == len(dump) and final["percent"] == 100.0
    assert all(0 <= f["percent"] <= 100 for f in frames)


def test_a_failed_import_ends_with_dokkus_own_text(server: Server) -> None:
    admin = signed_in(server, "admin")
    sim(server.sim, "postgres:stop", "crm-db")
    try:
        status, task = upload(server, admin, "/services/postgres/crm-db/import",
                              b"PGDMP" + b"\x01" * 4096)
        assert status == 202, task
        ws = connect(server, task["ws"])
        frame: dict[str, Any] = {}
        while "status" not in frame:
            frame = json.loads(ws.recv())
        assert frame["status"] == "failed" and frame["error"]
    finally:
        sim(server.sim, "postgres:start", "crm-db")


def test_create_progress_socket_is_the_creators_own(server: Server) -> None:
    admin = signed_in(server, "admin")
    token = admin.csrf("/services/create")
    status, headers, _ = admin.request("/services/create", {
        "csrf_token": token, "type": "postgres", "name": "ws-created"})
    assert status == 303, headers
    op = headers["Location"].rsplit("=", 1)[1]
    ws = connect(server, f"/ws/services/create?operation={op}")
    frames = [json.loads(ws.recv())]
    while frames[-1]["type"] != "done":
        frames.append(json.loads(ws.recv()))
    assert frames[-1]["status"] == "succeeded"
    assert any(f["type"] == "progress" and f["operation"]["percent"] == 100 for f in frames)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(server, f"/ws/services/create?operation={op}", user="victor")  # may not create
    assert refused.value.status_code == 403


def test_narrowed_grant_closes_an_open_service_log_socket(server: Server) -> None:
    """Grants are not in the session fingerprint: the socket re-checks its own permission."""
    ws = connect(server, "/ws/services/postgres/blog-db/logs", user="alice")
    original = server.config.read_text()
    narrowed = original.replace("      postgres:\n        - blog-db\n      redis:",
                                "      redis:", 1)
    assert narrowed != original
    try:
        server.config.write_text(narrowed)
        assert socket_closes(ws, "no longer"), "the log socket should close once the grant is gone"
    finally:
        server.config.write_text(original)
        ws.close()
