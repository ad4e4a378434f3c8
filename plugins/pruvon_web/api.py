"""The JSON API under ``/api/v1/`` and its OpenAPI 3.1 document.

Endpoints are declared with :func:`endpoint`, which registers the Flask route
*and* its OpenAPI operation from the same arguments, so the document served at
``/api/v1/openapi.json`` cannot drift from the code.  Plugins may declare API
routes on their own blueprints with the same decorator (pass ``bp=``).

Authentication: a session cookie (with the CSRF header on writes) or
``Authorization: Bearer <api key>``.  Errors are ``{"error": "..."}`` with the
proper status: 400 bad input, 401 no or invalid credentials, 403 not allowed,
404 unknown object, 409 conflict, 502 when Dokku fails (or answers nonsense), 503
when it cannot be run, 504 when it timed out (one table:
:mod:`pruvon_web.statuses`, applied by the app's error handler).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from pruvon_core import __version__
from pruvon_web import usersedit
from pruvon_web.context import web_state
from pruvon_web.inputs import BadInput, json_object, query_int
from pruvon_web.security import Identity, audit_event, json_error
from pruvon_web.usersedit import Grants, UserEditError
from pruvon_web.views import allowed

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass
class Operation:
    """One documented API operation."""

    path: str  # OpenAPI style: /users/{username}
    method: str
    summary: str
    action: str | None
    responses: dict[str, str]
    request: dict[str, Any] | None = None
    response_schema: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)


OPERATIONS: list[Operation] = []

# documented on every route that calls Dokku (pruvon_web.statuses maps them)
DOKKU_RESPONSES = {"502": "Dokku failed or its output did not parse",
                   "503": "Dokku cannot be run", "504": "Dokku timed out"}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}


def _openapi_path(rule: str) -> str:
    """Flask ``/users/<username>`` → OpenAPI ``/users/{username}``."""
    out = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = "{" + part[1:-1].split(":")[-1] + "}"
        out.append(part)
    return "/".join(out)


def endpoint(
    rule: str,
    method: str,
    summary: str,
    *,
    action: str | None = None,
    responses: dict[str, str] | None = None,
    request_schema: dict[str, Any] | None = None,
    response_schema: dict[str, Any] | None = None,
    bp: Blueprint = bp,
    prefix: str = "/api/v1",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a route and document it in one place.

    ``action`` is checked before the view runs (None = any signed-in actor;
    views that need a per-object check make it themselves).
    """
    codes = {"401": "Not signed in, or API key invalid, expired or revoked"}
    if action:
        codes["403"] = f"Not allowed ({action}) or outside the key's scopes"
    codes.update(responses or {"200": "OK"})
    OPERATIONS.append(
        Operation(
            path=prefix + _openapi_path(rule), method=method.lower(), summary=summary,
            action=action, responses=codes, request=request_schema,
            response_schema=response_schema, tags=[rule.strip("/").split("/")[0] or "api"],
        )
    )

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(**kwargs: Any) -> Any:
            if action and not allowed(g.identity, action):
                return json_error(f"not allowed: {action}", 403)
            return view(**kwargs)

        guarded.__name__ = view.__name__
        guarded.__doc__ = view.__doc__
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=guarded, methods=[method])
        return guarded

    return decorator


# the JSON body as an object (unknown fields refused); kept here for plugins importing it
body = json_object


def _string(data: dict[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise UserEditError(f"{key}: must be a string")
    return value


def _string_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserEditError(f"{key}: must be a list of strings")
    return value


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise UserEditError(f"{key}: must be true or false")
    return value


# --------------------------------------------------------------------------- me
ME_SCHEMA = {
    "type": "object",
    "properties": {
        "username": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "user", "viewer"]},
        "auth": {"type": "string", "enum": ["session", "apikey"]},
        "scopes": {"type": "array", "items": {"type": "string"}},
        "actions": {"type": "array", "items": {"type": "string"}},
    },
}


