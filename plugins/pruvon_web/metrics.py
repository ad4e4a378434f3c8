"""Host metrics for the dashboard: CPU, load, memory and disk, with a short history.

Why here, in the web plugin's host card, and not a plugin of its own: the host
card already shows disk and memory, and two sources of the same numbers would
disagree by however far apart they were read (and double the reads).  So one
:class:`MetricsRing` per server process samples ``/proc/stat``,
``/proc/loadavg``, ``/proc/meminfo`` and ``statvfs("/")`` at a fixed interval
into a bounded ring, and the card - numbers and charts - only reads the ring:
a dashboard view never costs more than one sample (the first view of a fresh
process takes it; after that, none).  The sampler is a daemon thread started
on first use; it only runs where the dashboard does (the web server), never in
the CLI.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

INTERVAL = 10.0  # seconds between samples
HISTORY = 90  # samples kept: 15 minutes at the default interval
PROC_STAT = Path("/proc/stat")
PROC_LOADAVG = Path("/proc/loadavg")
MEMINFO = Path("/proc/meminfo")


def disk_usage(path: str = "/") -> dict[str, int]:
    """Used, available and Use% of the filesystem at ``path``, as ``df`` reports them.

    Operators check the card against ``df``: "used" is blocks in use, "free" what
    an unprivileged user may still write (root's reserve excluded), and the
    percentage is used / (used + available) rounded up - df's Use%, not
    used / total, which reads several points low on a disk with a reserve.
    """
    stats = os.statvfs(path)
    used = (stats.f_blocks - stats.f_bfree) * stats.f_frsize
    free = stats.f_bavail * stats.f_frsize
    return {"total": stats.f_blocks * stats.f_frsize, "used": used, "free": free,
            "percent": df_percent(used, free)}


def df_percent(used: int, available: int) -> int:
    """df's Use%: ``used / (used + available)`` in whole percent, rounded up."""
    if used + available <= 0:
        return 0
    return -(-100 * used // (used + available))


def memory_usage(meminfo: Path = MEMINFO) -> dict[str, int] | None:
    """Total and available memory from ``/proc/meminfo`` (None where there is none)."""
    try:
        text = meminfo.read_text(encoding="ascii")
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0]) * 1024
    if "MemTotal" not in values:
        return None
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return {"total": values["MemTotal"], "used": values["MemTotal"] - available,
            "free": available}


@dataclass(frozen=True)
class CpuTimes:
    busy: int
    total: int


@dataclass(frozen=True)
class Sample:
    """One reading of the host; ``cpu_percent`` needs two, so the first has None."""

    at: float  # time.time()
    cpu_percent: float | None
    load: tuple[float, float, float]
    cpus: int
    mem_used: int | None
    mem_total: int | None
    disk_used: int
    disk_free: int
    disk_total: int
    disk_percent: int

    @property
    def mem_percent(self) -> float | None:
        if not self.mem_total or self.mem_used is None:
            return None
        return 100.0 * self.mem_used / self.mem_total

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "load": list(self.load), "mem_percent": self.mem_percent}


def cpu_times(path: Path = PROC_STAT) -> CpuTimes | None:
    """The aggregate ``cpu`` line of ``/proc/stat``: busy and total jiffies."""
    try:
        first = path.read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu" or not all(f.isdigit() for f in first[1:]):
        return None
    values = [int(f) for f in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user/nice
    return CpuTimes(total - idle, total)


def cpu_percent(before: CpuTimes | None, after: CpuTimes | None) -> float | None:
    if before is None or after is None or after.total <= before.total:
        return None
    busy = max(0, after.busy - before.busy)
    return round(100.0 * busy / (after.total - before.total), 1)


def load_average(path: Path = PROC_LOADAVG) -> tuple[float, float, float]:
    try:
        parts = path.read_text(encoding="ascii").split()[:3]
        return float(parts[0]), float(parts[1]), float(parts[2])
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0, 0.0


class Reader:
    """Takes :class:`Sample` s; keeps the last CPU times to turn jiffies into a percentage."""

    def __init__(self, stat: Path = PROC_STAT, loadavg: Path = PROC_LOADAVG,
                 meminfo: Path | None = None, disk: str = "/") -> None:
        self.stat, self.loadavg, self.meminfo, self.disk = stat, loadavg, meminfo, disk
        self._last: CpuTimes | None = None

    def __call__(self) -> Sample:
        times = cpu_times(self.stat)
        percent, self._last = cpu_percent(self._last, times), times
        memory = memory_usage(self.meminfo) if self.meminfo else memory_usage()
        disk = disk_usage(self.disk)
        return Sample(
            at=time.time(), cpu_percent=percent, load=load_average(self.loadavg),
            cpus=os.cpu_count() or 1,
            mem_used=memory["used"] if memory else None,
            mem_total=memory["total"] if memory else None,
            disk_used=disk["used"], disk_free=disk["free"], disk_total=disk["total"],
            disk_percent=disk["percent"],
        )


class MetricsRing:
    """The last ``size`` samples, taken every ``interval`` seconds by a daemon thread."""

    def __init__(self, reader: Callable[[], Sample] | None = None, interval: float = INTERVAL,
                 size: int = HISTORY) -> None:
        if interval <= 0 or size < 2:
            raise ValueError("metrics need a positive interval and room for two samples")
        self.reader = reader or Reader()
        self.interval = interval
        self._samples: deque[Sample] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.reads = 0  # samples taken (tests: a page view adds none)

    @property
    def size(self) -> int:
        return self._samples.maxlen or 0

    def sample(self) -> Sample:
        taken = self.reader()
        with self._lock:
            self._samples.append(taken)
            self.reads += 1
        return taken

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception:  # noqa: S112 - a failed reading is skipped, the next one tries again
                continue

    def ensure_running(self) -> None:
        """Start the sampler once; the first sample is taken now, in the caller."""
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if not self.history():
                self.sample()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="pruvon-metrics")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def history(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    def latest(self) -> Sample:
        """The newest sample; starts the sampler (one reading) when there is none yet."""
        self.ensure_running()
        with self._lock:
            return self._samples[-1]


_ring: MetricsRing | None = None
_ring_lock = threading.Lock()


def ring() -> MetricsRing:
    """This process's ring (made on first use, so the CLI never starts a sampler)."""
    global _ring
    with _ring_lock:
        if _ring is None:
            _ring = MetricsRing()
        return _ring
