"""The Dokku client against the simulator, through real child processes.

``dokku`` is ``pruvon-dokku-sim`` and ``docker`` is ``pruvon-docker-sim``, run
the way Pruvon runs them on a host; setup steps that are not under test run
in-process (``sim.main.run``) because they are much faster.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pruvon_core.dokku import DokkuClient, errors
from pruvon_core.dokku.models import PortMapping
from pruvon_testing.fixtures_client import client_for_sim, sim_root
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run


@pytest.fixture
def root(dokku_sim) -> Path:
    """The state directory of this test's simulated host (the shared ``dokku_sim``)."""
    return sim_root(dokku_sim)


@pytest.fixture
def client(dokku_client: DokkuClient) -> DokkuClient:
    """The contract fixture: a client running ``pruvon-dokku-sim`` as a child process."""
    return dokku_client


def sim(root: Path, *argv: str) -> None:
    code, out, err = run(list(argv), root=root)
    assert code == 0, f"setup {argv} failed ({code}): {out!r} {err!r}"


def deploy(root: Path, app: str) -> None:
    sim(root, "apps:create", app)
    sim(root, "git:from-image", app, "example/web:1")


def test_version_and_app_lifecycle(client: DokkuClient):
    assert client.version() == "0.38.27"
    assert client.list_apps() == []
    client.apps_create("web-1")
    assert client.list_apps() == ["web-1"]  # the create invalidated the cached list
    assert client.app_exists("web-1") and not client.app_exists("nope")
    with pytest.raises(errors.NameTaken, match="Name is already taken"):
        client.apps_create("web-1")
    client.apps_rename("web-1", "web-2")
    assert client.list_apps() == ["web-2"]
    client.apps_destroy("web-2")
    assert client.list_apps() == []


def test_missing_app_errors_come_from_dokku(client: DokkuClient):
    with pytest.raises(errors.AppNotFound, match="App ghost does not exist") as info:
        client.config("ghost")
    assert info.value.exit_code == 20
    with pytest.raises(errors.AppNotFound):
        client.app_report("ghost")


def test_config_round_trip_with_hostile_values(client: DokkuClient, tmp_path: Path):
    canary = tmp_path / "pwned"
    values = {
        "SUBST": f"$(touch {canary})",
        "TICKS": f"`touch {canary}`",
        "CHAIN": f"a; touch {canary} && echo | cat",
        "NEWLINE": "line1\nline2",
        "SQUOTE": "it's",
        "UNICODE": "héllo wörld ✓ 日本",
        "EMPTY": "",
    }
    client.apps_create("cfg")
    client.config_set("cfg", values)
    config = client.config("cfg")
    assert {k: config[k] for k in values} == values
    assert client.config_get("cfg", "NEWLINE") == "line1\nline2"
    assert client.config_get("cfg", "NOPE") is None
    client.config_unset("cfg", ["SUBST", "TICKS"])
    assert "SUBST" not in client.config("cfg")
    client.config_set(None, {"GLOBAL_X": "1"})
    assert client.config(None)["GLOBAL_X"] == "1"
    assert not canary.exists()


def test_old_dokku_uses_text_formats(root: Path, client: DokkuClient):
    SimState(root).set_knobs(version="0.35.0")
    client.apps_create("old-a")
    client.apps_create("old-b")
    assert client.version() == "0.35.0"
    assert client.list_apps() == ["old-a", "old-b"]
    assert not any("--format" in call.argv for call in client.calls if call.argv[0] == "apps:list")


def test_domains_and_ports(client: DokkuClient):
    client.apps_create("dom")
    client.domains_add("dom", ["dom.example.com"])
    assert client.domains("dom").app_vhosts == ["dom.example.com"]
    client.domains_set("dom", ["a.example.com", "b.example.com"])
    client.domains_remove("dom", ["a.example.com"])
    assert client.domains("dom").app_vhosts == ["b.example.com"]
    client.ports_set("dom", [PortMapping("http", 8081, 5000)])
    assert client.ports("dom").configured == [PortMapping("http", 8081, 5000)]


def test_storage_mounts(client: DokkuClient):
    client.apps_create("store")
    client.storage_mount("store", "/var/lib/dokku/data/storage/store", "/data")
    mounts = client.storage("store")
    assert [(m.host_path, m.container_path) for m in mounts] == [
        ("/var/lib/dokku/data/storage/store", "/data")
    ]
    client.storage_unmount("store", "/var/lib/dokku/data/storage/store", "/data")
    assert client.storage("store") == []


def test_never_deployed_app_cannot_be_stopped(client: DokkuClient):
    client.apps_create("idle")
    with pytest.raises(errors.NotDeployed, match="App idle has not been deployed"):
        client.ps_stop("idle")


def test_injected_fault_becomes_a_typed_error(root: Path, client: DokkuClient):
    SimState(root).set_knobs(faults={"apps:list": {"exit": 1, "stderr": " !     disk full\n"}})
    with pytest.raises(errors.DokkuError, match="disk full") as info:
        client.list_apps()
    assert info.value.exit_code == 1