@endpoint("/me", "GET", "Who am I: user, role, how authenticated, what I may do",
          response_schema=ME_SCHEMA)
def me() -> Any:
    from pruvon_core.permissions import actions

    identity: Identity = g.identity
    return {
        "username": identity.record.username,
        "role": identity.record.role,
        "auth": identity.via,
        "scopes": sorted(identity.actor.scopes) if identity.via == "apikey" else None,
        "actions": sorted(name for name in actions() if allowed(identity, name)),
    }


# --------------------------------------------------------------------------- metrics
@endpoint("/metrics", "GET", "Host CPU, load, memory and disk: the server's recent samples "
          "(oldest first; no new reading per request)", action="dashboard.read")
def metrics_history() -> Any:
    from pruvon_web.metrics import ring

    samples = ring()
    samples.latest()  # a fresh process takes its first sample here
    return {"interval": samples.interval, "size": samples.size,
            "samples": [s.as_dict() for s in samples.history()]}


# --------------------------------------------------------------------------- users
USER_SCHEMA = {
    "type": "object",
    "properties": {
        "username": {"type": "string"},
        "role": {"type": "string"},
        "disabled": {"type": "boolean"},
        "apps": {"type": "array", "items": {"type": "string"}},
        "services": {"type": "object",
                     "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "routes": {"type": "array", "items": {"type": "string"}},
        "can_create_apps": {"type": "boolean"},
        "can_create_services": {"type": "boolean"},
        "legacy_admin": {"type": "boolean", "readOnly": True},
        # the hosts the grants apply on (null: every host); set with `pruvon user hosts`
        "hosts": {"type": ["array", "null"], "items": {"type": "string"}, "readOnly": True},
    },
}
USER_WRITE_SCHEMA = {
    **USER_SCHEMA,
    "additionalProperties": False,
    "properties": {
        **{k: v for k, v in USER_SCHEMA["properties"].items()
           if k not in ("legacy_admin", "hosts")},
        "password": {"type": "string", "minLength": 12},
    },
}


@endpoint("/users", "GET", "List local users (never password hashes)", action="users.read",
          response_schema={"type": "object", "properties": {
              "users": {"type": "array", "items": USER_SCHEMA}}})
def users_list() -> Any:
    return {"users": [usersedit.user_summary(u) for u in web_state().config().users]}


def _grants(data: dict[str, Any]) -> Grants:
    services = data.get("services", {})
    if not isinstance(services, dict) or not all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in services.values()
    ):
        raise UserEditError("services: must map a service type to a list of names")
    return Grants(
        apps=_string_list(data, "apps"), services=services, routes=_string_list(data, "routes"),
        can_create_apps=_bool(data, "can_create_apps"),
        can_create_services=_bool(data, "can_create_services"),
    )


@endpoint("/users", "POST", "Create a user", action="users.write",
          request_schema=USER_WRITE_SCHEMA,
          responses={"201": "Created", "400": "Invalid input (message says which field)",
                     "409": "User exists", "507": "Disk full (nothing written)"})
def users_create() -> Any:
    try:
        data = body(USER_WRITE_SCHEMA)
        username = _string(data, "username", "")
        if web_state().config().user(username) is not None:
            return json_error(f"a user named {username!r} already exists", 409)
        config = usersedit.create_user(
            web_state().store, username, _string(data, "password", ""),
            _string(data, "role", "user"), _grants(data),
        )
    except UserEditError as exc:
        return json_error(str(exc), exc.status)
    audit_event(g.identity.actor, "users.create", f"user:{username}", "ok")
    record = config.user(username)
    return jsonify(usersedit.user_summary(record)), 201


@endpoint("/users/<username>", "GET", "One user", action="users.read",
          response_schema=USER_SCHEMA, responses={"200": "OK", "404": "No such user"})
def users_get(username: str) -> Any:
    record = web_state().config().user(username)
    if record is None:
        return json_error(f"no user named {username!r}", 404)
    return usersedit.user_summary(record)


