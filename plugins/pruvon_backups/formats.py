"""Verify's format check: does the dump inside a backup start like its kind's export?

A dump that decrypts and decompresses cleanly can still be the wrong thing
(an error page, an empty export).  Service kinds are checked by the services
plugin's :func:`check_dump` (the first bytes each ``<type>:export`` writes:
``PGDMP``, ``REDIS``, a SQL comment, gzip for ``mongodump --gzip --archive``);
an app configuration snapshot, this plugin's own format, is a JSON object.
"""

from __future__ import annotations

from typing import Any

from pruvon_services.public import ServicesError, check_dump, kind_facts

HEADER_BYTES = 64


def check_header(kind: str, head: bytes, pruvon: Any = None) -> str | None:
    """Why ``head`` is not the start of a ``kind`` dump; None when it is."""
    if not head:
        return "the dump is empty"
    if kind == "app":
        if head.lstrip().startswith(b"{"):
            return None
        return f"an app configuration snapshot is a JSON object, not {head[:16]!r}"
    try:
        check_dump(kind_facts(kind, pruvon), head)
    except ServicesError as exc:
        return str(exc)
    return None
