"""What the services plugin's pages, API and WebSockets share: the request's parts.

Each web request builds its guard (the signed-in actor on ``service``
resources, the client address), its :class:`~pruvon_services.operations.ServicesDeps`
and so its operations runner here; the front-end modules only parse input,
call the runner or a service function, and render.  Typed errors are not
caught by views: the web app's one error handler turns them into the page
message or ``{"error": …}`` with the status of ``pruvon_web.statuses``
(PermissionDenied 403, ServicesError 400, ServiceNotFound 404 …).
"""

from __future__ import annotations

from typing import Any

from flask import g
from pruvon_web.public import allowed, client_ip, web_state

from pruvon_core.dokku.errors import ServiceNotFound
from pruvon_core.guard import Guard
from pruvon_core.hosts import op_target, op_target_name
from pruvon_core.operations import (
    Operation,
    OperationConflict,
    OperationManager,
    OperationNotFound,
)
from pruvon_core.opspecs import Runner
from pruvon_core.permissions import Resource
from pruvon_services import operations
from pruvon_services.kinds import ServiceKind
from pruvon_services.service import Allowed, check_name, require_kind

API = "/api/v1/services"


def guard() -> Guard:
    state = web_state()
    return Guard(g.identity.actor, state.config(), state.state_dir, client_ip(),
                 extra={"via": g.identity.via}).for_kind("service")


def client() -> Any:
    return web_state().client()


def deps() -> operations.ServicesDeps:
    """This request's deps; the kinds on the host are looked up once per request."""
    cached = g.get("pruvon_services_deps")
    if cached is None:
        state = web_state()
        cached = operations.ServicesDeps(client(), state.state_dir, state.store, state.pruvon)
        g.pruvon_services_deps = cached
    return cached


def runner() -> Runner:
    """The one operations runner, for this request's actor."""
    return operations.runner(guard(), deps())


def manager() -> OperationManager:
    return OperationManager(web_state().state_dir)


def kinds() -> list[ServiceKind]:
    return deps().available()


def readable(kind: str, name: str, action: str = "services.read") -> tuple[ServiceKind, str]:
    """The kind and name of a service this actor may ``action`` (403 otherwise, audited).

    The name is checked first (400), then the grant (403, before any Dokku
    call), then that the kind's plugin is installed (400).
    """
    name = check_name(name)
    guard().require(action, operations.target(kind, name))
    return require_kind(kinds(), kind), name


def allowed_filter() -> Allowed:
    """``allowed(type, name)`` for :func:`list_services`: the actor's read grant."""
    check = guard()
    return lambda kind, name: check.allowed("services.read", operations.target(kind, name))


def service_operation(kind: str, name: str, op_id: str) -> Operation:
    """Operation ``op_id`` of this service (404 when it is another target's)."""
    op = manager().store.get(op_id)
    if op.target != op_target("service", operations.target(kind, name)):
        raise OperationNotFound(f"no operation {op_id!r} on {kind}/{name}")
    return op


def op_json(op: Operation, after: int | None = None) -> dict[str, Any]:
    return manager().store.as_json(op, after)


def cancel(kind: str, name: str, op_id: str) -> Operation:
    """Ask an operation to stop: it needs the permission that started it (audited)."""
    readable(kind, name)
    op = service_operation(kind, name, op_id)
    action = operations.cancel_action(op.kind)
    check, target = guard(), operations.target(kind, name)
    check.require(action, None if op.kind == operations.CREATE.kind else target)
    check.record(action, target, "ok", what="cancel", operation=op_id)
    return manager().store.request_cancel(op_id)


# --------------------------------------------------------------------------- pages, sockets
def resource(kind: str, name: str) -> Resource:
    return Resource("service", name, service_type=kind)


def can(action: str, kind: str | None = None, name: str | None = None) -> bool:
    """Whether the signed-in identity may ``action`` (on one service, or globally)."""
    where = resource(kind, name) if kind is not None and name is not None else None
    return allowed(g.identity, action, where)


def visible(kind: str, name: str, action: str = "services.read") -> tuple[ServiceKind, str]:
    """:func:`readable`, and the service exists on the host (one ``:exists`` call, 404)."""
    facts, name = readable(kind, name, action)
    if not client().service_exists(facts.name, name):
        raise ServiceNotFound(f"{facts.name} service {name} does not exist", exit_code=20)
    return facts, name


def require_idle(kind: str, name: str) -> None:
    """Refuse at once when another operation holds the service (before a long upload)."""
    running = manager().store.running(op_target("service", operations.target(kind, name)))
    if running is not None:
        raise OperationConflict(f"{running.title} is running on {kind} {name} "
                                f"({running.percent:.0f}%); try again when it ends", running)


def create_operation(op_id: str) -> Operation:
    """A create this actor started, followed under ``/services/create`` (404 for any other).

    A scoped creator is granted the new service only once it exists, so the
    service's own operation URL would refuse them while it is being created.
    """
    op = manager().store.get(op_id)
    if op.kind != operations.CREATE.kind or op.actor != guard().actor.id:
        raise OperationNotFound(f"no create operation {op_id!r} of yours")
    return op


def op_service(op: Operation) -> tuple[str, str]:
    """``(type, name)`` of a services operation's target ``service:<type>/<name>[@host]``."""
    return operations.split_target(op_target_name(op.target)[1])