@endpoint("/users/<username>", "PATCH",
          "Change role, disabled flag, grants or password (omitted fields keep their value)",
          action="users.write", request_schema=USER_WRITE_SCHEMA,
          responses={"200": "OK", "400": "Invalid input", "404": "No such user",
                     "507": "Disk full (nothing written)"})
def users_patch(username: str) -> Any:
    if web_state().config().user(username) is None:
        return json_error(f"no user named {username!r}", 404)
    try:
        changes = _user_changes(username, body(USER_WRITE_SCHEMA))
        config = usersedit.patch_user(web_state().store, username, **changes)
    except UserEditError as exc:
        return json_error(str(exc), exc.status)
    audit_event(g.identity.actor, "users.update", f"user:{username}", "ok",
                fields=sorted(changes))
    return usersedit.user_summary(config.user(username))


def _user_changes(username: str, data: dict[str, Any]) -> dict[str, Any]:
    """The fields a PATCH sent, type-checked; nothing it omitted (no stale copies)."""
    if data.get("username", username) != username:
        raise UserEditError("username: cannot be changed (remove and add the user)")
    changes: dict[str, Any] = {}
    for key in ("role", "password"):
        if key in data:
            changes[key] = _string(data, key)
    for key in ("disabled", "can_create_apps", "can_create_services"):
        if key in data:
            changes[key] = _bool(data, key)
    for key in ("apps", "routes"):
        if key in data:
            changes[key] = _string_list(data, key)
    if "services" in data:
        changes["services"] = _grants({"services": data["services"]}).services
    return changes


@endpoint("/users/<username>", "DELETE", "Remove a user", action="users.write",
          responses={"204": "Removed", "400": "Refused (e.g. last admin)",
                     "404": "No such user"})
def users_delete(username: str) -> Any:
    if web_state().config().user(username) is None:
        return json_error(f"no user named {username!r}", 404)
    try:
        usersedit.delete_user(web_state().store, username)
    except UserEditError as exc:
        return json_error(str(exc), exc.status)
    audit_event(g.identity.actor, "users.delete", f"user:{username}", "ok")
    return Response(status=204)


# --------------------------------------------------------------------------- API keys
KEY_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "owner": {"type": "string"},
        "scopes": {"type": "array", "items": {"type": "string"}},
        "prefix": {"type": "string"},
        "name": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "last_used_at": {"type": ["string", "null"], "format": "date-time"},
        "revoked_at": {"type": ["string", "null"], "format": "date-time"},
        "expired": {"type": "boolean"},
        "revoked": {"type": "boolean"},
    },
}


def key_summary(key: Any) -> dict[str, Any]:
    """A key as the API shows it: never its secret or hash."""
    data = key.as_dict()
    data["revoked"] = key.revoked
    return data


def _visible_keys() -> list[Any]:
    from pruvon_auth.public import ApiKeyStore

    keys = ApiKeyStore(web_state().state_dir).list()
    if g.identity.record.role == "admin":
        return keys
    return [k for k in keys if k.owner == g.identity.record.username]


@endpoint("/apikeys", "GET", "API keys (all for admins, else the caller's own)",
          action="apikeys.write",
          response_schema={"type": "object", "properties": {
              "apikeys": {"type": "array", "items": KEY_SCHEMA}}})
def apikeys_list() -> Any:
    return {"apikeys": [key_summary(k) for k in _visible_keys()]}


APIKEY_CREATE_SCHEMA = {
    "type": "object",
    "required": ["scopes", "expires_in_days"],
    "additionalProperties": False,
    "properties": {
        "scopes": {"type": "array", "items": {"type": "string"}},
        "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 365},
        "name": {"type": "string", "maxLength": 64},
    },
}


@endpoint("/apikeys", "POST", "Create an API key for the caller; the token is shown only here",
          action="apikeys.write", request_schema=APIKEY_CREATE_SCHEMA,
          response_schema={"type": "object", "properties": {
              "token": {"type": "string"}, "apikey": KEY_SCHEMA}},
          responses={"201": "Created", "400": "Invalid scopes or expiry"})
