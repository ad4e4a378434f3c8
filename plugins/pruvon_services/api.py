"""The services plugin's JSON API (``/api/v1/services…``), documented by ``endpoint``.

Scoped like the pages: the list holds only services the actor may read; a
service outside the actor's ``services:`` grant is a ``403`` (audited) before
any Dokku call.  Each change reads its body (unknown fields refused), is
validated by its operation spec (``400`` before Dokku), and answers the
operation with ``202``, as the apps API does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from pruvon_web.public import DOKKU_RESPONSES, body, endpoint, query_int

from pruvon_core.dokku import errors
from pruvon_core.hosts import op_target
from pruvon_core.opspecs import OperationSpec
from pruvon_services import operations as ops
from pruvon_services.kinds import CREATE_FLAGS, UPGRADE_FLAGS
from pruvon_services.service import (
    list_services,
    require_kind,
    require_unlinked,
    service_detail,
)
from pruvon_services.web import (
    API,
    allowed_filter,
    cancel,
    client,
    guard,
    kinds,
    manager,
    op_json,
    readable,
    runner,
    service_operation,
)

MAX_OUTPUT_LINE = 10**9
READ_RESPONSES = {"200": "OK", "400": "Bad input (name, unknown type)",
                  "403": "Not your service", "404": "No such service", **DOKKU_RESPONSES}
OP_RESPONSES = {"202": "Operation started", "400": "Bad input", "403": "Not your service",
                "404": "No such service", "409": "The service is busy with another operation",
                **DOKKU_RESPONSES}
SERVICE_JSON = {"type": "object", "properties": {
    "type": {"type": "string"}, "name": {"type": "string"}, "status": {"type": "string"},
    "version": {"type": "string"}, "image": {"type": "string"},
    "exposed_ports": {"type": "string"}, "links": {"type": "array", "items": {"type": "string"}}}}


def _flags_schema(flags: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "object", "description": "the plugin's flags, e.g. {\"image-version\": "
            "\"17.2\"}", "properties": {f[2:]: {"type": "string"} for f in flags}}


def start(kind: str, name: str, spec: OperationSpec, params: dict[str, Any],
          action: str | None = None) -> tuple[dict[str, Any], int]:
    """The grant (403), then every field (400), then the service (404): ``202``.

    The grant comes first so an actor learns nothing about services outside
    it, not even which names are valid there.
    """
    kind_facts, name = readable(kind, name, action or spec.action)
    target = ops.target(kind_facts.name, name)
    run = runner()
    params = run.validate(spec, target, params)
    if not client().service_exists(kind_facts.name, name):
        raise errors.ServiceNotFound(f"{kind_facts.title} service {name} does not exist")
    return op_json(run.start(spec, target, params)), 202


# --------------------------------------------------------------------------- reads
def api_list() -> Any:
    wanted = request.args.get("type")
    chosen = [require_kind(kinds(), wanted)] if wanted else kinds()  # 400: not installed
    rows = list_services(client(), chosen, allowed_filter())
    return {"services": [row.as_dict() for row in rows]}


def api_types() -> Any:
    return {"types": [k.as_dict() for k in kinds()]}


def api_detail(kind: str, name: str) -> Any:
    """``?reveal=1`` shows the DSN's password: writers only (services.manage), audited."""
    facts, name = readable(kind, name)
    reveal = request.args.get("reveal") in ("1", "true")
    if reveal:
        check = guard()
        check.require(ops.REVEAL_ACTION, ops.target(facts.name, name))
        check.record(ops.REVEAL_ACTION, ops.target(facts.name, name), "ok", reveal="dsn")
    return service_detail(client(), facts, name).as_dict(reveal=reveal)


# --------------------------------------------------------------------------- changes
CREATE_SCHEMA = {"type": "object", "required": ["type", "name"], "properties": {
    "type": {"type": "string"}, "name": {"type": "string"}, "flags": _flags_schema(CREATE_FLAGS),
    "link": {"type": "array", "items": {"type": "string"}, "description": "apps to link"}}}


def api_create() -> Any:
    data = body(CREATE_SCHEMA)
    kind, name = str(data.get("type", "")), data.get("name", "")
    target = ops.target(kind, name if isinstance(name, str) else "")
    run = runner()
    return op_json(run.start(ops.CREATE, target, {"flags": data.get("flags") or {},
                                                  "link": data.get("link") or []})), 202


DESTROY_SCHEMA = {"type": "object", "properties": {
    "confirm": {"type": "string", "description": "the service name, typed"}}}


def api_destroy(kind: str, name: str) -> Any:
    """409 at once while linked (the operation checks again, under the lock)."""
    confirm = body(DESTROY_SCHEMA).get("confirm", "")
    facts, name = readable(kind, name, ops.DESTROY.action)
    runner().validate(ops.DESTROY, ops.target(facts.name, name), {"confirm": confirm})
    require_unlinked(client(), facts, name)
    return start(kind, name, ops.DESTROY, {"confirm": confirm})


LINK_SCHEMA = {"type": "object", "required": ["app"], "properties": {
    "app": {"type": "string"}, "alias": {"type": "string"}, "querystring": {"type": "string"}}}
UNLINK_SCHEMA = {"type": "object", "required": ["app"], "properties": {"app": {"type": "string"}}}


def api_link(kind: str, name: str) -> Any:
    data = body(LINK_SCHEMA)
    return start(kind, name, ops.LINK, {k: data.get(k) for k in ("app", "alias", "querystring")})


