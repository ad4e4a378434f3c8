"""The apps plugin's JSON API (``/api/v1/apps/…``), documented by ``endpoint``.

Each endpoint reads its body (unknown fields refused), hands the fields to
the operations runner and answers the operation with ``202``, or the data.
Bad input is a ``400`` before any Dokku call or operation; every typed error
becomes ``{"error": …}`` with its status in the web app's one error handler.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from pruvon_web.public import DOKKU_RESPONSES, body, endpoint, query_int, web_state

from pruvon_apps import operations, service
from pruvon_apps.pages import create_request, start_create, start_rollback
from pruvon_apps.web import (
    API,
    app_operation,
    cancel,
    client,
    guard,
    manager,
    op_json,
    readable,
    runner,
    visible_app,
)
from pruvon_core.hosts import op_target
from pruvon_core.opspecs import OperationSpec

MAX_OUTPUT_LINE = 10**9  # ?after= of an operation's output: a line count
APP_RESPONSES = {"200": "OK", "400": "Bad input", "404": "No such app (or not yours)",
                 **DOKKU_RESPONSES}
OP_RESPONSES = {"202": "Operation started", "400": "Bad input", "404": "No such app",
                "409": "The app is busy with another operation", **DOKKU_RESPONSES}


def start(app: str, spec: OperationSpec, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Check every field, then find the app, then start the operation: ``202``.

    In that order: bad input is a 400 before any Dokku call or operation
    (``{"action": "restart", "process": "--all"}`` used to be accepted with
    202 and fail later).
    """
    run = runner()
    params = run.validate(spec, app, params)
    visible_app(app)
    return op_json(run.start(spec, app, params)), 202


def mounts(app: str) -> dict[str, Any]:
    return {"mounts": service.mounts_view(client(), app)}


# --------------------------------------------------------------------------- reads
def api_app_detail(app: str) -> Any:
    return service.app_detail(client(), visible_app(app)).as_dict()


def api_config(app: str) -> Any:
    visible_app(app)
    check = guard()
    reveal = check.allowed("apps.config.read", app)
    if reveal:
        check.record("apps.config.read", app, "ok", what="api")
    return {"config": dict(service.config_view(client(), app, reveal)), "masked": not reveal}


def api_ports_get(app: str) -> Any:
    return service.ports_view(client(), visible_app(app))


def api_storage_get(app: str) -> Any:
    return mounts(visible_app(app))


# --------------------------------------------------------------------------- changes
CONFIG_SCHEMA = {"type": "object", "properties": {
    "set": {"type": "object", "additionalProperties": {"type": "string"}},
    "unset": {"type": "array", "items": {"type": "string"}},
    "restart": {"type": "boolean"}}}


def api_config_patch(app: str) -> Any:
    data = body(CONFIG_SCHEMA)
    params = {"set": data.get("set", {}), "unset": data.get("unset", [])}
    restart = data.get("restart", False)
    if not isinstance(restart, bool):
        raise service.AppsError("restart: must be true or false")
    if restart:
        return start(app, operations.CONFIG, params)
    run = runner()
    run.validate(operations.CONFIG_NO_RESTART, app, params)
    visible_app(app)
    run.apply(operations.CONFIG_NO_RESTART, app, params)
    return {"app": app, "set": sorted(params["set"]), "unset": sorted(params["unset"]),
            "restart": False}


def list_change_schema(actions: tuple[str, ...], field: str) -> dict[str, Any]:
    """The body of an ``add|remove|set|clear`` change: the action and a list of strings."""
    return {"type": "object", "properties": {
        "action": {"type": "string", "enum": list(actions)},
        field: {"type": "array", "items": {"type": "string"}}}}


DOMAINS_SCHEMA = list_change_schema(service.DOMAIN_ACTIONS, "domains")
PORTS_SCHEMA = list_change_schema(service.PORT_ACTIONS, "mappings")


def api_domains(app: str) -> Any:
    data = body(DOMAINS_SCHEMA)
    return start(app, operations.DOMAINS, {"change": data.get("action", ""),
                                           "domains": data.get("domains", [])})


def api_ports(app: str) -> Any:
    data = body(PORTS_SCHEMA)
    return start(app, operations.PORTS, {"change": data.get("action", ""),
                                         "ports": data.get("mappings", [])})


