"""Golden tests: ``logs``, ``logs:report``, ``run``, ``run:detached`` and ``enter``.

State comes from the replayed capture session (``simb_session``), including the
captured HTTP requests as container log lines.  Normalisations (both sides):
the concurrent per-container group order of multi-container ``logs``; the
random ``run.N`` dyno/container number; for ``logs -t`` the Go log line
``signal: terminated`` that real Dokku printed in one of its two runs only; the
literal ``^@`` capture artifact at the start of the ``run``/``enter`` PTY
captures (INDEX.md quirk 17).  ``logs-tail`` was captured under ``timeout 5``,
whose own exit status is 124; the simulator is stopped with the same SIGTERM
and exits 143, as ``logs-tail-preserve-status`` shows Dokku does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pruvon_testing.sim import containers
from pruvon_testing.sim.core import SimState
from tests.golden.harness import CASES, assert_matches, check_snapshot_tty
from tests.golden.simb_session import (
    DURING_TAIL,
    REQ,
    RUN_DYNO,
    SIGNAL_LINE,
    log_group_order,
    session,
)

LOG_CASES = [
    "logs-n5", "logs-n5-quiet", "logs-never-deployed", "logs-ps-web", "logs-multi-n5",
    "logs-missing-app", "logs-ps-missing-proc", "logs-multi-n10", "logs-multi-ps-web-quiet",
    "logs-multi-ps-web1", "logs-report", "logs-report-json", "logs-report-missing-app",
]
RUN_CASES = [
    "run-echo", "run-never-deployed", "run-exit-code", "run-env", "run-detached",
    "run-missing-app", "enter-web-echo", "enter-multi-echo", "enter-multi-web-echo",
    "enter-multi-dyno-echo", "enter-multi-container-id-echo", "enter-never-deployed",
    "enter-missing-app",
]
TTY_CASES = ["logs-n5-tty", "logs-n5-quiet-tty", "run-echo-tty", "enter-web-echo-tty"]
STREAM_CASES = ["logs-tail", "logs-tail-preserve-status"]
CLAIMED = LOG_CASES + RUN_CASES + TTY_CASES + STREAM_CASES
CARET_AT = b"^@"


@pytest.mark.parametrize("name", LOG_CASES + RUN_CASES)
def test_capture(name: str) -> None:
    assert_matches(CASES[name], session().result(name), (log_group_order, RUN_DYNO))


def _strip_artifact(data: bytes) -> bytes:
    return data[len(CARET_AT):] if data.startswith(CARET_AT) else data


@pytest.mark.parametrize("name", TTY_CASES)
def test_tty(name: str, tmp_path: Path) -> None:
    check_snapshot_tty(session(), name, tmp_path, (_strip_artifact,))


def _read_lines(proc: subprocess.Popen, count: int, deadline: float) -> list[bytes]:
    lines: list[bytes] = []
    assert proc.stdout is not None
    while len(lines) < count and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
    return lines


def _follow(root: Path, argv: list[str], before: int, traffic: list) -> tuple[int, bytes, bytes]:
    """Run ``dokku logs … -t`` as a process, feed the captured requests, SIGTERM it."""
    SimState(root).set_knobs(log_traffic_interval=0)
    env = {**os.environ, "PRUVON_SIM_ROOT": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pruvon_testing.sim", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
    )
    deadline = time.monotonic() + 20
    lines = _read_lines(proc, before, deadline)
    state = SimState(root)
    for app, dyno, stamp, port in traffic:
        target = next(c for c in containers.current_containers(state, app) if c.dyno == dyno)
        containers.append_log(state, target.id, REQ.format(port=port), time=stamp)
    lines += _read_lines(proc, len(traffic), deadline)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    return proc.returncode, b"".join(lines) + out, err


def test_logs_tail(tmp_path: Path) -> None:
    """``logs -t`` keeps streaming new lines until SIGTERM (capture: under ``timeout 5``)."""
    case = CASES["logs-tail"]
    root = session().snapshot("logs-tail", tmp_path)
    code, out, err = _follow(root, case.argv, 4, DURING_TAIL)
    assert code == 143
    assert_matches(case, (124, out, err))


def test_logs_tail_preserve_status(tmp_path: Path) -> None:
    case = CASES["logs-tail-preserve-status"]
    root = session().snapshot("logs-tail-preserve-status", tmp_path)
    result = _follow(root, case.argv, 1, [])
    assert_matches(case, result, (SIGNAL_LINE,))
