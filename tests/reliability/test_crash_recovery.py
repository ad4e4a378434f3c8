"""Crash leftovers: a runner killed mid-operation leaves no orphan and no overlap.

The fault (issue 19, item 5): after ``kill -9`` of the gunicorn master during
``ps:restart blog``, the Dokku child kept running, orphaned; a new restart on
the same app was accepted while it ran; the interrupted operation's ``run``
step still said ``running``.  Here a real ``pruvon serve`` restarts an app on
the simulator with ``ps:restart`` hanging (a Dokku command that takes long),
and the runner is killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run
from tests.web.server import BIN, Server, free_port, server_env, start_server, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path):
    running = start_server(tmp_path / "srv")
    for argv in (["apps:create", "blog"], ["git:from-image", "blog", "example/web:1"]):
        assert run(argv, root=running.sim)[0] == 0
    yield running
    running.stop()
    for pid in _dokku_restarts():  # never leave a hanging simulator behind
        os.kill(pid, signal.SIGKILL)


def _token(server: Server) -> str:
    from pruvon_auth.apikeys import ApiKeyStore

    token, _ = ApiKeyStore(server.state).create(
        "admin", ["apps.ps.write", "apps.read"], datetime.now(UTC) + timedelta(hours=1))
    return token


def _api(server: Server, token: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        server.url + path, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _dokku_restarts() -> list[int]:
    """Simulator processes running ``ps:restart blog`` right now."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            argv = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")  # noqa: SIM115
            state = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[0]  # noqa: SIM115
        except (OSError, IndexError):
            continue
        if state != "Z" and b"ps:restart" in argv and any(a.endswith(b"pruvon-dokku-sim")
                                                          for a in argv):
            found.append(int(entry))
    return found


def _children(pid: int) -> list[int]:
    return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]


def _wait(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _record(server: Server, op_id: str) -> dict:
    return json.loads((server.state / "operations" / f"{op_id}.json").read_text())


def _start_hanging_restart(server: Server, token: str) -> tuple[str, int]:
    """A restart whose ``ps:restart`` never ends by itself; returns (op id, dokku pid)."""
    SimState(server.sim).set_knobs(hang=["ps:restart"])
    status, body = _api(server, token, "/api/v1/apps/blog/ps", {"action": "restart"})
    assert status == 202, body
    dokku = _wait(_dokku_restarts, what="ps:restart to start")
    deadline = time.monotonic() + 5  # the runner records the child's group right after spawning
    while not _record(server, body["id"]).get("children") and time.monotonic() < deadline:
        time.sleep(0.05)
    return body["id"], dokku[0]  # the hang knob stays until _no_hang(): the child reads it late


def _no_hang(server: Server) -> None:
    SimState(server.sim).set_knobs(hang=[])


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]  # noqa: SIM115
    except OSError:
        return False
    return state != "Z"


def test_killed_worker_app_stays_busy_while_its_dokku_child_lives(server):
    token = _token(server)
    op_id, dokku = _start_hanging_restart(server, token)
    (worker,) = _children(server.process.pid)
    os.kill(worker, signal.SIGKILL)  # the runner dies; gunicorn starts a new worker
    _wait(lambda: _children(server.process.pid) and worker not in _children(server.process.pid),
          what="a new worker")
    wait_ready(server)
    assert _alive(dokku)  # orphaned, still restarting the app

    status, body = _api(server, token, "/api/v1/apps/blog/ps", {"action": "restart"})
    assert status == 409, body
    assert f"pid {dokku}" in body["error"] and "still running" in body["error"]
    assert _dokku_restarts() == [dokku]  # no second ps:restart reached Dokku

    os.kill(dokku, signal.SIGTERM)  # the old Dokku command ends
    _wait(lambda: not _alive(dokku), what="the orphan to end")
    _no_hang(server)
    status, body = _api(server, token, "/api/v1/apps/blog/ps", {"action": "restart"})
    assert status == 202, body
    old = _record(server, op_id)
    assert old["status"] == "interrupted"
    assert [s["status"] for s in old["steps"]] == ["failed", "skipped"]
    assert "interrupted" in old["steps"][0]["detail"]


def test_killed_master_orphan_stopped_and_operation_marked_at_restart(server):
    token = _token(server)
    op_id, dokku = _start_hanging_restart(server, token)
    workers = _children(server.process.pid)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    _wait(lambda: not any(_alive(w) for w in workers), what="the orphaned worker to exit")
    assert _alive(dokku)  # what the issue found: the Dokku child lives on
    _no_hang(server)

    port = free_port()
    log = open(server.root / "server.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [str(BIN / "pruvon"), "--config", str(server.config), "serve", "--listen",
         f"127.0.0.1:{port}"],
        env=server_env(server.root, server.sim, server.state, server.config),
        stdout=log, stderr=subprocess.STDOUT)
    server.process, server.port = process, port
    wait_ready(server)

    assert not _alive(dokku) and _dokku_restarts() == []  # no orphan left
    old = _record(server, op_id)
    assert old["status"] == "interrupted", old
    assert [s["status"] for s in old["steps"]] == ["failed", "skipped"]
    assert all(s["status"] not in ("pending", "running") for s in old["steps"])
    assert "was stopped" in old["error"]
    assert f"operation {op_id}" in server.output()

    status, body = _api(server, token, "/api/v1/apps/blog/ps", {"action": "restart"})
    assert status == 202, body
    final = _wait(lambda: (r := _record(server, body["id"]))["status"] not in ("queued", "running")
                  and r, what="the new restart")
    assert final["status"] == "succeeded", final
