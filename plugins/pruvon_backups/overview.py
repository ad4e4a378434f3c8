"""What the ``/backups`` page, its API and the dashboard card show, computed once.

Flask-free, over the hook context ``pruvon``: per service the last good
backup (age, size, status of the latest run, red when older than twice the
schedule), the backups an actor may see, and the schedule, retention and
targets as configured.  Visibility is the services plugin's: a scoped user
sees only backups of services (``services.read``) and apps (``apps.read``)
granted to them (the backup actions checked on each service), so a ``routes: [/backups]`` grant never reveals other
services' names.  Cost: the catalogue (one SQLite read) and one
``<type>:list`` per backed-up kind, whatever the number of services.

Per host (issue 17): everything here is the host acted on (``/h/<host>``),
its catalogue rows only, each permission checked on that host, so a grant
of ``db`` on one host never shows ``db``'s backups of another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pruvon_backups import config as backup_config
from pruvon_backups import engine, scan, schedule
from pruvon_backups.catalogue import BackupRecord, utcnow
from pruvon_core.dokku.errors import DokkuError
from pruvon_core.permissions import Resource

# ``pruvon backup auto`` runs daily (etc/systemd/pruvon-backup.timer): whatever the
# rotation of the day, every service is due once a day
SCHEDULE_INTERVAL = timedelta(days=1)
STALE_FACTOR = 2
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
            "Sunday")


def may_see(pruvon: Any, actor: Any, kind: str, name: str, action: str = "backups.read",
            host: str | None = None) -> bool:
    """Whether ``actor`` may perform ``action`` on backups of ``kind`` ``name`` of ``host``
    (a catalogue ``host``: ``''`` the default host; ``None`` the host acted on).

    The backup actions are checked on the service (or, for a configuration
    snapshot, the app) on its host: a ``routes: [/backups]`` grant covers only
    the services the user is granted, on the hosts they are granted.
    """
    on = None if host is None else backup_config.host_name(pruvon, host or None)
    if kind == "app":
        return pruvon.allowed(actor, action, Resource("app", name, host=on))
    return pruvon.allowed(actor, action, Resource("service", name, kind, host=on))


@dataclass
class ServiceRow:
    """One backed-up service (or one with backups that no longer exists)."""

    type: str
    service: str
    exists: bool
    last_good: BackupRecord | None = None
    latest: BackupRecord | None = None  # the newest copy, whatever its status
    count: int = 0  # good copies on every target
    age: float | None = None  # seconds since the last good backup

    @property
    def stale(self) -> bool:
        """Red: no good backup, or the last one is older than twice the schedule."""
        limit = (SCHEDULE_INTERVAL * STALE_FACTOR).total_seconds()
        return self.exists and (self.age is None or self.age > limit)

    def as_dict(self, default_host: str | None = None) -> dict[str, Any]:
        good = self.last_good
        return {"type": self.type, "service": self.service, "exists": self.exists,
                "stale": self.stale, "good_backups": self.count,
                "last_good": good.as_dict(default_host) if good else None,
                "last_good_age_seconds": None if self.age is None else int(self.age),
                "latest_status": self.latest.status if self.latest else None,
                "latest_error": self.latest.error if self.latest else None}


@dataclass
class Overview:
    """Everything the page shows, for one actor."""

    rows: list[ServiceRow]
    backups: list[BackupRecord]
    errors: list[str] = field(default_factory=list)

    @property
    def stale(self) -> list[ServiceRow]:
        return [row for row in self.rows if row.stale]


def visible_backups(pruvon: Any, actor: Any, type: str | None = None,
                    service: str | None = None) -> list[BackupRecord]:
    """Catalogue rows of the host acted on (newest first, deleted left out) that ``actor``
    may see."""
    records = engine.catalogue(pruvon).list(type=type, service=service,
                                            host=engine.acting_host())
    allowed: dict[tuple[str, str], bool] = {}
    shown = []
    for record in records:
        key = (record.type, record.service)
        if key not in allowed:
            allowed[key] = may_see(pruvon, actor, *key, host=record.host)
        if allowed[key]:
            shown.append(record)
    return shown


def existing_services(pruvon: Any) -> tuple[list[tuple[str, str]], list[str]]:
    """``(type, name)`` of every service of the backed-up kinds; Dokku errors as text."""
    section = backup_config.settings(pruvon)
    client = pruvon.client()
    found: list[tuple[str, str]] = []
    errors: list[str] = []
    try:
        kinds = schedule.backed_up_kinds(pruvon, section)
    except DokkuError as exc:
        return found, [str(exc)]
    for kind in kinds:
        try:
            found += [(kind, s.name) for s in client.services(kind)]
        except DokkuError as exc:
            errors.append(f"{kind}: {exc}")
    return found, errors


def overview(pruvon: Any, actor: Any, now: datetime | None = None) -> Overview:
    """The rows and backups ``actor`` may see; services first, then orphaned backups."""
    now = now or utcnow()
    services, errors = existing_services(pruvon)
    try:  # a host moving from Pruvon: its tree shows up here, not only after the CLI/timer
        scan.rescan(pruvon)  # once per target root, a catalogue lookup afterwards
    except OSError as exc:
        errors.append(f"cannot read the backup directory: {exc}")
    backups = visible_backups(pruvon, actor)
    rows: dict[tuple[str, str], ServiceRow] = {
        (kind, name): ServiceRow(kind, name, True) for kind, name in services
        if may_see(pruvon, actor, kind, name)}
    for record in backups:  # newest first
        if record.type == "app":
            continue
        row = rows.setdefault((record.type, record.service),
                              ServiceRow(record.type, record.service, False))
        row.latest = row.latest or record
        if record.status == "good":
            row.count += 1
            if row.last_good is None:
                row.last_good = record
                row.age = max(0.0, (now - record.created_at).total_seconds())
    ordered = sorted(rows.values(), key=lambda r: (not r.exists, r.type, r.service))
    return Overview(ordered, backups, errors)


def schedule_view(pruvon: Any) -> dict[str, Any]:
    """The schedule, retention and targets as configured (Pruvon's meaning, spelled out)."""
    section = backup_config.settings(pruvon)
    targets = []
    try:
        configured = backup_config.configured_targets(pruvon, section)
    except Exception as exc:  # a target kind not installed: shown, not fatal to the page
        configured, targets = [], [{"name": "?", "description": str(exc), "keep": {}}]
    for target in configured:
        targets.append({"name": target.name, "description": target.description,
                        "keep": backup_config.retention(section, target)})
    recipients = backup_config.recipient_texts(section)
    return {
        "db_types": list(section["db_types"]),
        "weekly_on": WEEKDAYS[int(section["do_weekly"])],
        "monthly_on": int(section["do_monthly"]),
        "keep_daily_days": section["keep_daily_days"],
        "keep_weekly_num": section["keep_weekly_num"],
        "keep_monthly_num": section["keep_monthly_num"],
        "encrypted": bool(recipients),
        "recipients": len(recipients),
        "targets": targets,
        "stale_after_hours": int((SCHEDULE_INTERVAL * STALE_FACTOR).total_seconds() // 3600),
    }


def human_age(seconds: float | None) -> str:
    """``3 h``, ``2 d``: how long ago, for the page and the card."""
    if seconds is None:
        return "never"
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"
