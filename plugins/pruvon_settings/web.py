"""``/settings`` and ``/api/v1/settings``: the page and the JSON API of host settings.

Views only parse input and hand it to the specs' runner (``operations.py``);
typed errors go to the web app's one error handler (JSON ``{"error": …}``
with its status), except on the page, where a refused form is re-rendered
with the message and the status (400 bad input, 5xx Dokku).
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
    render_error,
    web_state,
)

from pruvon_core.guard import Guard
from pruvon_core.opspecs import OperationSpec, Runner
from pruvon_settings import operations, service

API = "/api/v1/settings"
RESPONSES = {"200": "OK", "400": "Bad input", **DOKKU_RESPONSES}


def guard() -> Guard:
    state = web_state()
    return Guard(g.identity.actor, state.config(), state.state_dir, client_ip(),
                 extra={"via": g.identity.via}, kind=operations.RESOURCE)


def runner() -> Runner:
    state = web_state()
    deps = operations.SettingsDeps(state.client(), state.state_dir, state.config())
    return operations.runner(guard(), deps)


def apply(spec: OperationSpec, target: str, **params: Any) -> Any:
    return runner().apply(spec, target, params)


# --------------------------------------------------------------------------- page
def render_page(status: int = 200) -> Any:
    check = guard()
    if not check.allowed("settings.read"):
        return render_error(403, "Your account may not see the host settings.")
    data = service.overview(web_state().client())
    can = {a: check.allowed(a) for a in ("settings.ssh_keys.write", "settings.domains.write",
                                         "settings.cron.write")}
    github = service.github_users(web_state().config())
    return render_template("settings/index.html", data=data, can=can, github=github,
                           form=request.form if request.method == "POST" else {}), status


form_view = form_page(lambda status, **_: render_page(status))


def settings_page() -> Any:
    return render_page()


@form_view
def key_add_post() -> Any:
    added = apply(operations.SSH_KEY_ADD, "ssh-keys", name=request.form.get("name", "").strip(),
                  key=request.form.get("key", ""))
    flash(f"SSH key {added['name']} added: {added['fingerprint']}", "success")
    return redirect("/settings#ssh-keys", 303)


@form_view
def key_remove_post(name: str) -> Any:
    apply(operations.SSH_KEY_REMOVE, "ssh-keys", name=name)
    flash(f"SSH key {name} removed.", "success")
    return redirect("/settings#ssh-keys", 303)


@form_view
def sync_post() -> Any:
    user = request.form.get("user") or None
    results = apply(operations.GITHUB_SYNC, "ssh-keys", user=user)["results"]
    for r in results:
        if r["error"]:
            flash(f"{r['user']}: {r['error']}", "error")
        else:
            flash(f"{r['user']} ({r['github'] or 'no GitHub user'}): {len(r['added'])} added, "
                  f"{len(r['removed'])} removed"
                  + (f", {len(r['refused'])} refused" if r["refused"] else ""), "success")
    if not results:
        flash("No user has a github.username in the config.", "warning")
    return redirect("/settings#ssh-keys", 303)


@form_view
def domains_post() -> Any:
    apply(operations.GLOBAL_DOMAINS, "domains", change=request.form.get("action", ""),
          domains=request.form.get("domains", "").split())
    flash("Global domains changed.", "success")
    return redirect("/settings#domains", 303)


@form_view
def cron_post() -> Any:
    apply(operations.CRON_MAIL, "cron", values={
        "mailto": request.form.get("mailto", ""), "mailfrom": request.form.get("mailfrom", "")})
    flash("Cron mail settings saved.", "success")
    return redirect("/settings#cron", 303)


# --------------------------------------------------------------------------- API
def api_get() -> Any:
    return service.overview(web_state().client())


KEY_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"},
                                               "key": {"type": "string"}}}


def api_key_add() -> Any:
    data = body(KEY_SCHEMA)
    return apply(operations.SSH_KEY_ADD, "ssh-keys", name=data.get("name", ""),
                 key=data.get("key", "")), 201


def api_key_remove(name: str) -> Any:
    apply(operations.SSH_KEY_REMOVE, "ssh-keys", name=name)
    return {"removed": name}


SYNC_SCHEMA = {"type": "object", "properties": {"user": {"type": "string"}}}


def api_sync() -> Any:
    return apply(operations.GITHUB_SYNC, "ssh-keys", user=body(SYNC_SCHEMA).get("user"))


DOMAINS_SCHEMA = {"type": "object", "properties": {
    "action": {"type": "string", "enum": ["add", "remove", "set", "clear"]},
    "domains": {"type": "array", "items": {"type": "string"}}}}


def api_domains() -> Any:
    data = body(DOMAINS_SCHEMA)
    apply(operations.GLOBAL_DOMAINS, "domains", change=data.get("action", ""),
          domains=data.get("domains", []))
    return {"domains": web_state().client().domains(None).global_vhosts}


CRON_SCHEMA = {"type": "object", "properties": {"mailto": {"type": "string"},
                                                "mailfrom": {"type": "string"}}}


def api_cron() -> Any:
    return {"cron": apply(operations.CRON_MAIL, "cron", values=body(CRON_SCHEMA))}


@functools.cache
def blueprint() -> Blueprint:
    bp = Blueprint("settings", __name__, template_folder="templates")
    add_pages(bp, (
        ("/settings", settings_page, ["GET"]),
        ("/settings/ssh-keys", key_add_post, ["POST"]),
        ("/settings/ssh-keys/<name>/remove", key_remove_post, ["POST"]),
        ("/settings/ssh-keys/sync", sync_post, ["POST"]),
        ("/settings/domains", domains_post, ["POST"]),
        ("/settings/cron", cron_post, ["POST"]),
    ))
    add = api_adder(bp)
    add(API, "GET", "Global domains, cron mail and SSH keys (with fingerprints)", api_get,
        "settings.read")
    add(f"{API}/ssh-keys", "POST", "Add an SSH key (checked: type, base64, length)",
        api_key_add, "settings.ssh_keys.write", request_schema=KEY_SCHEMA,
        responses={"201": "Added: name, fingerprint", **RESPONSES})
    add(f"{API}/ssh-keys/<name>", "DELETE", "Remove an SSH key by name", api_key_remove,
        "settings.ssh_keys.write", responses=RESPONSES)
    add(f"{API}/ssh-keys/sync", "POST", "Import GitHub keys of users with github.username",
        api_sync, "settings.ssh_keys.write", request_schema=SYNC_SCHEMA, responses=RESPONSES)
    add(f"{API}/domains", "POST", "Add, remove, set or clear the global domains", api_domains,
        "settings.domains.write", request_schema=DOMAINS_SCHEMA, responses=RESPONSES)
    add(f"{API}/cron", "PUT", "Set the global cron mailto/mailfrom ('' clears)", api_cron,
        "settings.cron.write", request_schema=CRON_SCHEMA, responses=RESPONSES)
    return bp
