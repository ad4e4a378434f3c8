"""Backups carry their host (issue 17): ``pruvon --host … backup`` over real sshd.

The default host is a local simulator, ``h1`` and ``h2`` simulators behind
real OpenSSH servers; each has a postgres service called ``db`` holding
different rows, so a backup landing on (or restored into) the wrong host
shows in the bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.fixtures_sim import DokkuSim
from tests.hosts.conftest import record_keys

PRUVON = str(Path(sys.executable).parent / "pruvon")
EPOCH = "1764000000"


def rows(host: str) -> bytes:
    return f"CREATE TABLE t (v text);\nINSERT INTO t VALUES ('{host} data');\n".encode()


def table(sim: DokkuSim) -> bytes:
    """What ``db`` holds on that host."""
    return sim.check("postgres:connect", "db", stdin=b"SELECT v FROM t;\n")


@pytest.fixture
def three(tmp_path: Path, pruvon_state: Path, ssh_dokku_hosts, close_masters,
          monkeypatch: pytest.MonkeyPatch) -> Any:
    """``cli(*args)`` runs pruvon on a config with the local default host, h1 and h2."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)  # reproducible dumps: bytes compare
    local = DokkuSim(tmp_path / "local")
    one, two = ssh_dokku_hosts(2, env={"SOURCE_DATE_EPOCH": EPOCH})
    for sim, name in ((local, "local"), (one.sim, "h1"), (two.sim, "h2")):
        sim.check("postgres:create", "db")
        sim.check("postgres:connect", "db", stdin=rows(name))
    record_keys(pruvon_state, [one, two])
    backup_dir = tmp_path / "backups"
    entries = one.hosts_yaml_entry() + two.hosts_yaml_entry()
    config = tmp_path / "pruvon.yml"
    config.write_text(f"dokku:\n  timeout: 30\nbackup:\n  backup_dir: {backup_dir}\n"
                      f"  db_types: [postgres]\nhosts:\n{entries}")
    env = {**local.env, "PRUVON_CONFIG": str(config), "PRUVON_STATE_DIR": str(pruvon_state),
           "SOURCE_DATE_EPOCH": EPOCH}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PRUVON, *args], capture_output=True, text=True, env=env,
                              timeout=180, check=False)

    from pruvon_core.config import load_config

    close_masters(load_config(config))
    return {"cli": cli, "local": local, "h1": one, "h2": two, "dir": backup_dir}


def _json(done: subprocess.CompletedProcess) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_run_list_restore_round_trip_stays_on_each_host(three: Any) -> None:
    cli, local, one, two = three["cli"], three["local"], three["h1"].sim, three["h2"].sim
    mine = _json(cli("backup", "run", "postgres", "db", "--format", "json"))["backup"]
    theirs = _json(cli("--host", "h1", "backup", "run", "postgres", "db",
                       "--format", "json"))["backup"]
    assert mine["host"] == "local" and theirs["host"] == "h1"
    assert Path(mine["path"]).relative_to(three["dir"]).parts[:2] == ("postgres", "manual")
    assert Path(theirs["path"]).relative_to(three["dir"]).parts[:4] == (
        "hosts", "h1", "postgres", "manual")
    h1_export = one.check("postgres:export", "db")
    assert h1_export != local.check("postgres:export", "db")  # two databases, one name

    listed = _json(cli("--host", "h1", "backup", "list", "--format", "json"))["backups"]
    assert [(b["id"], b["host"]) for b in listed] == [(theirs["id"], "h1")]
    assert [b["id"] for b in _json(cli("backup", "list", "--format", "json"))["backups"]] == [
        mine["id"]]
    assert _json(cli("--host", "h2", "backup", "list", "--format", "json"))["backups"] == []
    every = _json(cli("--host", "all", "backup", "list", "--format", "json"))["backups"]
    assert sorted((b["host"], b["id"]) for b in every) == [("h1", theirs["id"]),
                                                           ("local", mine["id"])]

    # the h1 backup is refused on another host: nothing reaches the local db
    local_before = local.check("postgres:export", "db")
    refused = cli("backup", "restore", str(theirs["id"]), "--yes")
    assert refused.returncode == 2 and "--host h1" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert local.check("postgres:export", "db") == local_before

    unconfirmed = cli("--host", "h1", "backup", "restore", str(theirs["id"]))  # no terminal
    assert unconfirmed.returncode == 2
    assert "postgres service db on host h1" in unconfirmed.stderr, unconfirmed.stderr
    one.check("postgres:connect", "db", stdin=b"INSERT INTO t VALUES ('h1 later');\n")
    assert one.check("postgres:export", "db") != h1_export
    restored = _json(cli("--host", "h1", "backup", "restore", str(theirs["id"]), "--yes",
                         "--format", "json"))["restore"]
    held = table(one)  # h1's data back on h1, the later row gone
    assert b"h1 data" in held and b"h1 later" not in held and b"local" not in held
    assert local.check("postgres:export", "db") == local_before
    assert b"h2 data" in table(two) and b"h1" not in table(two)
    safety = _json(cli("--host", "h1", "backup", "list", "--format", "json"))["backups"]
    [safe] = [b for b in safety if b["id"] == restored["safety_backup"]]
    assert safe["rotation"] == "safety" and safe["host"] == "h1"
    assert "/hosts/h1/postgres/safety/db/" in safe["path"]

    for command in (["verify"], ["delete", "--yes"], ["download", "-o", "-"]):
        wrong = cli("--host", "h2", "backup", command[0], str(theirs["id"]), *command[1:])
        assert wrong.returncode == 2 and "--host h1" in wrong.stderr, (command, wrong.stderr)
    assert cli("--host", "h1", "backup", "verify", str(theirs["id"])).returncode == 0


def test_auto_backs_up_every_host_and_a_down_host_fails_alone(three: Any) -> None:
    cli = three["cli"]
    three["h2"].stop()
    done = cli("backup", "auto", "--format", "json")
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    parts = {part["host"]: part for part in summary["hosts"]}
    assert list(parts) == ["local", "h1", "h2"]
    assert len(parts["local"]["ok"]) == 1 and len(parts["h1"]["ok"]) == 1
    assert parts["h2"]["ok"] == [] and parts["h2"]["failed"][0]["type"] is None
    assert [f["host"] for f in summary["failed"]] == ["h2"]
    every = _json(cli("--host", "all", "backup", "list", "--format", "json"))["backups"]
    assert sorted(b["host"] for b in every) == ["h1", "local"]

    only = cli("--host", "h1", "backup", "auto", "--format", "json")  # h1 done today: skipped
    assert [p["host"] for p in _json(only)["hosts"]] == ["h1"]
    assert _json(only)["ok"] == []

    pruned = _json(cli("--host", "all", "backup", "prune", "--dry-run", "--format", "json"))
    assert pruned == {"dry_run": True, "backups": []}  # each host's newest backup is kept
    one_host = cli("--host", "all", "backup", "restore", str(parts["h1"]["ok"][0]), "--yes")
    assert one_host.returncode == 2 and "name one host" in one_host.stderr
