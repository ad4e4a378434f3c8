"""Restore (and run) progress over a WebSocket: ``/ws/backups/restore/<task>``.

The upgrade already passed the web app's checks (Origin against the served
host, the session or API key, the ``routes:`` grant); the handler then needs
``backups.read`` and an operation the actor may follow (its own, or any for
an admin), and re-validates the session while streaming, so a user signed
out, disabled or narrowed mid-restore is cut off.

Frames (JSON): ``{"percent": N, "bytes": b, "total": t}`` while it runs, then
one ``{"status": "done"|"failed", "error": …}`` carrying Dokku's own text.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint
from pruvon_web.public import Revalidator, authorize, error_message, route
from pruvon_web.public import close as ws_close

from pruvon_backups import specs
from pruvon_backups.web import backup_operation, manager
from pruvon_core.operations import OperationError, follow

FINAL = {"succeeded": "done"}


def progress_socket(ws: Any, task: str) -> None:
    identity = authorize(ws, "backups.read")
    if identity is None:
        return
    try:
        op = backup_operation(task)
    except OperationError as exc:
        return ws_close(ws, error_message(exc))
    revalidator = Revalidator(identity, action="backups.read")
    last: dict[str, Any] | None = None
    for current, _lines in follow(manager().store, op.id, interval=0.2,
                                  stop=lambda: not revalidator.ok()):
        frame = specs.progress_of(current)
        if frame != last:
            ws.send(json.dumps(frame))
            last = frame
        if not current.active:
            ws.send(json.dumps({"status": FINAL.get(current.status, "failed"),
                                "error": current.error or None, "operation": current.id,
                                "result": {k: v for k, v in current.result.items()
                                           if k != "progress"}}))
            return None
    if not revalidator.ok():
        revalidator.close(ws)
    return None


def register(bp: Blueprint) -> None:
    """The socket's routes, added by the blueprint hook."""
    route("/ws/backups/restore/<task>", bp=bp)(progress_socket)
