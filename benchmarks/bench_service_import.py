"""Service import: throughput and Pruvon's peak memory for a 1 GiB dump.

A ``mysqldump``-shaped file of extended INSERTs (1 GiB by default) is fed to
the simulator's ``mysql:import`` twice: once as ``dokku mysql:import d1 <
dump`` (a raw pipe, no Pruvon), once through Pruvon's ``import_stream`` in a
fresh Python process (dump check, chunked stdin feed, progress callback), as
``pruvon services import`` and the web import do.  "Pruvon peak RSS" is that
process's own high-water mark (``ru_maxrss``; the simulator is a separate
process): it must stay at tens of MB whatever the dump size.  No injected
latency: the figure is the data path.  Run: ``python -m
benchmarks.bench_service_import [--size-mib 1024]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pruvon_testing.fixtures_client import sim_executable
from pruvon_testing.sim.main import run

TITLE = "Service import: 1 GiB mysql dump (simulator, no injected latency)"
HEADERS = ["path", "dump MiB", "seconds", "MB/s", "Pruvon peak RSS MB"]
ROW = "(%d,'" + "x" * 200 + "')"
ROWS_PER_INSERT = 4000

PRUVON_SIDE = """
import json, resource, sys, time
from pruvon_testing.fixtures_client import client_for_sim
from pruvon_services.kinds import kind_facts
from pruvon_services.service import import_stream
path, root = sys.argv[1], sys.argv[2]
client = client_for_sim(root, long_timeout=3600)
sent = []
start = time.perf_counter()
with open(path, "rb") as source:
    import_stream(client, kind_facts("mysql"), "d1", source, None, sent.append)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "sent": sent[-1],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def write_dump(path: Path, size: int) -> int:
    """A mysqldump-shaped file of about ``size`` bytes; its exact size."""
    with path.open("wb") as out:
        out.write(b"-- MySQL dump 10.13  Distrib 9.7.0, for Linux (x86_64)\n"
                  b"DROP TABLE IF EXISTS `t`;\nCREATE TABLE `t` (\n  `id` int NOT NULL,\n"
                  b"  `v` text\n) ENGINE=InnoDB;\n")
        first = 0
        while out.tell() < size:
            rows = ",".join(ROW % (first + i) for i in range(ROWS_PER_INSERT))
            out.write(b"INSERT INTO `t` VALUES " + rows.encode() + b";\n")
            first += ROWS_PER_INSERT
    return path.stat().st_size


def fresh_service(root: Path) -> None:
    for argv in (["mysql:destroy", "d1", "--force"], ["mysql:create", "d1"]):
        run(argv, root=root, env={"PRUVON_SIM_LATENCY": "0"})


def raw_pipe(root: Path, dump: Path) -> float:
    env = {**os.environ, "PRUVON_SIM_ROOT": str(root)}
    start = time.perf_counter()
    with dump.open("rb") as source:
        subprocess.run([*sim_executable("pruvon-dokku-sim"), "mysql:import", "d1"], stdin=source,
                       env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def through_pruvon(root: Path, dump: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", PRUVON_SIDE, str(dump), str(root)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(size_mib: int) -> list[list[str]]:
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-import-") as tmp:
        root, dump = Path(tmp) / "sim", Path(tmp) / "dump.sql"
        run(["plugin:install", "https://github.com/dokku/dokku-mysql.git"], root=root)
        size = write_dump(dump, size_mib * 1024 * 1024)
        mib = f"{size / 2**20:.0f}"
        fresh_service(root)
        raw = raw_pipe(root, dump)
        fresh_service(root)
        ours = through_pruvon(root, dump)
        if ours["sent"] != size:
            raise RuntimeError(f"sent {ours['sent']} of {size} bytes")
        return [["`dokku mysql:import < dump` (raw pipe)", mib, f"{raw:.1f}",
                 f"{size / raw / 1e6:.1f}", "-"],
                ["Pruvon `import_stream` (checked, chunked, progress)", mib,
                 f"{ours['seconds']:.1f}", f"{size / ours['seconds'] / 1e6:.1f}",
                 f"{ours['maxrss_kb'] / 1024:.0f}"]]


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def run_all(size_mib: int = 1024) -> tuple[str, str]:
    """``(title, markdown table)`` for ``benchmarks.__main__``."""
    return TITLE, table(measure(size_mib))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="dump size in MiB")
    args = parser.parse_args()
    title, text = run_all(args.size_mib)
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
