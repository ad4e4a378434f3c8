"""App list cost: Pruvon's bulk read vs the naive ``ps:report`` loop.

For 1, 10 and 200 apps on the simulator with ``PRUVON_SIM_LATENCY=realistic``
(real Dokku 0.38.27 medians from ``TIMINGS.md``), measure

* ``apps_overview()``: ``apps:list`` + ONE ``docker ps -a`` filtered on Dokku's
  labels (what every app list page, CLI table and API call uses), and
* the naive way: ``apps:list`` then ``ps:report <app>`` for every app,

reporting the number of processes started and the wall time of each.  The host
is built without latency (in-process simulator calls); only the measured reads
pay it.  Run: ``python -m benchmarks.bench_app_list [--sizes 1,10,200]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pruvon_core.dokku import DokkuClient
from pruvon_testing.fixtures_client import client_for_sim
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run

TITLE = "App list: calls and wall time (simulator, realistic Dokku latency)"
HEADERS = [
    "apps", "method", "state from", "dokku calls", "docker calls", "ps:report calls", "wall time (s)",
]  # fmt: skip
DEPLOYED_EVERY = 3  # one app in three is deployed, so docker has containers to list


def build_host(root: Path, count: int) -> None:
    """``count`` apps, every third one deployed, created without latency."""
    for index in range(count):
        app = f"app-{index:03d}"
        for argv in (["apps:create", app], ["git:from-image", app, "example/web:1"]):
            if argv[0] == "git:from-image" and index % DEPLOYED_EVERY:
                continue
            code, out, err = run(argv, root=root, env={"PRUVON_SIM_LATENCY": "0"})
            if code != 0:
                raise RuntimeError(f"setup {argv} failed ({code}): {out!r} {err!r}")


def measure(client: DokkuClient, read: str) -> tuple[str, list, float]:
    """Run one read on a fresh cache; return where states came from, its calls, wall time."""
    client.version()  # detected once per client, not part of a page's cost
    client.reset_calls()
    client.invalidate()
    start = time.perf_counter()
    if read == "overview":
        sources = {app.source for app in client.apps_overview()}
        source = ",".join(sorted(sources)) or "-"
    else:
        for app in client.list_apps():
            client.ps_report(app)
        source = "ps:report"
    return source, client.calls, time.perf_counter() - start


def row(count: int, method: str, source: str, calls: list, seconds: float) -> list[str]:
    dokku = sum(1 for c in calls if c.kind == "dokku")
    docker = sum(1 for c in calls if c.kind == "docker")
    reports = sum(1 for c in calls if "ps:report" in c.argv)
    return [str(count), method, source, str(dokku), str(docker), str(reports), f"{seconds:.2f}"]


def run_benchmark(sizes: list[int]) -> list[list[str]]:
    rows = []
    for count in sizes:
        with tempfile.TemporaryDirectory(prefix="pruvon-bench-") as tmp:
            root = Path(tmp)
            build_host(root, count)
            SimState(root).set_knobs(latency="realistic")
            client = client_for_sim(root, timeout=max(60.0, count * 2.0))
            rows.append(row(count, "apps_overview()", *measure(client, "overview")))
            rows.append(row(count, "naive ps:report loop", *measure(client, "naive")))
    return rows


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def run_all(sizes: list[int] | None = None) -> tuple[str, str]:
    """``(title, markdown table)`` for ``benchmarks.__main__``."""
    return TITLE, table(run_benchmark(sizes or [1, 10, 200]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,200", help="comma-separated app counts")
    args = parser.parse_args()
    title, text = run_all([int(s) for s in args.sizes.split(",")])
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
