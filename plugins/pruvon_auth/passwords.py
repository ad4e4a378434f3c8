"""Password hashing, verification and policy.

Hashes are plain bcrypt strings (``$2b$12$…``), the format Pruvon's config has
always used, so hashes made by ``htpasswd -B``, Go's bcrypt or older Pruvon
installs keep working and ours stay readable by them.

bcrypt only looks at the first 72 bytes of its input.  To accept long
passphrases *without silently ignoring their tail*, a password longer than 72
bytes (UTF-8) is first reduced to ``base64(SHA-256(password))`` (44 ASCII
bytes) and that is bcrypt'd; passwords of up to 72 bytes are bcrypt'd as they
are.  The choice depends only on the password's length, so verification needs
no marker in the hash and every existing bcrypt hash still verifies.

Cost: 12 by default and never less in production.  The test suite may lower it
through ``PRUVON_BCRYPT_ROUNDS`` (honoured below 12 only while pytest runs,
i.e. when ``PYTEST_CURRENT_TEST`` is set); anything else is refused.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import threading
import unicodedata

import bcrypt

MIN_ROUNDS = 12
DEFAULT_ROUNDS = 12
MAX_ROUNDS = 16
MIN_LENGTH = 12
MAX_LENGTH = 1024
BCRYPT_INPUT_LIMIT = 72

_dummy_lock = threading.Lock()
_dummy_hashes: dict[int, bytes] = {}


class WeakRoundsRefused(RuntimeError):
    """``PRUVON_BCRYPT_ROUNDS`` asks for a cost below 12 outside the test suite."""


def bcrypt_rounds() -> int:
    """The bcrypt cost for new hashes (see the module docstring for the test override)."""
    raw = os.environ.get("PRUVON_BCRYPT_ROUNDS")
    if not raw:
        return DEFAULT_ROUNDS
    try:
        rounds = int(raw)
    except ValueError as exc:
        raise WeakRoundsRefused(f"PRUVON_BCRYPT_ROUNDS={raw!r} is not a number") from exc
    if not 4 <= rounds <= MAX_ROUNDS:
        raise WeakRoundsRefused(f"PRUVON_BCRYPT_ROUNDS must be 4..{MAX_ROUNDS}, got {rounds}")
    if rounds < MIN_ROUNDS and not os.environ.get("PYTEST_CURRENT_TEST"):
        raise WeakRoundsRefused(
            f"PRUVON_BCRYPT_ROUNDS={rounds} is below {MIN_ROUNDS}; lower costs are only "
            "allowed inside the test suite"
        )
    return rounds


def _bcrypt_input(password: str) -> bytes:
    """The bytes bcrypt sees: the password, or its SHA-256 when longer than 72 bytes."""
    raw = password.encode("utf-8")
    if len(raw) <= BCRYPT_INPUT_LIMIT:
        return raw
    return base64.b64encode(hashlib.sha256(raw).digest())


def check_policy(password: str, username: str | None = None) -> None:
    """Raise ValueError naming the first rule ``password`` breaks.

    At least 12 characters, at most 1024, no NUL or other control characters
    (they cannot be typed at a login form), not only whitespace, and not the
    username.
    """
    if not isinstance(password, str):
        raise ValueError("password must be text")
    length = len(password)
    if length < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters (got {length})")
    if length > MAX_LENGTH:
        raise ValueError(f"password must be at most {MAX_LENGTH} characters (got {length})")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise ValueError("password must not contain control characters (tab, newline, NUL …)")
    if not password.strip():
        raise ValueError("password must not be only whitespace")
    if username and password.casefold() == username.casefold():
        raise ValueError("password must not be the username")


def hash_password(password: str, rounds: int | None = None) -> str:
    """A new bcrypt hash of ``password`` (the policy is the caller's to check)."""
    if "\x00" in password:
        raise ValueError("password must not contain NUL characters")
    cost = rounds if rounds is not None else bcrypt_rounds()
    return bcrypt.hashpw(_bcrypt_input(password), bcrypt.gensalt(cost)).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches ``hashed``; False for malformed hashes, never raises.

    bcrypt's comparison is constant-time; its cost dominates the run time, so
    wrong passwords and right ones take the same time for a given hash.
    """
    try:
        candidate = _bcrypt_input(password)
        return bcrypt.checkpw(candidate, hashed.encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError):
        return False


def verify_dummy(password: str, rounds: int | None = None) -> bool:
    """Spend the time of one real verification, for unknown users; always False.

    The login then takes as long for an unknown username as for a wrong
    password, so timing does not reveal which usernames exist.  Pass
    ``rounds`` (e.g. the cost of the configured users' hashes) when they were
    not made with the current default cost.
    """
    rounds = rounds if rounds is not None else bcrypt_rounds()
    with _dummy_lock:
        dummy = _dummy_hashes.get(rounds)
        if dummy is None:
            dummy = bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(rounds))
            _dummy_hashes[rounds] = dummy
    with contextlib.suppress(ValueError, UnicodeEncodeError, TypeError):
        bcrypt.checkpw(_bcrypt_input(password), dummy)
    return False


def hash_cost(hashed: str) -> int | None:
    """The cost factor of a bcrypt hash (``$2b$12$…`` → 12), None if malformed."""
    parts = hashed.split("$")
    if len(parts) < 4 or not parts[2].isdigit():
        return None
    return int(parts[2])
