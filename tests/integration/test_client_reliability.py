"""Issue 19: garbage output, missing docker, and the read cache under load.

All through the real client, real child processes of ``pruvon-dokku-sim`` /
``pruvon-docker-sim`` and the simulator's fault, latency and ``call_log``
knobs; calls are counted from the simulator's own log (what reached the
"host"), never from a mock.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pruvon_core.dokku import DockerCli, DokkuClient, errors
from pruvon_testing.fixtures_client import client_for_sim, sim_executable
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run

GARBAGE = "<<garbage>>\n\x01\x02\n"


def sim(root: Path, *argv: str) -> None:
    code, out, err = run(list(argv), root=root, env={"PRUVON_SIM_LATENCY": "0"})
    assert code == 0, (argv, out, err)


def calls(root: Path, command: str | None = None) -> list[dict[str, Any]]:
    """The invocations the simulator logged (``call_log`` knob), optionally of one command."""
    path = root / "calls.log"
    lines = path.read_text().splitlines() if path.exists() else []
    found = [json.loads(line) for line in lines]
    return [c for c in found if command is None or (c["argv"][:1] == [command])]


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A host with ``blog`` (deployed) and ``empty``, logging every call."""
    root = tmp_path / "sim"
    sim(root, "apps:create", "blog")
    sim(root, "git:from-image", "blog", "example/web:1")
    sim(root, "apps:create", "empty")
    sim(root, "postgres:create", "db")
    SimState(root).set_knobs(call_log=True)
    return root


def garbage_fault(root: Path, command: str) -> None:
    SimState(root).set_knobs(faults={command: {"exit": 0, "stdout": GARBAGE}})


READS: list[tuple[str, Callable[[DokkuClient], Any]]] = [
    ("apps:list", lambda c: c.list_apps()),
    ("apps:report", lambda c: c.app_report("blog")),
    ("ps:report", lambda c: c.ps_report("blog")),
    ("ps:scale", lambda c: c.scale("blog")),
    ("domains:report", lambda c: c.domains("blog")),
    ("ports:report", lambda c: c.ports("blog")),
    ("urls", lambda c: c.urls("blog")),
    ("storage:list", lambda c: c.storage("blog")),
    ("plugin:list", lambda c: c.plugins()),
    ("postgres:list", lambda c: c.services("postgres")),
    ("postgres:info", lambda c: c.service_info("postgres", "db")),
    ("postgres:links", lambda c: c.service_links("postgres", "db")),
    ("config:export", lambda c: c.config("blog")),
    ("cron:list", lambda c: c.cron_list("blog")),
]


@pytest.mark.parametrize(("command", "read"), READS, ids=[r[0] for r in READS])
def test_garbage_with_exit_0_is_an_error_naming_the_command(host, command, read):
    client = client_for_sim(host)
    client.version()
    garbage_fault(host, command)
    with pytest.raises(errors.DokkuBadOutput) as info:
        read(client)
    assert info.value.message.startswith(f"dokku {command} printed output Pruvon cannot read: ")
    assert "<<garbage>>" in info.value.message
    assert calls(host, command), "the command did run: the refusal is about its output"


def test_garbage_from_version_is_an_error(host):
    garbage_fault(host, "version")
    with pytest.raises(errors.DokkuBadOutput, match=r"^dokku version printed output"):
        client_for_sim(host).version()


def test_garbage_apps_never_listed_and_not_cached(host):
    client = client_for_sim(host)
    client.version()
    SimState(host).set_knobs(faults={"apps:list": {
        "exit": 0, "stdout": "=====> My Apps\nblog\n<<garbage>>\n\x01\x02\n"}})
    with pytest.raises(errors.DokkuBadOutput) as info:
        client.apps_overview()
    assert "line 3 '<<garbage>>'" in info.value.message
    SimState(host).set_knobs(faults={})
    assert client.list_apps() == ["blog", "empty"]  # the failure was not cached


def fake_docker(tmp_path: Path, body: str) -> list[str]:
    """A ``docker`` executable printing ``body`` with exit 0 (a broken wrapper)."""
    script = tmp_path / "docker"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{body}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return [str(script)]


def test_docker_garbage_is_reported_as_unavailable_live_state(host, tmp_path):
    client = client_for_sim(host)
    client.docker = DockerCli(fake_docker(tmp_path, "<<garbage>>\n"))
    with pytest.raises(errors.DokkuBadOutput, match=r"^docker ps printed output .*<<garbage>>"):
        client.containers()
    overview, live = client.apps_live()
    assert not live.available and live.source == "report"
    assert "docker ps printed output Pruvon cannot read: line 1 '<<garbage>>'" in live.error
    assert {a.name: a.state for a in overview} == {"blog": "running", "empty": "not deployed"}
    assert all(a.containers == [] for a in overview)


def test_missing_docker_says_why_live_state_is_unavailable(host, tmp_path):
    client = client_for_sim(host)
    client.docker = DockerCli([str(tmp_path / "no-such-docker")])
    overview, live = client.apps_live()
    assert not live.available and live.source == "report"
    assert "docker unavailable" in live.error and "docker group" in live.error
    assert {a.name: a.state for a in overview} == {"blog": "running", "empty": "not deployed"}
    assert client.live_state() == live
    # with docker back, live again
    client.docker = DockerCli(sim_executable("pruvon-docker-sim"),
                              env={"PRUVON_SIM_ROOT": str(host)})
    client.invalidate()
    assert client.apps_live()[1].available


