"""The effective backup configuration of a host: settings, targets, recipients.

``backup.targets`` lists where backups go (each ``{name, type, …options,
keep_*}``); without it there is the single local target in ``backup_dir``,
so a Pruvon config keeps working unchanged.  Per-target ``keep_*`` override
the section's.
"""

from __future__ import annotations

from typing import Any

from pruvon_backups import crypto
from pruvon_backups.errors import BackupError
from pruvon_backups.settings import backup_settings
from pruvon_backups.targets import KEEP_KEYS, LocalTarget, Target
from pruvon_core.registry import backup_targets


def settings(pruvon: Any) -> dict[str, Any]:
    return backup_settings(pruvon.config.data)


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
