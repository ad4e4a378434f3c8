"""The docker sockets through real ``pruvon serve`` (gunicorn): live logs and the shell."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import websocket

from pruvon_testing.sim import containers, dockerobjects
from pruvon_testing.sim.core import SimState
from tests.apps.conftest import sim
from tests.apps.test_ws import connect
from tests.terminals.conftest import Term
from tests.web.server import Server, start_server

pytestmark = pytest.mark.e2e
GRANTS = "    routes:\n      - /backups\n      - /docker*\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    running = start_server(tmp_path_factory.mktemp("docker-ws"))
    sim(running.sim, "apps:create", "blog")
    sim(running.sim, "git:from-image", "blog", "example/web:1")
    dockerobjects.seed_examples(SimState(running.sim))
    text = running.config.read_text().replace("    routes:\n      - /backups\n", GRANTS, 1)
    running.config.write_text(text)
    yield running
    running.stop()


def log_processes() -> list[str]:
    """Command lines of running ``pruvon-docker-sim logs`` processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = [w.decode(errors="replace") for w in (entry / "cmdline").read_bytes()
                     .split(b"\0") if w]
        except OSError:
            continue
        if any(w.endswith("pruvon-docker-sim") for w in words) and "logs" in words:
            found.append(" ".join(words))
    return found


def wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.1)
    return predicate()


def test_logs_stream_history_then_new_lines_and_leave_no_process(server: Server) -> None:
    state = SimState(server.sim)
    found = containers.find(state, "redis-cache")
    containers.append_log(state, found.id, "first line")
    ws = connect(server, f"/ws/docker/logs/{found.id}?lines=5")
    assert ws.recv() == "first line"
    containers.append_log(state, found.id, "to stderr", stream="stderr")
    assert ws.recv() == "to stderr"
    assert log_processes(), "docker logs -f should run while the socket is open"
    ws.close()
    assert wait_for(lambda: not log_processes()), log_processes()


def test_logs_refused_without_the_grant_and_bad_refs_never_run(server: Server) -> None:
    original = server.config.read_text()
    server.config.write_text(original.replace(GRANTS, "    routes:\n      - /backups\n", 1))
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            connect(server, "/ws/docker/logs/redis-cache", user="alice")
        assert refused.value.status_code == 403
    finally:
        server.config.write_text(original)
    ws = connect(server, "/ws/docker/logs/-f?lines=1")
    assert "starts with '-'" in ws.recv() and not log_processes()


def test_narrowed_grant_closes_an_open_log_socket(server: Server) -> None:
    ws = connect(server, "/ws/docker/logs/redis-cache?lines=0", user="alice")
    original = server.config.read_text()
    try:
        server.config.write_text(original.replace(GRANTS, "    routes:\n      - /docker\n", 1))
        closed, deadline = False, time.monotonic() + 15
        while time.monotonic() < deadline and not closed:
            try:
                frame = ws.recv()
            except websocket.WebSocketConnectionClosedException:
                closed = True
                break
            closed = frame == "" or "revoked" in str(frame) or "not allowed" in str(frame)
        assert closed, "the log socket should close once /docker/logs is no longer granted"
    finally:
        server.config.write_text(original)
        ws.close()
    assert wait_for(lambda: not log_processes())


def test_admin_shell_in_a_container_with_an_allowlisted_shell(server: Server) -> None:
    found = containers.find(SimState(server.sim), "blog.web.1")
    term = Term(connect(server, f"/ws/docker/terminal?container={found.id}&shell=/bin/sh"))
    ready = term.status("ready")
    assert ready["target"] == "docker exec blog.web.1 /bin/sh"
    term.send("echo in-$((6*7))\r")
    term.expect(b"in-42")
    term.close()


def test_shell_refused_to_non_admins_and_for_other_shells(server: Server) -> None:
    refused = connect(server, "/ws/docker/terminal?container=redis-cache", user="alice")
    assert "not allowed: docker.exec" in refused.recv()  # /docker* opens all but the shell
    ws = connect(server, "/ws/docker/terminal?container=redis-cache&shell=/usr/bin/python3")
    assert "shell must be one of" in ws.recv()
    ws = connect(server, "/ws/docker/terminal?container=worker")
    assert "is not running" in ws.recv()
