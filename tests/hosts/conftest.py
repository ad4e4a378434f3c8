"""Fixtures for the several-hosts tests: a Pruvon state dir and config over real sshd."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pruvon_core.config import Config
from pruvon_core.dokku import DokkuClient, client_for, remote_transport
from pruvon_core.dokku.transports import SshTransport
from pruvon_core.hosts import hosts_from_config


@pytest.fixture
def pruvon_state(tmp_path: Path) -> Path:
    state = tmp_path / "state"  # the same as pruvon_config's, when a test uses both
    state.mkdir(mode=0o700, exist_ok=True)
    return state


def record_keys(state: Path, hosts: list) -> None:
    """What `pruvon hosts add` does for each host: connect once with accept-new."""
    config = Config({"hosts": [h.hosts_entry() for h in hosts]})
    for host in hosts_from_config(config).values():
        if host.ssh:
            transport = remote_transport(host, state, accept_new=True)
            result = transport.run(["version"], timeout=20)
            assert result.exit == 0, result.stderr


def hosts_config(hosts: list) -> Config:
    """A config whose default host cannot run (``false``) and whose ``hosts:`` are ``hosts``."""
    return Config({"dokku": {"command": "false"}, "hosts": [h.hosts_entry() for h in hosts]})


@pytest.fixture
def one_host(ssh_dokku_hosts, pruvon_state: Path, close_masters):
    """``one_host(**client_options)``: a host ``h1`` with its key recorded, and its client."""

    def make(**options: Any) -> tuple[Any, Config, DokkuClient]:
        (host,) = ssh_dokku_hosts(1)
        record_keys(pruvon_state, [host])
        config = hosts_config([host])
        close_masters(config)
        return host, config, client_for(config, "h1", pruvon_state, **options)

    return make


@pytest.fixture
def close_masters(pruvon_state: Path) -> Iterator[Callable[[Config], None]]:
    """Close the ControlMaster connections a test opened (no ssh left behind)."""
    configs: list[Config] = []
    yield configs.append
    for config in configs:
        for host in hosts_from_config(config).values():
            if host.ssh:
                transport: SshTransport = remote_transport(host, pruvon_state)
                transport.close_master()
