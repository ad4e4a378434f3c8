"""What the backups pages, API and WebSocket share: the request's actor, context and runner.

Views catch no errors: the web app's one error handler turns typed errors into
the page message or ``{"error": …}`` with their status; a backup that does
not exist, or that the actor may not see, is a 404 either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, g, stream_with_context
from pruvon_web.public import client_ip, web_state
from werkzeug.exceptions import NotFound

from pruvon_backups import engine, specs
from pruvon_backups.catalogue import BackupRecord
from pruvon_core import hosts
from pruvon_core.guard import Guard
from pruvon_core.operations import Operation, OperationManager, OperationNotFound
from pruvon_core.opspecs import Runner

API = "/api/v1/backups"
OP_KINDS = (specs.RUN.kind, specs.RESTORE.kind)


def pruvon() -> Any:
    """The hook context of this application (config, Dokku client, state dir)."""
    return web_state().pruvon


def actor() -> Any:
    return g.identity.actor


def guard() -> Guard:
    state = web_state()
    return Guard(actor(), state.config(), state.state_dir, client_ip(),
                 extra={"via": g.identity.via}, kind="backup")


def allowed(action: str) -> bool:
    return guard().allowed(action)


def runner() -> Runner:
    return specs.runner(guard(), specs.BackupsDeps(pruvon()))


def manager() -> OperationManager:
    return OperationManager(web_state().state_dir)


def not_found(view: Callable[..., Any]) -> Callable[..., Any]:
    """An unknown (or hidden) backup is a 404, as for a missing app."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except specs.UnknownBackup as exc:
            raise NotFound(str(exc)) from None

    return wrapped


def record(backup_id: Any) -> BackupRecord:
    """A backup this actor may see (``backups.read`` and the service's grant)."""
    guard().require("backups.read")
    return specs.visible_record(pruvon(), actor(), backup_id)


def on_this_host(op: Operation) -> bool:
    """Whether ``op`` was started on the host acted on: its target ends in ``@<host>``
    on another host than the default one (:func:`pruvon_core.hosts.op_target`)."""
    _, at, host = op.target.rpartition("@")
    return (host if at else None) == hosts.current()


def backup_operation(op_id: str) -> Operation:
    """A backup operation of this host this actor may follow: its own, or any for an admin."""
    op = manager().store.get(op_id)
    if op.kind not in OP_KINDS or (op.actor != actor().id and actor().role != "admin") \
            or not on_this_host(op):
        raise OperationNotFound(f"no backup operation {op_id!r}")
    return op


def download(backup_id: Any) -> Response:
    """The stored file, streamed from its target in chunks (never read whole)."""
    found = record(backup_id)
    chunks = engine.open_download(pruvon(), found.id)  # BackupError before any byte
    guard().record("backups.read", None, "ok", what="download", backup=found.id,
                   service=engine.service_label(found.type, found.service, found.host))
    headers = {"Content-Disposition": f'attachment; filename="{engine.download_name(found)}"',
               "X-Content-SHA256": found.sha256 or ""}
    if found.size is not None:
        headers["Content-Length"] = str(found.size)
    return Response(stream_with_context(chunks), mimetype="application/octet-stream",
                    headers=headers, direct_passthrough=True)
