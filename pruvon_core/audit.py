"""The append-only audit log: one JSON line per mutating action and per login.

``<state_dir>/audit.log`` (mode 0600) holds one JSON object per line: time
(UTC, ISO 8601), actor, action, target, result, source IP and free-form
details.  Lines are written with ``ensure_ascii`` so any character in a name
(newlines, quotes, control characters, right-to-left marks) stays inside its
JSON string and can never forge a second entry.

Secret values never reach the file: details whose key names a secret
(password, token, code, secret, key, hash, otp …) are replaced by
``"[redacted]"`` before anything is written, and callers pass names, not values.
Terminal keystrokes are never audited.

When the file exceeds ``security.audit_max_bytes`` (default 10 MiB) it is
rotated to ``audit.log.1`` … ``audit.log.N`` (``security.audit_keep``, default
5); :func:`read` reads the rotated files too, oldest first.

On a full disk an entry that cannot be appended is written to the
``pruvon.audit`` logger at ERROR level (the server's stderr, i.e. the journal;
a CLI prints it on stderr) and the action goes on: the change it describes
either failed for the same reason or is already made, and sign-in must keep
working.  After each entry
is written the ``pruvon_event`` hook is called with the :class:`Event`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pruvon_core.files import DiskFull, append_private, locked

log = logging.getLogger("pruvon.audit")

AUDIT_FILE = "audit.log"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_KEEP = 5
REDACTED = "[redacted]"
RESULTS = ("ok", "denied", "failed", "error", "locked")
_SECRET_WORDS = frozenset(
    {
        "password", "passwords", "passwd", "passphrase", "pw", "secret", "secrets", "token",
        "tokens", "otp", "totp", "code", "codes", "hash", "key", "credential",
        "credentials", "cookie", "keystroke", "keystrokes", "stdin", "input", "env", "value",
        "values",
    }
)
# Detail keys that contain a secret word but only carry identifiers.
_SAFE_KEYS = frozenset({"key_id", "key_prefix", "apikey_id", "exit_code", "env_keys"})


def _is_secret_key(name: str) -> bool:
    """Whether a detail key names a secret: any of its ``_``/``-``/``.`` words is one."""
    if name.lower() in _SAFE_KEYS:
        return False
    words = re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower())
    return any(word in _SECRET_WORDS for word in words)


@dataclass(frozen=True)
class Event:
    """One audit entry, as written and as read back."""

    time: str
    actor: str
    action: str
    target: str | None
    result: str
    source_ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _actor_label(actor: Any) -> str:
    """``user:alice``, ``apikey:…``, ``system``, or the string given."""
    if actor is None:
        return "anonymous"
    if isinstance(actor, str):
        return actor
    return str(getattr(actor, "id", actor))


def scrub(details: dict[str, Any]) -> dict[str, Any]:
    """Replace every value whose key names a secret, recursively (lists included)."""
    clean: dict[str, Any] = {}
    for key, value in details.items():
        name = str(key)
        clean[name] = REDACTED if _is_secret_key(name) else _scrub_value(value)
    return clean


def _scrub_value(value: Any) -> Any:
    """Dicts anywhere in ``value`` scrubbed: ``[{"password": …}]`` must not slip through."""
    if isinstance(value, dict):
        return scrub(value)
    if isinstance(value, list | tuple):
        return [_scrub_value(item) for item in value]
    return value


def audit_path(state_dir: Path | None = None) -> Path:
    from pruvon_core.config import state_dir as default_state_dir

    return (state_dir or default_state_dir()) / AUDIT_FILE


_stores: dict[Path, Any] = {}


def _limits() -> tuple[int, int]:
    """Rotation size and how many rotated files to keep, from the config if readable.

    Read through a cached ``ConfigStore`` (one ``stat`` per entry when the
    file is unchanged); the audit log keeps working when the config does not.
    """
    max_bytes, keep = DEFAULT_MAX_BYTES, DEFAULT_KEEP
    try:
        from pruvon_core.config import ConfigStore, config_path

        path = config_path()
        store = _stores.get(path)
        if store is None:
            store = _stores[path] = ConfigStore(path)
        security = store.current().section("security")
    except Exception:  # a missing or broken config must not stop auditing
        return max_bytes, keep
    raw_max, raw_keep = security.get("audit_max_bytes"), security.get("audit_keep")
    if isinstance(raw_max, int) and not isinstance(raw_max, bool) and raw_max >= 4096:
        max_bytes = raw_max
    if isinstance(raw_keep, int) and not isinstance(raw_keep, bool) and raw_keep >= 1:
        keep = raw_keep
    return max_bytes, keep


def _rotate(path: Path, keep: int) -> None:
    oldest = path.with_name(f"{path.name}.{keep}")
    if oldest.exists():
        oldest.unlink()
    for index in range(keep - 1, 0, -1):
        src = path.with_name(f"{path.name}.{index}")
        if src.exists():
            src.rename(path.with_name(f"{path.name}.{index + 1}"))
    path.rename(path.with_name(f"{path.name}.1"))


def _append(path: Path, line: str, max_bytes: int, keep: int) -> None:
    with locked(path):
        try:
            if path.stat().st_size + len(line) > max_bytes:
                _rotate(path, keep)
        except FileNotFoundError:
            pass
        append_private(path, line.encode("ascii"), sync=True)


def record(
    actor: Any,
    action: str,
    target: Any,
    result: str,
    source_ip: str | None = None,
    *,
    state_dir: Path | None = None,
    **details: Any,
) -> Event:
    """Append one entry and notify plugins; returns the :class:`Event` written.

    ``result`` is ``ok``, ``denied``, ``failed``, ``error`` or ``locked``.
    ``target`` may be a ``permissions.Resource`` (written as ``kind:name``), a
    string or None.  Extra keyword arguments become ``details`` after
    :func:`scrub`.
    """
    if result not in RESULTS:
        raise ValueError(f"audit result must be one of {', '.join(RESULTS)}, not {result!r}")
    event = Event(
        time=datetime.now(UTC).isoformat(timespec="microseconds"),
        actor=_actor_label(actor),
        action=str(action),
        target=_target_label(target),
        result=result,
        source_ip=source_ip,
        details=scrub(details),
    )
    line = json.dumps(event.as_dict(), ensure_ascii=True, default=str, sort_keys=True) + "\n"
    max_bytes, keep = _limits()
    try:
        _append(audit_path(state_dir), line, max_bytes, keep)
    except DiskFull as exc:
        # A full disk must not stop sign-in or reads; the entry goes to the server
        # log (stderr, the journal) instead, so it is not lost silently.
        log.error("%s; audit entry: %s", exc, line.rstrip("\n"))
    from pruvon_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    manager.hook.pruvon_event(event=event, pruvon=manager.pruvon)
    return event


def _target_label(target: Any) -> str | None:
    if target is None:
        return None
    kind = getattr(target, "kind", None)
    name = getattr(target, "name", None)
    if kind is not None and name is not None:
        service_type = getattr(target, "service_type", None)
        label = f"{kind}:{service_type}/{name}" if service_type else f"{kind}:{name}"
        host = getattr(target, "host", None)
        return f"{label}@{host}" if host else label
    return str(target)


# --------------------------------------------------------------------------- reading
# ASCII digits only ("٣d" is not a duration); 12 digits is beyond any date anyway
_DURATION_RE = re.compile(r"^([0-9]{1,12})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str, now: datetime | None = None, name: str = "--since") -> datetime:
    """``30m``, ``2h``, ``7d``, ``1w`` (ago) or an ISO date/time (UTC if naive).

    Every bad value is a ``ValueError`` naming ``name`` (the CLI option or the
    query parameter): ``99999999999999d`` used to escape as an OverflowError.
    """
    text = value.strip()
    shown = repr(value if len(value) <= 40 else value[:40] + "…")
    match = _DURATION_RE.match(text)
    if match:
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        try:
            return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
        except OverflowError as exc:
            raise ValueError(f"{name} {shown}: reaches back before year 1") from exc
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"{name} {shown}: use a duration like 30m, 2h, 7d, 1w or a date like 2026-01-31"
        ) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _files(path: Path) -> list[Path]:
    rotated = sorted(
        (p for p in path.parent.glob(path.name + ".*") if p.suffix[1:].isdigit()),
        key=lambda p: int(p.suffix[1:]),
        reverse=True,
    )
    return [*rotated, path] if path.exists() else rotated


def _parse_line(line: str) -> Event | None:
    try:
        raw = json.loads(line)
        return Event(
            time=str(raw["time"]),
            actor=str(raw["actor"]),
            action=str(raw["action"]),
            target=raw.get("target"),
            result=str(raw["result"]),
            source_ip=raw.get("source_ip"),
            details=dict(raw.get("details") or {}),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("skipping unreadable audit line")
        return None


def _action_matches(pattern: str, action: str) -> bool:
    if pattern.endswith("*"):
        return action.startswith(pattern[:-1])
    return action == pattern


def read(
    *,
    user: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    result: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    state_dir: Path | None = None,
) -> list[Event]:
    """Entries oldest first, filtered.

    ``user`` matches the user acting directly or through one of their API keys
    (``details.owner``); ``actor`` matches the actor label exactly; ``action``
    is exact or a ``prefix*`` pattern; ``limit`` keeps the newest N.
    """
    newest_first: list[Event] = []
    for path in reversed(_files(audit_path(state_dir))):
        with open(path, encoding="ascii", errors="replace") as handle:
            lines = handle.readlines()
        for line in reversed(lines):
            event = _parse_line(line)
            if event is not None and _keep(event, user, actor, action, result, since):
                newest_first.append(event)
                if limit and len(newest_first) >= limit:
                    return newest_first[::-1]
    return newest_first[::-1]


def _keep(
    event: Event,
    user: str | None,
    actor: str | None,
    action: str | None,
    result: str | None,
    since: datetime | None,
) -> bool:
    if user is not None and not (
        event.actor == f"user:{user}"
        or event.details.get("owner") == user
        or event.details.get("username") == user
    ):
        return False
    if actor is not None and event.actor != actor:
        return False
    if action is not None and not _action_matches(action, event.action):
        return False
    if result is not None and event.result != result:
        return False
    return since is None or event.when >= since
