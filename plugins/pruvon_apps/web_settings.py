"""Settings-tab writes and "deploy from git": pages and JSON API (same blueprint as web.py).

Quick property writes (nginx, resources, docker options; ≈50 ms on a real
host) run in the request, inside ``Guard.mutation`` (check + audit).  Let's
Encrypt and redirects talk to a CA or rebuild nginx, and git deploys take a
minute, so they run as background operations like every other deploy.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from pruvon_web.public import body, endpoint

from pruvon_apps import service, settings
from pruvon_apps.web import (
    API,
    APP_RESPONSES,
    HANDLED,
    OP_RESPONSES,
    _api_op,
    _changes,
    api_app,
    api_call,
    bp,
    client,
    guard,
    op_json,
    op_page,
    page_error,
    storage_dir,
    visible_app,
)
from pruvon_core.dokku import validate

SETTINGS_ACTION = "apps.settings.write"
SETTINGS_FIELDS = ("kind", "key", "value", "resource_kind", "process_type", "action", "phases",
                   "option", "source", "target", "code", *validate.RESOURCE_NAMES)
SETTINGS_SCHEMA = {"type": "object", "properties": {
    **{name: {"type": "string"} for name in SETTINGS_FIELDS},
    "phases": {"type": "array", "items": {"type": "string",
                                          "enum": list(validate.DOCKER_PHASES)}},
    "code": {"type": "integer"}}}
GIT_SCHEMA = {"type": "object", "properties": {
    "git_repo": {"type": "string"}, "git_ref": {"type": "string"}}}


def audit_details(data: dict[str, Any]) -> dict[str, Any]:
    """The change's fields for the audit record, prefixed so none shadows a record field."""
    return {f"setting_{k}": v for k, v in data.items() if k != "kind" and v not in ("", None, [])}


def quick_change(app: str, kind: str, data: dict[str, Any]) -> str:
    """One property write, checked and audited (values are not secrets: they are logged).

    A docker option off the scoped allowlist needs ``apps.host_access`` as well.
    """
    check, dokku = guard(), client()
    check.require(SETTINGS_ACTION, app)
    reach = settings.host_reach(dokku, app, kind, data, storage_dir())
    with check.mutation(SETTINGS_ACTION, app, reach, setting=kind, **audit_details(data)):
        return settings.change(dokku, app, kind, data)


def plugin_op(app: str, kind: str, data: dict[str, Any]) -> Any:
    """Let's Encrypt / redirect change as an operation (refused at once if not installed)."""
    guard().require(SETTINGS_ACTION, app)
    title = settings.check_plugin_change(client(), kind, data)
    return _changes(app, SETTINGS_ACTION, f"apps.{kind}", f"{title} on {app}", [kind],
                    lambda c, ctx: settings.run_plugin_change(c, app, kind, data, ctx),
                    setting=kind, **audit_details(data))


def git_op(app: str, repo: str, ref: str) -> Any:
    """``git:sync --build`` as an operation; the arguments are validated before it starts.

    A ``file://`` source reads the Dokku host, so it needs ``apps.host_access``.
    """
    validate.git_repo(repo)
    if ref:
        validate.git_ref(ref)
    check = guard()
    check.require("apps.deploy", app)
    reach = check.host_access("apps.deploy", app, service.git_reach(repo))
    title = f"deploy {repo}{'#' + ref if ref else ''} to {app}"
    return _changes(app, "apps.deploy", "apps.deploy", title, ["deploy from git"],
                    lambda c, ctx: service.deploy_git(c, app, repo, ref or None, ctx),
                    git_repo=repo, git_ref=ref, **reach)


def _form() -> dict[str, Any]:
    data: dict[str, Any] = {k: request.form.get(k, "") for k in SETTINGS_FIELDS}
    data["phases"] = request.form.getlist("phases")
    return data


@bp.post("/apps/<app>/settings")
def settings_post(app: str) -> Any:
    try:
        visible_app(app)
        data = _form()
        kind = data["kind"]
        if kind in settings.PLUGIN_KINDS:
            return op_page(app, plugin_op(app, kind, data))
        flash(f"Saved: {quick_change(app, kind, data)}.", "success")
        return redirect(f"/apps/{app}?tab=settings", 303)
    except HANDLED as exc:
        return page_error(exc, app, "settings")


@bp.post("/apps/<app>/deploy-git")
def deploy_git_post(app: str) -> Any:
    try:
        visible_app(app)
        repo = request.form.get("git_repo", "").strip()
        ref = request.form.get("git_ref", "").strip()
        return op_page(app, git_op(app, repo, ref))
    except HANDLED as exc:
        return page_error(exc, app, "processes")


@endpoint(f"{API}/<app>/settings", "GET", "Editable settings, cron tasks, optional plugins",
          action="apps.read", bp=bp, prefix="", responses=APP_RESPONSES)
def api_settings(app: str) -> Any:
    def run() -> Any:
        view = settings.settings_view(client(), api_app(app))
        return {**view.__dict__, "install": {
            name: cmd for name, cmd in settings.OPTIONAL_PLUGINS.items()
            if not view.plugins[name]}}

    return api_call(run)


@endpoint(f"{API}/<app>/settings", "POST",
          "Change one setting: kind nginx|resource|resource-clear|docker-options (200) or "
          "letsencrypt|redirect (202, background)", action=SETTINGS_ACTION, bp=bp, prefix="",
          request_schema=SETTINGS_SCHEMA, responses={**APP_RESPONSES, **OP_RESPONSES})
def api_settings_post(app: str) -> Any:
    def run() -> Any:
        api_app(app)
        data = body(SETTINGS_SCHEMA)
        kind = str(data.get("kind", ""))
        if kind in settings.PLUGIN_KINDS:
            return op_json(plugin_op(app, kind, data)), 202
        return {"done": quick_change(app, kind, data)}

    return api_call(run)


@endpoint(f"{API}/<app>/deploy-git", "POST", "Deploy from a git repository (git:sync --build)",
          action="apps.deploy", bp=bp, prefix="", request_schema=GIT_SCHEMA,
          responses=OP_RESPONSES)
def api_deploy_git(app: str) -> Any:
    return _api_op(app, GIT_SCHEMA,
                   lambda d: (str(d.get("git_repo", "")).strip(),
                              str(d.get("git_ref", "") or "").strip()),
                   lambda repo, ref: git_op(app, repo, ref))
