"""A read Pruvon gives up on ends on the remote host too (issue 17), through real sshd.

Killing the local ``ssh`` is not enough: sshd never signals a forced command
that runs without a terminal when its channel closes (OpenSSH bug 396), with
or without a ControlMaster.  Pruvon's reads run on a remote pseudo-terminal,
so the channel's close hangs the remote ``dokku`` up.  These tests look for
the simulator processes of the host itself, by the state root in their
environment.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from pruvon_core.dokku import client_for, errors
from pruvon_core.fanout import LastGood, fan_out
from pruvon_core.processes import stat_fields


def sim_processes(root: Path) -> list[int]:
    """Pids of ``pruvon-dokku-sim`` processes running for the host whose state is ``root``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"pruvon-dokku-sim" in cmdline and stat_fields(int(entry))[:1] != ["Z"] and (
                f"PRUVON_SIM_ROOT={root}".encode() in environ):
            found.append(int(entry))
    return found


def wait_gone(root: Path, seconds: float = 5) -> list[int]:
    """The host's simulator processes still running after ``seconds`` (none, if they end)."""
    deadline = time.monotonic() + seconds
    while (left := sim_processes(root)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _hung_host(one_host):
    host, _config, client = one_host(timeout=3)
    assert client.version()  # the master connection is up; versions known
    host.sim.set_knobs(hang=["apps:list"])
    return host, client


def test_a_hung_read_timed_out_ends_on_the_remote_host(one_host):
    host, client = _hung_host(one_host)
    with pytest.raises(errors.DokkuTimeout):
        client.list_apps()
    assert wait_gone(host.sim.root) == []
    host.sim.set_knobs(hang=[])
    client.invalidate()
    assert client.list_apps() == []  # the same reused connection still serves reads
    assert host.connections() == 1


def test_a_hung_host_cut_by_the_fan_out_leaves_nothing_running_there(one_host):
    host, client = _hung_host(one_host)
    host.sim.set_knobs(call_log=True)
    client.timeout = 60  # the fan-out's 2 s cut comes first
    start = time.monotonic()
    (answer,) = fan_out(["h1"], lambda name: client.list_apps(), key="hung",
                        timeouts={"h1": 2}, last_good=LastGood())
    assert not answer.ok and time.monotonic() - start < 4
    logged = (host.sim.root / "calls.log").read_text()
    assert '"apps:list"' in logged  # it reached the host and hung there ...
    assert wait_gone(host.sim.root) == []  # ... and the cut ended it on the host


def test_reads_on_a_terminal_keep_bytes_and_errors_apart(one_host, pruvon_state: Path):
    host, config, client = one_host()
    # no apps: Dokku warns on stderr and exits 0; the warning is not read as data
    assert client.list_apps() == [] and client.ps_reports() == {}
    assert client.schedulers() == {}
    host.sim.check("apps:create", "blog")
    client.invalidate()
    value = "tab\there\r\nand a ' quote"
    host.sim.check("config:set", "--no-restart", "blog", f"RAW={value}")
    assert client.config("blog")["RAW"] == value  # no \r added, nothing echoed
    with pytest.raises(errors.AppNotFound):
        client.app_report("nope")  # Dokku's message still classifies the failure
    assert client.list_apps() == ["blog"]
    fresh = client_for(config, "h1", pruvon_state)  # reports are loaded, not served stale
    assert fresh.ps_reports()["blog"].deployed is False


def test_without_connection_reuse_a_hung_read_ends_too(one_host, pruvon_state: Path):
    """``dokku.ssh`` (the single-host setting) has no ControlMaster: ssh itself sends
    the raw terminal's modes, and killing it closes the connection and the terminal."""
    from pruvon_core.dokku.transports import SshTransport
    from pruvon_core.hosts import known_hosts_file

    host, _config, _client = one_host()
    plain = SshTransport(host.target, key=str(host.client_key), port=host.port,
                         known_hosts=known_hosts_file(pruvon_state))
    host.sim.check("apps:create", "blog")
    host.sim.check("config:set", "--no-restart", "blog", "RAW=a\r\nb")
    done = plain.run(["config:export", "--format", "json", "blog"], read=True)
    assert done.exit == 0 and done.stdout.endswith("}\n")  # no \r added by a terminal
    assert json.loads(done.stdout)["RAW"] == "a\r\nb"
    host.sim.set_knobs(hang=["apps:list"])
    with pytest.raises(errors.DokkuTimeout):
        plain.run(["apps:list"], read=True, timeout=3)
    assert wait_gone(host.sim.root) == []