def apikeys_create() -> Any:
    from pruvon_auth.public import ApiKeyStore

    from pruvon_web.admin_views import check_expiry, check_scopes, grantable_for

    try:
        data = body(APIKEY_CREATE_SCHEMA)
        scopes = _string_list(data, "scopes")
        days = data.get("expires_in_days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            raise UserEditError("expires_in_days: a whole number from 1 to 365")
        check_scopes(g.identity, scopes)
        expires = datetime.now(UTC) + timedelta(days=days)
        check_expiry(g.identity, expires)
        name = _string(data, "name", "")[:64]
        token, key = ApiKeyStore(web_state().state_dir).create(
            g.identity.record.username, scopes, expires,
            name=name, allowed=grantable_for(g.identity),
        )
    except (UserEditError, ValueError) as exc:
        return json_error(str(exc), 400)
    audit_event(g.identity.actor, "apikeys.create", f"apikey:{key.id}", "ok",
                owner=g.identity.record.username, scopes=scopes)
    return jsonify({"token": token, "apikey": key_summary(key)}), 201


@endpoint("/apikeys/<key_id>", "DELETE", "Revoke an API key (own, or any for admins)",
          action="apikeys.write", responses={"204": "Revoked", "404": "No such key"})
def apikeys_revoke(key_id: str) -> Any:
    from pruvon_auth.public import ApiKeyStore

    key = next((k for k in _visible_keys() if k.id == key_id), None)
    if key is None:
        return json_error(f"no API key {key_id!r}", 404)
    ApiKeyStore(web_state().state_dir).revoke(key_id)
    audit_event(g.identity.actor, "apikeys.revoke", f"apikey:{key_id}", "ok", owner=key.owner)
    return Response(status=204)


# --------------------------------------------------------------------------- audit
@endpoint("/audit", "GET", "Audit entries, newest last; filters user, action, result, since",
          action="audit.read", responses={"200": "OK", "400": "Bad filter"})
def audit_list() -> Any:
    from pruvon_core import audit

    args = request.args
    try:
        since = audit.parse_since(args["since"], name="since") if args.get("since") else None
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    limit = query_int("limit", 200, 1, 10000)
    result = args.get("result") or None
    if result and result not in audit.RESULTS:
        raise BadInput(f"result: one of {', '.join(audit.RESULTS)}")
    events = audit.read(user=args.get("user") or None, action=args.get("action") or None,
                        result=result, since=since, limit=limit, state_dir=web_state().state_dir)
    return {"events": [e.as_dict() for e in events]}


# --------------------------------------------------------------------------- openapi
@endpoint("/openapi.json", "GET", "This OpenAPI 3.1 document, generated from the code")
def openapi() -> Any:
    """The OpenAPI 3.1 document, generated from :data:`OPERATIONS`."""
    return openapi_document(current_app.url_map)


def openapi_document(url_map: Any = None) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {}
        for code, text in op.responses.items():
            schema = op.response_schema if code.startswith("2") else ERROR_SCHEMA
            entry: dict[str, Any] = {"description": text}
            if schema and code != "204":
                entry["content"] = {"application/json": {"schema": schema}}
            responses[code] = entry
        operation: dict[str, Any] = {
            "summary": op.summary, "tags": op.tags, "responses": responses,
            "operationId": f"{op.method}_{op.path}".replace("/", "_").replace("{", "")
            .replace("}", ""),
        }
        if op.action:
            operation["x-pruvon-action"] = op.action
        params = [p[1:-1] for p in op.path.split("/") if p.startswith("{")]
        if params:
            operation["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in params
            ]
        if op.request:
            operation["requestBody"] = {
                "required": True, "content": {"application/json": {"schema": op.request}}}
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pruvon API", "version": __version__,
                 "description": "Administer a Dokku host. Authenticate with "
                                "'Authorization: Bearer <api key>'."},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "pruvon_session"}}},
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }
