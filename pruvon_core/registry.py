"""Kinds declared by plugins: service types and backup targets.

The ``pruvon_service_types`` and ``pruvon_backup_targets`` hooks let a plugin
add a kind of service (beyond Dokku's own postgres, redis … plugins) or a place
backups go (beyond the local directory).  This module is their one caller: it
collects every declaration, drops what is malformed and keeps the first of two
declarations of one name, saying why in the log, so the services and backups
features (and ``pruvon plugins``) see one clean list.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger("pruvon.registry")

KIND_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class DeclaredKind:
    """Something a plugin declares by name: a service type or a backup target."""

    name: str
    description: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ServiceType(DeclaredKind):
    """A kind of service a plugin provides (``name`` as used in URLs and grants)."""


class BackupTarget(DeclaredKind):
    """A kind of place backup files go; ``name`` is what ``backup.targets[].type`` names.

    A kind that can be configured overrides :meth:`configure` (returning an
    object with the backups plugin's ``Target`` protocol) and :meth:`problems`.
    """

    def configure(self, options: Any) -> Any:
        """The target described by one ``backup.targets`` entry (``options``)."""
        raise NotImplementedError(f"backup target kind {self.name!r} cannot be configured")

    def problems(self, options: Any) -> list[str]:
        """What is wrong with ``options`` (each message names its key); empty when fine."""
        return []


def service_types(pruvon: Any) -> list[ServiceType]:
    """Every valid service type declared through ``pruvon_service_types``, by name."""
    declared = pruvon.plugins.hook.pruvon_service_types(pruvon=pruvon)
    return _collect(declared, ServiceType, "pruvon_service_types")


def backup_targets(pruvon: Any) -> list[BackupTarget]:
    """Every valid backup target declared through ``pruvon_backup_targets``, by name."""
    declared = pruvon.plugins.hook.pruvon_backup_targets(pruvon=pruvon)
    return _collect(declared, BackupTarget, "pruvon_backup_targets")


def _collect(results: list[Any], kind: type, hook: str) -> list[Any]:
    """Flatten one hook's lists; keep well-formed entries, first declaration wins."""
    kept: dict[str, Any] = {}
    for result in results:
        if not isinstance(result, list | tuple):
            log.warning("ignoring %r from %s: not a list", result, hook)
            continue
        for entry in result:
            problem = _problem(entry, kind)
            if problem:
                log.warning("ignoring %r from %s: %s", entry, hook, problem)
            elif entry.name in kept:
                log.warning("%s %r declared twice; keeping the first", hook, entry.name)
            else:
                kept[entry.name] = entry
    return sorted(kept.values(), key=lambda entry: entry.name)


def _problem(entry: Any, kind: type) -> str | None:
    if not isinstance(entry, kind):
        return f"not a {kind.__name__}"
    if not isinstance(entry.name, str) or not KIND_NAME_RE.match(entry.name):
        return "name must be lowercase letters, digits and '-' (at most 32)"
    if not isinstance(entry.description, str):
        return "description must be a string"
    return None
