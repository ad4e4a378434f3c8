"""``pruvon hosts …`` and ``--host`` as real subprocesses, against hosts behind real sshd."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pruvon_core.config import Config
from pruvon_testing.fixtures_sim import DokkuSim

PRUVON = str(Path(sys.executable).parent / "pruvon")


@pytest.fixture
def cli(tmp_path: Path, close_masters, ssh_dokku_hosts) -> Any:
    """``cli(*args)`` runs pruvon with its own config, state dir and a local default host."""
    local = DokkuSim(tmp_path / "local")
    local.check("apps:create", "home")
    config = tmp_path / "pruvon.yml"
    config.write_text("dokku:\n  timeout: 20\n")
    state = tmp_path / "state"
    env = {**local.env, "PRUVON_CONFIG": str(config), "PRUVON_STATE_DIR": str(state)}

    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PRUVON, *args], capture_output=True, text=True, env=env,
                              timeout=120, check=False)

    call.config = config
    call.state = state
    yield call
    from pruvon_core.config import load_config

    close_masters(load_config(config))


def _add(cli: Any, host: Any) -> subprocess.CompletedProcess:
    return cli("hosts", "add", host.name, host.target, "--port", str(host.port),
               "--key", str(host.client_key))


def test_add_records_the_key_and_lists_the_host(cli, ssh_dokku_hosts):
    (one,) = ssh_dokku_hosts(1)
    added = _add(cli, one)
    assert added.returncode == 0, added.stderr
    assert "host key recorded: ED25519 SHA256:" in added.stdout
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(one.host_key) + ".pub"],
                                 capture_output=True, text=True, check=True).stdout.split()[1]
    assert fingerprint in added.stdout
    listed = json.loads(cli("hosts", "list", "--format", "json").stdout)["hosts"]
    assert [(h["name"], h["default"]) for h in listed] == [("local", True), ("h1", False)]
    again = _add(cli, one)
    assert again.returncode == 2 and "exists already" in again.stderr
    checked = json.loads(cli("hosts", "check", "--format", "json").stdout)["hosts"]
    assert all(row["ok"] for row in checked)
    assert checked[1]["fingerprints"] == [f"ED25519 {fingerprint}"]


@pytest.mark.parametrize(("name", "target", "message"), [
    ("-oProxyCommand=id", "dokku@h", "not a host name"),
    ("ok", "-oProxyCommand=id", "must look like dokku@HOST"),
    ("ok", "dokku@-oProxyCommand=id", "must look like dokku@HOST"),
    ("all", "dokku@h", "reserved"),
])
def test_add_refuses_names_ssh_could_read_as_options(cli, name, target, message):
    done = cli("hosts", "add", "--", name, target)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert "hosts" not in Config({}).data and not cli.config.read_text().count("hosts:")


def test_add_of_a_host_with_a_changed_key_is_refused(cli, ssh_dokku_hosts):
    (one,) = ssh_dokku_hosts(1)
    assert _add(cli, one).returncode == 0
    assert cli("hosts", "remove", "h1").returncode == 0
    assert _add(cli, one).returncode == 0  # removing forgot the key: the same key re-adds
    cli("--host", "h1", "apps", "create", "blog")
    from pruvon_core.config import load_config
    from pruvon_core.dokku import remote_transport
    from pruvon_core.hosts import lookup

    remote_transport(lookup(load_config(cli.config), "h1"), cli.state).close_master()
    one.rekey()
    listed = cli("--host", "h1", "apps", "list")
    assert listed.returncode == 1 and "CHANGED" in listed.stderr
    assert "Traceback" not in listed.stderr


def test_host_option_routes_every_command_to_its_host(cli, ssh_dokku_hosts):
    one, two = ssh_dokku_hosts(2)
    for host in (one, two):
        assert _add(cli, host).returncode == 0
    created = cli("--host", "h2", "apps", "create", "shop")
    assert created.returncode == 0, created.stderr
    assert cli("--host", "h2", "apps", "config", "set", "shop", "GREETING=hi there").returncode == 0
    assert two.sim.check("config:get", "shop", "GREETING") == b"hi there\n"
    assert b"shop" not in one.sim.check("apps:list")
    unknown = cli("--host", "nope", "apps", "list")
    assert unknown.returncode == 2 and "no host named 'nope'" in unknown.stderr
    everywhere = cli("--host", "all", "apps", "create", "x")
    assert everywhere.returncode == 2 and "list commands only" in everywhere.stderr
    rows = json.loads(cli("--host", "all", "apps", "list", "--format", "json").stdout)
    assert sorted((r["host"], r["name"]) for r in rows["apps"]) == [
        ("h2", "shop"), ("local", "home")]


def test_a_hung_and_a_dropped_host_do_not_block_the_others(cli, ssh_dokku_hosts):
    one, two, three = ssh_dokku_hosts(3)
    for host in (one, two, three):
        assert _add(cli, host).returncode == 0
        host.sim.check("apps:create", f"app-{host.name}")
    text = cli.config.read_text().replace("dokku:\n", "dokku:\n  hosts_timeout: 8\n")
    cli.config.write_text(text)
    start = time.monotonic()
    healthy = cli("--host", "all", "apps", "list", "--format", "json")
    baseline = time.monotonic() - start
    assert healthy.returncode == 0, healthy.stderr
    two.sim.set_knobs(hang=["apps:list"])
    three.stop()
    start = time.monotonic()
    done = cli("--host", "all", "apps", "list", "--format", "json")
    took = time.monotonic() - start
    assert done.returncode == 5, done.stderr
    data = json.loads(done.stdout)
    # h2 and h3 failed: their rows are the last good ones (the healthy run), with their age
    assert sorted((r["host"], r["name"]) for r in data["apps"]) == [
        ("h1", "app-h1"), ("h2", "app-h2"), ("h3", "app-h3"), ("local", "home")]
    errors = {h["host"]: h["error"] for h in data["hosts"]}
    assert errors["h2"] == "no answer within 8 s"
    assert "Connection refused" in errors["h3"]
    assert [h["age"] >= 1 for h in data["hosts"] if h["host"] in ("h2", "h3")] == [True, True]
    assert "host h2: no answer within 8 s (showing its rows from" in done.stderr
    # never longer than the hung host's 8 s timeout beyond a call where all answer
    assert took < baseline + 8 + 3, f"{took:.1f} s vs {baseline:.1f} s: {data['hosts']}"
