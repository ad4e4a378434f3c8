"""Every backup file and run, in SQLite (WAL) under the state directory.

The catalogue is what ``pruvon backup list``, the ``/backups`` page and
retention read: history and "last good backup" survive restarts without a
directory scan.  One row per stored copy (a run to two targets writes two
rows); ``runs`` keeps one row per ``pruvon backup auto`` / ``run`` with its
outcome.  Rows are never rewritten behind a file's back: a file is ``good``
only after its target committed it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pruvon_core.files import open_private, private_dir, writing

DB_NAME = "backups.sqlite3"
STATUSES = ("good", "failed", "running", "deleted")
LIST_KEYS = ("id", "type", "service", "rotation", "path", "size", "sha256", "encrypted",
             "created", "status")
DEFAULT_HOST = ""  # the ``host`` of the default host's rows (every row before issue 17)

SCHEMA = """
CREATE TABLE IF NOT EXISTS backups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    service TEXT NOT NULL,
    rotation TEXT NOT NULL,
    target TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT,
    size INTEGER,
    raw_size INTEGER,
    sha256 TEXT,
    encrypted INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    manifest TEXT NOT NULL DEFAULT '{}',
    temp TEXT,
    run_id INTEGER,
    host TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS backups_key ON backups (target, key) WHERE status != 'deleted'
    AND status != 'failed';
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    trigger TEXT NOT NULL,
    rotation TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    host TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS scanned (target TEXT PRIMARY KEY, root TEXT NOT NULL, at TEXT NOT NULL);
