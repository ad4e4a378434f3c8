"""Several Dokku hosts from one Pruvon (issue 17, DESIGN §11).

The config's ``hosts:`` list names the remote Dokku hosts Pruvon reaches over
Dokku's own ssh forced-command interface::

    hosts:
      - name: staging
        ssh: dokku@staging.example.com
        port: 22            # optional
        key: /etc/pruvon/id_ed25519   # optional
        docker: ssh root@staging.example.com docker   # optional: a docker argv

Today's single-host settings (``dokku.command`` / ``dokku.ssh`` / the local
``dokku``) stay valid unchanged as the *default* host: it is named ``local``,
or after the host part of ``dokku.ssh``.  The default host keeps Pruvon's URLs
and meaning; other hosts are addressed by name (``--host NAME`` on the CLI,
``/h/NAME/…`` on the web).

This module is the registry: which hosts exist (:func:`hosts_from_config`),
their validation (:func:`validate_hosts`, called by core config validation),
and a Dokku client per host (:func:`client_for`).  The host a request or a
command is acting on is a context variable (:func:`current`, :func:`using`),
so code that asks ``pruvon.client()`` gets the right host's client without
passing the host through every function.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_NAME = "local"
ALL = "all"
HOST_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SSH_TARGET_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}@[A-Za-z0-9][A-Za-z0-9.-]{0,252}$|"
                           r"^[a-z_][a-z0-9_.-]{0,31}@\[[0-9A-Fa-f:]+\]$")
HOST_KEYS = ("name", "ssh", "port", "key", "docker", "timeout")
RESERVED_NAMES = frozenset({ALL})

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("pruvon_host", default=None)


class UnknownHost(LookupError):
    """A host name the config does not list."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"no host named {name!r} (known: {', '.join(known) or 'none'})")


@dataclass(frozen=True)
class Host:
    """One Dokku host: how to reach it, and whether it is the default one.

    ``ssh`` is ``None`` for the default host when it is reached locally (or
    through ``dokku.command``); ``docker`` an argv prefix reaching that host's
    docker, if any (without it, remote app state comes from Dokku's reports).
    """

    name: str
    ssh: str | None = None
    port: int | None = None
    key: str | None = None
    docker: tuple[str, ...] | None = None
    timeout: float | None = None
    default: bool = False

    @property
    def address(self) -> str:
        """``dokku@HOST[:PORT]`` for people; ``local`` for the local default host."""
        if self.ssh is None:
            return "local"
        return f"{self.ssh}:{self.port}" if self.port else self.ssh

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ssh": self.ssh, "port": self.port, "key": self.key,
                "docker": list(self.docker) if self.docker else None,
                "default": self.default, "address": self.address}


# --------------------------------------------------------------------------- names
def check_name(name: Any) -> str:
    """A valid host name, or :class:`ValueError` saying why (never starts with ``-``)."""
    if not isinstance(name, str) or not HOST_NAME_RE.fullmatch(name):
        raise ValueError(f"{name!r} is not a host name: use 1-63 lowercase letters, digits "
                         "and -, starting with a letter or digit")
    if name in RESERVED_NAMES:
        raise ValueError(f"{name!r} is reserved (it means every host)")
    return name


def check_ssh_target(target: Any) -> str:
    """``user@host`` where neither part can be read by ssh as an option."""
    if not isinstance(target, str) or not SSH_TARGET_RE.fullmatch(target):
        raise ValueError(f"{target!r} must look like dokku@HOST (a user name, @, a host name "
                         "or [IPv6])")
    return target


