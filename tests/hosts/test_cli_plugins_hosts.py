"""``pruvon --host all dokku-plugins list`` over real sshd: which host runs which plugin version."""

from __future__ import annotations

import json

from tests.hosts.test_cli_hosts import _add, cli  # noqa: F401 - the fixture


def test_every_hosts_plugins_with_their_host_and_a_failing_host_exits_5(
        cli, ssh_dokku_hosts):  # noqa: F811 - the fixture
    one, two = ssh_dokku_hosts(2)
    for host in (one, two):
        assert _add(cli, host).returncode == 0
    two.sim.check("plugin:disable", "redis")
    done = cli("--host", "all", "dokku-plugins", "list", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    rows = {(r["host"], r["name"]): r for r in data["plugins"]}
    assert {h for h, _ in rows} == {"local", "h1", "h2"}
    assert rows[("h1", "redis")]["enabled"] is True
    assert rows[("h2", "redis")]["enabled"] is False
    assert rows[("h1", "postgres")]["version"] == rows[("h2", "postgres")]["version"]
    table = cli("--host", "all", "dokku-plugins", "list")
    assert table.returncode == 0 and table.stdout.split("\n")[0].split()[:3] == [
        "HOST", "NAME", "VERSION"]
    two.stop()
    failed = cli("--host", "all", "dokku-plugins", "list", "--format", "json")
    assert failed.returncode == 5, failed.stderr
    kept = json.loads(failed.stdout)["plugins"]
    assert ("h2", "redis") in {(r["host"], r["name"]) for r in kept}  # its last good rows
    assert "host h2: " in failed.stderr and "1 of 3 hosts did not answer" in failed.stderr
    refused = cli("--host", "all", "dokku-plugins", "enable", "redis")
    assert refused.returncode == 2 and "name one host" in refused.stderr
