"""The ``terminals:`` section of ``/etc/pruvon.yml``, validated.

Every limit has a safe default, so a config without the section gives terminals
that end after 15 idle minutes and 8 hours at most, 5 per user, 50 in all, and
no host shell.  A bad value is refused with the exact key and the reason; it is
never silently replaced by a default (an operator who wrote
``idle_timeout: 0`` expecting "never" must be told that is not allowed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT_SHELLS = ("/bin/bash", "/bin/sh", "/bin/ash", "/bin/zsh", "/bin/dash")
FALLBACK_SHELL = "/bin/sh"
MAX_LIFETIME = 7 * 24 * 3600
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]*[$]?$")
SHELL_RE = re.compile(r"^/[A-Za-z0-9_./-]+$")


class SettingsError(ValueError):
    """The ``terminals:`` section is invalid; the message names the key."""


@dataclass(frozen=True)
class TerminalSettings:
    """Limits and switches for every terminal (seconds for durations)."""

    idle_timeout: float = 15 * 60
    max_lifetime: float = 8 * 3600
    max_per_user: int = 5
    max_sessions: int = 50
    host_shell: bool = False
    host_user: str = "nobody"
    host_login_shell: str = "/bin/bash"
    shells: tuple[str, ...] = DEFAULT_SHELLS
    revalidate_interval: float = 1.0


def _number(raw: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"terminals.{key}: must be a number of seconds")
    if not low <= value <= high:
        raise SettingsError(f"terminals.{key}: must be between {low:g} and {high:g} seconds")
    return float(value)


def _count(raw: dict[str, Any], key: str, default: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise SettingsError(f"terminals.{key}: must be a whole number from 1 to {high}")
    return value


def _shells(raw: dict[str, Any]) -> tuple[str, ...]:
    value = raw.get("shells", list(DEFAULT_SHELLS))
    if not isinstance(value, list) or not value:
        raise SettingsError("terminals.shells: must be a non-empty list of absolute paths")
    for shell in value:
        if not isinstance(shell, str) or not SHELL_RE.match(shell) or ".." in shell.split("/"):
            raise SettingsError(f"terminals.shells: {shell!r} is not an absolute path")
    shells = tuple(value)
    return shells if FALLBACK_SHELL in shells else (*shells, FALLBACK_SHELL)


def _host(raw: dict[str, Any]) -> tuple[bool, str, str]:
    enabled = raw.get("host_shell", False)
    if not isinstance(enabled, bool):
        raise SettingsError("terminals.host_shell: must be true or false")
    user = raw.get("host_user", "nobody")
    if not isinstance(user, str) or not USER_RE.match(user):
        raise SettingsError("terminals.host_user: must be a local user name")
    shell = raw.get("host_login_shell", "/bin/bash")
    if not isinstance(shell, str) or not SHELL_RE.match(shell):
        raise SettingsError("terminals.host_login_shell: must be an absolute path")
    return enabled, user, shell


def parse(raw: Any) -> TerminalSettings:
    """Settings from the raw ``terminals`` mapping (None = all defaults)."""
    if raw is None:
        return TerminalSettings()
    if not isinstance(raw, dict):
        raise SettingsError("terminals: must be a mapping")
    enabled, user, shell = _host(raw)
    return TerminalSettings(
        idle_timeout=_number(raw, "idle_timeout", 15 * 60, 1, MAX_LIFETIME),
        max_lifetime=_number(raw, "max_lifetime", 8 * 3600, 1, MAX_LIFETIME),
        max_per_user=_count(raw, "max_per_user", 5, 1000),
        max_sessions=_count(raw, "max_sessions", 50, 10000),
        host_shell=enabled,
        host_user=user,
        host_login_shell=shell,
        shells=_shells(raw),
        revalidate_interval=_number(raw, "revalidate_interval", 1.0, 0.1, 30),
    )


def load(config: Any) -> TerminalSettings:
    """Settings from a ``pruvon_core.config.Config`` (or None)."""
    return parse(config.get("terminals") if config is not None else None)


def validate(raw: Any) -> list[str]:
    """Problems in a raw ``terminals`` section, for ``pruvon config validate``."""
    try:
        parse(raw)
    except SettingsError as exc:
        return [str(exc)]
    return []
