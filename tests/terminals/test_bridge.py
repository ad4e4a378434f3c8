"""The PTY bridge with a real PTY and an in-memory WebSocket: backpressure, timers, teardown."""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

import pytest
from pruvon_terminals.sessions import Limits, TerminalBridge, clamp, parse_control

from pruvon_core.dokku.transports import PtyHandle
from tests.terminals.conftest import session_pids


class FakeSock:
    def __init__(self, ws: FakeWS) -> None:
        self.ws = ws

    def shutdown(self, how: int) -> None:
        self.ws.broken = True
        self.ws.gate.set()


class FakeWS:
    """A WebSocket whose client can stall (``gate`` cleared) like a slow browser."""

    def __init__(self) -> None:
        self.incoming: queue.Queue = queue.Queue()
        self.frames: list[bytes | str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.connected = True
        self.broken = False
        self.closed_with: tuple[int, str] | None = None
        self.sock = FakeSock(self)

    def receive(self, timeout: float | None = None) -> bytes | str | None:
        try:
            return self.incoming.get(timeout=timeout)
        except queue.Empty:
            return None

    def send(self, data: bytes | str) -> None:
        self.gate.wait()
        if self.broken:
            raise OSError("socket shut down")
        self.frames.append(data)

    def close(self, reason: int = 1000, message: str = "") -> None:
        self.closed_with = (reason, message)

    def output(self) -> bytes:
        return b"".join(f for f in self.frames if isinstance(f, bytes))

    def statuses(self) -> list[dict]:
        return [json.loads(f) for f in self.frames if isinstance(f, str)]


def run_bridge(argv: list[str], limits: Limits, ws: FakeWS, guard=lambda: None, **kw):
    handle = PtyHandle(argv, None, 80, 24)
    bridge = TerminalBridge(ws, handle, limits, guard, **kw)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("outcome", bridge.run()))
    thread.start()
    return handle, thread, result


def written_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar")


def test_a_stalled_client_bounds_memory_and_the_idle_timer_still_fires():
    ws = FakeWS()
    ws.gate.clear()  # the browser stops reading
    handle, thread, result = run_bridge(
        ["dd", "if=/dev/zero", "bs=65536", "count=100000", "status=none"],
        Limits(idle_timeout=1.5, max_lifetime=60), ws)
    time.sleep(1.0)
    produced = written_bytes(handle.pid)
    # the program is blocked on a full PTY: it wrote at most the kernel buffer plus
    # the one chunk the bridge holds, not the 6.5 GB it wants to write
    assert produced < 2 * 1024 * 1024
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert result["outcome"].reason == "idle"
    assert not session_pids(handle.pid)


def test_exit_code_and_remaining_output_are_delivered():
    ws = FakeWS()
    _, thread, result = run_bridge(
        ["sh", "-c", "printf 'last words'; exit 7"], Limits(60, 60), ws)
    thread.join(timeout=15)
    assert b"last words" in ws.output()
    assert ws.statuses()[-1] == {"type": "exited", "code": 7}
    assert ws.closed_with == (1000, "")
    assert result["outcome"].code == 7


def test_a_signal_death_reports_128_plus_the_signal():
    ws = FakeWS()
    _, thread, result = run_bridge(["sh", "-c", "kill -TERM $$"], Limits(60, 60), ws)
    thread.join(timeout=15)
    assert result["outcome"].code == 143


def test_lifetime_and_revocation_and_kill_request_close_with_reasons():
    for limits, guard, killed, reason in (
        (Limits(60, 0.5), lambda: None, lambda: None, "lifetime"),
        (Limits(60, 60, 0.1), lambda: "your access was revoked", lambda: None, "revoked"),
        (Limits(60, 60, 0.1), lambda: None, lambda: "maintenance", "killed"),
    ):
        ws = FakeWS()
        handle, thread, result = run_bridge(["sleep", "30"], limits, ws, guard,
                                            kill_requested=killed)
        thread.join(timeout=15)
        assert result["outcome"].reason == reason
        assert ws.statuses()[-1]["reason"] == reason
        assert ws.closed_with[0] == (1008 if reason in ("revoked", "killed") else 1000)
        assert not session_pids(handle.pid)


def test_input_reaches_the_program_and_client_close_kills_it():
    ws = FakeWS()
    handle, thread, result = run_bridge(["cat"], Limits(60, 60), ws)
    ws.incoming.put(b"typed\r")
    deadline = time.monotonic() + 10
    while b"typed" not in ws.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b"typed" in ws.output()
    ws.connected = False  # the browser went away
    thread.join(timeout=15)
    assert result["outcome"].reason == "client"
    assert not any(isinstance(f, str) and "exited" in f for f in ws.frames)
    assert not session_pids(handle.pid)


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (80, 80), (501, 500), (10**9, 500),
                                                 (-3, 1), (42.9, 42)])
def test_clamp(value, expected):
    assert clamp(value, "cols") == expected


@pytest.mark.parametrize("value", ["80", None, True, float("nan"), float("inf"), [80]])
def test_clamp_refuses_non_numbers(value):
    with pytest.raises(ValueError, match="cols must be"):
        clamp(value, "cols")


@pytest.mark.parametrize(("text", "error"), [
    ("x" * 5000, "longer than 4096"),
    ("{", "not JSON"),
    ("[" * 4000, "not JSON"),  # issue 14 #7: RecursionError escaped
    ("[1]", 'object with a "type"'),
    ('{"type": 3}', 'object with a "type"'),
])
def test_parse_control_errors(text, error):
    with pytest.raises(ValueError, match=error):
        parse_control(text)


def test_an_oversized_input_frame_is_refused_and_the_session_goes_on():
    ws = FakeWS()
    handle, thread, _ = run_bridge(["cat"], Limits(60, 60), ws)
    ws.incoming.put(b"x" * (1024 * 1024 + 1))
    ws.incoming.put(b"small\r")
    deadline = time.monotonic() + 10
    while b"small" not in ws.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b"small" in ws.output() and b"xxxx" not in ws.output()
    assert ws.statuses()[0]["error"].startswith("input larger than 1 MiB refused")
    ws.connected = False
    thread.join(timeout=15)
    assert not session_pids(handle.pid)
