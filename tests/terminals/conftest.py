"""A real ``pruvon serve`` with a simulated Dokku host whose apps have running containers.

Apps: ``blog`` (web x2 + worker) and ``shop-a`` (web), both deployed from the
simulator's built-in image, so ``dokku enter``/``run`` start real processes on
a real PTY.  alice (user) is granted ``blog`` and ``shop-*``; victor is a viewer.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket

from tests.web.server import Browser, Server, server_env, start_server

SEED = (
    ["apps:create", "blog"],
    ["git:from-image", "blog", "example/web:1"],
    ["ps:scale", "blog", "web=2", "worker=1"],
    ["apps:create", "shop-a"],
    ["git:from-image", "shop-a", "example/web:1"],
    ["apps:create", "other"],
    ["git:from-image", "other", "example/web:1"],
    ["apps:create", "shop-new"],
)


def seed(server: Server) -> None:
    from pruvon_testing.sim.main import run

    env = server_env(server.root, server.sim, server.state, server.config)
    for argv in SEED:
        code, _, err = run(argv, root=server.sim, env=env)
        assert code == 0, (argv, err)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("terminals"), extra_args=("--threads", "48"))
    seed(running)
    yield running
    running.stop()


@pytest.fixture(scope="package")
def cookies(server: Server) -> dict[str, str]:
    """One signed-in session cookie per user, reused across tests."""
    jar = {}
    for user in ("admin", "alice", "victor"):
        browser = Browser(server.url)
        assert browser.login(user, server.passwords[user]) == 302
        jar[user] = browser.cookie_header()
    return jar


class Term:
    """A terminal WebSocket client: collects output, parses status frames."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws = ws
        self.output = b""
        self.statuses: list[dict[str, Any]] = []

    def send(self, text: str) -> None:
        self.ws.send_binary(text.encode())

    def control(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def _pump(self, timeout: float) -> bool:
        """One frame; False when the socket closed."""
        self.ws.settimeout(timeout)
        try:
            opcode, data = self.ws.recv_data(control_frame=False)
        except websocket.WebSocketTimeoutException:
            return True
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return False
        if opcode == websocket.ABNF.OPCODE_BINARY:
            self.output += data
        elif opcode == websocket.ABNF.OPCODE_TEXT:
            self.statuses.append(json.loads(data))
        elif opcode == websocket.ABNF.OPCODE_CLOSE:
            return False
        return True

    def expect(self, needle: bytes, timeout: float = 15.0) -> bytes:
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            if time.monotonic() > deadline or not self._pump(0.5):
                raise AssertionError(f"{needle!r} not seen; got {self.output[-500:]!r} "
                                     f"statuses {self.statuses}")
        return self.output

    def expect_match(self, pattern: bytes, timeout: float = 15.0) -> bytes:
        """The first group of ``pattern`` once it appears in the output."""
        deadline = time.monotonic() + timeout
        while (match := re.search(pattern, self.output)) is None:
            if time.monotonic() > deadline or not self._pump(0.5):
                raise AssertionError(f"{pattern!r} not seen; got {self.output[-500:]!r}")
        return match.group(1)

    def status(self, kind: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.statuses:
                if message.get("type") == kind:
                    return message
            if time.monotonic() > deadline or not self._pump(0.5):
                for message in self.statuses:
                    if message.get("type") == kind:
                        return message
                raise AssertionError(f"no {kind} status; got {self.statuses}")

    def close(self) -> None:
        self.ws.close()


def open_term(server: Server, cookie: str, path: str, origin: str | None = None,
              header: list[str] | None = None) -> Term:
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}{path}", origin=origin or server.url, cookie=cookie,
        header=header or [], timeout=15)
    return Term(ws)


def proc_stats() -> list[tuple[int, list[str]]]:
    """(pid, fields after the command name) of every live entry in /proc/<pid>/stat."""
    stats = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        stats.append((int(entry), fields))
    return stats


def session_pids(sid: int) -> list[int]:
    """Live processes of the session led by ``sid`` (the PTY's process session)."""
    return [pid for pid, stat in proc_stats() if stat[3] == str(sid) and stat[0] != "Z"]


def zombie_children(pid: int) -> list[int]:
    return [child for child, stat in proc_stats() if stat[1] == str(pid) and stat[0] == "Z"]
