"""Backup throughput and memory: ``pruvon backup run`` beside a raw export pipe.

A 1 GiB export of ``postgres bench-db`` is backed up three ways on the same
machine, each run from a cold start of its process:

* the raw pipe ``dokku postgres:export bench-db > file`` (what Pruvon (Go) did,
  without its gzip),
* ``pruvon backup run postgres bench-db`` with zstd (level 3),
* the same with age encryption to one X25519 recipient.

``dokku`` is the simulator for every command except ``postgres:export``,
which streams a fixed 1 GiB pg_dump-like text (a 64 MiB block of SQL ``COPY``
rows, written once, repeated): the simulator builds dumps in memory and
cannot produce 1 GiB, and a ``cat`` is the fastest export a real host can
give, so the ratio is the pipeline's worst case (a real ``pg_dump`` is
slower, which hides more of it).  Peak RSS is the Pruvon process's own
(``VmHWM`` of ``/proc/self/status`` at its exit: children such as the
export are not counted).

Run: ``python -m benchmarks bench_backups`` (``--gib N`` for another size).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TITLE = "Backups: throughput of a 1 GiB export and peak RSS (zstd level 1; age X25519)"
# the pruvon CLI in this process, reporting its own peak RSS when it exits
# (VmHWM of /proc/self/status: ru_maxrss would count the forking parent's pages)
PROBE = ("import atexit, sys\n"
         "hwm = lambda: next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
         "atexit.register(lambda: sys.stderr.write(f'\\nPEAK_RSS_KB={hwm()}\\n'))\n"
         "from pruvon_core.cli import main\n"
         "sys.argv[0] = 'pruvon'\n"
         "main()\n")
HEADERS = ["pipeline", "wall time (s)", "MiB/s", "x raw pipe", "CPU s (user+sys)", "stored MiB",
           "peak RSS (MB)"]
BLOCK_MIB = 64
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray"]


def _block(path: Path) -> None:
    """64 MiB of ``COPY`` rows: ids, timestamps, emails, words (compresses about 4 to 1)."""
    rng = random.Random(13)
    lines, size, row = [], 0, 0
    while size < BLOCK_MIB << 20:
        row += 1
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        line = (f"{row}\t2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}\t"
                f"user{rng.randint(1, 99999)}@example.com\t{rng.random() * 1000:.2f}\t{words}\n")
        lines.append(line)
        size += len(line)
    path.write_text("PGDMP-bench\n" + "".join(lines))


def _host(work: Path, gib: int) -> dict[str, str]:
    """A simulator with ``postgres bench-db``; ``dokku`` streams ``gib`` GiB for its export."""
    from pruvon_testing.sim.main import run

    root = work / "sim"
    root.mkdir()
    code, _out, err = run(["postgres:create", "bench-db"], root=root)
    assert code == 0, err
    block = work / "block.sql"
    _block(block)
    repeats = (gib << 10) // BLOCK_MIB
    dokku = work / "dokku"
    dokku.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = postgres:export ]; then i=0; while [ $i -lt {repeats} ]; do '
        f'cat "{block}"; i=$((i+1)); done; exit 0; fi\n'
        f'exec "{BIN / "pruvon-dokku-sim"}" "$@"\n')
    dokku.chmod(dokku.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PRUVON_SIM_ROOT=str(root), PRUVON_DOKKU_COMMAND=str(dokku),
               PRUVON_DOCKER_COMMAND=str(BIN / "pruvon-docker-sim"))
    return env


def _config(work: Path, name: str, recipient: str | None) -> tuple[Path, Path, Path]:
    state, backups = work / f"state-{name}", work / f"backups-{name}"
    state.mkdir(mode=0o700)
    config = work / f"pruvon-{name}.yml"
    text = f"pruvon:\n  listen: 127.0.0.1:8080\nbackup:\n  backup_dir: {backups}\n"
    if recipient:
        text += f"  encryption:\n    recipients:\n      - {recipient}\n"
    config.write_text(text)
    config.chmod(0o600)
    return config, state, backups


def _timed(argv: list[str], env: dict[str, str],
           stdout: int | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the process and its children) and its stderr."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stderr=err,
                                stdout=stdout if stdout is not None else subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} failed: {text}")
    return seconds, usage.ru_utime + usage.ru_stime, text


def _raw(env: dict[str, str], work: Path) -> tuple[float, float, int]:
    out = work / "raw.dump"
    with open(out, "wb") as file:
        seconds, cpu, _err = _timed([env["PRUVON_DOKKU_COMMAND"], "postgres:export", "bench-db"],
                                    env, stdout=file.fileno())
    size = out.stat().st_size
    out.unlink()
    return seconds, cpu, size


def _pruvon(env: dict[str, str], work: Path, name: str,
            recipient: str | None) -> tuple[float, float, float, int]:
    config, state, backups = _config(work, name, recipient)
    run_env = dict(env, PRUVON_CONFIG=str(config), PRUVON_STATE_DIR=str(state))
    seconds, cpu, err = _timed([sys.executable, "-c", PROBE, "backup", "run", "postgres",
                                "bench-db"], run_env)
    rss = int(err.rsplit("PEAK_RSS_KB=", 1)[1].split()[0]) / 1024
    stored = sum(p.stat().st_size for p in backups.rglob("*.zst*") if not p.name.endswith(".json"))
    shutil.rmtree(backups)
    return seconds, cpu, rss, stored


def run_all(gib: int = 1) -> tuple[str, str]:
    import pyrage

    recipient = str(pyrage.x25519.Identity.generate().to_public())
    with tempfile.TemporaryDirectory(prefix="bench-backups-") as tmp:
        work = Path(tmp)
        env = _host(work, gib)
        raw_s, raw_cpu, raw_bytes = _raw(env, work)
        mib = raw_bytes / (1 << 20)
        rows = [["raw `dokku postgres:export > file`", f"{raw_s:.2f}", f"{mib / raw_s:.0f}", "1.00",
                 f"{raw_cpu:.2f}", f"{mib:.0f}", "-"]]
        for label, name, to in (("`pruvon backup run` (zstd)", "zstd", None),
                                ("`pruvon backup run` (zstd + age)", "age", recipient)):
            seconds, cpu, rss, stored = _pruvon(env, work, name, to)
            rows.append([label, f"{seconds:.2f}", f"{mib / seconds:.0f}", f"{raw_s / seconds:.2f}",
                         f"{cpu:.2f}", f"{stored / (1 << 20):.0f}", f"{rss:.0f}"])
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    load = os.getloadavg()[0]
    note = (f"{gib} GiB export ({mib:.0f} MiB of SQL `COPY` text) streamed by `cat` (see the "
            f"module docstring); one cold run each on 2 cores shared with other work "
            f"(load average {load:.1f} at the end), so wall time is mostly waiting for a core; "
            "CPU seconds are what each pipeline costs.")
    return TITLE, note + "\n\n" + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gib", type=int, default=1)
    args = parser.parse_args()
    title, text = run_all(args.gib)
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
