"""Backup throughput and memory: ``pruvon backup run`` beside a raw export pipe.

A 1 GiB export of ``postgres bench-db`` is backed up three ways on the same
machine, each run from a cold start of its process:

* the raw pipe ``dokku postgres:export bench-db > file`` (what Pruvon (Go) did,
  without its gzip, and without an fsync),
* ``pruvon backup run postgres bench-db`` with zstd (level 1, 2 worker threads),
  sha256 of the stored bytes, fsync and rename,
* the same with age encryption to one X25519 recipient.

``dokku`` is the simulator for every command except ``postgres:export``,
which streams a fixed 1 GiB pg_dump-like text (a 64 MiB block of SQL ``COPY``
rows, written once, repeated; the simulator builds dumps in memory and
cannot produce 1 GiB) from one of two sources:

* ``cat``: as fast as the page cache gives it, the worst case for the ratio;
* a source paced at ``PACED_MIB_S`` (80 MiB/s): Debian's own ``pg_dump`` 15
  measured on this 2-core machine dumped a 454 MiB database (one table of 4 M
  rows: ids, md5 text, timestamps, numerics) in plain SQL at 80 MiB/s (median of
  3 runs, 4.4-5.6 s, load average 3.7-4.0).  That is pg_dump's fastest
  format; what ``dokku postgres:export`` really runs, ``pg_dump -Fc``
  (compressed custom format), gave 2.4-5.2 MB/s here and 6.0 MB/s on a real
  Dokku 0.38 VM with 2 cores (shared/dokku-reference/services/TIMINGS.md:
  17.6 MB in 2.92 s), so 80 MiB/s is a generous real export.

Each pipeline runs ``RUNS`` times per source, interleaved (raw, zstd, age,
raw, ...) so a change of load hits all three alike; the tables give the median
wall time and CPU seconds (user + sys of the process and its children: the
export, and for Pruvon the two simulator calls ``version`` and ``:info``), with
the load average before and after.  Peak RSS is the Pruvon process's own
(``VmHWM`` of ``/proc/self/status`` at its exit: children such as the export
are not counted), the largest of the runs.

Why >= 0.9x the raw pipe is out of reach against ``cat`` on 2 cores: the
second table measures each stage alone in this process over 256 MiB of the
same text, scaled to 1 GiB.  zstd level 1 alone costs about 3.5 CPU seconds
per GiB on this CPU (~300 MiB/s per core; up to 4.3 s in busier runs; its
negative "fast" levels save only 10-20 % of that on this text, for files
27-42 % bigger), so even with zstd's two worker threads on both cores
compression needs ~1.7 s of wall time for what ``cat`` copies into the page
cache in about 0.4 s.  Reading the pipe, sha256, age, and writing + fsync
cost 0.1-0.3 s each, Python's start-up under 0.2 s; hand-offs between
threads are the small rest.  Against an export at a real ``pg_dump``'s rate
compression keeps up with about a quarter of one core, and the gap to the
raw pipe is a run's fixed cost (start-up, ``version`` and ``:info`` for the
manifest, the last flush, fsync and the catalogue), 1-1.4 s here.

Run: ``python -m benchmarks bench_backups`` (``--gib N`` for another size).  On a
machine shared with other work, shield it in a session of its own with a
higher weight (as root; with autogroups a plain ``nice`` weighs only inside
its session): ``setsid sh -c 'echo -10 > /proc/self/autogroup; exec python -m
benchmarks bench_backups'``; the table says at which nice it ran.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import io
import os
import random
import resource
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
# an export paced at a rate: 1 MiB writes, sleeping whenever it is ahead of the clock
PACER = ("import os, sys, time\n"
         "block = memoryview(open(sys.argv[1], 'rb').read())\n"
         "repeats, rate = int(sys.argv[2]), float(sys.argv[3]) * (1 << 20)\n"
         "start, sent = time.monotonic(), 0\n"
         "for _ in range(repeats):\n"
         "    for i in range(0, len(block), 1 << 20):\n"
         "        piece = block[i:i + (1 << 20)]\n"
         "        while piece:\n"
         "            piece = piece[os.write(1, piece):]\n"
         "        sent += min(1 << 20, len(block) - i)\n"
         "        ahead = sent / rate - (time.monotonic() - start)\n"
         "        if ahead > 0:\n"
         "            time.sleep(ahead)\n")
PACED_MIB_S = 80  # Debian's pg_dump 15, plain format, measured here (module docstring)
RUNS = 3
STAGE_MIB = 256
HEADERS = ["export source", "pipeline", "wall s (median)", "MiB/s", "x raw pipe",
           "CPU s per GiB", "CPU s per GiB beyond the raw pipe", "stored MiB", "peak RSS (MB)"]
STAGE_HEADERS = ["stage (in one process, 1 MiB chunks)", "CPU s per GiB of export"]
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


def _dokku(work: Path, name: str, export: str) -> Path:
    """A ``dokku`` whose ``postgres:export`` runs ``export``; the simulator for the rest."""
    dokku = work / f"dokku-{name}"
    dokku.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = postgres:export ]; then {export}; exit $?; fi\n'
        f'exec "{BIN / "pruvon-dokku-sim"}" "$@"\n')
    dokku.chmod(dokku.stat().st_mode | stat.S_IXUSR)
    return dokku


def _host(work: Path, gib: int) -> dict[str, dict[str, str]]:
    """A simulator with ``postgres bench-db``; per source, the env whose ``dokku`` exports it."""
    from pruvon_testing.sim.main import run

    root = work / "sim"
    root.mkdir()
    code, _out, err = run(["postgres:create", "bench-db"], root=root)
    assert code == 0, err
    block = work / "block.sql"
    _block(block)
    repeats = (gib << 10) // BLOCK_MIB
    sources = {
        "`cat`": f'i=0; while [ $i -lt {repeats} ]; do cat "{block}"; i=$((i+1)); done',
        f"paced at {PACED_MIB_S} MiB/s (pg_dump)":
            f'exec "{sys.executable}" -c "$BENCH_PACER" "{block}" {repeats} {PACED_MIB_S}',
    }
    base = dict(os.environ, PRUVON_SIM_ROOT=str(root), BENCH_PACER=PACER,
                PRUVON_DOCKER_COMMAND=str(BIN / "pruvon-docker-sim"))
    return {label: dict(base, PRUVON_DOKKU_COMMAND=str(_dokku(work, str(n), export)))
            for n, (label, export) in enumerate(sources.items())}


def _config(work: Path, name: str, recipient: str | None) -> tuple[Path, Path, Path]:
    state, backups = work / f"state-{name}", work / f"backups-{name}"
    shutil.rmtree(state, ignore_errors=True)
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


def _raw(env: dict[str, str], work: Path) -> tuple[float, float, float, int]:
    out = work / "raw.dump"
    with open(out, "wb") as file:
        seconds, cpu, _err = _timed([env["PRUVON_DOKKU_COMMAND"], "postgres:export", "bench-db"],
                                    env, stdout=file.fileno())
    size = out.stat().st_size
    out.unlink()
    return seconds, cpu, 0.0, size


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


def _source_rows(label: str, env: dict[str, str], work: Path, recipient: str,
                 gib: int) -> list[list[str]]:
    """``RUNS`` interleaved runs of the three pipelines on one source; a table row each."""
    pipelines: dict[str, Callable[[], tuple[float, float, float, int]]] = {
        "raw `dokku postgres:export > file`": lambda: _raw(env, work),
        "`pruvon backup run` (zstd)": lambda: _pruvon(env, work, "zstd", None),
        "`pruvon backup run` (zstd + age)": lambda: _pruvon(env, work, "age", recipient),
    }
    runs: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in pipelines}
    for _ in range(RUNS):
        for name, run in pipelines.items():
            runs[name].append(run())
    raw_wall = statistics.median(r[0] for r in runs["raw `dokku postgres:export > file`"])
    raw_cpu = statistics.median(r[1] for r in runs["raw `dokku postgres:export > file`"])
    mib = gib << 10
    rows = []
    for name, found in runs.items():
        wall, cpu = statistics.median(r[0] for r in found), statistics.median(r[1] for r in found)
        is_raw = name.startswith("raw")
        rows.append([label, name, f"{wall:.2f}", f"{mib / wall:.0f}", f"{raw_wall / wall:.2f}",
                     f"{cpu / gib:.2f}", "-" if is_raw else f"{(cpu - raw_cpu) / gib:.2f}",
                     f"{max(r[3] for r in found) / (1 << 20):.0f}",
                     "-" if is_raw else f"{max(r[2] for r in found):.0f}"])
    return rows


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _stage(fn: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of this process (all its threads) spent in ``fn``, and its result."""
    before = _cpu()
    result = fn()
    return _cpu() - before, result


