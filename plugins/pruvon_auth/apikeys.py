"""API keys: shown once, stored only as a hash, scoped, expiring, revocable.

A key looks like ``pvk_3f9a1c2b7e4d_<43 random characters>``.  The part before
the second underscore (``pvk_3f9a1c2b7e4d``) is its public *prefix*: it names the
key in listings and in the audit log and finds its record without scanning.
The store (``<state_dir>/apikeys.json``, mode 0600) keeps the SHA-256 of the
whole key, never the key: 256 bits of randomness need no slow hash, and the
comparison is constant-time.

Scopes are action names (``apps.read`` …) and must be a subset of what the
owner may do (``permissions.grantable_actions``) when the key is created; at
use, ``permissions.check`` applies scopes ∩ the owner's *current* rights, so a
demoted or disabled owner takes their keys down with them.  Keys are accepted
only in an ``Authorization: Bearer`` header (the web plugin's job).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pruvon_auth.jsonstore import JsonStore
from pruvon_core.files import DiskFull

log = logging.getLogger("pruvon.auth")

STORE_FILE = "apikeys.json"
TOKEN_PREFIX = "pvk"  # noqa: S105 - the public marker of our keys, not a secret
TOKEN_RE = re.compile(r"^pvk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
LAST_USED_GRANULARITY = 60.0
DURATION_RE = re.compile(r"^(\d+)([hdwy])$")
DURATION_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


class ApiKeyError(Exception):
    """Base class of API-key failures."""


class ApiKeyInvalid(ApiKeyError):
    """Malformed, unknown, wrong or revoked key: answer 401."""


class ApiKeyExpired(ApiKeyInvalid):
    """The key was valid but its expiry has passed: answer 401."""


class ApiKeyNotFound(ApiKeyError, LookupError):
    """No key with that id (revoke, show)."""


class ApiKeyScopeError(ApiKeyError, ValueError):
    """Scopes that are empty, malformed, or beyond what the owner may do."""


@dataclass(frozen=True)
class ApiKey:
    """One stored key (without its secret)."""

    id: str
    owner: str
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float | None
    last_used_at: float | None = None
    revoked_at: float | None = None
    name: str = ""

    @property
    def prefix(self) -> str:
        return f"{TOKEN_PREFIX}_{self.id}"

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (now or time.time()) >= self.expires_at

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe view with ISO times, for ``--format json`` and the API."""
        return {
            "id": self.id,
            "prefix": self.prefix,
            "name": self.name,
            "owner": self.owner,
            "scopes": list(self.scopes),
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "last_used_at": _iso(self.last_used_at),
            "revoked_at": _iso(self.revoked_at),
            "expired": self.expired(),
        }


def _iso(stamp: float | None) -> str | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def parse_expiry(value: str, now: float | None = None) -> float | None:
    """``30d``, ``12h``, ``2w``, ``1y`` from now, ``never`` (None), or an ISO date."""
    text = value.strip().lower()
    if text == "never":
        return None
    base = now if now is not None else time.time()
    match = DURATION_RE.match(text)
    if match:
        amount = int(match.group(1))
        if amount <= 0:
            raise ValueError(f"--expires {value!r}: the duration must be positive")
        return base + amount * DURATION_UNITS[match.group(2)]
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(
            f"--expires {value!r}: use a duration like 30d, 12h, 2w, 1y, a date like "
            "2027-01-31, or never"
        ) from exc
    stamp = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    if stamp <= base:
        raise ValueError(f"--expires {value!r} is in the past")
    return stamp


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _from_raw(key_id: str, raw: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=key_id,
        owner=str(raw["owner"]),
        scopes=tuple(raw.get("scopes") or ()),
        created_at=float(raw["created_at"]),
        expires_at=raw.get("expires_at"),
        last_used_at=raw.get("last_used_at"),
        revoked_at=raw.get("revoked_at"),
        name=str(raw.get("name") or ""),
    )


