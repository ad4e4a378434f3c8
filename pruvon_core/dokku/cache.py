"""Short-lived read caches for the Dokku client.

:class:`TTLCache` keeps cheap reads for a few seconds so that one page (or one
CLI run) never asks Dokku the same thing twice; any mutation through the same
client clears it.  :class:`Revalidating` serves slow reports (``ps:report``
takes ≈0.75 s per app) stale-while-revalidate: a caller always gets the last
value at once, with its age, while a single background thread refreshes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_MISSING = object()


class TTLCache:
    """A dict whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._data: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, default: Any = _MISSING) -> Any:
        with self._lock:
            entry = self._data.get(key)
            if entry is None or self._clock() - entry[0] > self.ttl:
                self._data.pop(key, None)
                return default
            return entry[1]

    def put(self, key: Any, value: Any) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._data[key] = (self._clock(), value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def lookup(self, key: Any, load: Callable[[], T]) -> T:
        """The cached value, or ``load()`` stored for next time."""
        value = self.get(key)
        if value is _MISSING:
            value = load()
            self.put(key, value)
        return value


@dataclass
class _Entry(Generic[T]):
    value: T
    fetched: float
    stale: bool = False


class Revalidating(Generic[T]):
    """One slow value, served stale-while-revalidate.

    The first :meth:`get` loads synchronously (there is nothing to show yet).
    Later calls return the stored value and its age at once; when the value is
    older than ``max_age`` or was marked stale by a mutation, one background
    refresh starts (never two at a time).  A failed refresh keeps the old value
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
        self.last_error: BaseException | None = None

    def get(self) -> tuple[T, float]:
        """``(value, age in seconds)``."""
        with self._lock:
            entry = self._entry
            loading = self._refreshing
        if entry is None and loading is not None:
            loading.join()  # a prefetch is under way: its result is the first value
            with self._lock:
                entry = self._entry
        if entry is None:
            self._refresh()
            with self._lock:
                assert self._entry is not None
                entry = self._entry
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
            if self._entry is not None:
                self._entry.stale = True

    def _refresh(self) -> None:
        value = self._load()
        with self._lock:
            self._entry = _Entry(value, self._clock())
            self.last_error = None

    def _background(self) -> None:
        try:
            self._refresh()
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
                target=self._background, name="pruvon-dokku-refresh", daemon=True
            )
            self._refreshing.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a running background refresh finishes (tests, shutdown)."""
        with self._lock:
            thread = self._refreshing
        if thread is not None:
            thread.join(timeout)
