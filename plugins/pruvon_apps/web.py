"""What the apps plugin's pages, API and WebSockets share: the request's parts.

Each web request builds its :class:`~pruvon_core.guard.Guard` (the signed-in
actor, the client address), its :class:`operations.AppsDeps` and so its
operations runner here; the front-end modules (``pages.py``, ``api.py``,
``ws.py``, ``settings_web.py``) only parse input, call the runner or a service
function, and render.  Typed errors are not caught by views: the web app's
one error handler turns them into the page message or ``{"error": …}`` with
the status of ``pruvon_web.statuses``.
"""

from __future__ import annotations

from typing import Any

from flask import g
from pruvon_web.public import client_ip, web_state

from pruvon_apps import operations, service
from pruvon_core.dokku import errors
from pruvon_core.hosts import op_target
from pruvon_core.operations import Operation, OperationManager, OperationNotFound
from pruvon_core.opspecs import Runner

API = "/api/v1/apps"


def guard() -> service.Guard:
    state = web_state()
    return service.Guard(g.identity.actor, state.config(), state.state_dir, client_ip(),
                         extra={"via": g.identity.via})


def client() -> Any:
    return web_state().client()


def manager() -> OperationManager:
    return OperationManager(web_state().state_dir)


def domain_index() -> service.DomainIndex:
    return service.DomainIndex(web_state().state_dir)


def storage_dir() -> str:
    return service.storage_dir(web_state().config())


def deps() -> operations.AppsDeps:
    state = web_state()
    return operations.AppsDeps(client(), state.state_dir, storage_dir(), domain_index(),
                               state.store)


def runner() -> Runner:
    """The one operations runner, for this request's actor."""
    return operations.runner(guard(), deps())


def visible_app(app: str) -> str:
    """An existing app this actor may read; 404 otherwise (never reveals that it exists)."""
    if not guard().allowed("apps.read", app):
        raise errors.AppNotFound(f"App {app} does not exist", exit_code=20)
    return service.require_app(client(), app)


def readable(app: str) -> str:
    """``app`` if this actor may read it (without asking Dokku); 404 otherwise."""
    if not guard().allowed("apps.read", app):
        raise errors.AppNotFound(f"App {app} does not exist", exit_code=20)
    return app


def app_operation(app: str, op_id: str) -> Operation:
    op = manager().store.get(op_id)
    if op.target != op_target("app", app):
        raise OperationNotFound(f"no operation {op_id!r} on {app}")
    return op


def op_json(op: Operation, after: int | None = None) -> dict[str, Any]:
    return manager().store.as_json(op, after)


def cancel(app: str, op_id: str) -> Operation:
    """Ask an operation to stop: it needs the permission that started it (audited)."""
    op = app_operation(readable(app), op_id)
    action = operations.cancel_action(op.kind)
    check = guard()
    check.require(action, None if op.kind == operations.CREATE.kind else app)
    check.record(action, app, "ok", what="cancel", operation=op_id)
    return manager().store.request_cancel(op_id)