class ApiKeyStore:
    """The API keys of one install (see the module docstring)."""

    def __init__(
        self, state_dir: str | os.PathLike[str], clock: Callable[[], float] = time.time
    ) -> None:
        self.store = JsonStore(Path(state_dir) / STORE_FILE)
        self.clock = clock

    @staticmethod
    def validate_scopes(scopes: Iterable[str], allowed: set[str] | None = None) -> tuple[str, ...]:
        """Sorted unique scopes; raise :class:`ApiKeyScopeError` naming the bad ones."""
        unique = sorted(set(scopes))
        if not unique:
            raise ApiKeyScopeError("an API key needs at least one --scope (an action name)")
        malformed = [s for s in unique if not ACTION_RE.match(s)]
        if malformed:
            raise ApiKeyScopeError(f"not action names: {', '.join(malformed)}")
        if allowed is not None:
            beyond = [s for s in unique if s not in allowed]
            if beyond:
                raise ApiKeyScopeError(
                    f"the owner may not perform {', '.join(beyond)}; a key cannot grant more "
                    "than its owner has"
                )
        return tuple(unique)

    def create(
        self,
        owner: str,
        scopes: Iterable[str],
        expires_at: float | datetime | None,
        *,
        name: str = "",
        allowed: set[str] | None = None,
    ) -> tuple[str, ApiKey]:
        """Make a key; return ``(token, ApiKey)``.  The token is never stored: show it once.

        ``allowed`` (the owner's grantable actions) makes the subset rule an
        error here too, for callers that have it at hand.
        """
        if not owner:
            raise ApiKeyScopeError("an API key needs an owner")
        clean = self.validate_scopes(scopes, allowed)
        if isinstance(expires_at, datetime):
            aware = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
            expires_at = aware.timestamp()
        now = self.clock()
        if expires_at is not None and expires_at <= now:
            raise ApiKeyScopeError("the expiry must be in the future")
        key_id = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        raw = {
            "owner": owner,
            "scopes": list(clean),
            "created_at": now,
            "expires_at": expires_at,
            "last_used_at": None,
            "revoked_at": None,
            "name": name,
            "sha256": _digest(token),
        }
        with self.store.edit() as data:
            data.setdefault("keys", {})[key_id] = raw
        return token, _from_raw(key_id, raw)

    def authenticate(self, token: str) -> ApiKey:
        """The key for ``token``; raise :class:`ApiKeyInvalid` or :class:`ApiKeyExpired`."""
        match = TOKEN_RE.match(token or "")
        if not match:
            raise ApiKeyInvalid("malformed API key")
        key_id = match.group(1)
        now = self.clock()
        checked: dict[str, Any] | None = None
        try:
            with self.store.edit() as data:
                raw = data.get("keys", {}).get(key_id)
                expected = raw.get("sha256", "") if raw else "0" * 64
                matches = hmac.compare_digest(expected, _digest(token))
                if raw is None or not matches:
                    raise ApiKeyInvalid("unknown API key")
                key = _from_raw(key_id, raw)
                if key.revoked:
                    raise ApiKeyInvalid("this API key was revoked")
                if key.expired(now):
                    raise ApiKeyExpired("this API key has expired")
                if key.last_used_at is None or now - key.last_used_at >= LAST_USED_GRANULARITY:
                    raw["last_used_at"] = now
                checked = dict(raw)
        except DiskFull as exc:
            if checked is None:
                raise
            # the key is valid; only its "last used" time could not be stored
            log.warning("%s: last use of API key %s not recorded", exc, key_id)
        assert checked is not None
        return _from_raw(key_id, checked)

    def list(self, owner: str | None = None, include_revoked: bool = True) -> list[ApiKey]:
        """Every key (optionally one owner's), oldest first."""
        keys = [_from_raw(k, raw) for k, raw in self.store.read().get("keys", {}).items()]
        keys = [k for k in keys if (owner is None or k.owner == owner)]
        if not include_revoked:
            keys = [k for k in keys if not k.revoked]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def get(self, key_id: str) -> ApiKey:
        raw = self.store.read().get("keys", {}).get(_bare_id(key_id))
        if raw is None:
            raise ApiKeyNotFound(f"no API key {key_id!r}")
        return _from_raw(_bare_id(key_id), raw)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke by id or prefix (``pvk_…``); the record stays for the audit trail."""
        bare = _bare_id(key_id)
        with self.store.edit() as data:
            raw = data.get("keys", {}).get(bare)
            if raw is None:
                raise ApiKeyNotFound(f"no API key {key_id!r}")
            if raw.get("revoked_at") is None:
                raw["revoked_at"] = self.clock()
        return _from_raw(bare, raw)

    def revoke_owner(self, owner: str) -> list[ApiKey]:
        """Revoke every live key of ``owner`` (user removed)."""
        now = self.clock()
        revoked: list[ApiKey] = []
        with self.store.edit() as data:
            for key_id, raw in data.get("keys", {}).items():
                if raw.get("owner") == owner and raw.get("revoked_at") is None:
                    raw["revoked_at"] = now
                    revoked.append(_from_raw(key_id, raw))
        return revoked


def _bare_id(key_id: str) -> str:
    text = key_id.strip()
    if text.startswith(TOKEN_PREFIX + "_"):
        text = text[len(TOKEN_PREFIX) + 1 :].split("_", 1)[0]
    return text
