"""Short-lived read caches for the Dokku client.

:class:`TTLCache` keeps cheap reads for a few seconds so that one page (or one
CLI run) never asks Dokku the same thing twice, fetches each key once at a
time however many requests want it, serves the list reads stale-while-
revalidate, and is cleared by any mutation through the same client.
:class:`Revalidating` serves slow reports (``ps:report`` takes ≈0.75 s per
app) stale-while-revalidate: a caller always gets the last value at once,
with its age, while a single background thread refreshes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_MISSING = object()


@dataclass
class _Flight:
    """One fetch in progress: every reader of its key waits for this one result."""

    generation: int
    fetched: float = 0.0  # when the value arrived: its age counts from there
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class TTLCache:
    """Dokku reads kept ``ttl`` seconds, fetched once per key at a time.

    * **Single-flight**: readers of a missing or expired key wait for the one
      fetch in flight instead of each starting its own ``dokku``/``docker``
      (20 clients used to start 20 at once when an entry expired).
    * **Stale-while-revalidate** (``stale_ok`` readers, the list reads): an
      entry older than ``ttl`` but not older than ``max_stale`` is returned at
      once, with its age, while ONE background fetch refreshes it.  Past
      ``max_stale`` readers wait for fresh data.  A failed refresh drops the
      entry, so the next reader fetches and sees the error (errors are never
      hidden behind old data, and never cached).
    * **Invalidation** (:meth:`clear`, on every mutation) is immediate: it
      bumps a generation counter, so a fetch that started before the mutation
      stores nothing, and readers arriving after it start a new fetch instead
      of joining the old one.

    All of this is per process: each gunicorn worker has its own cache.
    """

    def __init__(
        self,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        max_stale: float = 0.0,
    ) -> None:
        self.ttl = ttl
        self.max_stale = max_stale
        self._clock = clock
        self._lock = threading.Lock()
        self._data: dict[Any, tuple[float, Any]] = {}
        self._flights: dict[Any, _Flight] = {}
        self._generation = 0
        self.fetches = 0  # fetches started, for tests and benchmarks

    def get(self, key: Any, default: Any = _MISSING) -> Any:
        """A fresh (not older than ``ttl``) value, else ``default``."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None or self._clock() - entry[0] > self.ttl:
                return default
            return entry[1]

    def put(self, key: Any, value: Any) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._data[key] = (self._clock(), value)

    def clear(self) -> None:
        """Forget everything now; fetches already running will store nothing."""
        with self._lock:
            self._data.clear()
            self._flights.clear()
            self._generation += 1

    def lookup(self, key: Any, load: Callable[[], T]) -> T:
        """The cached value, or the result of the one ``load()`` in flight for ``key``."""
        return self.lookup_with_age(key, load)[0]

    def lookup_with_age(
        self, key: Any, load: Callable[[], T], stale_ok: bool = False
    ) -> tuple[T, float]:
        """``(value, age in seconds)``; ``stale_ok`` serves stale-while-revalidate."""
        with self._lock:
            now = self._clock()
            entry = self._data.get(key)
            if entry is not None:
                age = max(0.0, now - entry[0])
                if age <= self.ttl:
                    return entry[1], age
                if stale_ok and age <= self.max_stale:
                    self._start_background(key, load)
                    return entry[1], age
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._new_flight(key)
        if leader:
            self._fly(key, load, flight)
        else:
            flight.done.wait()
        if flight.error is not None:
            raise flight.error
        return flight.value, max(0.0, self._clock() - flight.fetched)

    def _new_flight(self, key: Any) -> _Flight:
        """Register a fetch of ``key`` (lock held)."""
        flight = _Flight(self._generation)
        self._flights[key] = flight
        self.fetches += 1
        return flight

    def _start_background(self, key: Any, load: Callable[[], Any]) -> None:
        """One background refresh of ``key`` unless a fetch is already running (lock held)."""
        if key in self._flights:
            return
        flight = self._new_flight(key)
        threading.Thread(
            target=self._fly, args=(key, load, flight), name="pruvon-dokku-refresh", daemon=True
        ).start()

    def _fly(self, key: Any, load: Callable[[], Any], flight: _Flight) -> None:
        """Run ``load``, store its value if no mutation happened meanwhile, wake the waiters."""
        try:
            flight.value = load()
        except BaseException as exc:  # handed to every waiter, raised by the leader
            flight.error = exc
        flight.fetched = self._clock()
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
            if flight.generation == self._generation:
                if flight.error is not None:
                    self._data.pop(key, None)
                elif self.ttl > 0:
                    self._data[key] = (flight.fetched, flight.value)
        flight.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no fetch is running (tests, shutdown); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                flights = list(self._flights.values())
            if not flights:
                return True
            for flight in flights:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not flight.done.wait(left):
                    return False


@dataclass
class _Entry(Generic[T]):
    value: T
    fetched: float
    stale: bool = False


class Revalidating(Generic[T]):
    """One slow value, served stale-while-revalidate.

    The first :meth:`get` waits for the first load (there is nothing to show
    yet; concurrent first readers share that one load).  Later calls return
    the stored value and its age at once; when the value is older than
    ``max_age`` or was marked stale by a mutation, one background refresh
    starts (never two at a time).  A failed refresh keeps the old value
    and its growing age, and records the error in :attr:`last_error`.
    """

    def __init__(
        self,
        load: Callable[[], T],
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._entry: _Entry[T] | None = None
        self._refreshing: threading.Thread | None = None
        self._generation = 0  # bumped by mark_stale: a load that spans it stays stale
        self.last_error: BaseException | None = None

    def get(self) -> tuple[T, float]:
        """``(value, age in seconds)``."""
        with self._lock:
            entry = self._entry
        if entry is None:
            self._refresh_in_background()  # one load, whoever else is waiting for it
            self.wait()
            with self._lock:
                entry, error = self._entry, self.last_error
            if entry is None:
                raise error or RuntimeError("the first load did not finish")
        age = self._clock() - entry.fetched
        if entry.stale or age > self.max_age:
            self._refresh_in_background()
        return entry.value, age

    def prefetch(self) -> None:
        """Load in the background now if nothing is loaded yet."""
        with self._lock:
            empty = self._entry is None
        if empty:
            self._refresh_in_background()

    def mark_stale(self) -> None:
        with self._lock:
            self._generation += 1
            if self._entry is not None:
                self._entry.stale = True

    def _refresh(self, generation: int) -> None:
        """Load and store; ``generation`` is the one current when the refresh was asked for."""
        value = self._load()
        with self._lock:
            # a mutation during the load: the value may predate it, refresh again next read
            self._entry = _Entry(value, self._clock(), stale=generation != self._generation)
            self.last_error = None

    def _background(self, generation: int) -> None:
        try:
            self._refresh(generation)
        except Exception as exc:  # keep serving the old value; report why it is old
            with self._lock:
                self.last_error = exc
        finally:
            with self._lock:
                self._refreshing = None

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing is not None:
                return
            self._refreshing = threading.Thread(
                target=self._background, args=(self._generation,), name="pruvon-dokku-refresh",
                daemon=True,
            )
            self._refreshing.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a running background refresh finishes (tests, shutdown)."""
        with self._lock:
            thread = self._refreshing
        if thread is not None:
            thread.join(timeout)
