"""The read cache and the stale-while-revalidate store."""

from __future__ import annotations

import threading

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
