"""SSH public keys checked before Dokku sees them: type, base64, key length.

``ssh-keys:add`` accepts anything ``ssh-keygen -lf`` can read, and an
``authorized_keys`` line with options (``command="…"``) or a 1024-bit RSA key
would be accepted too; Pruvon refuses those first and computes the
fingerprint Dokku will show (SHA256, as ``ssh-keygen -lf``), so a page can
say which key it added without another call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from pruvon_core.dokku.errors import InvalidName, InvalidValue

MIN_RSA_BITS = 2048
MAX_KEY_TEXT = 16 * 1024
KEY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
COMMENT_RE = re.compile(r"^[\x20-\x7e]{0,200}$")
ECDSA_CURVES = {"ecdsa-sha2-nistp256": b"nistp256", "ecdsa-sha2-nistp384": b"nistp384",
                "ecdsa-sha2-nistp521": b"nistp521"}
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", *ECDSA_CURVES, "sk-ssh-ed25519@openssh.com",
             "sk-ecdsa-sha2-nistp256@openssh.com")


@dataclass(frozen=True)
class PublicKey:
    """A checked key: its type, base64 body, comment and SHA256 fingerprint."""

    kind: str
    body: str
    comment: str
    fingerprint: str
    bits: int

    @property
    def line(self) -> str:
        """The one line given to ``ssh-keys:add`` (no options, one key)."""
        return f"{self.kind} {self.body}" + (f" {self.comment}" if self.comment else "")


def key_name(name: object) -> str:
    """A key name as sshcommand stores it inside a quoted ``NAME=\\"…\\"``."""
    if not isinstance(name, str) or not KEY_NAME_RE.match(name):
        raise InvalidName(f"invalid key name {str(name)[:100]!r}: use 1-100 letters, digits, "
                          "'.', '_', '@' or '-', starting with a letter or digit")
    return name


def fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _fields(blob: bytes) -> list[bytes]:
    """The SSH wire format's length-prefixed strings (RFC 4253 §6.6)."""
    fields, offset = [], 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise ValueError("truncated")
        (size,) = struct.unpack(">I", blob[offset:offset + 4])
        offset += 4
        if offset + size > len(blob):
            raise ValueError("truncated")
        fields.append(blob[offset:offset + size])
        offset += size
    return fields


def _bits(kind: str, fields: list[bytes]) -> int:
    """The key's size in bits; raises InvalidValue for a weak or malformed key."""
    if kind == "ssh-rsa":
        if len(fields) != 3:
            raise InvalidValue("malformed ssh-rsa key")
        bits = int.from_bytes(fields[2], "big").bit_length()
        if bits < MIN_RSA_BITS:
            raise InvalidValue(f"ssh-rsa key of {bits} bits is too short: use at least "
                               f"{MIN_RSA_BITS} bits, or ssh-ed25519")
        return bits
    if kind in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        if len(fields) < 2 or len(fields[1]) != 32:
            raise InvalidValue(f"malformed {kind} key: the key must be 32 bytes")
        return 256
    curve = ECDSA_CURVES.get(kind, b"nistp256")
    if len(fields) < 3 or fields[1] != curve:
        raise InvalidValue(f"malformed {kind} key: the curve does not match")
    return int(curve[len("nistp"):])


def parse_public_key(text: object) -> PublicKey:
    """One public key line (``type base64 [comment]``), checked; InvalidValue says why."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue("no public key given: paste one line such as 'ssh-ed25519 AAAA… "
                           "you@host'")
    if len(text) > MAX_KEY_TEXT:
        raise InvalidValue(f"public key is longer than {MAX_KEY_TEXT} characters")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        raise InvalidValue("give exactly one public key (one line)")
    parts = lines[0].split(None, 2)
    if parts[0] not in KEY_TYPES:
        raise InvalidValue(f"unsupported key type {parts[0][:40]!r}: use one of "
                           + ", ".join(KEY_TYPES) + " (no authorized_keys options)")
    if len(parts) < 2:
        raise InvalidValue(f"{parts[0]} key has no key data")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        fields = _fields(blob)
    except (binascii.Error, ValueError) as exc:
        raise InvalidValue(f"{parts[0]} key data is not valid base64 key data") from exc
    if not fields or fields[0].decode("ascii", "replace") != parts[0]:
        raise InvalidValue(f"key data is not a {parts[0]} key")
    comment = parts[2].strip() if len(parts) > 2 else ""
    if not COMMENT_RE.match(comment):
        raise InvalidValue("key comment must be printable ASCII, at most 200 characters")
    return PublicKey(parts[0], parts[1], comment, fingerprint(blob), _bits(parts[0], fields))