def api_unlink(kind: str, name: str) -> Any:
    return start(kind, name, ops.UNLINK, {"app": body(UNLINK_SCHEMA).get("app")})


def _lifecycle(spec: OperationSpec) -> Any:
    def view(kind: str, name: str) -> Any:
        return start(kind, name, spec, {})

    view.__name__ = f"api_{spec.kind.split('.')[1]}"
    return view


EXPOSE_SCHEMA = {"type": "object", "properties": {"ports": {
    "type": "array", "items": {"type": "string"},
    "description": "[IP:]PORT per service port; none: random ports"}}}


def api_expose(kind: str, name: str) -> Any:
    return start(kind, name, ops.EXPOSE, {"ports": body(EXPOSE_SCHEMA).get("ports") or []})


CLONE_SCHEMA = {"type": "object", "required": ["new_name"], "properties": {
    "new_name": {"type": "string"}, "flags": _flags_schema(CREATE_FLAGS)}}
UPGRADE_SCHEMA = {"type": "object", "properties": {"flags": _flags_schema(UPGRADE_FLAGS)}}


def api_clone(kind: str, name: str) -> Any:
    data = body(CLONE_SCHEMA)
    return start(kind, name, ops.CLONE, {"new_name": data.get("new_name"),
                                         "flags": data.get("flags") or {}})


def api_upgrade(kind: str, name: str) -> Any:
    return start(kind, name, ops.UPGRADE, {"flags": body(UPGRADE_SCHEMA).get("flags") or {}})


# --------------------------------------------------------------------------- operations
def api_operations(kind: str, name: str) -> Any:
    facts, name = readable(kind, name)
    target = op_target("service", ops.target(facts.name, name))
    return {"operations": [o.as_dict() for o in manager().store.list(target=target)]}


def api_operation(kind: str, name: str, op_id: str) -> Any:
    readable(kind, name)
    after = query_int("after", 0, 0, MAX_OUTPUT_LINE)
    return op_json(service_operation(kind, name, op_id), after=after)


def api_operation_cancel(kind: str, name: str, op_id: str) -> Any:
    return op_json(cancel(kind, name, op_id))


def register(bp: Blueprint) -> None:
    """The API's routes and their documentation, added by the blueprint hook."""
    def add(rule: str, method: str, summary: str, view: Any, **options: Any) -> None:
        endpoint(rule, method, summary, bp=bp, prefix="", **options)(view)

    one = f"{API}/<kind>/<name>"
    add(API, "GET", "Services the actor may read (?type=): status, version, ports, links",
        api_list, action="services.read",
        responses={"200": "OK", "400": "Unknown type", **DOKKU_RESPONSES},
        response_schema={"type": "object", "properties": {
            "services": {"type": "array", "items": SERVICE_JSON}}})
    add(f"{API}/types", "GET", "Service types installed on the host and their facts",
        api_types, action="services.read")
    add(API, "POST", "Create a service (background); the creator is granted it", api_create,
        action="services.create", request_schema=CREATE_SCHEMA,
        responses={"202": "Operation started", "400": "Bad input", "409": "Name busy",
                   **DOKKU_RESPONSES})
    add(one, "GET", "One service: <type>:info (DSN masked; ?reveal=1 for writers, audited)",
        api_detail, action="services.read", responses=READ_RESPONSES)
    add(one, "DELETE", "Destroy (confirm = the name); refused while linked; safeguards first",
        api_destroy, action="services.destroy", request_schema=DESTROY_SCHEMA,
        responses=OP_RESPONSES)
    add(f"{one}/link", "POST", "Link to an app (restarts it; background)", api_link,
        action="services.link", request_schema=LINK_SCHEMA, responses=OP_RESPONSES)
    add(f"{one}/unlink", "POST", "Unlink from an app (restarts it; background)", api_unlink,
        action="services.link", request_schema=UNLINK_SCHEMA, responses=OP_RESPONSES)
    for spec in (ops.START, ops.STOP, ops.RESTART, ops.UNEXPOSE):
        verb = spec.kind.split(".")[1]
        add(f"{one}/{verb}", "POST", f"{verb.capitalize()} the service (background)",
            _lifecycle(spec), action=spec.action, responses=OP_RESPONSES)
    add(f"{one}/expose", "POST", "Expose ports on the host (background)", api_expose,
        action="services.manage", request_schema=EXPOSE_SCHEMA, responses=OP_RESPONSES)
    add(f"{one}/clone", "POST", "Clone into a new service (needs services.create too)",
        api_clone, action="services.export", request_schema=CLONE_SCHEMA,
        responses=OP_RESPONSES)
    add(f"{one}/upgrade", "POST", "Recreate on another image/version (background)",
        api_upgrade, action="services.manage", request_schema=UPGRADE_SCHEMA,
        responses=OP_RESPONSES)
    add(f"{one}/operations", "GET", "The service's operations, newest first", api_operations,
        action="services.read", responses=READ_RESPONSES)
    add(f"{one}/operations/<op_id>", "GET", "One operation with output lines after ?after=N",
        api_operation, action="services.read", responses=READ_RESPONSES)
    add(f"{one}/operations/<op_id>/cancel", "POST", "Ask a running operation to stop",
        api_operation_cancel, action="services.read", responses={"200": "Cancel requested"})