def test_single_flight_one_fetch_for_many_readers_of_an_expired_key(host):
    client = client_for_sim(host, cache_ttl=0.3, max_concurrent_calls=8)
    client.version()
    assert client.list_apps() == ["blog", "empty"]
    time.sleep(0.4)  # expired
    SimState(host).set_knobs(latency={"apps:list": 0.5})
    before = len(calls(host, "apps:list"))
    barrier = threading.Barrier(12)
    results: list[list[str]] = []

    def reader() -> None:
        barrier.wait()
        results.append(client.list_apps())

    threads = [threading.Thread(target=reader) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [["blog", "empty"]] * 12
    assert len(calls(host, "apps:list")) - before == 1


def test_stale_while_revalidate_serves_at_once_and_refreshes_once(host):
    client = client_for_sim(host, cache_ttl=0.3, cache_max_stale=60)
    _, live = client.apps_live()
    assert live.available and live.source == "docker"
    time.sleep(0.4)
    sim(host, "apps:create", "new-app")  # behind Pruvon's back (another worker, the shell)
    SimState(host).set_knobs(latency={"apps:list": 1.5})
    before = len(calls(host))
    start = time.monotonic()
    results = [client.apps_live() for _ in range(10)]
    assert time.monotonic() - start < 1.0, "stale reads must not wait for the refresh"
    for overview, live in results:
        assert [a.name for a in overview] == ["blog", "empty"] and live.age >= 0.4
    assert client._cache.wait(20)
    assert len(calls(host)) - before == 2  # ONE apps:list and ONE docker ps refresh
    overview, live = client.apps_live()
    # fresh: docker ps was refreshed when the stale reads began, apps:list 1.5 s later
    assert [a.name for a in overview] == ["blog", "empty", "new-app"] and live.age < 5


def test_past_max_stale_readers_wait_for_fresh_data(host):
    client = client_for_sim(host, cache_ttl=0.2, cache_max_stale=0.5)
    client.apps_live()
    time.sleep(0.7)
    sim(host, "apps:create", "new-app")
    overview, live = client.apps_live()
    assert [a.name for a in overview] == ["blog", "empty", "new-app"] and live.age < 0.5


def test_a_mutation_is_never_followed_by_data_from_an_older_refresh(host):
    """A refresh that started before a mutation must not be served after it."""
    offset = [0.0]
    client = client_for_sim(host, cache_ttl=10, cache_max_stale=60,
                            clock=lambda: time.monotonic() + offset[0])
    client.version()
    assert client.list_apps() == ["blog", "empty"]
    offset[0] += 11  # stale
    # the refresh about to start sees the host as it was (a slow apps:list)
    SimState(host).set_knobs(latency={"apps:list": 1.5}, faults={"apps:list": {
        "exit": 0, "stdout": "=====> My Apps\nblog\nempty\n"}})
    client.apps_live()  # stale served; one background apps:list in flight
    time.sleep(0.6)  # it has read its knobs
    SimState(host).set_knobs(latency=0, faults={})
    client.apps_create("after")  # the mutation, while the old refresh still runs
    assert client.list_apps() == ["after", "blog", "empty"]
    assert client._cache.wait(20)
    assert client.list_apps() == ["after", "blog", "empty"]  # the old refresh stored nothing
    assert [a.name for a in client.apps_live()[0]] == ["after", "blog", "empty"]


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


def test_concurrent_dokku_calls_are_bounded(host):
    client = client_for_sim(host, max_concurrent_calls=2)
    client.version()
    SimState(host).set_knobs(latency=0.4)
    before = len(calls(host))
    apps = [f"a{i}" for i in range(8)]
    threads = [threading.Thread(target=lambda a=a: client.app_exists(a)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    started = calls(host)[before:]
    assert len(started) == 8
    made = [c for c in client.calls if c.argv[:1] == ("apps:exists",)]
    assert len(made) == 8
    assert _max_overlap([(c.started, c.started + c.duration) for c in made]) == 2
    # the bound queues, never refuses: and mutations do not wait behind reads
    assert all(c.exit in (0, 20) for c in made)


def test_max_concurrent_calls_from_config_is_checked():
    from pruvon_core.dokku import client_from_config

    class Config(dict):
        def get(self, key, default=None):  # the Config API: dotted keys
            return super().get(key, default)

    env = {"PRUVON_DOKKU_COMMAND": "true"}
    assert client_from_config(Config({"dokku.max_concurrent_calls": 7}), env) \
        .max_concurrent_calls == 7
    with pytest.raises(errors.InvalidValue, match="max_concurrent_calls"):
        client_from_config(Config({"dokku.max_concurrent_calls": 0}), env)
    with pytest.raises(errors.InvalidValue, match="cache_max_stale"):
        client_from_config(Config({"dokku.cache_max_stale": "x"}), env)
