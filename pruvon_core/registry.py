"""Kinds declared by plugins: service types, backup targets and app templates.

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
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger("pruvon.registry")

KIND_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
FLAG_RE = re.compile(r"^--[a-z][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class DeclaredKind:
    """Something a plugin declares by name: a service type or a backup target."""

    name: str
    description: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ServiceType(DeclaredKind):
    """A kind of service a plugin provides (``name`` as used in URLs and grants).

    The optional facts tell the services feature how to treat it (all have
    defaults, so ``ServiceType(name, description)`` keeps working): a display
    ``title``, whether ``<name>:connect`` gives a ``console``, the file
    extension of an export, the accepted first bytes of an export
    (``dump_magic``; empty = not checked) and the ``<name>:create`` flags
    Pruvon may pass on.
    """

    title: str = ""
    console: bool = False
    export_ext: str = "export"
    dump_magic: tuple[bytes, ...] = ()
    create_flags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: the magic bytes as hex."""
        data = asdict(self)
        data["dump_magic"] = [magic.hex() for magic in self.dump_magic]
        data["create_flags"] = list(self.create_flags)
        return data


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


@dataclass(frozen=True)
class AppTemplate(DeclaredKind):
    """A create-wizard preset: image, ports, env, services to create, storage to mount.

    ``services`` are service types (each created as ``<app>-<type>`` and
    linked), ``mounts`` container paths (each backed by the app's own storage
    directory).  Declared through ``pruvon_app_templates``; checked here, so a
    plugin's malformed template is skipped, never offered.
    """

    title: str = ""
    image: str = ""
    ports: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    services: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppTemplate:
        """From a data file's JSON object (lists become tuples; unknown keys refused)."""
        known = {"name", "description", "title", "image", "ports", "env", "services", "mounts"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown template keys: {', '.join(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def problem(self) -> str | None:
        """Why this template cannot be offered (a bad image, port, variable …), or None."""
        from pruvon_core.dokku import validate

        try:
            validate.image(self.image)
            for mapping in self.ports:
                validate.port_mapping(*str(mapping).split(":", 2))
            for key, value in dict(self.env).items():
                validate.env_value(validate.env_key(key), value)
            for kind in self.services:
                validate.service_type(kind)
            for path in self.mounts:
                validate.container_path(path)
        except (ValueError, TypeError) as exc:
            return str(exc)
        if not isinstance(self.title, str) or not 0 < len(self.title) <= 80:
            return "title must be 1-80 characters"
        return None


def app_templates(pruvon: Any) -> list[AppTemplate]:
    """Every valid create-wizard preset declared through ``pruvon_app_templates``, by name."""
    declared = pruvon.plugins.hook.pruvon_app_templates(pruvon=pruvon)
    return _collect(declared, AppTemplate, "pruvon_app_templates")


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
    if isinstance(entry, ServiceType):
        return _service_type_problem(entry)
    if isinstance(entry, AppTemplate):
        return entry.problem()
    return None


def _service_type_problem(entry: ServiceType) -> str | None:
    """The optional facts must have their declared types (they reach argv and file names)."""
    if not isinstance(entry.dump_magic, tuple) or not isinstance(entry.create_flags, tuple):
        return "dump_magic and create_flags must be tuples"
    if not isinstance(entry.title, str) or not isinstance(entry.console, bool):
        return "title must be a string and console a bool"
    if not isinstance(entry.export_ext, str) or not KIND_NAME_RE.match(entry.export_ext):
        return "export_ext must be lowercase letters, digits and '-'"
    if not all(isinstance(m, bytes) and m for m in entry.dump_magic):
        return "dump_magic must be non-empty bytes"
    if not all(isinstance(f, str) and FLAG_RE.match(f) for f in entry.create_flags):
        return "create_flags must be long options such as '--image'"
    return None
