"""Session helpers: the signing secret and the revocation fingerprint.

The secret that signs session cookies is generated on first use into
``<state_dir>/session-secret`` (64 random bytes, hex, mode 0600).  Replacing it
(``pruvon secret rotate``) invalidates every cookie ever signed, i.e. logs
everybody out; the web server notices the new file on the next request.

A session, WebSocket or terminal stores the :func:`user_fingerprint` of the
user record it was opened for.  The fingerprint covers the user's credentials
and standing (password hash, role, disabled flag), so comparing it with the
current record's on each request — or on each poll of a long-lived connection
(:func:`still_valid`) — ends the session as soon as the config says so:
disabled, removed, demoted or password changed.

Grants (apps, services, routes, can_create_*) are deliberately *not* in the
fingerprint: every request re-resolves the actor from the current record, and
every long-lived socket re-checks its own action on its own resource, so a
narrowed grant is refused on the next request or poll, while a widened one
(the automatic grant of an app to the user who just created it) does not sign
that user out in the middle of the create wizard.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from pruvon_core.files import atomic_write, private_dir, writing

SECRET_FILE = "session-secret"  # noqa: S105 - a file name
SECRET_BYTES = 64
MIN_SECRET_BYTES = 32


class SessionSecretError(RuntimeError):
    """The secret file exists but is unusable (too short, not hex)."""


def _secret_path(state_dir: str | os.PathLike[str]) -> Path:
    return Path(state_dir) / SECRET_FILE


def _parse(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError as exc:
        raise SessionSecretError(f"{path} is not hex; run `pruvon secret rotate`") from exc
    if len(secret) < MIN_SECRET_BYTES:
        raise SessionSecretError(
            f"{path} holds {len(secret)} bytes, fewer than {MIN_SECRET_BYTES}; "
            "run `pruvon secret rotate`"
        )
    return secret


def session_secret(state_dir: str | os.PathLike[str]) -> bytes:
    """The signing secret, created (0600) on first use.

    Written to a temp file first and then hard-linked into place: the link
    fails if another worker won the race, and a full disk can never leave an
    empty or half-written secret behind (the temp file is removed either way).
    """
    path = _secret_path(state_dir)
    if not path.exists():
        private_dir(path.parent)
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            atomic_write(tmp, secrets.token_hex(SECRET_BYTES) + "\n")
            with writing(path):
                os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return _parse(path)


def rotate_session_secret(state_dir: str | os.PathLike[str]) -> None:
    """Replace the secret atomically: every existing session becomes invalid."""
    path = _secret_path(state_dir)
    private_dir(path.parent)
    atomic_write(path, secrets.token_hex(SECRET_BYTES) + "\n", mode=0o600)


def secret_age_days(state_dir: str | os.PathLike[str], now: float | None = None) -> float | None:
    """Days since the secret was made or rotated (its mtime); None if there is none yet."""
    try:
        mtime = _secret_path(state_dir).stat().st_mtime
    except FileNotFoundError:
        return None
    return ((now if now is not None else time.time()) - mtime) / 86400


def user_fingerprint(record: Any) -> str:
    """A digest of ``record``'s credentials and standing (see the module docstring).

    It changes when the password hash, role or disabled flag changes; grant
    changes are enforced by the per-request and per-socket permission checks
    instead.  It is safe to keep in a signed (readable) cookie: it is a
    SHA-256 over data that includes the salted bcrypt hash, so it reveals
    nothing usable about the password.
    """
    material = json.dumps(
        [record.username, record.password_hash, record.role, bool(record.disabled)],
        sort_keys=True,
        ensure_ascii=True,
    )
    return hashlib.sha256(material.encode("ascii")).hexdigest()[:32]


def current_fingerprint(config: Any, username: str) -> str | None:
    """The fingerprint of ``username`` in ``config`` now; None if removed or disabled."""
    record = config.user(username)
    if record is None or record.disabled:
        return None
    return user_fingerprint(record)


def still_valid(config: Any, username: str, fingerprint: str) -> bool:
    """What a session check, WebSocket or terminal poll asks: may this connection live on?"""
    current = current_fingerprint(config, username)
    return current is not None and hmac.compare_digest(current, fingerprint)


DEFAULT_IDLE_MINUTES = 30
DEFAULT_MAX_HOURS = 12


def session_limits(config: Any) -> tuple[int, int]:
    """``(idle_seconds, absolute_seconds)`` from ``security.session_*`` or the defaults."""
    idle = config.get("security.session_idle_minutes") or DEFAULT_IDLE_MINUTES
    absolute = config.get("security.session_max_hours") or DEFAULT_MAX_HOURS
    return int(idle) * 60, int(absolute) * 3600
