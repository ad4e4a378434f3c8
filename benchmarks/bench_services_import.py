"""Service import through the web: throughput and the server's memory for a 1 GiB dump.

A real ``pruvon serve`` (gunicorn) on the simulator; an admin uploads a
``redis`` dump (``REDIS`` magic + zeros) of ``--size`` bytes the way the
service page does: the file as the raw body of ``POST
/services/redis/<name>/import``, then the progress frames of
``/ws/services/import/<task>`` until the final ``{"status": "done"}``.  The
gunicorn worker's RSS is sampled every 20 ms from before the upload to the
end.  Beside it, the same file piped straight into the simulator
(``pruvon-dokku-sim redis:import NAME < file``), what ``dokku redis:import``
costs without Pruvon.  Reported: seconds, MB/s, the worker's RSS before and
at its peak (growth), and the importing ``dokku`` process's own peak RSS.

The simulator's ``redis:import`` (like ``postgres:import``) reads stdin whole
before writing it, so its peak RSS is about the file size; a real host's
``docker exec … cat >`` streams.  That figure is the simulator's, not
Pruvon's, and is shown so nobody mistakes one for the other.

Run: ``python -m benchmarks bench_services_import`` (``PRUVON_BENCH_IMPORT_MB``
changes the size; 1024 by default).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import websocket

from pruvon_testing.sim.main import run as sim_run
from tests.web.server import BIN, Browser, Server, start_server

TITLE = "Service import of a 1 GiB dump (real gunicorn, simulator, redis)"
HEADERS = ["path", "size MiB", "seconds (upload + import)", "MB/s", "Pruvon worker RSS MB before → peak (growth)",
           "importing dokku process peak RSS MB"]
SERVICE = "bench-cache"
MIB = 1024 * 1024


def size_mib() -> int:
    return int(os.environ.get("PRUVON_BENCH_IMPORT_MB", "1024"))


def make_dump(path: Path, size: int) -> None:
    """A valid RDB of ``size`` bytes: one key whose string value fills the file.

    ``REDIS0011``, SELECTDB 0, a string key ``k`` with a 64-bit length, then
    zeros (sparse: writing and reading them costs no disk), EOF and a zero
    checksum (redis skips the check for 0), so the simulator loads it fast.
    """
    head = b"REDIS0011\xfe\x00\x00\x01k\x81"
    tail = b"\xff" + b"\0" * 8
    value = size - len(head) - 8 - len(tail)
    with open(path, "wb") as out:
        out.write(head + struct.pack(">Q", value))
        out.seek(size - len(tail))
        out.write(tail)


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def workers(server: Server) -> list[int]:
    text = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text()
    return [int(p) for p in text.split()]


def importers() -> list[int]:
    """Running simulated ``redis:import`` processes (the web path's Dokku child)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"redis:import" in words:
                found.append(int(entry.name))
    return found


class Sampler:
    """Peak RSS of the server's workers and of the Dokku child, sampled in a thread."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak = 0.0
        self.child_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(rss_mb(p) for p in self.pids))
            self.child_peak = max([self.child_peak, *(rss_mb(p) for p in importers())])
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def writable_data_dir(sim: Path) -> None:
    """The redis plugin writes ``dump.rdb`` as the dokku user (upstream dokku-redis#248)."""
    from pruvon_testing.sim.core import SimState
    from pruvon_testing.sim.services_store import Service
    from pruvon_testing.sim.services_types import TYPES

    data = Service(SimState(sim), TYPES["redis"], SERVICE).data_dir
    data.chmod(data.stat().st_mode | stat.S_IWOTH)


def upload(server: Server, browser: Browser, dump: Path) -> tuple[float, float]:
    """POST the file, follow the socket to the end; seconds to the 202 and to done."""
    token = browser.csrf("/account")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    started = time.perf_counter()
    with open(dump, "rb") as body:
        connection.request("POST", f"/services/redis/{SERVICE}/import", body=body, headers={
            "Content-Type": "application/octet-stream", "Content-Length": str(dump.stat().st_size),
            "X-CSRF-Token": token, "Cookie": browser.cookie_header(), "Origin": server.url})
        response = connection.getresponse()
        answer = json.loads(response.read())
    uploaded = time.perf_counter() - started
    if response.status != 202:
        raise RuntimeError(f"upload refused: {response.status} {answer}")
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}{answer['ws']}",
                                     origin=server.url, cookie=browser.cookie_header(),
                                     timeout=600)
    try:
        while True:
            frame = json.loads(ws.recv())
            if "status" in frame:
                break
    finally:
        ws.close()
    if frame["status"] != "done":
        raise RuntimeError(f"import failed: {frame}")
    return uploaded, time.perf_counter() - started


def raw_pipe(server: Server, dump: Path) -> tuple[float, float]:
    """``pruvon-dokku-sim redis:import NAME < file``: seconds and the child's peak RSS."""
    env = {**os.environ, "PRUVON_SIM_ROOT": str(server.sim)}
    started = time.perf_counter()
    with open(dump, "rb") as source:
        code = subprocess.run([str(BIN / "pruvon-dokku-sim"), "redis:import", SERVICE],
                              stdin=source, env=env, capture_output=True).returncode
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError("raw redis:import failed")
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_all() -> tuple[str, str]:
    size = size_mib() * MIB
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-import-") as tmp:
        root = Path(tmp)
        server = start_server(root / "server")
        try:
            code, _out, err = sim_run(["redis:create", SERVICE], root=server.sim)
            assert code == 0, err
            writable_data_dir(server.sim)
            dump = root / "dump.rdb"
            make_dump(dump, size)
            browser = Browser(server.url)
            assert browser.login("admin", server.passwords["admin"]) == 302
            browser.request("/services")  # warm the worker: imports, templates, plugin list
            pids = workers(server)
            before = sum(rss_mb(p) for p in pids)
            with Sampler(pids) as sampler:
                uploaded, seconds = upload(server, browser, dump)
            raw_seconds, raw_rss = raw_pipe(server, dump)
        finally:
            server.stop()
    mb = size / 1e6
    rows = [
        ["web upload + import socket", f"{size // MIB}",
         f"{seconds:.1f} ({uploaded:.1f} + {seconds - uploaded:.1f})", f"{mb / seconds:.0f}",
         f"{before:.0f} → {sampler.peak:.0f} (+{sampler.peak - before:.0f})",
         f"{sampler.child_peak:.0f}"],
        ["raw `redis:import < file`", f"{size // MIB}", f"{raw_seconds:.1f}",
         f"{mb / raw_seconds:.0f}", "—", f"{raw_rss:.0f}"],
    ]
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return TITLE, "\n".join(lines)


if __name__ == "__main__":
    title, table = run_all()
    print(f"### {title}\n\n{table}")
    sys.exit(0)
