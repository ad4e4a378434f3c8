"""The ``backup:`` section of ``/etc/pruvon.yml``, read with Pruvon's meaning.

Pruvon's own ``backup:`` section is read unchanged, so a host moving from
Pruvon keeps its schedule: ``do_weekly`` is the weekday of the weekly backup
(``1``-``6`` Monday to Saturday, ``0`` or ``7`` Sunday) and ``do_monthly`` the
day of the month of the monthly one.  Defaults are Pruvon's.  A bad value is
refused with the exact key and the reason, never replaced by a default: an
operator who wrote ``do_monthly: 31`` expecting "last day" must see it checked.
"""

from __future__ import annotations

import os
from typing import Any

from pruvon_core.registry import KIND_NAME_RE

DEFAULT_BACKUP_DIR = "/var/lib/dokku/data/pruvon-backup"
DEFAULT_DB_TYPES = ("postgres", "mariadb", "mongo", "redis")
DEFAULTS: dict[str, Any] = {
    "backup_dir": DEFAULT_BACKUP_DIR,
    "do_weekly": 0,
    "do_monthly": 1,
    "db_types": list(DEFAULT_DB_TYPES),
    "keep_daily_days": 7,
    "keep_weekly_num": 6,
    "keep_monthly_num": 3,
    "compression_level": 1,
}
# key -> (lowest, highest, what the number means); None = no upper bound
_RANGES: dict[str, tuple[int, int | None, str]] = {
    "do_weekly": (0, 7, "a weekday from 0 to 7 (1-6 Monday to Saturday, 0 or 7 Sunday)"),
    "do_monthly": (1, 31, "a day of the month from 1 to 31"),
    "keep_daily_days": (0, None, "a whole number ≥ 0"),
    "keep_weekly_num": (0, None, "a whole number ≥ 0"),
    "keep_monthly_num": (0, None, "a whole number ≥ 0"),
    "compression_level": (1, 19, "a zstd level from 1 (fastest) to 19"),
}


def _whole_number_problem(key: str, value: Any) -> str | None:
    """``backup.<key>: must be …`` when ``value`` is not a whole number in range."""
    low, high, meaning = _RANGES[key]
    # bool is an int in Python, but ``do_weekly: true`` is not a weekday
    if isinstance(value, bool) or not isinstance(value, int):
        return f"backup.{key}: must be {meaning}, not {value!r}"
    if value < low or (high is not None and value > high):
        return f"backup.{key}: must be {meaning}, not {value}"
    return None


def validate(raw: Any) -> list[str]:
    """Every problem in the ``backup:`` section, each naming its key."""
    if not isinstance(raw, dict):
        return ["backup: must be a mapping"]
    errors: list[str] = []
    backup_dir = raw.get("backup_dir")
    if backup_dir is not None and not (isinstance(backup_dir, str) and backup_dir.startswith("/")):
        errors.append("backup.backup_dir: must be an absolute path")
    for key in _RANGES:
        if raw.get(key) is not None:
            problem = _whole_number_problem(key, raw[key])
            if problem:
                errors.append(problem)
    errors += _target_problems(raw.get("targets"))
    errors += _encryption_problems(raw.get("encryption"))
    db_types = raw.get("db_types")
    if db_types is not None and (
        not isinstance(db_types, list) or not all(isinstance(v, str) for v in db_types)
    ):
        errors.append("backup.db_types: must be a list of strings")
    return errors


def _target_problems(targets: Any) -> list[str]:
    """``backup.targets``: a list of ``{name, type, …}`` with unique names and sane ``keep_*``.

    Whether ``type`` names an installed kind and the kind's own options are
    checked by :func:`target_kind_problems`, which needs the plugin manager.
    """
    if targets is None:
        return []
    if not isinstance(targets, list) or not targets:
        return ["backup.targets: must be a non-empty list of targets"]
    errors: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(targets):
        where = f"backup.targets[{index}]"
        if not isinstance(entry, dict):
            errors.append(f"{where}: must be a mapping with name and type")
            continue
        name, kind = entry.get("name"), entry.get("type")
        if not isinstance(name, str) or not KIND_NAME_RE.match(name):
            errors.append(f"{where}.name: must be lowercase letters, digits and '-'")
        elif name in seen:
            errors.append(f"{where}.name: {name!r} is used twice")
        else:
            seen.add(name)
        if not isinstance(kind, str) or not kind:
            errors.append(f"{where}.type: must name a target kind (local, s3, …)")
        for key in ("keep_daily_days", "keep_weekly_num", "keep_monthly_num"):
            if entry.get(key) is not None:
                problem = _whole_number_problem(key, entry[key])
                if problem:
                    errors.append(problem.replace("backup.", f"{where}.", 1))
    return errors


def target_kind_problems(raw: Any, kinds: dict[str, Any]) -> list[str]:
    """Each ``backup.targets`` entry's ``type`` is an installed kind whose options are valid."""
    targets = raw.get("targets") if isinstance(raw, dict) else None
    if not isinstance(targets, list):
        return []
    errors: list[str] = []
    for index, entry in enumerate(targets):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            continue
        where = f"backup.targets[{index}]"
        kind = kinds.get(entry["type"])
        if kind is None:
            known = ", ".join(sorted(kinds)) or "none"
            errors.append(f"{where}.type: no target kind {entry['type']!r} is installed "
                          f"(installed: {known})")
            continue
        errors += [f"{where}.{problem}" for problem in kind.problems(entry)]
    return errors


def _encryption_problems(encryption: Any) -> list[str]:
    if encryption is None:
        return []
    if not isinstance(encryption, dict):
        return ["backup.encryption: must be a mapping with recipients"]
    recipients = encryption.get("recipients")
    if recipients is None:
        return []
    if not isinstance(recipients, list):
        return ["backup.encryption.recipients: must be a list of age recipients (age1…)"]
    from pruvon_backups.crypto import recipient_problem

    errors = []
    for index, value in enumerate(recipients):
        problem = recipient_problem(value)
        if problem:
            errors.append(f"backup.encryption.recipients[{index}]: {problem}")
    return errors


def default_backup_dir() -> str:
    """Pruvon's default ``backup_dir``, or ``$PRUVON_BACKUP_DIR`` when set.

    Like ``PRUVON_STATE_DIR`` for the state directory, the variable moves the
    default only (a ``backup_dir`` in the config wins): the test suite points
    it into its sandbox, so no test writes the host's real backup tree.
    """
    return os.environ.get("PRUVON_BACKUP_DIR") or DEFAULT_BACKUP_DIR


def backup_settings(data: Any) -> dict[str, Any]:
    """The effective ``backup:`` section of the config mapping ``data``.

    Pruvon's defaults fill absent keys (an empty ``db_types`` means all four).
    It assumes a validated config, which every loaded config is.
    """
    section = data.get("backup") if isinstance(data, dict) else None
    merged = dict(DEFAULTS, backup_dir=default_backup_dir())
    if isinstance(section, dict):
        merged.update({k: v for k, v in section.items() if v is not None})
    if not merged["db_types"]:
        merged["db_types"] = list(DEFAULT_DB_TYPES)
    return merged
