"""TOTP second factor (RFC 6238): enrolment, single-use codes, recovery codes.

Secrets live in ``<state_dir>/totp.json`` (mode 0600), never in the YAML.
Enrolment is two-step: :meth:`TotpStore.begin` makes a pending secret (shown as
an ``otpauth://`` URI / QR code and as the base32 text), and only
:meth:`TotpStore.confirm` with a correct code switches it on and returns ten
recovery codes — shown once, stored as SHA-256 hashes, each usable once.

A code is accepted within ±1 time step (30 s) of the server clock, and only if
its time step is later than the last accepted one: a code, once used, cannot
be used again, nor can an older one.  Verification holds the store's lock, so
two racing requests cannot both spend the same code.  Failed codes must be
charged to the login throttle by the caller, like wrong passwords.

Turning TOTP off is :meth:`disable_with_proof` for users (password + a current
code) and :meth:`disable` for the root CLI (``pruvon user totp-reset``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pruvon_auth.jsonstore import JsonStore

STORE_FILE = "totp.json"
ISSUER = "Pruvon"
RECOVERY_CODES = 10
VALID_WINDOW = 1
CODE_RE = re.compile(r"^[0-9]{6}\Z")  # ASCII only: \d matches any Unicode digit
RECOVERY_RE = re.compile(r"^[a-z0-9]{4}-?[a-z0-9]{4}-?[a-z0-9]{4}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class TotpError(Exception):
    """Enrolment in the wrong state or a wrong confirmation code."""


def _pyotp() -> Any:
    """pyotp, imported on use: without it, status checks and resets still work."""
    try:
        import pyotp
    except ImportError as exc:  # pragma: no cover - pyotp ships with the totp/dev extras
        raise TotpError("TOTP needs the pyotp package: pip install 'pruvon[totp]'") from exc
    return pyotp


def _normalise(code: str) -> str:
    return re.sub(r"[\s]", "", code or "").lower()


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").encode("ascii")).hexdigest()


def _new_recovery_code() -> str:
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


class TotpStore:
    """TOTP state of every user of one install (see the module docstring)."""

    def __init__(
        self, state_dir: str | os.PathLike[str], clock: Callable[[], float] = time.time
    ) -> None:
        self.store = JsonStore(Path(state_dir) / STORE_FILE)
        self.clock = clock

    def enrolled(self, user: str) -> bool:
        entry = self.store.read().get("users", {}).get(user)
        return bool(entry and entry.get("confirmed"))

    def enrolled_users(self) -> set[str]:
        users = self.store.read().get("users", {})
        return {name for name, entry in users.items() if entry.get("confirmed")}

    def begin(self, user: str) -> tuple[str, str]:
        """Start enrolment; return ``(base32 secret, otpauth URI)``.  Replaces a pending one."""
        pyotp = _pyotp()
        secret = pyotp.random_base32()
        with self.store.edit() as data:
            users = data.setdefault("users", {})
            if users.get(user, {}).get("confirmed"):
                raise TotpError(f"{user} already uses TOTP; disable it before enrolling again")
            users[user] = {"secret": secret, "confirmed": False, "started_at": self.clock()}
        uri = pyotp.TOTP(secret).provisioning_uri(name=user, issuer_name=ISSUER)
        return secret, uri

    def _match_step(self, secret: str, code: str, after: int | None) -> int | None:
        """The time step ``code`` belongs to (±1 window), if later than ``after``."""
        if not CODE_RE.match(code):
            return None
        totp = _pyotp().TOTP(secret)
        now_step = int(self.clock()) // totp.interval
        for step in (now_step - VALID_WINDOW, now_step, now_step + VALID_WINDOW):
            if after is not None and step <= after:
                continue
            expected = totp.at(step * totp.interval)
            if hmac.compare_digest(expected, code):
                return step
        return None

    def confirm(self, user: str, code: str) -> list[str]:
        """Finish enrolment with a correct code; return the recovery codes (show once)."""
        codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
        with self.store.edit() as data:
            entry = data.get("users", {}).get(user)
            if not entry:
                raise TotpError(f"{user} has not started TOTP enrolment")
            if entry.get("confirmed"):
                raise TotpError(f"{user} already uses TOTP")
            step = self._match_step(entry["secret"], _normalise(code), None)
            if step is None:
                raise TotpError("that code is not valid; check the device clock and try again")
            entry.update(
                confirmed=True,
                last_step=step,
                confirmed_at=self.clock(),
                recovery=[_recovery_hash(c) for c in codes],
            )
        return codes

    def verify(self, user: str, code: str) -> bool:
        """Check a login code or a recovery code; either is spent on success."""
        clean = _normalise(code)
        with self.store.edit() as data:
            entry = data.get("users", {}).get(user)
            if not entry or not entry.get("confirmed"):
                return False
            step = self._match_step(entry["secret"], clean, entry.get("last_step"))
            if step is not None:
                entry["last_step"] = step
                return True
            return self._spend_recovery(entry, clean)

    @staticmethod
    def _spend_recovery(entry: dict[str, Any], code: str) -> bool:
        if not RECOVERY_RE.match(code):
            return False
        wanted = _recovery_hash(code)
        remaining = entry.get("recovery", [])
        for stored in remaining:
            if hmac.compare_digest(stored, wanted):
                remaining.remove(stored)
                return True
        return False

    def recovery_codes_left(self, user: str) -> int:
        entry = self.store.read().get("users", {}).get(user) or {}
        return len(entry.get("recovery", [])) if entry.get("confirmed") else 0

    def disable(self, user: str) -> bool:
        """Remove ``user``'s TOTP (root/admin recovery path); True if there was any."""
        with self.store.edit() as data:
            return data.get("users", {}).pop(user, None) is not None

    def disable_with_proof(self, record: Any, password: str, code: str) -> bool:
        """Self-service off switch: needs the account password *and* a current code.

        Returns False (and changes nothing) unless both are right; the caller
        charges a failure to the login throttle then.
        """
        from pruvon_auth.passwords import verify_password

        if not verify_password(password, record.password_hash):
            return False
        if not self.verify(record.username, code):
            return False
        return self.disable(record.username)
