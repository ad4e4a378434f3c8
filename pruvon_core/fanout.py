"""Ask every host at once: parallel, a timeout per host, the last good answer kept.

An all-hosts page must never wait for the slowest host longer than that
host's timeout, and a host that is down must not blank the others: each host
is asked in its own worker thread, :func:`fan_out` waits at most the largest
per-host timeout, and a host that failed or did not answer in time is
reported with its error *and* the last good answer it gave in this process
(with that answer's age), so the page still shows what it knew.

A worker that overran is stopped: every process group it started (its
``ssh`` or ``dokku`` calls, seen through :mod:`pruvon_core.processes`) is
killed, and so is any it starts afterwards, so its call fails at once and
nothing is left running - not even at the exit of a CLI process.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pruvon_core import hosts, processes
from pruvon_core.dokku.transports import kill_group
from pruvon_core.files import atomic_write, private_dir

T = TypeVar("T")
DEFAULT_TIMEOUT = 10.0


def _submit(name: str, call: Callable[..., Any], *args: Any) -> Future:
    """Run ``call`` in its own daemon thread and return its future.

    Not a ``ThreadPoolExecutor``: Python joins an executor's workers at exit,
    so a CLI run whose host was cut at its timeout would still wait for that
    host's worker (an ssh mux master can hold the killed client's pipes for
    seconds).  A daemon thread is abandoned at exit; starting one costs tens
    of microseconds, nothing beside a host's 0.2-1 s call.
    """
    future: Future = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(call(*args))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)

    threading.Thread(target=run, name=f"fanout-{name}", daemon=True).start()
    return future


@dataclass
class HostAnswer(Generic[T]):
    """One host's part of an all-hosts answer.

    ``data`` is this answer, or the last good one when ``error`` is set
    (``None`` if there never was one); ``age`` how old ``data`` is in seconds.
    """

    host: str
    data: T | None
    error: str | None = None
    age: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "ok": self.ok, "error": self.error,
                "age": round(self.age, 1), "seconds": round(self.seconds, 3)}


class LastGood:
    """The last good answer of each ``(key, host)``, with when it was fetched.

    In memory for a long-lived process (the web server).  With ``directory``
    (a CLI run is a new process each time) answers are also kept as JSON files
    there, so ``apps list --host all`` can show a host's last good rows and
    their age; the data must then be JSON-serialisable.
    """

    def __init__(self, clock: Callable[[], float] = time.time,
                 directory: Path | None = None) -> None:
        self._clock = clock
        self._directory = directory
        self._data: dict[tuple[str, str], tuple[Any, float]] = {}
        self._lock = threading.Lock()

    def _file(self, key: str, host: str) -> Path:
        assert self._directory is not None
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{key}@{host}")
        return self._directory / f"{safe}.json"

    def put(self, key: str, host: str, data: Any) -> None:
        now = self._clock()
        with self._lock:
            self._data[(key, host)] = (data, now)
        if self._directory is not None:
            with contextlib.suppress(OSError, TypeError, ValueError):
                private_dir(self._directory)
                atomic_write(self._file(key, host), json.dumps({"at": now, "data": data}),
                             durable=False)

    def get(self, key: str, host: str) -> tuple[Any, float] | None:
        """``(data, age)`` or None when this host never answered."""
        with self._lock:
            found = self._data.get((key, host))
        if found is None and self._directory is not None:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                saved = json.loads(self._file(key, host).read_text())
                found = (saved["data"], float(saved["at"]))
        return None if found is None else (found[0], max(0.0, self._clock() - found[1]))


LAST_GOOD = LastGood()


class _Groups:
    """The process groups one worker has running; once ``stop`` is called, none may run."""

    def __init__(self) -> None:
        self.running: set[int] = set()
        self.stopped = False
        self._lock = threading.Lock()

    def seen(self, pid: int, alive: bool) -> None:
        with self._lock:
            if alive:
                self.running.add(pid)
            else:
                self.running.discard(pid)
            kill = alive and self.stopped
        if kill:
            kill_group(pid, grace=0.2)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            pids = list(self.running)
        for pid in pids:
            kill_group(pid, grace=0.2)


def _ask(host: str | None, fetch: Callable[[str | None], T],
         groups: _Groups) -> tuple[T, float]:
    start = time.monotonic()
    # permission checks and indexes inside fetch see this host
    with processes.tracking(groups.seen), hosts.using(host):
        return fetch(host), time.monotonic() - start


def fan_out(
    names: Iterable[str],
    fetch: Callable[[str | None], T],
    *,
    key: str,
    timeouts: dict[str, float] | None = None,
    default: str | None = None,
    last_good: LastGood = LAST_GOOD,
) -> list[HostAnswer[T]]:
    """``fetch`` on every host in parallel; one :class:`HostAnswer` per host, in order.

    ``fetch`` receives the host's acting value (``None`` for the ``default``
    host, else its name) and runs with that host current.  ``timeouts`` maps
    a host to its own limit (default :data:`DEFAULT_TIMEOUT`).
    """
    order = list(names)
    limits = {name: (timeouts or {}).get(name, DEFAULT_TIMEOUT) for name in order}
    started = time.monotonic()
    groups = {name: _Groups() for name in order}
    futures: dict[str, Future] = {
        name: _submit(name, _ask, None if name == default else name, fetch, groups[name])
        for name in order
    }
    pending = set(futures.values())
    for name in sorted(order, key=limits.__getitem__):  # shortest limit first
        remaining = limits[name] - (time.monotonic() - started)
        if futures[name] in pending and remaining > 0:
            _done, pending = wait_futures(pending, timeout=remaining, return_when="ALL_COMPLETED")
    overran = {name for name in order if not futures[name].done()}
    for name in overran:
        groups[name].stop()  # its calls are killed, the worker ends now
    return [_answer(name, futures[name], limits[name], key, last_good, name in overran)
            for name in order]


def host_timeouts(config: Any) -> dict[str, float]:
    """Each host's timeout: its own ``timeout``, else ``dokku.hosts_timeout``, else 10 s."""
    fallback = config.get("dokku.hosts_timeout") if config is not None else None
    default = float(fallback) if fallback else DEFAULT_TIMEOUT
    return {h.name: h.timeout or default for h in hosts.hosts_from_config(config).values()}


def every_host(config: Any, names: Iterable[str] | None, fetch: Callable[[str | None], T],
               key: str, last_good: LastGood = LAST_GOOD) -> list[HostAnswer[T]]:
    """:func:`fan_out` over the config's hosts (``names``: a subset, else all)."""
    found = hosts.hosts_from_config(config)
    return fan_out(list(names) if names is not None else list(found), fetch, key=key,
                   timeouts=host_timeouts(config), default=next(iter(found)),
                   last_good=last_good)


def _answer(name: str, future: Future, limit: float, key: str,
            last_good: LastGood, overran: bool) -> HostAnswer:
    if overran or future.exception() is not None:
        return _failed(name, future, limit, key, last_good, overran)
    data, seconds = future.result()
    last_good.put(key, name, data)
    return HostAnswer(name, data, seconds=seconds)


def _failed(name: str, future: Future, limit: float, key: str,
            last_good: LastGood, overran: bool) -> HostAnswer:
    """The error, with the last good data and its age (``None`` if there never was any)."""
    if overran:
        error = f"no answer within {limit:g} s"
    else:
        error = str(future.exception()) or type(future.exception()).__name__
    previous = last_good.get(key, name)
    data, age = previous if previous is not None else (None, 0.0)
    return HostAnswer(name, data, error=error, age=age, seconds=limit)
