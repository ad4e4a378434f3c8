"""What the Pruvon Dokku plugin adds to ``dokku help``.

``dokku help`` runs every enabled plugin's ``commands help``; the shim answers
it in plain bash, without starting Python.  Measured here:

* ``commands help`` and ``commands help`` under ``help --all`` on their own,
* ``pruvon-dokku-sim help`` (the simulator's dispatch, which runs plugin
  scripts exactly as Dokku does) with and without the plugin enabled - the
  difference is the plugin's cost in a ``dokku help``,
* for contrast, one ``pruvon --version`` start-up: what ``dokku help`` would pay
  per call if the help path started Python.

Real Dokku 0.38.27 takes about 1.1 s for ``dokku help`` (TIMINGS.md).
Run: ``python -m benchmarks.bench_dokku_help [--runs 30]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "dokku-plugin"
BIN = Path(sys.executable).parent
TITLE = "dokku help: cost of the Pruvon plugin"
HEADERS = ["measurement", "median (ms)", "min (ms)", "runs"]


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall time in ms of ``runs`` sequential runs of ``argv`` (output discarded)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(label: str, samples: list[float]) -> list[str]:
    return [label, f"{statistics.median(samples):.1f}", f"{min(samples):.1f}", str(len(samples))]


def compare_sim_help(env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Simulated ``dokku help`` on two hosts, one with the plugin; runs interleaved
    so that load from other processes on the machine hits both alike."""
    sim = [str(BIN / "pruvon-dokku-sim"), "help"]
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-help-") as tmp:
        envs = []
        for name in ("without", "with"):
            root = Path(tmp) / name
            (root / "plugins" / "enabled").mkdir(parents=True)
            envs.append({**env, "PRUVON_SIM_ROOT": str(root)})
        (Path(tmp) / "with" / "plugins" / "enabled" / "pruvon").symlink_to(PLUGIN)
        for sim_env in envs:
            timed(sim, sim_env, 1)  # warm caches
        without: list[float] = []
        with_plugin: list[float] = []
        for _ in range(runs):
            without += timed(sim, envs[0], 1)
            with_plugin += timed(sim, envs[1], 1)
    return without, with_plugin


def run_benchmark(runs: int) -> list[list[str]]:
    env = {**os.environ, "PRUVON_SHIM_DEFAULTS": os.devnull, "PRUVON_SIM_LATENCY": "0"}
    rows = [
        row("`commands help` (plugin alone)", timed([str(PLUGIN / "commands"), "help"], env, runs)),
        row(
            "`commands help` inside `help --all`",
            timed(["bash", "-c", '"$0" help; :', str(PLUGIN / "commands"), "--all"], env, runs),
        ),
    ]
    without, with_plugin = compare_sim_help(env, runs)
    rows.append(row("simulated `dokku help`, plugin not installed", without))
    rows.append(row("simulated `dokku help`, plugin installed", with_plugin))
    delta = statistics.median(with_plugin) - statistics.median(without)
    delta_min = min(with_plugin) - min(without)
    rows.append(["difference (plugin's share)", f"{delta:.1f}", f"{delta_min:.1f}", ""])
    rows.append(
        row(
            "one `pruvon --version` (Python start-up, for contrast)",
            timed([str(BIN / "pruvon"), "--version"], env, runs),
        )
    )
    return rows


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def run_all(runs: int = 30) -> tuple[str, str]:
    """Entry point used by ``python -m benchmarks``."""
    return TITLE, table(run_benchmark(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    if runs < 1:
        parser.error("--runs must be at least 1")
    print(f"### {TITLE}\n\n{table(run_benchmark(runs))}")


if __name__ == "__main__":
    main()
