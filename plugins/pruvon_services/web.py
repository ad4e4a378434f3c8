"""What the services plugin's pages and WebSockets share: the request's parts.

Each web request builds its :class:`~pruvon_core.guard.Guard` (the signed-in
actor on ``service`` resources, the client address) and so its operations
runner here; ``pages.py``, ``transfer_web.py`` and ``ws.py`` only parse input,
call the runner or a service function, and render.  A service this actor may
not read answers 404 exactly like one that does not exist, so a scoped user
learns nothing about services outside their grant.
"""

from __future__ import annotations

from typing import Any

from flask import g
from pruvon_web.public import allowed, client_ip, web_state

from pruvon_core.dokku import errors, validate
from pruvon_core.guard import Guard
from pruvon_core.operations import (
    Operation,
    OperationConflict,
    OperationManager,
    OperationNotFound,
)
from pruvon_core.opspecs import Runner
from pruvon_core.permissions import Resource
from pruvon_services import operations
from pruvon_services.kinds import ServiceKind, available_kinds, kind_facts
from pruvon_services.operations import target


def resource(kind: str, name: str) -> Resource:
    return Resource("service", name, service_type=kind)


def can(action: str, kind: str | None = None, name: str | None = None) -> bool:
    """Whether the signed-in identity may ``action`` (on one service, or globally)."""
    where = resource(kind, name) if kind is not None and name is not None else None
    return allowed(g.identity, action, where)


def guard() -> Guard:
    state = web_state()
    return Guard(g.identity.actor, state.config(), state.state_dir, client_ip(),
                 extra={"via": g.identity.via}, kind="service")


def client() -> Any:
    return web_state().client()


def manager() -> OperationManager:
    return OperationManager(web_state().state_dir)


def runner() -> Runner:
    """The services' one operations runner, for this request's actor."""
    state = web_state()
    return operations.runner(guard(), operations.ServicesDeps(
        client(), state.state_dir, store=state.store, pruvon=state.pruvon))


def not_found(kind: str, name: str) -> errors.ServiceNotFound:
    return errors.ServiceNotFound(f"{kind} service {name} does not exist", exit_code=20)


def readable(kind: str, name: str) -> tuple[ServiceKind, str]:
    """``(kind facts, name)`` if valid and this actor may read it (no Dokku call); else 404."""
    try:
        kind, name = validate.service_type(kind), validate.service_name(name)
    except ValueError as exc:
        raise not_found(kind, name) from exc
    if not can("services.read", kind, name):
        raise not_found(kind, name)
    return kind_facts(kind, web_state().pruvon), name


def visible(kind: str, name: str) -> tuple[ServiceKind, str]:
    """:func:`readable`, its plugin installed (``plugin:list``, remembered) and the
    service on the host (one ``:exists`` call)."""
    facts, name = readable(kind, name)
    dokku = client()
    if facts.name not in {k.name for k in available_kinds(dokku, web_state().pruvon)}:
        raise errors.ServiceNotFound(f"no {facts.name} plugin is installed on this host",
                                     exit_code=20)
    if not dokku.service_exists(facts.name, name):
        raise not_found(facts.name, name)
    return facts, name


def require_idle(kind: str, name: str) -> None:
    """Refuse at once when another operation holds the service (before a long upload)."""
    running = manager().store.running(f"service:{target(kind, name)}")
    if running is not None:
        raise OperationConflict(f"{running.title} is running on {kind} {name} "
                                f"({running.percent:.0f}%); try again when it ends", running)


def service_operation(kind: str, name: str, op_id: str) -> Operation:
    """An operation on this service (another service's id is a 404, not a leak)."""
    op = manager().store.get(op_id)
    if op.target != f"service:{target(kind, name)}":
        raise OperationNotFound(f"no operation {op_id!r} on {kind} {name}")
    return op