def _stages(block: Path, recipient: Any, work: Path) -> list[list[str]]:
    """What each stage of the pipeline costs, measured alone over ``STAGE_MIB`` MiB of the dump."""
    import pyrage
    import zstandard
    from pruvon_backups.pipeline import CHUNK, ZSTD_LEVEL, ZSTD_THREADS

    repeats, scale = STAGE_MIB // BLOCK_MIB, 1024 / STAGE_MIB
    argv = ["sh", "-c", f'for i in $(seq {repeats}); do cat "{block}"; done']

    def read_pipe() -> list[bytes]:
        with subprocess.Popen(argv, stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, CHUNK)
            chunks = []
            while chunk := proc.stdout.read1(CHUNK):
                chunks.append(len(chunk))
            return chunks

    data = block.read_bytes()
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]

    def compress() -> list[bytes]:
        out = []
        for _ in range(repeats):
            compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=ZSTD_THREADS).compressobj()
            out += [compressor.compress(c) for c in chunks] + [compressor.flush()]
        return out

    class Null(io.RawIOBase):
        def write(self, data: Any) -> int:
            return len(data)

    def write_fsync() -> None:
        with open(work / "stage.zst", "wb", buffering=0) as file:
            for piece in compressed:
                file.write(piece)
            os.fsync(file.fileno())
        (work / "stage.zst").unlink()

    found = {"read the export's pipe (`read1`, 1 MiB pipe)": _stage(read_pipe)[0]}
    found[f"zstd level {ZSTD_LEVEL}, {ZSTD_THREADS} worker threads"], compressed = _stage(compress)
    joined = b"".join(compressed)
    found["sha256 of the compressed bytes"] = _stage(lambda: hashlib.sha256(joined).digest())[0]
    found["age (pyrage) encryption of the compressed bytes"] = _stage(
        lambda: pyrage.encrypt_io(io.BytesIO(joined), Null(), [recipient]))[0]
    found["write + fsync of the compressed bytes"] = _stage(write_fsync)[0]
    rows = [[name, f"{seconds * scale:.2f}"] for name, seconds in found.items()]
    start_cpu = _timed([sys.executable, "-c", PROBE, "--version"], dict(os.environ))[1]
    rows.append(["Python start-up and imports (`pruvon --version`, once per run)", f"{start_cpu:.2f}"])
    return rows


