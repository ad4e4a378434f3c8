"""The effective backup configuration of a host: settings, targets, recipients.

``backup.targets`` lists where backups go (each ``{name, type, …options,
keep_*}``); without it there is the single local target in ``backup_dir``,
so a Pruvon config keeps working unchanged.  Per-target ``keep_*`` override
the section's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pruvon_backups import crypto
from pruvon_backups.errors import BackupError
from pruvon_backups.settings import backup_settings
from pruvon_backups.targets import KEEP_KEYS, LocalTarget, Target
from pruvon_core import hosts
from pruvon_core.dokku import client_from_config
from pruvon_core.registry import backup_targets


def settings(pruvon: Any) -> dict[str, Any]:
    """The ``backup:`` section; Pruvon's defaults when the host has no config file at all.

    The CLI works without a config file (root on a fresh host); an invalid or
    unreadable one is still an error, raised by ``pruvon.config``.
    """
    if not has_config(pruvon):
        return backup_settings({})
    return backup_settings(pruvon.config.data)


def has_config(pruvon: Any) -> bool:
    return Path(pruvon.store.path).exists()


_bare_clients: dict[int, Any] = {}


def client(pruvon: Any) -> Any:
    """The context's Dokku client; without a config file, the defaults' client (kept)."""
    if has_config(pruvon):
        return pruvon.client()
    if id(pruvon) not in _bare_clients:
        _bare_clients[id(pruvon)] = client_from_config(None)
    return _bare_clients[id(pruvon)]


def configured_hosts(pruvon: Any) -> list[str | None]:
    """Every host of the config in its order, as :func:`hosts.current` names them
    (``None``: the default host, the only one without a config file)."""
    if not has_config(pruvon):
        return [None]
    return [None if host.default else host.name
            for host in hosts.hosts_from_config(pruvon.config).values()]


def host_name(pruvon: Any, host: str | None) -> str:
    """A host's name for people and JSON (the default host's configured name)."""
    if host:
        return host
    return hosts.default_name(pruvon.config if has_config(pruvon) else None)


def retention(section: dict[str, Any], target: Any) -> dict[str, int]:
    """``keep_*`` for one target: the target's own, else the section's."""
    own = getattr(target, "keep", {}) or {}
    return {key: int(own.get(key, section[key])) for key in KEEP_KEYS}


def configured_targets(pruvon: Any, section: dict[str, Any] | None = None) -> list[Target]:
    """Every target the config names, built by its declared kind, in config order."""
    section = section if section is not None else settings(pruvon)
    entries = section.get("targets")
    if not entries:
        return [LocalTarget(section["backup_dir"], name="local")]
    kinds = {kind.name: kind for kind in backup_targets(pruvon)}
    built = []
    for entry in entries:
        options = dict(entry)
        kind = kinds.get(options.get("type", ""))
        if kind is None:
            raise BackupError(f"backup.targets: no target kind {options.get('type')!r} is installed")
        if options["type"] == "local":
            options.setdefault("path", section["backup_dir"])
        built.append(kind.configure(options))
    return built


def recipient_texts(section: dict[str, Any]) -> list[str]:
    encryption = section.get("encryption") or {}
    return list(encryption.get("recipients") or [])


def recipients(section: dict[str, Any]) -> list[Any]:
    return crypto.recipients(recipient_texts(section))
