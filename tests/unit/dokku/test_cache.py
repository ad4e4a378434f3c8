"""The read cache and the stale-while-revalidate store."""

from __future__ import annotations

import sys
import threading
import time

from pruvon_core.dokku.cache import Revalidating, TTLCache
from tests.unit.dokku.fakes import FakeDocker, FakeTransport, case


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ttl_cache_expiry_clear_and_zero_ttl():
    clock = Clock()
    cache = TTLCache(2.0, clock)
    loads = []
    assert cache.lookup("k", lambda: loads.append(1) or "v") == "v"
    assert cache.lookup("k", lambda: loads.append(1) or "w") == "v"
    clock.now = 3
    assert cache.lookup("k", lambda: loads.append(1) or "w") == "w"
    cache.clear()
    assert cache.get("k", None) is None
    off = TTLCache(0, clock)
    off.put("k", "v")
    assert off.get("k", None) is None
    assert len(loads) == 2


def test_revalidating_serves_stale_and_refreshes_once_in_background():
    clock = Clock()
    release = threading.Event()
    loads = []

    def load():
        loads.append(clock.now)
        if len(loads) > 1:
            release.wait(5)
        return len(loads)

    store = Revalidating(load, max_age=10, clock=clock)
    assert store.get() == (1, 0)
    clock.now = 15
    assert store.get() == (1, 15)  # stale: served at once
    assert store.get() == (1, 15)  # a refresh is already running: no second one
    release.set()
    store.wait(5)
    assert len(loads) == 2 and store.get() == (2, 0)


def test_revalidating_keeps_old_value_when_refresh_fails():
    clock = Clock()
    calls = []

    def load():
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("dokku down")
        return "old"

    store = Revalidating(load, max_age=1, clock=clock)
    store.get()
    clock.now = 5
    store.mark_stale()
    assert store.get() == ("old", 5)
    store.wait(5)
    assert isinstance(store.last_error, RuntimeError)
    assert store.get()[0] == "old"


def test_prefetch_loads_in_background_and_first_get_waits_for_it():
    gate = threading.Event()

    def load():
        gate.wait(5)
        return "loaded"

    store = Revalidating(load, max_age=10)
    store.prefetch()
    gate.set()
    assert store.get()[0] == "loaded"


def test_client_keeps_a_bounded_call_log(monkeypatch):
    from pruvon_core.dokku import client as client_module

    monkeypatch.setattr(client_module, "MAX_CALLS_KEPT", 3)
    transport = FakeTransport()
    transport.answer("apps:exists", case("apps-exists-yes"))
    client = client_module.DokkuClient(transport, FakeDocker())
    for _ in range(5):
        client.app_exists("a")
    assert len(client.calls) == 3 and client.call_count == 5


def test_warm_up_prefetches_reports_over_ssh_only():
    transport = FakeTransport(docker=False)
    transport.answer(["apps:list", "--format", "json"], case("apps-list-json"))
    transport.answer(["ps:report"], case("ps-report-all"))
    from pruvon_core.dokku import DokkuClient

    client = DokkuClient(transport, FakeDocker())
    client.warm_up()
    client._reports.wait(5)
    assert ["ps:report"] in transport.seen
    overview = {a.name: a.state for a in client.apps_overview()}
    assert overview["ref-web"] == "running"
    assert transport.seen.count(["ps:report"]) == 1
    local = DokkuClient(FakeTransport(), FakeDocker())
    local.warm_up()
    assert local.calls == []


def test_revalidating_first_readers_share_one_load_and_see_its_error():
    gate = threading.Event()
    loads = []

    def load():
        loads.append(1)
        gate.wait(5)
        raise RuntimeError("dokku down")

    store = Revalidating(load, max_age=10)
    errors_seen = []

    def reader():
        try:
            store.get()
        except RuntimeError as exc:
            errors_seen.append(str(exc))

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    # only readers that arrive while the load runs share it (a failure is not kept):
    # open the gate once all six wait for it, however slowly a loaded machine starts them
    deadline = time.monotonic() + 10
    while not all(_waiting_in(t, "wait") for t in threads) and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    for thread in threads:
        thread.join(10)
    assert len(loads) == 1 and errors_seen == ["dokku down"] * 6


def _waiting_in(thread: threading.Thread, function: str) -> bool:
    """Whether ``thread`` is inside ``Revalidating.<function>`` now."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == function and frame.f_code.co_filename.endswith("cache.py"):
            return True
        frame = frame.f_back
    return False


def test_revalidating_load_that_spans_a_mutation_stays_stale():
    clock = Clock()
    gate = threading.Event()
    values = iter(["v1", "v2", "v3"])

    def load():
        gate.wait(5)
        return next(values)

    store = Revalidating(load, max_age=10, clock=clock)
    gate.set()
    assert store.get()[0] == "v1"
    gate.clear()
    store.mark_stale()
    assert store.get()[0] == "v1"  # refresh of v2 started, blocked
    store.mark_stale()  # a mutation while it loads
    gate.set()
    store.wait(5)
    assert store.get()[0] == "v2"  # served, but still stale: a new refresh starts
    store.wait(5)
    assert store.get()[0] == "v3"


def test_ttl_cache_failed_fetch_is_shared_not_cached():
    cache = TTLCache(10)
    gate = threading.Event()
    loads = []

    def load():
        loads.append(1)
        gate.wait(5)
        raise RuntimeError("boom")

    seen = []

    def reader():
        try:
            cache.lookup("k", load)
        except RuntimeError:
            seen.append("error")

    threads = [threading.Thread(target=reader) for _ in range(5)]
    for thread in threads:
        thread.start()
    while cache.fetches == 0:
        pass
    gate.set()
    for thread in threads:
        thread.join(10)
    assert len(loads) == 1 and seen == ["error"] * 5
    assert cache.lookup("k", lambda: "ok") == "ok"  # the error was not cached