"""
# Catalogues written before issue 17 have no ``host`` columns: added in place, their rows
# (all of the default host, the only one there was) getting ``''``.
MIGRATIONS = (("backups", "host", "ALTER TABLE backups ADD COLUMN host TEXT NOT NULL DEFAULT ''"),
              ("runs", "host", "ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT ''"))
INDEXES = """
DROP INDEX IF EXISTS backups_service;
CREATE INDEX IF NOT EXISTS backups_host_service ON backups (host, type, service, status);
"""


def migrate(db: sqlite3.Connection) -> None:
    """Bring a catalogue of any earlier schema to this one, keeping every row."""
    for table, column, statement in MIGRATIONS:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            db.execute(statement)
    db.executescript(INDEXES)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(when: datetime) -> str:
    """UTC ISO 8601 to the second, the one time format of the catalogue and its JSON."""
    return when.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class BackupRecord:
    """One stored copy of a dump (or an app snapshot) on one target."""

    id: int
    type: str
    service: str
    rotation: str
    target: str
    key: str
    path: str | None
    size: int | None
    raw_size: int | None
    sha256: str | None
    encrypted: bool
    created: str
    status: str
    error: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    temp: str | None = None
    run_id: int | None = None
    host: str = DEFAULT_HOST  # the Dokku host of the service ('' = the default host)

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.created)

    @property
    def host_or_none(self) -> str | None:
        """The host as :func:`pruvon_core.hosts.current` names it (``None``: the default)."""
        return self.host or None

    def as_dict(self, default_host: str | None = None) -> dict[str, Any]:
        """Exactly the keys of ``pruvon backup list --format json``.

        ``host`` is the host's name; the default host's rows are stored without
        one (so renaming it keeps them) and shown as ``default_host``.
        """
        return {**{key: getattr(self, key) for key in LIST_KEYS},
                "host": self.host or default_host}


class Catalogue:
    """The SQLite catalogue in ``<state_dir>/backups.sqlite3``."""

    def __init__(self, state_dir: Path) -> None:
        private_dir(Path(state_dir))
        self.path = Path(state_dir) / DB_NAME
        with writing(self.path):
            os.close(open_private(self.path))
            with self._db() as db:
                db.executescript(SCHEMA)
                migrate(db)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection per use: safe across threads and forked gunicorn workers."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            with writing(self.path):
                yield db
        finally:
            db.close()

    # ------------------------------------------------------------------ rows
    def add(self, **values: Any) -> BackupRecord:
        """Insert a row (``status`` running unless given); returns it with its id."""
        values.setdefault("status", "running")
        values.setdefault("created", iso(utcnow()))
        values["manifest"] = json.dumps(values.get("manifest") or {}, sort_keys=True)
        values["encrypted"] = int(bool(values.get("encrypted")))
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._db() as db:
            # column names come from this module, never from input; values are bound
            cursor = db.execute(f"INSERT INTO backups ({columns}) VALUES ({marks})",  # noqa: S608
                                tuple(values.values()))
            new_id = cursor.lastrowid
        record = self.get(int(new_id or 0))
        assert record is not None
        return record

    def update(self, backup_id: int, **values: Any) -> BackupRecord:
        """Change columns of one row (``manifest`` as a dict)."""
        if "manifest" in values:
            values["manifest"] = json.dumps(values["manifest"], sort_keys=True)
        if "encrypted" in values:
            values["encrypted"] = int(bool(values["encrypted"]))
        assignments = ", ".join(f"{column} = ?" for column in values)
        with self._db() as db:
            db.execute(f"UPDATE backups SET {assignments} WHERE id = ?",  # noqa: S608
                       (*values.values(), backup_id))
        record = self.get(backup_id)
        assert record is not None
        return record

    def get(self, backup_id: int) -> BackupRecord | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM backups WHERE id = ?", (backup_id,)).fetchone()
        return _record(row) if row else None

    def list(self, type: str | None = None, service: str | None = None,
             status: str | None = None, target: str | None = None,
             include_deleted: bool = False, host: str | None = None) -> list[BackupRecord]:
        """Rows newest first, filtered; deleted ones only when asked.

        ``host`` is a host's name or ``''`` for the default host; ``None``
        means every host (only for what spans hosts: scans, all-hosts lists).
        """
        where, args = [], []
        for column, value in (("type", type), ("service", service), ("status", status),
                              ("target", target), ("host", host)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if not include_deleted and status is None:
            where.append("status != 'deleted'")
        sql = "SELECT * FROM backups"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created DESC, id DESC"
        with self._db() as db:
            return [_record(row) for row in db.execute(sql, args)]

    def last_good(self, type: str, service: str, host: str = DEFAULT_HOST) -> BackupRecord | None:
        """The newest good backup of one service of one host, on any target."""
        found = self.list(type=type, service=service, status="good", host=host)
        return found[0] if found else None

    def find_key(self, target: str, key: str) -> BackupRecord | None:
        """The live (not deleted/failed) row of a stored file, if catalogued."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM backups WHERE target = ? AND key = ? AND status IN "
                "('good', 'running') ORDER BY id DESC", (target, key)).fetchone()
        return _record(row) if row else None

    def running(self) -> list[BackupRecord]:
        return self.list(status="running")

    # ------------------------------------------------------------------ runs
    def start_run(self, trigger: str, rotation: str, host: str = DEFAULT_HOST) -> int:
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO runs (started, trigger, rotation, status, host) "
                "VALUES (?, ?, ?, 'running', ?)", (iso(utcnow()), trigger, rotation, host))
            return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self._db() as db:
            db.execute("UPDATE runs SET finished = ?, status = ?, summary = ? WHERE id = ?",
                       (iso(utcnow()), status, json.dumps(summary, sort_keys=True), run_id))

    def fail_stale_runs(self, reason: str) -> int:
        """Mark runs left ``running`` by a killed process as failed; how many there were."""
        with self._db() as db:
            cursor = db.execute(
                "UPDATE runs SET status = 'failed', finished = ?, summary = ? "
                "WHERE status = 'running'", (iso(utcnow()), json.dumps({"error": reason})))
            return cursor.rowcount

    def runs(self, limit: int = 100) -> list[dict[str, Any]]:
        """Recent runs, newest first: ``id, started, finished, trigger, rotation, status, summary,
        host``."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [{**dict(row), "summary": json.loads(row["summary"] or "{}")} for row in rows]

    # ------------------------------------------------------------------ scans
    def scanned(self, target: str, root: str) -> bool:
        with self._db() as db:
            row = db.execute("SELECT root FROM scanned WHERE target = ?", (target,)).fetchone()
        return bool(row) and row["root"] == root

    def mark_scanned(self, target: str, root: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO scanned (target, root, at) VALUES (?, ?, ?)",
                       (target, root, iso(utcnow())))


def _record(row: sqlite3.Row) -> BackupRecord:
    data = dict(row)
    data["encrypted"] = bool(data["encrypted"])
    data["manifest"] = json.loads(data["manifest"] or "{}")
    return BackupRecord(**data)
