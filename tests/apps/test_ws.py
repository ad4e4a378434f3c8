"""Real WebSockets through ``pruvon serve`` (gunicorn): log tail and create progress."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import websocket

from pruvon_testing.sim.core import SimState
from tests.apps.conftest import seed_logs, sim
from tests.web.server import Browser, Server, socket_closes, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    running = start_server(tmp_path_factory.mktemp("apps-ws"))
    for app in ("blog", "secret"):
        sim(running.sim, "apps:create", app)
        sim(running.sim, "git:from-image", app, "example/web:1")
    SimState(running.sim).set_knobs(log_traffic_interval=0.2)
    yield running
    running.stop()


def connect(server: Server, path: str, user: str = "admin") -> websocket.WebSocket:
    browser = Browser(server.url)
    assert browser.login(user, server.passwords[user]) == 302
    return websocket.create_connection(f"ws://127.0.0.1:{server.port}{path}",
                                       origin=server.url, cookie=browser.cookie_header(),
                                       timeout=20)


def log_processes(app: str) -> list[str]:
    """Command lines of running simulated ``dokku logs APP`` processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = [w.decode(errors="replace") for w in words if w]
        if any(w.endswith("pruvon-dokku-sim") for w in text) and "logs" in text and app in text:
            found.append(" ".join(text))
    return found


def test_logs_stream_line_by_line_and_end_without_orphans(server: Server) -> None:
    seed_logs(server.sim, "blog", ["seeded one", "seeded two"])
    ws = connect(server, "/ws/apps/blog/logs?process=web&lines=2")
    first = [ws.recv() for _ in range(2)]
    assert [line.split()[-2:] for line in first] == [["seeded", "one"], ["seeded", "two"]]
    live = ws.recv()  # simulated traffic arrives while following
    assert "response:200" in live
    assert log_processes("blog"), "the tail should be running while the socket is open"
    ws.close()
    deadline = time.monotonic() + 10
    while log_processes("blog") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert log_processes("blog") == []


def test_scoped_user_cannot_open_another_apps_log_socket(server: Server) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(server, "/ws/apps/secret/logs", user="alice")
    assert refused.value.status_code == 403
    ws = connect(server, "/ws/apps/blog/logs", user="victor")  # viewers may read logs
    ws.close()


def test_narrowed_grant_closes_an_open_log_socket(server: Server) -> None:
    """Grants are not in the session fingerprint: the socket re-checks its own permission."""
    ws = connect(server, "/ws/apps/blog/logs", user="alice")
    original = server.config.read_text()
    try:
        server.config.write_text(original.replace("      - blog\n      - shop-*\n", "      - shop-*\n", 1))
        assert socket_closes(ws, "revoked"), "the log socket should close once the grant is gone"
    finally:
        server.config.write_text(original)
        ws.close()


def frames_until_done(ws: websocket.WebSocket) -> list[dict]:
    frames = []
    while True:
        frame = json.loads(ws.recv())
        frames.append(frame)
        if frame["type"] in ("done", "error"):
            return frames


def test_create_streams_numeric_progress_and_steps(server: Server) -> None:
    ws = connect(server, "/ws/apps/create")
    ws.send(json.dumps({"type": "create", "name": "Bad_Name"}))
    error = json.loads(ws.recv())
    assert error["type"] == "error" and "app name" in error["error"] and error["status"] == 400
    ws.send(json.dumps({"type": "create", "name": "ws-app", "image": "example/web:1",
                        "env": "A=1", "domains": "ws.example.com"}))
    frames = frames_until_done(ws)
    ws.close()
    progress = [f["operation"]["percent"] for f in frames if f["type"] == "progress"]
    assert progress == sorted(progress) and progress[-1] == 100.0
    assert len(set(progress)) >= 3
    last = [f for f in frames if f["type"] == "progress"][-1]["operation"]
    assert [s["name"] for s in last["steps"]] == ["create app", "set environment",
                                                  "set domains", "deploy image"]
    assert all(s["status"] == "done" for s in last["steps"])
    assert any("Creating ws-app" in line for f in frames if f["type"] == "progress"
               for line in f["output"])
    assert frames[-1] == {"type": "done", "status": "succeeded", "error": "", "app": "ws-app",
                          "operation": last["id"], "can_rollback": False}


def test_failed_create_rolls_back_with_one_message(server: Server) -> None:
    SimState(server.sim).set_knobs(faults={"git:from-image": {
        "exit": 1, "stderr": " !     image pull failed\n"}})
    try:
        ws = connect(server, "/ws/apps/create")
        ws.send(json.dumps({"type": "create", "name": "ws-fail", "image": "example/web:1",
                            "services": "+redis:ws-fail-cache"}))
        done = frames_until_done(ws)[-1]
        assert done["status"] == "failed" and "image pull failed" in done["error"]
        assert done["can_rollback"] is True
    finally:
        SimState(server.sim).set_knobs(faults={})
    ws.send(json.dumps({"type": "rollback"}))
    frames = frames_until_done(ws)
    ws.close()
    assert frames[-1]["status"] == "succeeded"
    steps = [f for f in frames if f["type"] == "progress"][-1]["operation"]["steps"]
    assert [s["name"] for s in steps] == ["destroy app ws-fail", "destroy redis ws-fail-cache"]
    apps = sim(server.sim, "apps:list").decode()
    assert "ws-fail" not in apps


def test_nginx_log_source_without_the_command_reports_dokkus_message(server: Server) -> None:
    ws = connect(server, "/ws/apps/blog/logs?source=nginx-access")
    frame = json.loads(ws.recv())
    ws.close()
    assert frame["type"] == "error" and "is not a dokku command" in frame["error"]