STORAGE_SCHEMA = {"type": "object", "properties": {
    "action": {"type": "string", "enum": ["mount", "unmount"]},
    "host": {"type": "string"}, "container": {"type": "string"}}}


def api_storage(app: str) -> Any:
    visible_app(app)
    data = body(STORAGE_SCHEMA)
    runner().apply(operations.STORAGE, app, {
        "change": str(data.get("action", "")), "host": str(data.get("host", "")),
        "container": str(data.get("container", ""))})
    return mounts(app)


PS_SCHEMA = {"type": "object", "properties": {
    "action": {"type": "string", "enum": list(service.PS_ACTIONS)},
    "process": {"type": "string"}}}


def api_ps(app: str) -> Any:
    data = body(PS_SCHEMA)
    return start(app, operations.PS, {"action": data.get("action"),
                                      "process": data.get("process")})


SCALE_SCHEMA = {"type": "object", "properties": {
    "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}}


def api_scale(app: str) -> Any:
    counts = body(SCALE_SCHEMA).get("counts")
    if not isinstance(counts, dict) or not counts:
        raise service.AppsError("counts: must be an object such as {\"web\": 2}")
    pairs = [f"{k}={v}" if isinstance(v, int) and not isinstance(v, bool) else f"{k}=x"
             for k, v in counts.items()]
    return start(app, operations.SCALE, {"counts": service.parse_scale(pairs)})


DEPLOY_SCHEMA = {"type": "object", "properties": {"image": {"type": "string"}}}


def api_deploy(app: str) -> Any:
    return start(app, operations.DEPLOY, {"image": body(DEPLOY_SCHEMA).get("image", "")})


DESTROY_SCHEMA = {"type": "object", "properties": {
    "confirm": {"type": "string"}, "with_services": {"type": "boolean"}}}


def api_destroy(app: str) -> Any:
    data = body(DESTROY_SCHEMA)
    return start(app, operations.DESTROY, {"confirm": data.get("confirm", ""),
                                           "with_services": data.get("with_services", False)})


CREATE_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string"}, "image": {"type": "string"}, "git_repo": {"type": "string"},
    "git_ref": {"type": "string"},
    "services": {"type": "array", "items": {"type": "string"},
                 "description": "TYPE:NAME to link, +TYPE:NAME to create and link"},
    "domains": {"type": "array", "items": {"type": "string"}},
    "env": {"type": "string", "description": "KEY=value lines"},
    "ports": {"type": "array", "items": {"type": "string"}},
    "mounts": {"type": "string", "description": "HOST:CONTAINER lines"}}}


def api_create() -> Any:
    return op_json(start_create(create_request(body(CREATE_SCHEMA)))), 202


def api_kill(app: str, container: str) -> Any:
    run = runner()
    params = run.validate(operations.KILL, app, {"container": container})
    visible_app(app)
    return run.apply(operations.KILL, app, params)


def api_linked(app: str) -> Any:
    from pruvon_apps import extras

    return {"services": extras.linked(client(), visible_app(app))}


def api_files(app: str) -> Any:
    from pruvon_apps import files

    return files.app_files(client(), visible_app(app), files.lib_root(web_state().config()))


def api_templates() -> Any:
    from pruvon_apps import presets

    return {"templates": [{**t.as_dict(), "fields": presets.form_fields(t)}
                          for t in presets.templates(web_state().pruvon)]}


def api_check_name() -> Any:
    why = service.check_name(client(), request.args.get("name", ""))
    return {"ok": why is None, "error": why}


# --------------------------------------------------------------------------- operations
def api_operations(app: str) -> Any:
    return {"operations": [o.as_dict() for o in
                           manager().store.list(target=op_target("app", readable(app)))]}


def api_operation(app: str, op_id: str) -> Any:
    readable(app)
    after = query_int("after", 0, 0, MAX_OUTPUT_LINE)
    return op_json(app_operation(app, op_id), after=after)


def api_operation_cancel(app: str, op_id: str) -> Any:
    return op_json(cancel(app, op_id))


def api_rollback(app: str, op_id: str) -> Any:
    return op_json(start_rollback(app_operation(app, op_id))), 202


