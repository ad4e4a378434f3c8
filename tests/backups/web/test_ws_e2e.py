"""Restore progress over a real WebSocket through ``pruvon serve`` (gunicorn)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import websocket

from tests.backups.conftest import sim
from tests.backups.web.conftest import backups_server
from tests.web.server import Browser, Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    running = backups_server(tmp_path_factory.mktemp("backups-ws"), rows=100)
    sim(running.sim, "redis:create", "cache")
    yield running
    running.stop()


def signed_in(server: Server, user: str = "admin") -> Browser:
    browser = Browser(server.url)
    assert browser.login(user, server.passwords[user]) == 302
    return browser


def start(browser: Browser, path: str, form: dict[str, str]) -> str:
    """POST a form; the id of the operation it redirected to."""
    status, headers, body = browser.request(path, {"csrf_token": browser.csrf("/backups"),
                                                   **form})
    assert status == 303, body[:2000]
    return headers["Location"].rsplit("/", 1)[1]


def frames(server: Server, browser: Browser, op_id: str) -> list[dict[str, Any]]:
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/backups/restore/{op_id}",
                                     origin=server.url, cookie=browser.cookie_header(),
                                     timeout=30)
    received = []
    try:
        while True:
            frame = json.loads(ws.recv())
            received.append(frame)
            if "status" in frame or frame.get("type") == "error":
                return received
    finally:
        ws.close()


def backup_now(server: Server, browser: Browser, kind: str, name: str) -> int:
    op_id = start(browser, "/backups/run", {"scope": "service", "type": kind, "name": name})
    final = frames(server, browser, op_id)[-1]
    assert final["status"] == "done", final
    return int(final["result"]["backups"][0])


def test_restore_into_new_service_streams_progress_to_100(server: Server) -> None:
    browser = signed_in(server)
    backup_id = backup_now(server, browser, "postgres", "blog-db")
    op_id = start(browser, f"/backups/{backup_id}/restore",
                  {"target": "new", "into": "blog-db-restored", "confirm": "blog-db"})
    received = frames(server, browser, op_id)
    progress = [f for f in received if "percent" in f]
    assert progress and progress[-1]["percent"] == 100
    assert progress[-1]["bytes"] == progress[-1]["total"] > 300_000
    assert [f["percent"] for f in progress] == sorted(f["percent"] for f in progress)
    assert received[-1]["status"] == "done" and received[-1]["error"] is None
    assert received[-1]["result"]["service"] == "blog-db-restored"
    query = b"SELECT count(*), sum(length(title)) FROM posts;\n"
    restored = sim(server.sim, "postgres:connect", "blog-db-restored", stdin=query)
    assert restored == sim(server.sim, "postgres:connect", "blog-db", stdin=query)
    assert b"102" in restored  # the two seeded rows and the hundred large ones
    page = browser.request(f"/backups/operations/{op_id}")[2]
    assert re.search(r'<progress id="op-progress" max="100" value="100', page)


def test_failed_restore_ends_with_dokkus_text(server: Server) -> None:
    browser = signed_in(server)
    backup_id = backup_now(server, browser, "redis", "cache")
    op_id = start(browser, f"/backups/{backup_id}/restore",
                  {"target": "existing", "confirm": "cache"})
    final = frames(server, browser, op_id)[-1]
    assert final["status"] == "failed"
    assert "dump.rdb: Permission denied" in final["error"]


def test_another_users_operation_cannot_be_followed(server: Server) -> None:
    admin = signed_in(server)
    op_id = start(admin, "/backups/run", {"scope": "service", "type": "redis", "name": "cache"})
    alice = signed_in(server, "alice")
    [refused] = frames(server, alice, op_id)
    assert refused["type"] == "error" and "no backup operation" in refused["error"]
    frames(server, admin, op_id)  # let it finish before the next test


def test_cross_site_origin_is_refused(server: Server) -> None:
    browser = signed_in(server)
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/backups/restore/"
                                    "0123456789abcdef", origin="http://evil.example",
                                    cookie=browser.cookie_header(), timeout=10)
