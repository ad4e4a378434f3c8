"""Managing the hosts list and asking every host at once: no CLI or web here.

``add`` records a host the way an operator expects from ssh: it connects once
(``StrictHostKeyChecking=accept-new``, which still refuses a *changed* key),
shows the key's fingerprint and records it in Pruvon's own ``known_hosts``;
only then is the host written to the config.  ``remove`` forgets both.
``check`` asks every host for ``dokku version`` in parallel, each within its
timeout, and says how long it took.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruvon_core import audit, hosts
from pruvon_core.config import Config, ConfigStore
from pruvon_core.dokku import client_for, errors, remote_transport
from pruvon_core.errors import InputError
from pruvon_core.fanout import every_host
from pruvon_core.hosts import Host, known_hosts_file
from pruvon_core.permissions import SYSTEM

ADD_TIMEOUT = 30.0


class HostsError(InputError):
    """Bad input for a hosts command (unknown or duplicate name, bad target)."""


@dataclass
class Added:
    """What ``hosts add`` found: the host, its Dokku version, its key fingerprints."""

    host: Host
    version: str
    fingerprints: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {**self.host.as_dict(), "version": self.version,
                "fingerprints": self.fingerprints}


def known_name(host: Host) -> str:
    """How ssh names the host in ``known_hosts``: ``HOST`` or ``[HOST]:PORT``."""
    name = host.ssh.rpartition("@")[2] if host.ssh else ""
    return f"[{name.strip('[]')}]:{host.port}" if host.port and host.port != 22 else name


def fingerprints(state_dir: Path, host: Host) -> list[str]:
    """``ED25519 SHA256:…`` for each key recorded for ``host`` (``ssh-keygen -F -l``)."""
    path = known_hosts_file(state_dir)
    if not path.exists():
        return []
    done = subprocess.run(["ssh-keygen", "-l", "-F", known_name(host), "-f", str(path)],
                          capture_output=True, text=True, check=False, timeout=10)
    found = []
    for line in done.stdout.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        found.append(f"{parts[1]} {parts[2]}" if len(parts) >= 3 else line.strip())
    return found


def _forget_key(state_dir: Path, host: Host) -> None:
    path = known_hosts_file(state_dir)
    if path.exists():
        subprocess.run(["ssh-keygen", "-R", known_name(host), "-f", str(path)],
                       capture_output=True, check=False, timeout=10)
        Path(f"{path}.old").unlink(missing_ok=True)  # ssh-keygen's backup of the old file


def _entry(name: str, target: str, port: int | None, key: str | None) -> dict[str, Any]:
    try:
        hosts.check_name(name)
        hosts.check_ssh_target(target)
    except ValueError as exc:
        raise HostsError(str(exc)) from exc
    if port is not None and not 1 <= port <= 65535:
        raise HostsError(f"--port {port}: must be a port number from 1 to 65535")
    if key is not None:
        if not key.startswith("/"):
            raise HostsError(f"--key {key!r}: must be an absolute path to a private key")
        if not Path(key).is_file():
            raise HostsError(f"--key {key}: no such file")
    entry: dict[str, Any] = {"name": name, "ssh": target}
    if port is not None:
        entry["port"] = port
    if key is not None:
        entry["key"] = key
    return entry


def add(store: ConfigStore, state_dir: Path, name: str, target: str,
        port: int | None = None, key: str | None = None) -> Added:
    """Connect once, record the host key, then add the host to the config."""
    entry = _entry(name, target, port, key)
    config = store.current()
    if name in hosts.hosts_from_config(config):
        raise HostsError(f"a host named {name!r} exists already (pruvon hosts remove {name} "
                         "first to change it)")
    host = Host(name, target, port, key)
    transport = remote_transport(host, state_dir, accept_new=True)
    result = transport.run(["version"], timeout=ADD_TIMEOUT)
    if result.exit != 0:
        raise transport.unavailable(result.exit, result.stderr, result.argv) or errors.classify(
            result.argv, result.exit, result.stdout, result.stderr)
    store.update(lambda data: _append_host(data, entry))
    audit.record(SYSTEM, "hosts.add", f"host:{name}", "ok", state_dir=state_dir, ssh=target,
                 port=port)
    return Added(host, result.stdout.strip(), fingerprints(state_dir, host))


def _append_host(data: Any, entry: dict[str, Any]) -> None:
    if data.get("hosts") is None:
        data["hosts"] = []
    data["hosts"].append(entry)


def remove(store: ConfigStore, state_dir: Path, name: str) -> Host:
    """Drop the host from the config and forget its key and master connection."""
    config = store.current()
    host = lookup(config, name)
    if host.default and not any(e.get("name") == name for e in config.get("hosts") or []):
        raise HostsError(f"{name!r} is the default host (the dokku: settings); it cannot be "
                         "removed")
    store.update(lambda data: _drop_host(data, name))
    if host.ssh:
        remote_transport(host, state_dir).close_master()
        _forget_key(state_dir, host)
    audit.record(SYSTEM, "hosts.remove", f"host:{name}", "ok", state_dir=state_dir)
    return host


def _drop_host(data: Any, name: str) -> None:
    entries = data.get("hosts") or []
    for index in reversed(range(len(entries))):
        if entries[index].get("name") == name:
            del entries[index]
    if not entries and "hosts" in data:
        del data["hosts"]


def lookup(config: Config | None, name: str) -> Host:
    try:
        return hosts.lookup(config, name)
    except hosts.UnknownHost as exc:
        raise HostsError(str(exc)) from exc


def check(config: Config | None, state_dir: Path, names: list[str]) -> list[dict[str, Any]]:
    """``dokku version`` on every host at once: reachable, version, latency, key."""
    found = hosts.hosts_from_config(config)

    def version(host: str | None) -> str:
        start = time.monotonic()
        text = client_for(config, host, state_dir).version()
        return f"{text} ({(time.monotonic() - start) * 1000:.0f} ms)"

    rows = []
    for answer in every_host(config, names, version, key="hosts.check"):
        host = found[answer.host]
        rows.append({"name": host.name, "address": host.address, "default": host.default,
                     "ok": answer.ok, "version": answer.data if answer.ok else None,
                     "error": answer.error,
                     "fingerprints": fingerprints(state_dir, host) if host.ssh else []})
    return rows


def warm_up(pruvon: Any) -> list[str]:
    """Prefetch every remote host's reports in the background; the names started."""
    started = []
    for host in hosts.hosts_from_config(pruvon.config).values():
        if host.ssh is None or host.docker:
            continue
        try:
            pruvon.client_for(None if host.default else host.name).warm_up()
        except (errors.DokkuError, OSError):
            continue  # a host that cannot even be set up shows its error on first use
        started.append(host.name)
    return started
