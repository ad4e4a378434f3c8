"""The only code in Pruvon that talks to Dokku (DESIGN §4).

>>> client = client_from_config(config)
>>> [(a.name, a.state) for a in client.apps_overview()]

Which Dokku is used, in order of precedence:

1. ``PRUVON_DOKKU_COMMAND`` (env): an argv prefix, e.g. ``pruvon-dokku-sim``;
2. ``dokku.ssh: dokku@HOST`` (+ ``dokku.ssh_key``, ``dokku.ssh_port``): ssh;
3. ``dokku.command``: an argv prefix (string or list);
4. otherwise ``dokku`` on this host, through ``sudo -n -u dokku`` unless
   Pruvon already runs as ``dokku`` or root.

Other hosts (the config's ``hosts:`` list, :mod:`pruvon_core.hosts`) are
reached over ssh with Pruvon's own ``known_hosts`` and connection reuse:
:func:`client_for` builds the client of any host by name.

``docker`` for the bulk container read is ``PRUVON_DOCKER_COMMAND``, then
``dokku.docker_command``, then ``docker`` (never over ssh).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pruvon_core.dokku import errors, sshopts
from pruvon_core.dokku.client import DokkuClient
from pruvon_core.dokku.errors import (
    AppNotFound,
    DokkuError,
    DokkuTimeout,
    DokkuUnavailable,
    InvalidName,
    InvalidValue,
    NameTaken,
    NotDeployed,
    ServiceNotFound,
)
from pruvon_core.dokku.models import (
    AppOverview,
    AppReport,
    Call,
    Container,
    DomainsReport,
    Plugin,
    PortMapping,
    PortsReport,
    ProcessCount,
    ProcessStatus,
    PsReport,
    Result,
    Service,
    ServiceInfo,
    StorageMount,
)
from pruvon_core.dokku.transports import (
    CommandTransport,
    DockerCli,
    LocalTransport,
    PtyHandle,
    SshTransport,
    Stream,
    Transport,
)
from pruvon_core.files import private_dir

DEFAULT_TIMEOUT = 60.0


def _argv(value: Any, what: str) -> list[str]:
    """A command from config/env: a list of words, or a string split like a shell would."""
    words = shlex.split(value) if isinstance(value, str) else [str(v) for v in value or []]
    if not words:
        raise InvalidValue(f"{what} is empty")
    return words


def transport_from_config(config: Any, env: Mapping[str, str] | None = None) -> Transport:
    """The transport the config (and ``PRUVON_DOKKU_COMMAND``) selects."""
    env = os.environ if env is None else env
    if env.get("PRUVON_DOKKU_COMMAND"):
        return CommandTransport(_argv(env["PRUVON_DOKKU_COMMAND"], "PRUVON_DOKKU_COMMAND"))
    ssh = config.get("dokku.ssh") if config is not None else None
    if ssh:
        port = config.get("dokku.ssh_port")
        return SshTransport(
            str(ssh), key=config.get("dokku.ssh_key"), port=int(port) if port else None
        )
    command = config.get("dokku.command") if config is not None else None
    if command:
        return CommandTransport(_argv(command, "dokku.command"))
    return LocalTransport()


def docker_from_config(config: Any, env: Mapping[str, str] | None = None) -> DockerCli:
    env = os.environ if env is None else env
    if env.get("PRUVON_DOCKER_COMMAND"):
        return DockerCli(_argv(env["PRUVON_DOCKER_COMMAND"], "PRUVON_DOCKER_COMMAND"))
    command = config.get("dokku.docker_command") if config is not None else None
    return DockerCli(_argv(command, "dokku.docker_command") if command else ["docker"])


def client_from_config(
    config: Any, env: Mapping[str, str] | None = None, **kwargs: Any
) -> DokkuClient:
    """A :class:`DokkuClient` for ``config`` (a :class:`pruvon_core.config.Config` or ``None``)."""
    return DokkuClient(
        transport_from_config(config, env), docker_from_config(config, env),
        **_client_options(config, kwargs),
    )


def _client_options(config: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Timeouts, concurrency and staleness from ``dokku:``, shared by every host."""
    timeout = config.get("dokku.timeout") if config is not None else None
    kwargs.setdefault("timeout", float(timeout or DEFAULT_TIMEOUT))
    calls = config.get("dokku.max_concurrent_calls") if config is not None else None
    if calls is not None:
        if isinstance(calls, bool) or not isinstance(calls, int) or not 1 <= calls <= 64:
            raise InvalidValue("dokku.max_concurrent_calls: must be a whole number from 1 to 64")
        kwargs.setdefault("max_concurrent_calls", calls)
    stale = config.get("dokku.cache_max_stale") if config is not None else None
    if stale is not None:
        if isinstance(stale, bool) or not isinstance(stale, int | float) or stale < 0:
            raise InvalidValue("dokku.cache_max_stale: must be a number of seconds >= 0")
        kwargs.setdefault("cache_max_stale", float(stale))
    return kwargs


def remote_transport(host: Any, state_dir: Path, accept_new: bool = False,
                     connect_timeout: int = sshopts.CONNECT_TIMEOUT) -> SshTransport:
    """The ssh transport of a listed host: strict host keys from Pruvon's file, reuse on."""
    from pruvon_core.hosts import known_hosts_file

    known = known_hosts_file(state_dir)
    private_dir(known.parent)
    return SshTransport(host.ssh, key=host.key, port=host.port, known_hosts=known,
                        control=sshopts.control_dir(state_dir), accept_new=accept_new,
                        connect_timeout=connect_timeout)


def client_for(config: Any, host: str | None, state_dir: Path,
               env: Mapping[str, str] | None = None, **kwargs: Any) -> DokkuClient:
    """The Dokku client of host ``host`` (``None``: the default host, as configured today).

    Raises :class:`pruvon_core.hosts.UnknownHost` for a name the config does not list.
    """
    from pruvon_core.hosts import lookup

    found = lookup(config, host)
    legacy = config.get("dokku.ssh") if config is not None else None
    if found.default and (found.ssh is None or found.ssh == legacy):
        return client_from_config(config, env, **kwargs)  # today's single-host settings
    options = _client_options(config, kwargs)
    if found.timeout:
        options["timeout"] = found.timeout
    docker = DockerCli(list(found.docker)) if found.docker else None
    return DokkuClient(remote_transport(found, state_dir), docker, docker_on_host=True,
                       **options)


__all__ = [
    "AppNotFound",
    "AppOverview",
    "AppReport",
    "Call",
    "CommandTransport",
    "Container",
    "DockerCli",
    "DokkuClient",
    "DokkuError",
    "DokkuTimeout",
    "DokkuUnavailable",
    "DomainsReport",
    "InvalidName",
    "InvalidValue",
    "LocalTransport",
    "NameTaken",
    "NotDeployed",
    "Plugin",
    "PortMapping",
    "PortsReport",
    "ProcessCount",
    "ProcessStatus",
    "PsReport",
    "PtyHandle",
    "Result",
    "Service",
    "ServiceInfo",
    "ServiceNotFound",
    "SshTransport",
    "StorageMount",
    "Stream",
    "Transport",
    "client_for",
    "client_from_config",
    "docker_from_config",
    "errors",
    "remote_transport",
    "transport_from_config",
]
