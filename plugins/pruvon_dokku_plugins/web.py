"""``/plugins`` and ``/api/v1/plugins``: Dokku's plugins, changes with live output.

A change starts a background operation and the page follows it on
``/plugins/operations/<id>`` (the output polled from the JSON API, or the page
refreshing itself without JavaScript).
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request
from pruvon_web.public import (
    DOKKU_RESPONSES,
    add_pages,
    api_adder,
    body,
    client_ip,
    form_page,
    query_int,
    render_error,
    web_state,
)

from pruvon_core.guard import Guard
from pruvon_core.operations import Operation, OperationManager, OperationNotFound
from pruvon_core.opspecs import OperationSpec
from pruvon_dokku_plugins import operations, service

API = "/api/v1/plugins"
OP_RESPONSES = {"202": "Operation started", "400": "Bad input",
                "409": "Another plugin change is running", **DOKKU_RESPONSES}


def guard() -> Guard:
    state = web_state()
    return Guard(g.identity.actor, state.config(), state.state_dir, client_ip(),
                 extra={"via": g.identity.via}, kind=operations.RESOURCE)


def start(spec: OperationSpec, **params: Any) -> Operation:
    state = web_state()
    deps = operations.PluginsDeps(state.client(), state.state_dir)
    return operations.runner(guard(), deps).start(spec, operations.TARGET, params)


def plugin_operation(op_id: str) -> Operation:
    op = OperationManager(web_state().state_dir).store.get(op_id)
    if op.target != f"{operations.RESOURCE}:{operations.TARGET}":
        raise OperationNotFound(f"no plugin operation {op_id!r}")
    return op


# --------------------------------------------------------------------------- pages
def render_page(status: int = 200) -> Any:
    check = guard()
    if not check.allowed("plugins.read"):
        return render_error(403, "Your account may not see Dokku's plugins.")
    store = OperationManager(web_state().state_dir).store
    recent = store.list(target=f"{operations.RESOURCE}:{operations.TARGET}")[:10]
    client = web_state().client()
    return render_template("dokku_plugins/index.html",
                           data=service.plugins_view(client), recent=recent,
                           letsencrypt=service.letsencrypt_view(client),
                           can_write=check.allowed("plugins.write"),
                           can_letsencrypt=check.allowed("plugins.letsencrypt.write"),
                           form=request.form if request.method == "POST" else {}), status


form_view = form_page(lambda status, **_: render_page(status))


def plugins_page() -> Any:
    return render_page()


def op_page(op: Operation) -> Any:
    return redirect(f"/plugins/operations/{op.id}", 303)


@form_view
def install_post() -> Any:
    return op_page(start(operations.INSTALL, url=request.form.get("url", ""),
                         name=request.form.get("name") or None))


@form_view
def action_post(name: str) -> Any:
    return op_page(start(operations.ACTION, action=request.form.get("action", ""), name=name,
                         committish=request.form.get("committish") or None))


def apply_letsencrypt(values: dict[str, Any]) -> Any:
    state = web_state()
    deps = operations.PluginsDeps(state.client(), state.state_dir)
    return operations.runner(guard(), deps).apply(operations.LETSENCRYPT, "letsencrypt",
                                                  {"values": values})


@form_view
def letsencrypt_post() -> Any:
    apply_letsencrypt({"email": request.form.get("email", ""),
                       "autorenew": request.form.get("autorenew") == "on"})
    flash("Let's Encrypt settings saved.", "success")
    return redirect("/plugins#letsencrypt", 303)


def operation_page(op_id: str) -> Any:
    if not guard().allowed("plugins.read"):
        return render_error(403, "Your account may not see Dokku's plugins.")
    op = plugin_operation(op_id)
    output = OperationManager(web_state().state_dir).store.output(op.id)
    return render_template("dokku_plugins/operation.html", op=op, output=output)


# --------------------------------------------------------------------------- API
def api_list() -> Any:
    return service.plugins_view(web_state().client())


INSTALL_SCHEMA = {"type": "object", "properties": {
    "url": {"type": "string", "description": "plugin URL or an official plugin's name"},
    "name": {"type": "string"}}}


def api_install() -> Any:
    data = body(INSTALL_SCHEMA)
    return start(operations.INSTALL, url=data.get("url", ""), name=data.get("name")).as_dict(), 202


ACTION_SCHEMA = {"type": "object", "properties": {
    "action": {"type": "string", "enum": list(service.ACTIONS)},
    "committish": {"type": "string"}}}


def api_action(name: str) -> Any:
    data = body(ACTION_SCHEMA)
    return start(operations.ACTION, action=data.get("action", ""), name=name,
                 committish=data.get("committish")).as_dict(), 202


def api_letsencrypt_get() -> Any:
    return {"letsencrypt": service.letsencrypt_view(web_state().client())}


LETSENCRYPT_SCHEMA = {"type": "object", "properties": {
    "email": {"type": "string"}, "autorenew": {"type": "boolean"}}}


def api_letsencrypt() -> Any:
    return {"letsencrypt": apply_letsencrypt(body(LETSENCRYPT_SCHEMA))}


def api_operation(op_id: str) -> Any:
    op = plugin_operation(op_id)
    data = op.as_dict()
    data["output"] = OperationManager(web_state().state_dir).store.output(
        op.id, after=query_int("after", 0, 0, 10**9))
    return data


@functools.cache
def blueprint() -> Blueprint:
    bp = Blueprint("dokku_plugins", __name__, template_folder="templates",
                   static_folder="static", static_url_path="/static/dokku-plugins")
    add_pages(bp, (
        ("/plugins", plugins_page, ["GET"]),
        ("/plugins/install", install_post, ["POST"]),
        ("/plugins/<name>/action", action_post, ["POST"]),
        ("/plugins/operations/<op_id>", operation_page, ["GET"]),
        ("/plugins/letsencrypt", letsencrypt_post, ["POST"]),
    ))
    add = api_adder(bp)
    add(API, "GET", "Installed plugins (version, enabled) and official ones not installed",
        api_list, "plugins.read")
    add(API, "POST", "Install a plugin from a URL or an official name (background)",
        api_install, "plugins.write", request_schema=INSTALL_SCHEMA, responses=OP_RESPONSES)
    add(f"{API}/<name>", "POST", "update, enable, disable or uninstall (background)", api_action,
        "plugins.write", request_schema=ACTION_SCHEMA, responses=OP_RESPONSES)
    add(f"{API}/letsencrypt", "GET", "Let's Encrypt global settings and certificate expiries "
        "(null when not installed)", api_letsencrypt_get, "plugins.read")
    add(f"{API}/letsencrypt", "PUT", "Set the global e-mail, turn auto-renew on or off",
        api_letsencrypt, "plugins.letsencrypt.write", request_schema=LETSENCRYPT_SCHEMA,
        responses={"200": "OK", "400": "Bad input", **DOKKU_RESPONSES})
    add(f"{API}/operations/<op_id>", "GET", "A plugin operation with output after ?after=N",
        api_operation, "plugins.read")
    return bp