def _niceness() -> int:
    """This process's scheduling weight against the machine's other work.

    With Linux autogroups (one per session) a process's own nice only weighs
    against its session: the autogroup's nice is the one that counts.
    """
    try:
        return int(Path("/proc/self/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return os.getpriority(os.PRIO_PROCESS, 0)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def run_all(gib: int = 1) -> tuple[str, str]:
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-backups-") as tmp:
        work = Path(tmp)
        sources = _host(work, gib)
        rows = [row for label, env in sources.items()
                for row in _source_rows(label, env, work, recipient, gib)]
        stages = _stages(work / "block.sql", identity.to_public(), work)
    load_after = os.getloadavg()[0]
    niceness = _niceness()
    shielded = f", the benchmark at nice {niceness} against the other work" if niceness else ""
    note = (f"{gib} GiB export (SQL `COPY` text, see the module docstring); {RUNS} cold runs of "
            f"each pipeline per source, interleaved, median shown, on 2 cores (load average "
            f"{load_before:.1f} before, {load_after:.1f} after{shielded}). CPU seconds count the process "
            "and its children (the export itself; for Pruvon also the two simulator calls), so "
            "the column beyond the raw pipe is Pruvon's own cost.")
    stage_note = (f"Where Pruvon's CPU goes: each stage alone in one process over {STAGE_MIB} MiB "
                  "of the same dump, scaled to 1 GiB.")
    return TITLE, (note + "\n\n" + _table(HEADERS, rows) + "\n\n" + stage_note + "\n\n"
                   + _table(STAGE_HEADERS, stages))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gib", type=int, default=1)
    args = parser.parse_args()
    title, text = run_all(args.gib)
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
