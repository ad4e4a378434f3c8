"""The backups JSON API (``/api/v1/backups…``), documented in the OpenAPI document.

Scoped like the page: a user sees and acts on backups of the services granted
to them only; any other id is a 404.  A run or restore answers ``202`` with
its operation (followed at ``/api/v1/backups/operations/<id>`` or over the
WebSocket ``/ws/backups/restore/<id>``); a run while another is in progress is
a ``409``; bad input a ``400`` before anything reaches Dokku.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pruvon_web.public import DOKKU_RESPONSES, body, endpoint

from pruvon_backups import config as backup_config
from pruvon_backups import engine, overview, specs
from pruvon_backups.catalogue import BackupRecord
from pruvon_backups.web import (
    API,
    actor,
    backup_operation,
    download,
    guard,
    not_found,
    pruvon,
    record,
    runner,
)
from pruvon_core.operations import Operation

READ = {"200": "OK", "404": "No such backup (or not yours)"}
STARTED = {"202": "Operation started", "400": "Bad input",
           "404": "No such backup or service (or not yours)",
           "409": "A backup run (or an operation on the service) is in progress",
           **DOKKU_RESPONSES}


def default_host() -> str:
    """The default host's name, which its backups (stored without one) carry in JSON."""
    return backup_config.host_name(pruvon(), None)


def detail(found: BackupRecord) -> dict[str, Any]:
    """The list keys plus where it is stored and what the manifest says."""
    return {**found.as_dict(default_host()), "target": found.target, "key": found.key,
            "raw_size": found.raw_size, "error": found.error, "manifest": found.manifest}


def op_json(op: Operation) -> dict[str, Any]:
    data = op.as_dict()
    data["progress"] = specs.progress_of(op)
    data["result"] = {k: v for k, v in (op.result or {}).items() if k != "progress"}
    return data


# --------------------------------------------------------------------------- reads
def api_list() -> Any:
    context = pruvon()
    view = overview.overview(context, actor())
    default = default_host()
    return {"backups": [{**b.as_dict(default), "target": b.target} for b in view.backups],
            "services": [row.as_dict(default) for row in view.rows],
            "stale": len(view.stale), "errors": view.errors,
            "schedule": overview.schedule_view(context)}


@not_found
def api_detail(backup_id: str) -> Any:
    return detail(record(backup_id))


@not_found
def api_download(backup_id: str) -> Any:
    return download(backup_id)


def api_operation(op_id: str) -> Any:
    return op_json(backup_operation(op_id))


# --------------------------------------------------------------------------- changes
RUN_SCHEMA = {"type": "object", "properties": {
    "scope": {"type": "string", "enum": list(specs.SCOPES)},
    "type": {"type": "string", "description": "service type (scope service)"},
    "name": {"type": "string", "description": "service name (scope service)"},
    "app": {"type": "string", "description": "app whose linked services (scope app)"}}}


def api_run() -> Any:
    data = body(RUN_SCHEMA)
    params = {key: data.get(key) for key in ("scope", "type", "name", "app")}
    return op_json(specs.start_run(runner(), params)), 202


IDENTITY = {"type": "string", "description": "age identity file text, for encrypted backups "
            "(used in memory, never stored)"}
VERIFY_SCHEMA = {"type": "object", "properties": {"identity": IDENTITY}}


@not_found
def api_verify(backup_id: str) -> Any:
    data = body(VERIFY_SCHEMA)  # bad input is a 400 before any lookup, as everywhere
    found = record(backup_id)
    identity = specs.identities(data.get("identity"))
    return engine.verify(pruvon(), found.id, identity, actor=actor()).as_dict()


RESTORE_SCHEMA = {"type": "object", "properties": {
    "confirm": {"type": "string", "description": "the backup's service name, typed"},
    "into": {"type": "string", "description": "a new service to restore into instead"},
    "safety": {"type": "boolean", "description": "back up the current data first (default)"},
    "identity": IDENTITY}}


@not_found
def api_restore(backup_id: str) -> Any:
    data = body(RESTORE_SCHEMA)
    params = {"id": record(backup_id).id, "confirm": data.get("confirm"),
              "into": data.get("into"), "safety": data.get("safety", True),
              "identity": data.get("identity")}
    return op_json(specs.start_restore(runner(), params)), 202


@not_found
def api_delete(backup_id: str) -> Any:
    found = record(backup_id)
    guard().require("backups.delete")
    return detail(engine.delete(pruvon(), found.id, actor=actor()))


def register(bp: Blueprint) -> None:
    """The API's routes and their documentation, added by the blueprint hook."""
    def add(rule: str, method: str, summary: str, view: Any, **options: Any) -> None:
        endpoint(rule, method, summary, bp=bp, prefix="", **options)(view)

    add(API, "GET", "Backups, per-service last good backup (stale ones), schedule, targets",
        api_list, action="backups.read", responses={"200": "OK", **DOKKU_RESPONSES})
    add(f"{API}/run", "POST", "Back up a service, an app's services or all now (background)",
        api_run, action="backups.run", request_schema=RUN_SCHEMA, responses=STARTED)
    add(f"{API}/operations/<op_id>", "GET", "A run or restore: status, steps, progress",
        api_operation, action="backups.read",
        responses={"200": "OK", "404": "No such backup operation"})
    add(f"{API}/<backup_id>", "GET", "One backup: file, checksum, manifest", api_detail,
        action="backups.read", responses=READ)
    add(f"{API}/<backup_id>/download", "GET", "The stored file, streamed", api_download,
        action="backups.read", responses={**READ, "400": "The file cannot be read"})
    add(f"{API}/<backup_id>/verify", "POST", "Re-read, checksum, decrypt, decompress, header",
        api_verify, action="backups.read", request_schema=VERIFY_SCHEMA,
        responses={**READ, "400": "Bad input (identity)"})
    add(f"{API}/<backup_id>/restore", "POST",
        "Verify, then stream into the service or a new one (confirm = service name)",
        api_restore, action="backups.restore", request_schema=RESTORE_SCHEMA,
        responses=STARTED)
    add(f"{API}/<backup_id>", "DELETE", "Delete the stored file (the record stays, deleted)",
        api_delete, action="backups.delete",
        responses={**READ, "400": "Already deleted or still being written"})
