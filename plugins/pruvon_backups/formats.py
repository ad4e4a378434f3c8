"""The first bytes each kind's ``<type>:export`` writes: verify's format check.

A dump that decrypts and decompresses cleanly can still be the wrong thing
(an error page, an empty export).  ``check_header`` reads what the tools
actually write: ``pg_dump -Fc`` starts ``PGDMP``, an RDB file ``REDIS`` and
four digits, ``mysqldump``/``mariadb-dump`` a ``-- MySQL dump`` or
``-- MariaDB dump`` comment, ``mongodump --archive`` the archive magic
``0x8199e26d`` (little-endian), and an app snapshot is a JSON object.
"""

from __future__ import annotations

import re

HEADER_BYTES = 64
MONGO_MAGIC = bytes.fromhex("6de29981")
_SQL_RE = re.compile(rb"^(?:/\*[^\n]*\*/;?\s*)*--\s*(?:MySQL|MariaDB) dump")


def _postgres(head: bytes) -> bool:
    return head.startswith(b"PGDMP")


def _redis(head: bytes) -> bool:
    return head[:5] == b"REDIS" and head[5:9].isdigit()


def _sql(head: bytes) -> bool:
    return bool(_SQL_RE.match(head.lstrip()))


def _mongo(head: bytes) -> bool:
    return head.startswith(MONGO_MAGIC)


def _json(head: bytes) -> bool:
    return head.lstrip().startswith(b"{")


CHECKS = {
    "postgres": (_postgres, "a pg_dump custom-format archive (PGDMP)"),
    "redis": (_redis, "a Redis RDB file (REDIS####)"),
    "mysql": (_sql, "a mysqldump file (-- MySQL dump)"),
    "mariadb": (_sql, "a mariadb-dump file (-- MariaDB dump)"),
    "mongo": (_mongo, "a mongodump archive"),
    "mongodb": (_mongo, "a mongodump archive"),
    "app": (_json, "an app configuration snapshot (JSON)"),
}


def check_header(kind: str, head: bytes) -> str | None:
    """Why ``head`` is not the start of a ``kind`` dump; None when it is (or kind is unknown)."""
    if not head:
        return "the dump is empty"
    check = CHECKS.get(kind)
    if check is None:
        return None
    test, expected = check
    if test(head[:HEADER_BYTES]):
        return None
    return f"the dump does not start like {expected}: {head[:16]!r}"


def checked_kinds() -> list[str]:
    return sorted(CHECKS)
