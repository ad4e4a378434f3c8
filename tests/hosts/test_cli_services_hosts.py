"""``pruvon --host all services list`` over real sshd (issue 17): rows carry their host,
a failing host is named on stderr with its last good rows, the exit is 5."""

from __future__ import annotations

import json

from tests.hosts.test_cli_hosts import _add, cli  # noqa: F401 - the fixture


def _seed(cli, ssh_dokku_hosts):  # noqa: F811 - the fixture
    one, two = ssh_dokku_hosts(2)
    for host in (one, two):
        assert _add(cli, host).returncode == 0
    one.sim.check("apps:create", "blog")
    one.sim.check("postgres:create", "db")
    one.sim.check("postgres:link", "db", "blog")
    two.sim.check("redis:create", "cache")
    two.sim.check("postgres:create", "db")
    return one, two


def test_services_of_every_host_carry_their_host(cli, ssh_dokku_hosts):  # noqa: F811
    one, two = _seed(cli, ssh_dokku_hosts)
    for host in (one, two):
        host.sim.set_knobs(call_log=True)
    done = cli("--host", "all", "services", "list", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [(r["host"], r["type"], r["name"], r["links"]) for r in data["services"]] == [
        ("h1", "postgres", "db", ["blog"]), ("h2", "postgres", "db", []),
        ("h2", "redis", "cache", [])]
    assert [(h["host"], h["ok"]) for h in data["hosts"]] == [
        ("local", True), ("h1", True), ("h2", True)]
    # a constant number of calls per host: no <type>:info per service
    for host in (one, two):
        argvs = [json.loads(line)["argv"] for line in
                 (host.sim.root / "calls.log").read_text().splitlines()]
        names = [a[0] for a in argvs]
        assert len(names) == len(set(names)), names  # each read once
        # plugin:list, one <type>:list per kind, one docker-options:report (+ ssh's version)
        assert {n for n in names if not n.endswith(":list")} <= {
            "version", "docker-options:report"}, names
    table = cli("--host", "all", "services", "list")
    assert table.returncode == 0 and table.stdout.split("\n")[0].split()[:3] == [
        "HOST", "TYPE", "NAME"]
    only = json.loads(cli("--host", "all", "services", "list", "--type", "redis",
                          "--format", "json").stdout)
    assert [(r["host"], r["name"]) for r in only["services"]] == [("h2", "cache")]
    unknown = cli("--host", "all", "services", "list", "--type", "couchdb")
    assert unknown.returncode == 2 and "no host has the couchdb plugin" in unknown.stderr
    bad = cli("--host", "all", "services", "list", "--type", "-x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_failing_host_shows_its_last_rows_and_exits_5(cli, ssh_dokku_hosts):  # noqa: F811
    _one, two = _seed(cli, ssh_dokku_hosts)
    assert cli("--host", "all", "services", "list", "--format", "json").returncode == 0
    two.stop()
    done = cli("--host", "all", "services", "list", "--format", "json")
    assert done.returncode == 5, done.stderr
    data = json.loads(done.stdout)
    assert ("h2", "redis", "cache") in [(r["host"], r["type"], r["name"])
                                        for r in data["services"]]
    failed = {h["host"]: h for h in data["hosts"] if not h["ok"]}
    assert list(failed) == ["h2"] and "Connection refused" in failed["h2"]["error"]
    assert "host h2: " in done.stderr and "(showing its rows from" in done.stderr
    assert "1 of 3 hosts did not answer" in done.stderr
    assert cli("--host", "all", "services", "create", "redis", "x").returncode == 2
