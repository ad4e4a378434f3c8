"""Pages under load: N signed-in clients on ``/apps`` and ``/api/v1/apps`` (issue 19).

A real ``pruvon serve`` (gunicorn, its default worker and threads) on the
simulator at real Dokku latency (``PRUVON_SIM_LATENCY=realistic``, medians of
a 0.38.27 host) with 12 apps.  Each client is a thread with its own session
(its own sign-in and cookie jar) sending real HTTP requests back to back for
``--duration`` seconds, first all on ``/apps``, then all on ``/api/v1/apps``.
Reported: requests/s, p50/p99 latency, failed requests, ``dokku`` and
``docker`` processes started per second (counted by the simulator's
``call_log``, i.e. what reached the host, from every worker process) and the
gunicorn worker's RSS before and after.

Run: ``python -m benchmarks.bench_load [--clients 1,5,20] [--duration 30]``;
``--code DIR`` serves another checkout of Pruvon (e.g. ``git archive`` of an
older commit) against the same simulator, for before/after figures.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_app_list import build_host
from pruvon_testing.fixtures_config import CONFIG_TEMPLATE, PASSWORDS, _hashes
from pruvon_testing.sim.core import SimState
from tests.web.server import Server, free_port  # the e2e tests' real server handle

TITLE = "Pages under load (real gunicorn, simulator at realistic Dokku latency, 12 apps)"
HEADERS = ["clients", "path", "req/s", "p50 ms", "p99 ms", "failed", "dokku calls/s",
           "docker calls/s", "worker RSS MB before → after"]
PATHS = ("/apps", "/api/v1/apps")
APPS = 12
BIN = Path(sys.executable).parent
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def worker_rss_mb(server: Server) -> float:
    """Resident memory of the gunicorn worker(s) forked by the server (MB)."""
    total = 0
    for pid in children(server.process.pid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total / 1024


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (the gunicorn workers of the arbiter)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def start_server(root: Path, code: Path | None = None) -> Server:
    """Config, state and simulator under ``root``; ``pruvon serve`` until /healthz answers."""
    sim, state = root / "sim", root / "state"
    build_host(sim, APPS)
    state.mkdir(mode=0o700)
    config = root / "pruvon.yml"
    config.write_text(CONFIG_TEMPLATE.format(**_hashes()), encoding="utf-8")
    os.chmod(config, 0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUVON_")}
    dokku, docker = str(BIN / "pruvon-dokku-sim"), str(BIN / "pruvon-docker-sim")
    if code is not None:  # serve that checkout; the simulator stays this one (its call log)
        env["PYTHONPATH"] = f"{code}:{code / 'plugins'}"
        dokku, docker = (f"env -u PYTHONPATH {dokku}", f"env -u PYTHONPATH {docker}")
    env.update(PRUVON_CONFIG=str(config), PRUVON_STATE_DIR=str(state), PRUVON_SIM_ROOT=str(sim),
               PRUVON_DOKKU_COMMAND=dokku, PRUVON_DOCKER_COMMAND=docker)
    SimState(sim).set_knobs(latency="realistic", call_log=True)
    port = free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115 - the server's, for its life
    process = subprocess.Popen(
        [str(BIN / "pruvon"), "--config", str(config), "serve", "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = Server(root=root, port=port, process=process, config=config, state=state, sim=sim)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pruvon serve exited:\n{(root / 'server.log').read_text()}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("pruvon serve did not start in 60 s")


class Session:
    """One signed-in client: its own cookie jar, real HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def sign_in(self) -> None:
        match = CSRF_RE.search(self.get("/login")[1])
        if match is None:
            raise RuntimeError("no CSRF token on /login")
        data = urllib.parse.urlencode({"username": "admin", "password": PASSWORDS["admin"],
                                       "csrf_token": match.group(1)}).encode()
        with self.opener.open(self.base + "/login", data=data, timeout=60) as response:
            if "/login" in response.url:
                raise RuntimeError("sign-in failed")


@dataclass
class Phase:
    """What one run of ``clients`` sessions on one path measured."""

    times: list[float] = field(default_factory=list)
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, ok: bool) -> None:
        with self.lock:
            self.times.append(seconds)
            self.failed += not ok


def hammer(session: Session, path: str, until: float, phase: Phase) -> None:
    while time.monotonic() < until:
        start = time.monotonic()
        try:
            status, _ = session.get(path)
        except OSError:
            status = 0
        phase.add(time.monotonic() - start, status == 200)


def logged_calls(sim: Path, since: float, until: float) -> dict[str, int]:
    """``dokku``/``docker`` invocations the simulator logged in [since, until) (wall clock)."""
    counts = {"dokku": 0, "docker": 0}
    path = sim / "calls.log"
    for line in path.read_text().splitlines() if path.exists() else []:
        call = json.loads(line)
        if since <= call["t"] < until:
            counts[call["tool"]] += 1
    return counts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def run_phase(server: Server, sessions: list[Session], path: str, duration: float) -> list[str]:
    """All ``sessions`` on ``path`` for ``duration`` seconds: one table row."""
    for session in sessions:  # warm: the first page of each session, not measured
        session.get(path)
    rss_before = worker_rss_mb(server)
    phase = Phase()
    wall_start, start = time.time(), time.monotonic()
    until = start + duration
    threads = [threading.Thread(target=hammer, args=(s, path, until, phase)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    calls = logged_calls(server.sim, wall_start, wall_start + elapsed)
    rate = len(phase.times) / elapsed
    return [str(len(sessions)), f"`{path}`", f"{rate:.1f}",
            f"{statistics.median(phase.times) * 1000:.0f}" if phase.times else "-",
            f"{percentile(phase.times, 0.99) * 1000:.0f}", str(phase.failed),
            f"{calls['dokku'] / elapsed:.1f}", f"{calls['docker'] / elapsed:.1f}",
            f"{rss_before:.0f} → {worker_rss_mb(server):.0f}"]


def measure(clients: list[int], duration: float, code: Path | None = None) -> list[list[str]]:
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-load-") as tmp:
        server = start_server(Path(tmp), code)
        try:
            rows = []
            for count in clients:
                sessions = [Session(server.url) for _ in range(count)]
                for session in sessions:
                    session.sign_in()
                rows += [run_phase(server, sessions, path, duration) for path in PATHS]
            return rows
        finally:
            server.stop()


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def run_all(clients: list[int] | None = None, duration: float = 30.0,
            code: Path | None = None) -> tuple[str, str]:
    """``(title, markdown table)`` for ``benchmarks.__main__``."""
    return TITLE, table(measure(clients or [1, 5, 20], duration, code))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,5,20", help="comma-separated client counts")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per path and count")
    parser.add_argument("--code", type=Path, help="serve this checkout of Pruvon instead")
    args = parser.parse_args()
    title, text = run_all([int(c) for c in args.clients.split(",")], args.duration, args.code)
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
