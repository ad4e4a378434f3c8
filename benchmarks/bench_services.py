"""The services list: Dokku calls and latency for 1, 50 and 200 services across 3 kinds.

The simulator holds ``count`` services spread over postgres, redis and mysql
(every third one linked to an app, every fifth stopped), created without
latency; then ``PRUVON_SIM_LATENCY=realistic`` (real Dokku 0.38.27 medians,
``TIMINGS.md``) and each measured read starts with the client's read cache
emptied.  Rows:

* ``list_services()``: what the CLI, the API and the page call — one
  ``<type>:list`` per kind, one ``docker ps`` and one ``docker-options:report``.
* ``GET /api/v1/services``: the real web application (session, permission
  filter, JSON) serving that list, signed in as admin.
* ``<type>:info`` per service: the naive way, for contrast (not run for 200:
  it would take minutes; the 1 and 50 rows show it grows by one call per
  service).

Run: ``python -m benchmarks.bench_services [--sizes 1,50,200]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_apps_page import signed_in, web_app
from pruvon_testing.fixtures_client import client_for_sim
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run

TITLE = "Services list: calls and latency (simulator, realistic Dokku latency, 3 kinds)"
HEADERS = ["services", "read", "dokku calls", "docker calls", "ms (median of 5)", "ms (max)"]
KINDS = ("postgres", "redis", "mysql")
APPS = 10
RUNS = 5
NAIVE_UP_TO = 50


def sim(root: Path, *argv: str) -> None:
    code, out, err = run(list(argv), root=root, env={"PRUVON_SIM_LATENCY": "0"})
    if code != 0:
        raise RuntimeError(f"setup {argv} failed ({code}): {out!r} {err!r}")


def build_host(root: Path, count: int) -> None:
    """``APPS`` apps and ``count`` services over :data:`KINDS`; some linked, some stopped."""
    sim(root, "plugin:install", "https://github.com/dokku/dokku-mysql.git")
    for index in range(APPS):
        sim(root, "apps:create", f"app-{index:02d}")
    for index in range(count):
        kind, name = KINDS[index % len(KINDS)], f"svc-{index:03d}"
        sim(root, f"{kind}:create", name)
        if index % 3 == 0:
            sim(root, f"{kind}:link", name, f"app-{index % APPS:02d}", "--no-restart", "true")
        if index % 5 == 4:
            sim(root, f"{kind}:stop", name)


def timed(client: Any, read: Any, runs: int = RUNS) -> tuple[list[float], list[Any]]:
    """Wall times of ``runs`` reads on an emptied cache, and the last read's calls."""
    times: list[float] = []
    calls: list[Any] = []
    for _ in range(runs):
        client.invalidate()
        client.reset_calls()
        start = time.perf_counter()
        read()
        times.append((time.perf_counter() - start) * 1000)
        calls = client.calls
    return times, calls


def row(count: int, read: str, times: list[float], calls: list[Any]) -> list[str]:
    return [str(count), read, str(sum(c.kind == "dokku" for c in calls)),
            str(sum(c.kind == "docker" for c in calls)), f"{statistics.median(times):.0f}",
            f"{max(times):.0f}"]


def measure(count: int) -> list[list[str]]:
    from pruvon_services.kinds import available_kinds
    from pruvon_services.service import list_services

    with tempfile.TemporaryDirectory(prefix="pruvon-bench-services-") as tmp:
        root = Path(tmp)
        build_host(root / "sim", count)
        app = web_app(root)
        http = signed_in(app)
        SimState(root / "sim").set_knobs(latency="realistic")
        client = client_for_sim(root / "sim")
        kinds = available_kinds(client, max_age=0)
        assert [k.name for k in kinds] == sorted(KINDS, key=[k.name for k in kinds].index)
        rows = []
        found: list[Any] = []

        def listed() -> None:
            found[:] = list_services(client, kinds)

        times, calls = timed(client, listed)
        if len(found) != count:
            raise RuntimeError(f"listed {len(found)} of {count} services")
        rows.append(row(count, "list_services()", times, calls))

        web_client = app.extensions["pruvon"].client()
        web_client.version()

        def api() -> None:
            response = http.get("/api/v1/services")
            if response.status_code != 200 or len(response.get_json()["services"]) != count:
                raise RuntimeError(f"/api/v1/services answered {response.status_code}")

        times, calls = timed(web_client, api)
        rows.append(row(count, "GET /api/v1/services", times, calls))
        if count <= NAIVE_UP_TO:
            def naive() -> None:
                for kind in kinds:
                    for service in client.services(kind.name):
                        client.service_info(kind.name, service.name)

            times, calls = timed(client, naive, runs=1)
            rows.append(row(count, "<type>:info per service (1 run)", times, calls))
        return rows


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def run_all(sizes: list[int] | None = None) -> tuple[str, str]:
    """``(title, markdown table)`` for ``benchmarks.__main__``."""
    return TITLE, table([r for n in sizes or [1, 50, 200] for r in measure(n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,50,200", help="comma-separated service counts")
    args = parser.parse_args()
    title, text = run_all([int(s) for s in args.sizes.split(",")])
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
