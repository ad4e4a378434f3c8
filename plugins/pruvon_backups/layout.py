"""Pruvon's backup layout: directories, file names, and the rotation of the day.

Files live at ``<type>/<rotation>/<service>/<file>`` under a target, named as
Pruvon names them so a host moving from Pruvon keeps one tree:

* daily   ``<service>_<YYYY-MM-DD_HHhMMm>.<Weekday>.<ext>``
* weekly  ``<service>_weekly.<ISO week>.<YYYY-MM-DD_HHhMMm>.<ext>``
* monthly ``<service>_monthly.<Month>.<YYYY-MM-DD_HHhMMm>.<ext>``

and, beyond Pruvon, ``manual`` and ``safety`` rotations
``<service>_<rotation>.<YYYY-MM-DD_HHhMMmSSs>.<ext>``.  Pruvon ran ``gzip``
over each file (``.gz``); Pruvon-the-Python-port adds ``.zst`` when
compressed and ``.age`` when encrypted.  ``<ext>`` is ``dump`` (postgres),
``sql`` (mysql, mariadb), ``rdb`` (redis), ``archive`` (mongo), ``json``
(app configuration snapshots) and ``dump`` for any other kind.

Several hosts (issue 17): the default host keeps exactly this tree; another
host's files go under ``hosts/<host>/<type>/<rotation>/<service>/<file>``.
``hosts`` is no Dokku datastore, and Pruvon's scanner reads only the
``<db_type>`` directories of ``backup.db_types``, so it never takes that
subtree for a service type; the same key names the object on an off-site
target (S3 …), so every copy says which host it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pruvon_core.hosts import HOST_NAME_RE

SCHEDULED = ("daily", "weekly", "monthly")
ROTATIONS = (*SCHEDULED, "manual", "safety")
EXTENSIONS = {"postgres": "dump", "mysql": "sql", "mariadb": "sql", "redis": "rdb",
              "mongo": "archive", "mongodb": "archive", "app": "json"}
COMPRESSIONS = {".zst": "zstd", ".gz": "gzip"}
_STAMP = r"(?P<stamp>\d{4}-\d{2}-\d{2}_\d{2}h\d{2}m(?:\d{2}s)?)"
_NAME_RE = re.compile(
    r"^(?P<service>.+?)_(?:(?:weekly\.\d{1,2}|monthly\.[A-Z][a-z]+|manual|safety)\.)?"
    + _STAMP + r"(?:_\d+)?(?:\.[A-Z][a-z]+day)?\.(?P<ext>[a-z]+)(?P<suffixes>(?:\.zst|\.gz|\.age)*)$"
)


def extension(kind: str) -> str:
    return EXTENSIONS.get(kind, "dump")


def stamp(when: datetime, seconds: bool = False) -> str:
    """Pruvon's ``2006-01-02_15h04m`` (plus ``05s`` for manual and safety runs)."""
    return when.strftime("%Y-%m-%d_%Hh%Mm" + ("%Ss" if seconds else ""))


def file_name(service: str, kind: str, rotation: str, when: datetime,
              compressed: bool = True, encrypted: bool = False, serial: int = 1) -> str:
    """The file name Pruvon would give this backup, plus ``.zst``/``.age``.

    ``serial`` > 1 (``_2`` after the time) tells apart two runs of one minute.
    """
    ext = extension(kind)
    when_ = stamp(when, seconds=rotation not in SCHEDULED) + (f"_{serial}" if serial > 1 else "")
    if rotation == "daily":
        base = f"{service}_{when_}.{when.strftime('%A')}.{ext}"
    elif rotation == "weekly":
        base = f"{service}_weekly.{when.isocalendar().week}.{when_}.{ext}"
    elif rotation == "monthly":
        base = f"{service}_monthly.{when.strftime('%B')}.{when_}.{ext}"
    else:
        base = f"{service}_{rotation}.{when_}.{ext}"
    return base + (".zst" if compressed else "") + (".age" if encrypted else "")


HOSTS_DIR = "hosts"


def key_for(kind: str, rotation: str, service: str, name: str, host: str = "") -> str:
    """Where a file goes: Pruvon's tree for the default host (``''``), a host's subtree else."""
    key = f"{kind}/{rotation}/{service}/{name}"
    return f"{HOSTS_DIR}/{host}/{key}" if host else key


def rotation_of_day(when: datetime, do_weekly: int, do_monthly: int) -> str:
    """Pruvon's rule: monthly on ``do_monthly``, else weekly on ``do_weekly``, else daily.

    ``do_weekly`` is an ISO weekday (1 Monday … 7 Sunday), ``0`` meaning Sunday too.
    """
    if when.day == do_monthly:
        return "monthly"
    weekday = when.isoweekday()
    if weekday == do_weekly or (do_weekly in (0, 7) and weekday == 7):
        return "weekly"
    return "daily"


@dataclass(frozen=True)
class ParsedKey:
    """What a stored file's key says about it (for files found by a rescan)."""

    kind: str
    rotation: str
    service: str
    created: datetime
    compression: str
    encrypted: bool
    host: str = ""  # '' for Pruvon's tree (the default host), the name under hosts/ else


def parse_key(key: str) -> ParsedKey | None:
    """Read ``[hosts/<host>/]<type>/<rotation>/<service>/<file>``; None for anything else
    (manifests, or a ``hosts/`` entry whose name is no host name)."""
    parts = key.split("/")
    host = ""
    if len(parts) == 6 and parts[0] == HOSTS_DIR:
        if not HOST_NAME_RE.fullmatch(parts[1]):
            return None
        host, parts = parts[1], parts[2:]
    if len(parts) != 4 or parts[1] not in ROTATIONS or parts[0] == HOSTS_DIR:
        return None
    kind, rotation, service, name = parts
    match = _NAME_RE.match(name)
    if not match or match["service"] != service or (match["ext"] == "json" and kind != "app"):
        return None
    raw = match["stamp"]
    created = datetime.strptime(raw, "%Y-%m-%d_%Hh%Mm%Ss" if raw.endswith("s") else "%Y-%m-%d_%Hh%Mm")
    suffixes = match["suffixes"]
    compression = "none"
    for suffix, name_ in COMPRESSIONS.items():
        if suffix in suffixes:
            compression = name_
    return ParsedKey(kind, rotation, service, created.astimezone(), compression,
                     suffixes.endswith(".age"), host)


def describe(parsed: ParsedKey) -> dict[str, Any]:
    return {"compression": parsed.compression, "encrypted": parsed.encrypted}
