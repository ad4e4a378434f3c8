"""The services plugin's WebSockets: live logs, the console, operation and import progress.

Every socket checks its own permission on the one service it serves (the
web layer has already checked Origin, identity and ``routes:`` grants at the
upgrade) and keeps a :class:`~pruvon_web.public.Revalidator`, so a user
disabled or whose grant narrows is cut off mid-stream.  A service outside the
actor's grant is refused exactly like a missing one.

* ``/ws/services/<type>/<name>/logs`` - one text frame per log line
  (``<type>:logs NAME -t``); the Dokku process is killed when the socket
  closes.
* ``/ws/services/<type>/<name>/console`` - the terminals plugin's bridge on
  the ``service`` target (``<type>:connect``), same limits and audit as app
  terminals.
* ``/ws/services/<type>/<name>/operations/<id>`` - progress frames of a
  create/link/… operation: ``{"type":"progress","operation":{…},"output":[…]}``
  then ``{"type":"done","status":…,"error":…}``.
* ``/ws/services/create?operation=<id>`` - the same for a create its actor
  started (a scoped creator holds no grant on the service until it exists).
* ``/ws/services/import/<task>`` - an import's progress:
  ``{"percent": N, "bytes": b, "total": t}`` …, then
  ``{"status": "done"|"failed", "error": <Dokku's text>}``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request
from pruvon_web.public import Revalidator, authorize, error_message, pump_lines, route
from pruvon_web.public import close as ws_close

from pruvon_core.dokku import errors, validate
from pruvon_core.operations import Operation, OperationNotFound, follow
from pruvon_services.web import client, create_operation, manager, op_service, resource

FINAL = {"succeeded": "done"}


def _service(ws: Any, kind: str, name: str) -> tuple[str, str] | None:
    """Validated ``(type, name)``, or None after closing the socket."""
    try:
        return validate.service_type(kind), validate.service_name(name)
    except ValueError as exc:
        ws_close(ws, str(exc))
        return None


# --------------------------------------------------------------------------- logs
def logs_socket(ws: Any, kind: str, name: str) -> None:
    found = _service(ws, kind, name)
    if found is None:
        return
    kind, name = found
    where = resource(kind, name)
    identity = authorize(ws, "services.read", where)
    if identity is None:
        return
    try:
        stream = client().service_logs(kind, name, tail=True)
    except (ValueError, errors.DokkuError) as exc:
        return ws_close(ws, error_message(exc),
                        1011 if isinstance(exc, errors.DokkuError) else 1008)
    pump_lines(ws, stream, Revalidator(identity, action="services.read", resource=where),
               name="services-logs")


# --------------------------------------------------------------------------- console
def console_socket(ws: Any, kind: str, name: str) -> None:
    """The terminals plugin serves it (limits, registry, audit, revalidation)."""
    from pruvon_terminals.public import serve_terminal

    serve_terminal(ws, "service", service_type=kind, service=name)


# --------------------------------------------------------------------------- progress
def _operation(ws: Any, op_id: str) -> Operation | None:
    try:
        return manager().store.get(op_id)
    except (OperationNotFound, ValueError):
        ws_close(ws, f"no operation {op_id}")
        return None


def operation_socket(ws: Any, kind: str, name: str, op_id: str) -> None:
    found = _service(ws, kind, name)
    if found is None:
        return
    where = resource(*found)
    identity = authorize(ws, "services.read", where)
    if identity is None:
        return
    op = _operation(ws, op_id)
    if op is None:
        return
    if not op.target.startswith("service:") or op_service(op) != found:
        return ws_close(ws, f"no operation {op_id}")
    progress(ws, op, Revalidator(identity, action="services.read", resource=where))


def create_socket(ws: Any) -> None:
    """``?operation=<id>``: a create the actor started (see ``web.create_operation``)."""
    identity = authorize(ws, "services.create")
    if identity is None:
        return
    try:
        op = create_operation(request.args.get("operation", ""))
    except (OperationNotFound, ValueError) as exc:
        return ws_close(ws, str(exc))
    progress(ws, op, Revalidator(identity, action="services.create"))


def progress(ws: Any, op: Operation, revalidator: Revalidator) -> None:
    """Progress frames until the operation ends; closed early when access is revoked."""
    for record, lines in follow(manager().store, op.id, interval=0.25,
                                stop=lambda: not revalidator.ok()):
        ws.send(json.dumps({"type": "progress", "operation": record.as_dict(),
                            "output": lines}))
        if not record.active:
            ws.send(json.dumps({"type": "done", "status": record.status,
                                "error": record.error, "operation": record.id}))
            return
    revalidator.close(ws)


def import_socket(ws: Any, task: str) -> None:
    """An import's bytes and percent; needs ``services.import`` on that service."""
    op = _operation(ws, task)
    if op is None:
        return
    if op.kind != "services.import":
        return ws_close(ws, f"no import {task}")
    found = op_service(op)
    where = resource(*found)
    identity = authorize(ws, "services.import", where)
    if identity is None:
        return
    revalidator = Revalidator(identity, action="services.import", resource=where)
    for record, _lines in follow(manager().store, op.id, interval=0.25,
                                 stop=lambda: not revalidator.ok()):
        ws.send(json.dumps(import_frame(record)))
        if not record.active:
            return None
    return revalidator.close(ws)


def import_frame(op: Operation) -> dict[str, Any]:
    """One progress frame, or the final one once the import ended."""
    progress = {"percent": op.percent, "bytes": op.result.get("bytes", 0),
                "total": op.result.get("total")}
    if op.active:
        return progress
    return {**progress, "status": FINAL.get(op.status, "failed"), "error": op.error or None}


def register(bp: Blueprint) -> None:
    """The sockets' routes, added by the blueprint hook."""
    one = "/ws/services/<kind>/<name>"
    route(f"{one}/logs", bp=bp)(logs_socket)
    route(f"{one}/console", bp=bp)(console_socket)
    route(f"{one}/operations/<op_id>", bp=bp)(operation_socket)
    route("/ws/services/create", bp=bp)(create_socket)
    route("/ws/services/import/<task>", bp=bp)(import_socket)
