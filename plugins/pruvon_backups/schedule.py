"""``pruvon backup auto``: the one scheduled run of the day, then retention.

Pruvon's rule picks the rotation (monthly on ``do_monthly``, else weekly on
``do_weekly``, else daily); a service that already has a good scheduled
backup from today (local date) is skipped, so the systemd timer catching up
(``Persistent=true``) or a second ``auto`` never makes two.  A service that
fails is recorded and the run goes on; the run exits non-zero if any failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pruvon_services.public import DATASTORES, installed_types

from pruvon_backups import config as backup_config
from pruvon_backups import engine, layout
from pruvon_backups.catalogue import utcnow
from pruvon_backups.locking import run_lock
from pruvon_core.dokku.errors import DokkuError

ALIASES = {"mongodb": "mongo"}


def backed_up_kinds(pruvon: Any, section: dict[str, Any]) -> list[str]:
    """``db_types`` as Dokku names them, leaving out datastore plugins not installed."""
    installed = set(installed_types(backup_config.client(pruvon)))
    kinds = []
    for kind in section["db_types"]:
        kind = ALIASES.get(kind, kind)
        if kind not in kinds and (kind in installed or kind not in DATASTORES):
            kinds.append(kind)
    return kinds


def due_services(pruvon: Any, now: datetime | None = None) -> list[tuple[str, str]]:
    """``(type, name)`` of every service without a good scheduled backup from today."""
    section = backup_config.settings(pruvon)
    today = (now or utcnow()).astimezone().date()
    cat = engine.catalogue(pruvon)
    due = []
    for kind in backed_up_kinds(pruvon, section):
        for service in backup_config.client(pruvon).services(kind):
            done = any(r.rotation in layout.SCHEDULED and r.created_at.astimezone().date() == today
                       for r in cat.list(type=kind, service=service.name, status="good"))
            if not done:
                due.append((kind, service.name))
    return due


def all_services(pruvon: Any) -> list[tuple[str, str]]:
    """``(type, name)`` of every service of the backed-up kinds."""
    section = backup_config.settings(pruvon)
    client = backup_config.client(pruvon)
    return [(kind, service.name) for kind in backed_up_kinds(pruvon, section)
            for service in client.services(kind)]


def run_due(pruvon: Any, now: datetime | None = None, actor: Any = None,
            progress: Any = None) -> dict[str, Any]:
    """Back up every due service with the rotation of the day, then prune.

    Returns ``{run, rotation, ok: [ids], failed: [{type, service, error}],
    pruned: [ids]}``; BackupBusy when a run holds the lock.
    """
    section = backup_config.settings(pruvon)
    now = now or utcnow()
    rotation = layout.rotation_of_day(now.astimezone(), section["do_weekly"], section["do_monthly"])
    return run_many(pruvon, lambda: due_services(pruvon, now), rotation, "auto", now, actor,
                    progress, prune=True)


def run_many(pruvon: Any, services: Any, rotation: str, trigger: str,
             now: datetime | None = None, actor: Any = None, progress: Any = None,
             prune: bool = False) -> dict[str, Any]:
    """Back up each of ``services()`` under one lock; failures are collected, not raised.

    ``progress(kind, name)`` returns the progress callback of one service's run.
    """
    now = now or utcnow()
    cat = engine.catalogue(pruvon)
    with run_lock(pruvon.state_dir, cat):
        run_id = cat.start_run(trigger, rotation)
        summary: dict[str, Any] = {"run": run_id, "rotation": rotation, "ok": [], "failed": [],
                                   "pruned": []}
        try:
            due = services()
        except DokkuError as exc:
            summary["failed"].append({"type": None, "service": None, "error": str(exc)})
            due = []
        for kind, name in due:
            try:
                record = engine.run_backup(pruvon, kind, name, rotation, now=now, actor=actor,
                                           run_id=run_id,
                                           progress=progress(kind, name) if progress else None)
                summary["ok"].append(record.id)
            except Exception as exc:  # one failing service must not stop the others
                summary["failed"].append({"type": kind, "service": name, "error": str(exc)})
        if prune:
            summary["pruned"] = [r.id for r in engine.prune(pruvon, dry_run=False, now=now,
                                                            actor=actor)]
        cat.finish_run(run_id, "failed" if summary["failed"] else "ok", summary)
    return summary
