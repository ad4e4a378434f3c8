"""The docker plugin's JSON API (``/api/v1/docker…``), documented by ``endpoint``.

Each operation has its own path below the page that grants it
(``/api/v1/docker/restart/<ref>`` is ``/docker/restart/<ref>``), so a
``routes:`` grant, like an API key's scopes, can open one operation and not
the others.  Changes answer ``200`` with what was done: they are quick.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from pruvon_web.public import DOKKU_RESPONSES, body, endpoint, query_int

from pruvon_docker import host, operations
from pruvon_docker.web import API, client, runner

PARTS = ("containers", "images", "volumes", "networks", "apps")
READ_RESPONSES = {"200": "OK", "400": "Bad input", **DOKKU_RESPONSES}
CHANGE_RESPONSES = {"200": "Done", "400": "Bad input (or an unconfirmed Dokku container)",
                    "404": "No such container",
                    "409": "docker refused: the container is (not) running", **DOKKU_RESPONSES}
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False,
                                "properties": {}}
SIGNAL_SCHEMA = {"type": "object", "additionalProperties": False,
                 "properties": {"signal": {"type": "string", "enum": list(host.SIGNALS)}}}
REMOVE_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {
    "force": {"type": "boolean"},
    "confirm": {"type": "string",
                "description": "the owning Dokku app's or service's name, to confirm"}}}
PRUNE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["confirm"],
                "properties": {"all_images": {"type": "boolean"}, "volumes": {"type": "boolean"},
                               "confirm": {"type": "string", "const": operations.PRUNE_WORD}}}


class BadQuery(host.DockerInputError):
    pass


def _parts() -> tuple[str, ...]:
    asked = tuple(p for p in request.args.get("part", "").split(",") if p) or PARTS[:4]
    unknown = [p for p in asked if p not in PARTS]
    if unknown:
        raise BadQuery(f"part must be among {', '.join(PARTS)}, not {', '.join(unknown)}")
    return asked


def _flag(name: str) -> bool:
    value = request.args.get(name, "false")
    if value not in ("true", "false", "1", "0"):
        raise BadQuery(f"{name} must be true or false")
    return value in ("true", "1")


def _body(schema: dict[str, Any], optional: bool = False) -> dict[str, Any]:
    """The JSON body (unknown fields refused).  Only a route that documents no body
    (start, stop, restart) takes an empty one as ``{}``; the others need an object."""
    if optional and not request.get_data():
        return {}
    return body(schema)


def api_overview() -> Any:
    """``?part=containers,images,volumes,networks,apps`` (default: all but apps)."""
    parts = _parts()
    data = host.overview(client(), tuple(p for p in parts if p != "apps")).as_dict(
        tuple(p for p in parts if p != "apps"))
    if "apps" in parts:
        data["apps"] = {a: u.as_dict() for a, u in sorted(host.app_usage(client()).items())}
    return data


def lifecycle(action: str) -> Any:
    def view(ref: str) -> Any:
        params = _body(SIGNAL_SCHEMA) if action == "kill" else _body(EMPTY_SCHEMA, True)
        runner().apply(operations.LIFECYCLE[action], ref, params)
        return {"container": ref, "action": action}

    view.__name__ = f"api_docker_{action}"
    return view


def api_remove(ref: str) -> Any:
    runner().apply(operations.REMOVE, ref, _body(REMOVE_SCHEMA))
    return {"container": ref, "action": "remove"}


def api_logs(ref: str) -> Any:
    lines = query_int("lines", 100, 0, host.MAX_LOG_LINES)
    container = host.find(client(), ref)
    with client().docker_stream(host.logs_args(container.id, lines)) as stream:
        return {"container": container.id, "lines": list(stream)}


def api_prune_preview() -> Any:
    return {"plan": host.prune_plan(client(), _flag("all_images"), _flag("volumes")).as_dict()}


def api_prune() -> Any:
    params = _body(PRUNE_SCHEMA)
    return runner().apply(operations.PRUNE, operations.PRUNE_TARGET, params)


def register(bp: Blueprint) -> None:
    endpoint(f"{API}", "GET", "The host's containers (with CPU/memory), images, volumes, "
             "networks; ?part= picks some, part=apps adds per-app usage", action="docker.read",
             responses=READ_RESPONSES, bp=bp, prefix="")(api_overview)
    for action in host.ACTIONS:
        endpoint(f"{API}/{action}/<ref>", "POST", f"docker {action} one container",
                 action=f"docker.{action}", responses=CHANGE_RESPONSES, bp=bp, prefix="",
                 request_schema=SIGNAL_SCHEMA if action == "kill" else None)(lifecycle(action))
    endpoint(f"{API}/remove/<ref>", "POST", "docker rm one container (a Dokku-managed one "
             "only with confirm: its app's or service's name)", action="docker.remove", responses=CHANGE_RESPONSES,
             request_schema=REMOVE_SCHEMA, bp=bp, prefix="")(api_remove)
    endpoint(f"{API}/logs/<ref>", "GET", "A container's last ?lines= log lines (stdout and "
             "stderr)", action="docker.logs", responses=CHANGE_RESPONSES, bp=bp,
             prefix="")(api_logs)
    endpoint(f"{API}/prune", "GET", "What docker system prune would remove "
             "(?all_images=&volumes=)", action="docker.prune", responses=READ_RESPONSES, bp=bp,
             prefix="")(api_prune_preview)
    endpoint(f"{API}/prune", "POST", 'docker system prune; needs {"confirm": "prune"}',
             action="docker.prune", responses=READ_RESPONSES, request_schema=PRUNE_SCHEMA,
             bp=bp, prefix="")(api_prune)


__all__ = ["API", "register"]
