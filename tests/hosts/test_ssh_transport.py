"""Pruvon against simulated Dokku hosts behind a real OpenSSH server (issue 17)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pruvon_core.config import Config
from pruvon_core.dokku import client_for, errors, remote_transport
from pruvon_core.dokku.sshopts import HostKeyChanged, HostKeyUnknown, control_dir
from pruvon_core.hosts import lookup
from tests.hosts.conftest import record_keys


def _config(hosts: list) -> Config:
    return Config({"dokku": {"command": "false"}, "hosts": [h.hosts_entry() for h in hosts]})


def test_each_host_has_its_own_state_through_real_ssh(
    ssh_dokku_hosts, pruvon_state: Path, close_masters
):
    one, two = ssh_dokku_hosts(2)
    record_keys(pruvon_state, [one, two])
    config = _config([one, two])
    close_masters(config)
    first, second = client_for(config, "h1", pruvon_state), client_for(config, "h2", pruvon_state)
    first.apps_create("blog")
    second.apps_create("shop")
    assert first.list_apps() == ["blog"] and second.list_apps() == ["shop"]
    hostile = "it's $(touch /tmp/pwned-pruvon) \"dq\" back\\slash  two  spaces"
    first.config_set("blog", {"GREETING": hostile, "EMPTY": ""})
    assert first.config("blog")["GREETING"] == hostile and first.config("blog")["EMPTY"] == ""
    assert not Path("/tmp/pwned-pruvon").exists()
    assert second.config("shop").get("GREETING") is None
    assert one.sim.check("apps:list").split()[-1] == b"blog"
    assert two.sim.check("apps:list").split()[-1] == b"shop"


def test_connection_is_reused_through_a_control_master(one_host, pruvon_state: Path):
    host, _config, client = one_host()
    client.list_apps()
    directory = control_dir(pruvon_state)
    sockets = list(directory.iterdir())
    assert len(sockets) == 1 and sockets[0].is_socket()
    assert directory.stat().st_mode & 0o777 == 0o700
    for _ in range(5):
        assert client.app_exists("nothing") is False
    assert host.connections() == 1  # six calls, one ssh connection (one handshake)


def test_an_unrecorded_host_key_is_refused_and_nothing_runs(ssh_dokku_hosts, pruvon_state):
    (host,) = ssh_dokku_hosts(1)
    host.sim.set_knobs(call_log=True)
    client = client_for(_config([host]), "h1", pruvon_state)
    with pytest.raises(HostKeyUnknown, match="no ssh host key is recorded"):
        client.list_apps()
    assert not (host.sim.root / "calls.log").exists()


def test_a_changed_host_key_is_refused_with_a_clear_error(
    ssh_dokku_hosts, pruvon_state: Path, close_masters
):
    (host,) = ssh_dokku_hosts(1)
    record_keys(pruvon_state, [host])
    config = _config([host])
    client = client_for(config, "h1", pruvon_state)
    client.apps_create("blog")
    # an open master connection would hide the new key until it closes
    remote_transport(lookup(config, "h1"), pruvon_state).close_master()
    host.rekey()
    host.sim.set_knobs(call_log=True)
    fresh = client_for(config, "h1", pruvon_state)
    with pytest.raises(HostKeyChanged, match="CHANGED") as caught:
        fresh.list_apps()
    assert "pruvon hosts remove" in str(caught.value)
    assert not (host.sim.root / "calls.log").exists()  # nothing reached Dokku


def test_terminal_and_log_stream_over_ssh_t(ssh_dokku_hosts, pruvon_state: Path, close_masters):
    (host,) = ssh_dokku_hosts(1)
    record_keys(pruvon_state, [host])
    config = _config([host])
    close_masters(config)
    host.sim.check("apps:create", "blog")
    host.sim.check("git:from-image", "blog", "example/web:1")
    client = client_for(config, "h1", pruvon_state)
    assert client.transport.command(["enter", "blog", "web"], tty=True)[1] == "-tt"
    with client.pty(["enter", "blog", "web.1", "/bin/sh"]) as term:
        term.write(b"echo hello-$((6*7))\n")
        seen = _read_until(term, b"hello-42")
        assert b"hello-42" in seen
    assert client.transport.command(["logs", "blog", "-t"], tty=True)[1] == "-tt"
    stream = client.transport.stream(["logs", "blog", "-t"], timeout=20)
    assert stream.argv[1] == "-tt"  # a live stream: closing it hangs the remote command up
    try:
        lines = []
        for line in stream:
            lines.append(line)
            if len(lines) >= 2:
                break
        assert lines
    finally:
        stream.close()


def _read_until(term, needle: bytes, timeout: float = 15) -> bytes:
    import select

    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([term.fd], [], [], 0.2)
        if ready:
            chunk = term.read()
            if not chunk:
                break
            seen += chunk
    return seen


def test_option_injection_in_host_names_never_reaches_ssh():
    from pruvon_core.hosts import validate_hosts

    problems = validate_hosts([{"name": "-oProxyCommand=x", "ssh": "-oProxyCommand=id@h"},
                               {"name": "ok", "ssh": "dokku@-oProxyCommand=id"}])
    assert any(p.startswith("hosts[0].name:") for p in problems)
    assert any(p.startswith("hosts[0].ssh:") for p in problems)
    assert any(p.startswith("hosts[1].ssh:") for p in problems)
    with pytest.raises(errors.InvalidValue):
        from pruvon_core.dokku.transports import SshTransport

        SshTransport("dokku@-oProxyCommand=id")
    assert json.dumps(problems)


def test_a_service_export_and_import_stream_over_the_same_ssh(
    ssh_dokku_hosts, pruvon_state: Path, close_masters
):
    import io

    (host,) = ssh_dokku_hosts(1)
    record_keys(pruvon_state, [host])
    config = _config([host])
    close_masters(config)
    host.sim.check("postgres:create", "db1")
    host.sim.check("postgres:create", "db2")
    expected = host.sim.check("postgres:export", "db1")
    client = client_for(config, "h1", pruvon_state)
    with client.service_export("postgres", "db1") as stream:
        dumped = b"".join(stream.chunks())
    # binary over ssh -T: the same pg_dump archive (its timestamp aside: one dump per export)
    assert dumped[:5] == expected[:5] == b"PGDMP" and abs(len(dumped) - len(expected)) < 8
    sent: list[int] = []
    client.service_import("postgres", "db2", io.BytesIO(dumped), progress=sent.append)
    assert sent and sent[-1] == len(dumped)