def _docker_argv(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    words = shlex.split(value) if isinstance(value, str) else [str(v) for v in value]
    return tuple(words) or None


# --------------------------------------------------------------------------- config
def default_name(config: Any) -> str:
    """``local``, or the host part of ``dokku.ssh`` when it names a valid host name."""
    ssh = config.get("dokku.ssh") if config is not None else None
    if isinstance(ssh, str) and "@" in ssh:
        address = ssh.rpartition("@")[2].lower()
        # an IPv4 address names the host in full (10-0-0-5), a DNS name by its first label
        host = address.replace(".", "-") if re.fullmatch(r"[\d.]+", address) else address.split(
            ".")[0]
        if HOST_NAME_RE.fullmatch(host) and host not in RESERVED_NAMES:
            return host
    return DEFAULT_NAME


def _default_host(config: Any) -> Host:
    ssh = config.get("dokku.ssh") if config is not None else None
    port = config.get("dokku.ssh_port") if config is not None else None
    key = config.get("dokku.ssh_key") if config is not None else None
    return Host(default_name(config), str(ssh) if ssh else None, int(port) if port else None,
                str(key) if key else None, default=True)


def hosts_from_config(config: Any) -> dict[str, Host]:
    """Every host by name, the default one first (the config is validated already)."""
    default = _default_host(config)
    found = {default.name: default}
    raw = config.get("hosts") if config is not None else None
    for entry in raw or []:
        name = str(entry["name"])
        if name == default.name:  # the default host listed again: its entry describes it
            found[name] = _host(entry, default=True)
            continue
        found[name] = _host(entry)
    return found


def _host(entry: Mapping[str, Any], default: bool = False) -> Host:
    port = entry.get("port")
    timeout = entry.get("timeout")
    return Host(str(entry["name"]), str(entry["ssh"]), int(port) if port else None,
                str(entry["key"]) if entry.get("key") else None,
                _docker_argv(entry.get("docker")),
                float(timeout) if timeout else None, default)


def validate_hosts(raw: Any) -> list[str]:
    """Every problem of a ``hosts:`` section, each naming the exact bad key."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        return ["hosts: must be a list of {name, ssh, port, key} mappings"]
    errors: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path = f"hosts[{index}]"
        if not isinstance(entry, dict):
            errors.append(f"{path}: must be a mapping with name and ssh")
            continue
        errors += [f"{path}.{key}: unknown key (allowed: {', '.join(HOST_KEYS)})"
                   for key in entry if key not in HOST_KEYS]
        errors += _entry_errors(path, entry, seen)
    return errors


def _entry_errors(path: str, entry: Mapping[str, Any], seen: set[str]) -> list[str]:
    errors: list[str] = []
    for key, check in (("name", check_name), ("ssh", check_ssh_target)):
        try:
            check(entry.get(key))
        except ValueError as exc:
            errors.append(f"{path}.{key}: {exc}")
    name = entry.get("name")
    if isinstance(name, str) and name in seen:
        errors.append(f"{path}.name: duplicate host {name!r}")
    seen.add(str(name))
    port = entry.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 1 <= port <= 65535):
        errors.append(f"{path}.port: must be a port number from 1 to 65535")
    key = entry.get("key")
    if key is not None and not (isinstance(key, str) and key.startswith("/")):
        errors.append(f"{path}.key: must be an absolute path to a private key")
    docker = entry.get("docker")
    if docker is not None and not (
        (isinstance(docker, str) and docker.strip())
        or (isinstance(docker, list) and docker and all(isinstance(v, str) for v in docker))
    ):
        errors.append(f"{path}.docker: must be a command (string or list of arguments)")
    timeout = entry.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not 0 < timeout <= 600):
        errors.append(f"{path}.timeout: must be a number of seconds from 0 to 600")
    return errors


def validate_user_hosts(path: str, value: Any) -> list[str]:
    """A user's ``hosts:`` grant: a list of host names (or ``*``)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [f"{path}: must be a list of host names"]
    errors = []
    for index, name in enumerate(value):
        if name != "*" and not HOST_NAME_RE.fullmatch(name):
            errors.append(f"{path}[{index}]: {name!r} is not a host name")
    return errors


def lookup(config: Any, name: str | None) -> Host:
    """The host called ``name`` (``None``: the default host); :class:`UnknownHost` if none."""
    found = hosts_from_config(config)
    if name is None:
        return next(iter(found.values()))
    if name not in found:
        raise UnknownHost(name, list(found))
    return found[name]


# --------------------------------------------------------------------------- current host
def current() -> str | None:
    """The host name this request/command acts on (``None``: the default host)."""
    return _current.get()


@contextlib.contextmanager
def using(name: str | None) -> Iterator[None]:
    """Act on host ``name`` inside the block (``None``: the default host)."""
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)


def select(config: Any, name: str | None) -> str | None:
    """The acting-host value for ``name``: ``None`` for the default host (by any
    spelling), the name for another listed host; :class:`UnknownHost` otherwise."""
    if name is None:
        return None
    found = lookup(config, name)
    return None if found.default else found.name


def set_current(name: str | None) -> contextvars.Token:
    """Set the acting host for the rest of this context (a request, a command)."""
    return _current.set(name)


def op_target(kind: str, name: str, host: str | None = None) -> str:
    """An operation's target: ``app:blog`` on the default host, ``app:blog@prod`` elsewhere.

    Operations are locked, listed and looked up by target, so the host in it
    keeps ``blog`` on one host from blocking (or revealing) ``blog`` on another.
    ``host`` defaults to the host acted on now.
    """
    host = host if host is not None else current()
    return f"{kind}:{name}@{host}" if host else f"{kind}:{name}"


def op_target_name(target: str) -> tuple[str, str, str | None]:
    """``app:blog@prod`` → ``("app", "blog", "prod")``; ``app:blog`` → ``(…, None)``.

    The inverse of :func:`op_target`: resource names never hold ``@`` (Dokku's
    names are ``[a-z0-9-]``, services ``[A-Za-z0-9_-]``), so the last ``@`` is
    the host's.
    """
    kind, _, rest = target.partition(":")
    name, at, host = rest.rpartition("@")
    return (kind, name, host) if at else (kind, rest, None)


def known_hosts_file(state_dir: Path) -> Path:
    """The per-Pruvon ``known_hosts``: host keys recorded by ``pruvon hosts add``."""
    return Path(state_dir) / "ssh" / "known_hosts"
