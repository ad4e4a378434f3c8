"""The ``/apps`` page: Dokku calls and wall time for 1, 50 and 200 apps.

The real web application (Flask app factory, session login, permission
filter, template) serves ``GET /apps`` from the simulator with
``PRUVON_SIM_LATENCY=realistic`` (real Dokku 0.38.27 medians, ``TIMINGS.md``).
Each measured request starts with the client's read cache emptied, so it pays
for its reads; the domains column comes from the plugin's index, refreshed in
the background by one ``domains:report`` (not part of any page).  One app in
three is deployed.  "in Dokku/docker ms" is the time spent in the two child
processes (on this simulator mostly Python start-up of ``pruvon-dokku-sim`` and
``pruvon-docker-sim`` plus the injected latency); "in Pruvon ms" is the rest:
routing, session, permission filter, template.  Run: ``python -m benchmarks.bench_apps_page [--sizes 1,50,200]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_app_list import build_host
from pruvon_testing.fixtures_client import sim_executable
from pruvon_testing.fixtures_config import CONFIG_TEMPLATE, PASSWORDS, _hashes
from pruvon_testing.sim.core import SimState

TITLE = "Apps page (GET /apps): calls and latency (simulator, realistic Dokku latency)"
HEADERS = ["apps", "state from", "dokku calls", "docker calls", "per-app calls",
           "page ms (median of 5)", "page ms (max)", "in Dokku/docker ms", "in Pruvon ms"]
RUNS = 5
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_app(root: Path) -> Any:
    """A web application on a fresh config/state dir bound to the simulator at ``root``."""
    config = root / "pruvon.yml"
    config.write_text(CONFIG_TEMPLATE.format(**_hashes()), encoding="utf-8")
    os.chmod(config, 0o600)
    state = root / "state"
    state.mkdir(mode=0o700)
    os.environ.update(
        PRUVON_SIM_ROOT=str(root / "sim"),
        PRUVON_DOKKU_COMMAND=" ".join(sim_executable("pruvon-dokku-sim")),
        PRUVON_DOCKER_COMMAND=" ".join(sim_executable("pruvon-docker-sim")),
        PRUVON_STATE_DIR=str(state),
    )
    from pruvon_web.app import create_app

    return create_app(config, state_dir=state)


def signed_in(app: Any) -> Any:
    http = app.test_client()
    token = CSRF_RE.search(http.get("/login").get_data(as_text=True)).group(1)
    response = http.post("/login", data={"username": "admin", "password": PASSWORDS["admin"],
                                         "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code}")
    return http


def measure(count: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-apps-") as tmp:
        root = Path(tmp)
        build_host(root / "sim", count)
        app = web_app(root)
        http = signed_in(app)
        client = app.extensions["pruvon"].client()
        from pruvon_apps.service import DomainIndex

        DomainIndex(app.extensions["pruvon"].state_dir).refresh(client)  # as the bg thread does
        SimState(root / "sim").set_knobs(latency="realistic")
        client.version()
        client.apps_overview()  # server start: what warm_up() prefetches over ssh
        times, outside, calls, source = [], [], [], "-"
        for _ in range(RUNS):
            client.invalidate()
            client.reset_calls()
            start = time.perf_counter()
            response = http.get("/apps")
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"/apps answered {response.status_code}")
            calls = client.calls
            outside.append(sum(c.duration for c in calls) * 1000)
            source = "docker ps" if client.docker_error is None else "ps:report (stale-ok)"
        per_app = sum(1 for c in calls if any(a.startswith("app-") for a in c.argv))
        return [str(count), source, str(sum(c.kind == "dokku" for c in calls)),
                str(sum(c.kind == "docker" for c in calls)), str(per_app),
                f"{statistics.median(times):.0f}", f"{max(times):.0f}",
                f"{statistics.median(outside):.0f}",
                f"{statistics.median(t - o for t, o in zip(times, outside, strict=True)):.0f}"]


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def run_all(sizes: list[int] | None = None) -> tuple[str, str]:
    """``(title, markdown table)`` for ``benchmarks.__main__``."""
    return TITLE, table([measure(n) for n in sizes or [1, 50, 200]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,50,200", help="comma-separated app counts")
    args = parser.parse_args()
    title, text = run_all([int(s) for s in args.sizes.split(",")])
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
