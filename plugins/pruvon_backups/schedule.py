"""``pruvon backup auto``: the one scheduled run of the day, then retention.

Pruvon's rule picks the rotation (monthly on ``do_monthly``, else weekly on
``do_weekly``, else daily); a service that already has a good scheduled
backup from today (local date) is skipped, so the systemd timer catching up
(``Persistent=true``) or a second ``auto`` never makes two.  A service that
fails is recorded and the run goes on; the run exits non-zero if any failed.

With several hosts (issue 17) the run goes through every configured host in
turn (or the ones asked for), each with its own ``runs`` row, its due
services and its retention; a host that cannot be listed (unreachable,
Dokku failing) is recorded as failed for that host and the others go on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pruvon_services.public import DATASTORES, installed_types

from pruvon_backups import config as backup_config
from pruvon_backups import engine, layout, scan
from pruvon_backups.catalogue import utcnow
from pruvon_backups.locking import run_lock
from pruvon_core import hosts

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
    host = engine.acting_host()
    due = []
    for kind in backed_up_kinds(pruvon, section):
        for service in backup_config.client(pruvon).services(kind):
            done = any(r.rotation in layout.SCHEDULED and r.created_at.astimezone().date() == today
                       for r in cat.list(type=kind, service=service.name, status="good",
                                         host=host))
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
            progress: Any = None, on: list[str | None] | None = None) -> dict[str, Any]:
    """Back up every due service of every host (or of the hosts ``on``) with the rotation
    of the day, then prune each host.

    Returns ``{run, rotation, ok: [ids], failed: [{host, type, service, error}],
    pruned: [ids], hosts: [{host, run, ok, failed, pruned}]}``; BackupBusy when a
    run holds the lock.
    """
    section = backup_config.settings(pruvon)
    now = now or utcnow()
    rotation = layout.rotation_of_day(now.astimezone(), section["do_weekly"], section["do_monthly"])
    return run_many(pruvon, lambda: due_services(pruvon, now), rotation, "auto", now, actor,
                    progress, prune=True, on=on)


def run_many(pruvon: Any, services: Any, rotation: str, trigger: str,
             now: datetime | None = None, actor: Any = None, progress: Any = None,
             prune: bool = False, on: list[str | None] | None = None) -> dict[str, Any]:
    """Back up each of ``services()`` of each host under one lock; failures are collected,
    not raised.

    ``services()`` is called on each host in turn (inside :func:`hosts.using`);
    ``on`` names the hosts (default: every configured host).
    ``progress(kind, name)`` returns the progress callback of one service's run.
    """
    now = now or utcnow()
    cat = engine.catalogue(pruvon)
    with run_lock(pruvon.state_dir, cat):
        scan.rescan(pruvon)  # the first run on a Pruvon host catalogues its existing tree
        parts = []
        for host in backup_config.configured_hosts(pruvon) if on is None else on:
            with hosts.using(host):
                parts.append(_run_host(pruvon, cat, services, rotation, trigger, now, actor,
                                       progress, prune))
    return _merged(rotation, parts)


def _run_host(pruvon: Any, cat: Any, services: Any, rotation: str, trigger: str,
              now: datetime, actor: Any, progress: Any, prune: bool) -> dict[str, Any]:
    """One host's part of a run: its own ``runs`` row, services and retention."""
    name = backup_config.host_name(pruvon, hosts.current())
    run_id = cat.start_run(trigger, rotation, engine.acting_host())
    summary: dict[str, Any] = {"host": name, "run": run_id, "ok": [], "failed": [],
                               "pruned": []}
    try:
        due = services()
    except Exception as exc:  # an unreachable host, Dokku failing: this host's failure only
        summary["failed"].append({"host": name, "type": None, "service": None,
                                  "error": str(exc) or type(exc).__name__})
        due = []
    for kind, service in due:
        try:
            record = engine.run_backup(pruvon, kind, service, rotation, now=now, actor=actor,
                                       run_id=run_id,
                                       progress=progress(kind, service) if progress else None)
            summary["ok"].append(record.id)
        except Exception as exc:  # one failing service must not stop the others
            summary["failed"].append({"host": name, "type": kind, "service": service,
                                      "error": str(exc)})
    if prune:
        summary["pruned"] = [r.id for r in engine.prune(pruvon, dry_run=False, now=now,
                                                        actor=actor)]
    cat.finish_run(run_id, "failed" if summary["failed"] else "ok",
                   {**summary, "rotation": rotation})
    return summary


def _merged(rotation: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Every host's summary, and their union in Pruvon's one-host keys (``run``: the first)."""
    return {"run": parts[0]["run"] if parts else None, "rotation": rotation,
            "ok": [i for p in parts for i in p["ok"]],
            "failed": [f for p in parts for f in p["failed"]],
            "pruned": [i for p in parts for i in p["pruned"]], "hosts": parts}
