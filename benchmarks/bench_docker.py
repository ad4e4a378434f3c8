"""``/docker`` and the dashboard: docker/Dokku calls and wall time for 10, 100 and 300 containers.

The real web application serves ``GET /docker`` and ``GET /`` (the dashboard,
with the host card's metrics from the sampler's ring) from the simulator:
five Dokku apps (their containers deployed by Dokku), the rest plain
containers (``docker run``-style, every fourth one exited) on a few networks
with volumes.  Each measured request starts with the client's read cache
emptied, so it pays for its reads.  The counts must not grow with the number
of containers: ``/docker`` is one ``docker ps -a``, one ``docker stats``, one
``docker system df -v`` and one ``docker network ls``; the dashboard is
``dokku version``, ``apps:list`` and one Dokku-filtered ``docker ps``.
"in docker/Dokku ms" is the wall time while at least one child process runs
(``/docker``'s four reads run side by side; on the simulator this is mostly
Python start-up of ``pruvon-docker-sim``), "in Pruvon ms" the rest.  Run:
``python -m benchmarks.bench_docker [--sizes 10,100,300]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_apps_page import signed_in, web_app
from pruvon_testing.sim import containers, dockerobjects
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run

TITLE = "Docker page and dashboard: calls and latency by number of containers (simulator)"
HEADERS = ["containers", "page", "docker calls", "dokku calls", "page ms (median of 5)",
           "page ms (max)", "in docker/Dokku ms", "in Pruvon ms"]
RUNS = 5
APPS = 5


def build_host(root: Path, count: int) -> None:
    """``APPS`` deployed Dokku apps, then plain containers up to ``count`` in all."""
    for index in range(APPS):
        for argv in (["apps:create", f"app-{index}"],
                     ["git:from-image", f"app-{index}", "example/web:1"]):
            code, out, err = run(argv, root=root, env={"PRUVON_SIM_LATENCY": "0"})
            if code != 0:
                raise RuntimeError(f"setup {argv} failed ({code}): {out!r} {err!r}")
    state = SimState(root)
    for net in ("backend", "frontend", "spare"):
        dockerobjects.add_network(state, net)
    moment = containers.docker_time(containers.now(state))
    for index in range(count - APPS):  # written directly: add_container scans every record
        volume = dockerobjects.add_volume(state, f"data-{index}") if index % 10 == 0 else None
        containers.save(state, containers.Container(
            id=containers.new_id(), name=f"svc-{index:03d}", app="", process_type="", dyno="",
            container_type="", image="redis:7", created_at=moment, started_at=moment,
            status="exited" if index % 4 == 3 else "running",
            ip=f"172.18.{index // 250}.{index % 250 + 2}", seq=1000 + index,
            volumes=[volume] if volume else [],
            networks=["backend" if index % 2 else "frontend"]))


def measure(http: Any, client: Any, path: str) -> tuple[list, list[float], list[float]]:
    times, outside, calls = [], [], []
    for _ in range(RUNS):
        client.invalidate()
        client.reset_calls()
        start = time.perf_counter()
        response = http.get(path)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        calls = client.calls
        outside.append(busy_seconds(calls) * 1000)
    return calls, times, outside


def busy_seconds(calls: list) -> float:
    """Wall time with at least one child process running (reads overlap on /docker)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted((c.started, c.started + c.duration) for c in calls):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def rows_for(count: int) -> list[list[str]]:
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-docker-") as tmp:
        root = Path(tmp)
        build_host(root / "sim", count)
        app = web_app(root)
        http = signed_in(app)
        client = app.extensions["pruvon"].client()
        client.version()
        rows = []
        for page in ("/docker", "/"):
            calls, times, outside = measure(http, client, page)
            rows.append([str(count), page, str(sum(c.kind == "docker" for c in calls)),
                         str(sum(c.kind == "dokku" for c in calls)),
                         f"{statistics.median(times):.0f}", f"{max(times):.0f}",
                         f"{statistics.median(outside):.0f}",
                         f"{statistics.median(t - o for t, o in zip(times, outside, strict=True)):.0f}"])
        return rows


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def run_all(sizes: list[int] | None = None) -> tuple[str, str]:
    """``(title, markdown table)`` for ``benchmarks.__main__``."""
    return TITLE, table([row for n in sizes or [10, 100, 300] for row in rows_for(n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300", help="comma-separated container counts")
    args = parser.parse_args()
    title, text = run_all([int(s) for s in args.sizes.split(",")])
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
