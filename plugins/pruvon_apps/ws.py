"""The apps plugin's WebSockets: the create wizard's progress and the log viewer.

The create socket hands each frame to the same runner as the page and the
API (``pages.start_create``); a refused frame is answered with an error frame
carrying the status the page or API would have given, and the socket stays
open for a retry.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request
from pruvon_web.public import (
    Revalidator,
    authorize,
    error_message,
    error_status,
    parse_json,
    pump_lines,
    route,
)
from pruvon_web.public import close as ws_close

from pruvon_apps import service
from pruvon_apps.pages import create_request, start_create, start_rollback
from pruvon_apps.web import client, manager
from pruvon_core.dokku import errors
from pruvon_core.operations import follow
from pruvon_core.permissions import Resource

MAX_LOG_LINES = 1000


def frame_error(exc: Exception) -> str | None:
    """The error frame for a refused request; None for a bug (it propagates)."""
    status = error_status(exc) or (400 if isinstance(exc, ValueError) else None)
    if status is None:
        return None
    return json.dumps({"type": "error", "error": error_message(exc), "status": status})


def create_socket(ws: Any) -> None:
    """JSON frames: client ``{"type":"create", ...fields}`` / ``{"type":"rollback"}``.

    Server: ``{"type":"progress","operation":{...},"output":[...]}`` until the
    operation ends, then ``{"type":"done","status":...}``; errors are
    ``{"type":"error","error":...}`` and the socket stays open for a retry.
    """
    identity = authorize(ws, "apps.create")
    if identity is None:
        return
    revalidator = Revalidator(identity, action="apps.create")
    last = None
    while True:
        raw = ws.receive(timeout=60)
        if not revalidator.ok():
            return revalidator.close(ws)
        if raw is None:
            continue
        try:
            last = _create_frame(raw, last)
        except Exception as exc:
            refusal = frame_error(exc)
            if refusal is None:
                raise
            ws.send(refusal)
            continue
        if not stream_operation(ws, last.id, revalidator):
            return


def _create_frame(raw: Any, last: Any) -> Any:
    """Start what one frame asks for: a create, or the rollback of the last one."""
    message = parse_json(raw)
    if not isinstance(message, dict):
        raise service.AppsError("frames must be JSON objects")
    kind = message.pop("type", None)
    if kind == "create":
        return start_create(create_request(message))
    if kind == "rollback" and last is not None:
        return start_rollback(manager().store.get(last.id))
    raise service.AppsError("send {\"type\": \"create\", ...} or "
                            "{\"type\": \"rollback\"} after a failure")


def stream_operation(ws: Any, op_id: str, revalidator: Revalidator) -> bool:
    """Send progress frames until the operation ends; False if the socket must close."""
    store = manager().store
    for op, lines in follow(store, op_id, interval=0.25, stop=lambda: not revalidator.ok()):
        ws.send(json.dumps({"type": "progress", "operation": op.as_dict(), "output": lines}))
        if not op.active:
            ws.send(json.dumps({"type": "done", "status": op.status, "error": op.error,
                                "app": op.target.split(":", 1)[1], "operation": op.id,
                                "can_rollback": op.kind == "apps.create"
                                and bool(service.rollback_plan(op.steps))
                                and op.status != "succeeded"}))
            return True
    if not revalidator.ok():
        revalidator.close(ws)
        return False
    return True


def logs_socket(ws: Any, app: str) -> None:
    """One text frame per log line (``dokku logs -t``); ``?process=web`` filters.

    ``?source=nginx-access`` / ``nginx-error`` follow the app's nginx logs instead.

    The ``dokku logs`` process is cancelled (its process group killed) as
    soon as the socket closes or the user loses access: no orphans.
    """
    identity = authorize(ws, "apps.logs", Resource("app", app))
    if identity is None:
        return
    try:
        service.require_app(client(), app)
        lines = min(max(int(request.args.get("lines", "100")), 1), MAX_LOG_LINES)
        stream = service.log_stream(client(), app, request.args.get("source", "app"), lines,
                                    request.args.get("process") or None)
    except (ValueError, errors.DokkuError) as exc:
        return ws_close(ws, error_message(exc),
                        1011 if isinstance(exc, errors.DokkuError) else 1008)
    pump_lines(ws, stream, Revalidator(identity, action="apps.logs", resource=Resource("app", app)))


def register(bp: Blueprint) -> None:
    """The sockets' routes, added by the blueprint hook."""
    route("/ws/apps/create", bp=bp)(create_socket)
    route("/ws/apps/<app>/logs", bp=bp)(logs_socket)
