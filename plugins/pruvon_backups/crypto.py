"""age encryption of backups: recipients from the config, identities from a file.

Pruvon encrypts to the public recipients in ``backup.encryption.recipients``
(``age1…`` X25519 keys or ``ssh-ed25519``/``ssh-rsa`` public keys) and never
stores an identity: verify and restore take the identity file from the
operator (``--identity FILE``), so a stolen backup disk is useless alone.
Encryption and decryption stream through ``pyrage`` in 64 KiB age chunks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import pyrage

from pruvon_backups.errors import BackupError, VerifyFailed


def parse_recipient(text: str) -> Any:
    """A pyrage recipient; BackupError naming the bad value."""
    text = text.strip()
    try:
        if text.startswith("age1"):
            return pyrage.x25519.Recipient.from_str(text)
        if text.startswith("ssh-"):
            return pyrage.ssh.Recipient.from_str(text)
    except (pyrage.RecipientError, ValueError) as exc:
        raise BackupError(f"not a valid age recipient {text[:24]!r}…: {exc}") from exc
    raise BackupError(f"an age recipient starts with age1 or ssh-, not {text[:24]!r}")


def recipient_problem(text: Any) -> str | None:
    if not isinstance(text, str):
        return f"must be an age recipient string, not {text!r}"
    try:
        parse_recipient(text)
    except BackupError as exc:
        return str(exc)
    return None


def fingerprint(recipient: str) -> str:
    """A short stable name for a recipient in manifests (sha256 of the key, 16 hex)."""
    return "SHA256:" + hashlib.sha256(recipient.strip().encode()).hexdigest()[:16]


def recipients(texts: Iterable[str]) -> list[Any]:
    return [parse_recipient(t) for t in texts]


def load_identities(path: str | Path) -> list[Any]:
    """Every ``AGE-SECRET-KEY-1…`` in an age identity file (comments and blanks ignored)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BackupError(f"cannot read the identity file {path}: {exc}") from exc
    found = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            found.append(pyrage.x25519.Identity.from_str(line))
        except (pyrage.IdentityError, ValueError) as exc:
            raise BackupError(f"{path}, line {number}: not an age identity ({exc})") from exc
    if not found:
        raise BackupError(f"{path}: no age identity (AGE-SECRET-KEY-1…) in the file")
    return found


def encrypt_stream(source: IO[bytes], sink: Any, to: list[Any]) -> None:
    """Encrypt everything ``source.read`` gives into ``sink.write``, streaming."""
    try:
        pyrage.encrypt_io(source, sink, to)
    except pyrage.EncryptError as exc:
        raise _cause(exc, sink) from exc


def decrypt_stream(source: IO[bytes], sink: Any, identities: list[Any]) -> None:
    """Decrypt ``source`` into ``sink``; VerifyFailed when no identity matches or data is bad."""
    try:
        pyrage.decrypt_io(source, sink, identities)
    except pyrage.DecryptError as exc:
        cause = _cause(exc, sink)
        if cause is not exc:
            raise cause from exc
        message = str(exc)
        if "No matching keys" in message:
            raise VerifyFailed("wrong identity: none of the identities given can decrypt "
                               "this backup") from exc
        raise VerifyFailed(f"decryption failed (corrupted or truncated file): {message}") from exc


def _cause(exc: Exception, sink: Any) -> BaseException:
    """The sink's own error (a full disk, a failed import) hidden behind pyrage's, if any."""
    return getattr(sink, "error", None) or exc