def _pgid_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    return members


def test_hung_command_times_out_without_orphans(root: Path):
    SimState(root).set_knobs(hang=["apps:report"])
    client = client_for_sim(root, timeout=1.0)
    with pytest.raises(errors.DokkuTimeout):
        client.app_report("anything")
    assert client.calls[-1].exit is None
    deadline = time.monotonic() + 3
    while _processes_on(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_on(root) == []


def _processes_on(root: Path) -> list[int]:
    """Live processes whose environment names this simulator root (ours, not other tests')."""
    marker = f"PRUVON_SIM_ROOT={root}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as handle:
                zombie = handle.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if marker in environ and not zombie:
            found.append(int(entry))
    return found


# ----------------------------------------------------------------- containers (SIM-B)
def test_overview_from_one_docker_ps(root: Path, client: DokkuClient):
    deploy(root, "live")
    deploy(root, "halted")
    sim(root, "ps:stop", "halted")
    sim(root, "apps:create", "fresh")
    client.reset_calls()
    overview = client.apps_overview()
    assert client.docker_error is None
    states = {a.name: a.state for a in overview}
    assert states == {"fresh": "not deployed", "halted": "stopped", "live": "running"}
    assert {a.source for a in overview} == {"docker"}
    live = next(a for a in overview if a.name == "live")
    assert [(c.dyno, c.state) for c in live.containers] == [("web.1", "running")]
    assert [c.kind for c in client.calls].count("docker") == 1


@pytest.mark.parametrize("count", [1, 10, 200])
def test_app_list_read_path_makes_constant_calls(root: Path, client: DokkuClient, count: int):
    for index in range(count):
        sim(root, "apps:create", f"app-{index:03d}")
    deploy(root, "zz-deployed")
    client.version()
    client.reset_calls()
    overview = client.apps_overview()
    assert len(overview) == count + 1
    assert overview[-1].state == "running"
    assert [(c.kind, c.argv[0]) for c in client.calls] == [("dokku", "apps:list"), ("docker", "ps")]
    assert not any("ps:report" in c.argv for c in client.calls)


def test_logs_tail_streams_and_cancels(root: Path, client: DokkuClient):
    deploy(root, "chatty")
    stream = client.logs("chatty", tail=True)
    first = next(iter(stream))
    assert "app[web.1]" in first
    stream.cancel()
    stream.close()
    assert _pgid_members(stream.pid) == [] and _processes_on(root) == []


def test_run_in_a_pty(root: Path, client: DokkuClient):
    deploy(root, "shell")
    with client.pty(DokkuClient.run_args("shell", ["echo", "hi from run"]), 80, 24) as term:
        data = b""
        deadline = time.monotonic() + 10
        while b"hi from run" not in data and time.monotonic() < deadline:
            chunk = term.read()
            if not chunk:
                break
            data += chunk
        assert b"hi from run" in data
        assert term.wait(10) == 0


# ----------------------------------------------------------------- services (SIM-D)
def test_postgres_service_lifecycle_with_streamed_export_and_import(client: DokkuClient):
    import io

    client.apps_create("svc-app")
    client.service_create("postgres", "svc-db")
    with pytest.raises(errors.NameTaken, match="Postgres service svc-db already exists"):
        client.service_create("postgres", "svc-db")
    assert [s.name for s in client.services("postgres")] == ["svc-db"]
    info = client.service_info("postgres", "svc-db")
    assert info.status == "running" and info.dsn.startswith("postgres://") and info.links == []
    client.service_link("postgres", "svc-db", "svc-app")
    assert client.service_links("postgres", "svc-db") == ["svc-app"]
    assert client.config("svc-app")["DATABASE_URL"] == info.dsn
    with pytest.raises(errors.AlreadyLinked):
        client.service_link("postgres", "svc-db", "svc-app")
    with client.service_export("postgres", "svc-db") as stream:
        dump = b"".join(stream.chunks())
    assert dump.startswith(b"PGDMP") and stream.exit_code == 0
    client.service_create("postgres", "svc-copy")
    client.service_import("postgres", "svc-copy", io.BytesIO(dump))
    with pytest.raises(errors.ServiceLinked):
        client.service_destroy("postgres", "svc-db")
    client.service_unlink("postgres", "svc-db", "svc-app")
    assert "DATABASE_URL" not in client.config("svc-app")
    client.service_destroy("postgres", "svc-db")
    assert not client.service_exists("postgres", "svc-db")
    with pytest.raises(errors.ServiceNotFound):
        client.service_info("postgres", "svc-db")


def test_export_of_missing_service_ends_with_typed_error(client: DokkuClient):
    with pytest.raises(errors.ServiceNotFound), client.service_export("redis", "nope") as stream:
        list(stream.chunks())