def register(bp: Blueprint) -> None:
    """The API's routes and their documentation, added by the blueprint hook."""
    def add(rule: str, method: str, summary: str, view: Any, **options: Any) -> None:
        endpoint(rule, method, summary, bp=bp, prefix="", **options)(view)

    add(f"{API}/<app>", "GET", "One app: state, containers, domains, scale, deploy source",
        api_app_detail, action="apps.read", responses=APP_RESPONSES)
    add(f"{API}/<app>/config", "GET", "Environment variables (values need apps.config.read)",
        api_config, action="apps.read", responses=APP_RESPONSES)
    add(f"{API}/<app>/config", "PATCH", "Set/unset variables; restart=true runs in background",
        api_config_patch, action="apps.config.write", request_schema=CONFIG_SCHEMA,
        responses={**APP_RESPONSES, **OP_RESPONSES})
    add(f"{API}/<app>/domains", "POST", "Add, remove, set or clear domains (background)",
        api_domains, action="apps.domains.write", request_schema=DOMAINS_SCHEMA,
        responses=OP_RESPONSES)
    add(f"{API}/<app>/ports", "GET", "Configured and detected port mappings", api_ports_get,
        action="apps.read", responses=APP_RESPONSES)
    add(f"{API}/<app>/ports", "POST", "Add, remove, set or clear port mappings (background)",
        api_ports, action="apps.ports.write", request_schema=PORTS_SCHEMA,
        responses=OP_RESPONSES)
    add(f"{API}/<app>/storage", "GET", "Storage mounts", api_storage_get, action="apps.read",
        responses=APP_RESPONSES)
    add(f"{API}/<app>/storage", "POST", "Mount or unmount (host inside Dokku's storage dir)",
        api_storage, action="apps.storage.write", request_schema=STORAGE_SCHEMA,
        responses=APP_RESPONSES)
    add(f"{API}/<app>/ps", "POST", "start/stop/restart/rebuild (background, verified)", api_ps,
        action="apps.ps.write", request_schema=PS_SCHEMA, responses=OP_RESPONSES)
    add(f"{API}/<app>/scale", "POST", "Scale process types (background, verified)", api_scale,
        action="apps.ps.write", request_schema=SCALE_SCHEMA, responses=OP_RESPONSES)
    add(f"{API}/<app>/deploy", "POST", "Deploy a docker image (background)", api_deploy,
        action="apps.deploy", request_schema=DEPLOY_SCHEMA, responses=OP_RESPONSES)
    add(f"{API}/<app>", "DELETE", "Destroy (confirm = the app name); snapshot first",
        api_destroy, action="apps.destroy", request_schema=DESTROY_SCHEMA,
        responses=OP_RESPONSES)
    add(f"{API}", "POST", "Create an app (background); the creator is granted it", api_create,
        action="apps.create", request_schema=CREATE_SCHEMA,
        responses={"202": "Operation started", "400": "Bad input", "409": "Name busy"})
    add(f"{API}/<app>/containers/<container>/kill", "POST",
        "docker kill one of the app's containers (id, name or dyno such as web.1)", api_kill,
        action="apps.ps.write", responses=APP_RESPONSES)
    add(f"{API}/<app>/services", "GET", "Services linked to the app (type, name)", api_linked,
        action="apps.read", responses=APP_RESPONSES)
    add(f"{API}/<app>/files", "GET", "The Procfile and app.json Dokku extracted at the last "
        "deploy: per file a state (present, missing, not_deployed, too_large, unreadable), "
        "content, size and message", api_files, action="apps.read",
        responses={**APP_RESPONSES, "503": "Dokku is reached over ssh: the files are not readable"})
    add("/api/v1/app-templates", "GET", "The create wizard's app templates and the fields "
        "each fills", api_templates, action="apps.create")
    add(f"{API}/create", "GET", "Check a new app name: {\"ok\": bool, \"error\": …}",
        api_check_name, action="apps.create")
    add(f"{API}/<app>/operations", "GET", "The app's operations, newest first", api_operations,
        action="apps.read")
    add(f"{API}/<app>/operations/<op_id>", "GET",
        "One operation with output lines after ?after=N", api_operation, action="apps.read")
    add(f"{API}/<app>/operations/<op_id>/cancel", "POST", "Ask a running operation to stop",
        api_operation_cancel, action="apps.read", responses={"200": "Cancel requested"})
    add(f"{API}/<app>/operations/<op_id>/rollback", "POST",
        "Undo the completed steps of a failed create", api_rollback, action="apps.create",
        responses=OP_RESPONSES)
