"""Settings-tab writes and "deploy from git": pages and JSON API.

Quick property writes (nginx, resources, docker options; ≈50 ms on a real
host) run in the request through the runner's ``apply`` (check + one audit
record).  Let's Encrypt and redirects talk to a CA or rebuild nginx, and git
deploys take a minute, so they run as background operations like every
other deploy.  The specs are ``operations.SETTING``, ``PLUGIN_SETTINGS`` and
``DEPLOY_GIT``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request
from pruvon_web.public import body, endpoint

from pruvon_apps import operations, settings
from pruvon_apps.api import APP_RESPONSES, OP_RESPONSES, start
from pruvon_apps.pages import op_page, tab_form
from pruvon_apps.web import API, client, op_json, runner, visible_app
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


def change(app: str, data: dict[str, Any]) -> Any:
    """One settings change: a quick write (its text) or a background operation."""
    spec = operations.setting_spec(data.get("kind"))
    return runner().submit(spec, app, {"data": data})


def _form() -> dict[str, Any]:
    data: dict[str, Any] = {k: request.form.get(k, "") for k in SETTINGS_FIELDS}
    data["phases"] = request.form.getlist("phases")
    return data


@tab_form("settings")
def settings_post(app: str) -> Any:
    visible_app(app)
    done = change(app, _form())
    if isinstance(done, str):
        flash(f"Saved: {done}.", "success")
        return redirect(f"/apps/{app}?tab=settings", 303)
    return op_page(done)


@tab_form("processes")
def deploy_git_post(app: str) -> Any:
    visible_app(app)
    return op_page(runner().start(operations.DEPLOY_GIT, app, {
        "git_repo": request.form.get("git_repo", ""),
        "git_ref": request.form.get("git_ref", "")}))


def api_settings(app: str) -> Any:
    view = settings.settings_view(client(), visible_app(app))
    return {**view.__dict__, "install": {
        name: cmd for name, cmd in settings.OPTIONAL_PLUGINS.items()
        if not view.plugins[name]}}


def api_settings_post(app: str) -> Any:
    visible_app(app)
    data = body(SETTINGS_SCHEMA)
    done = change(app, data)
    if isinstance(done, str):
        return {"done": done}
    return op_json(done), 202


def api_deploy_git(app: str) -> Any:
    data = body(GIT_SCHEMA)
    return start(app, operations.DEPLOY_GIT, {"git_repo": data.get("git_repo", ""),
                                              "git_ref": data.get("git_ref", "") or ""})


def register(bp: Blueprint) -> None:
    """The settings and git-deploy routes (pages and API), added by the blueprint hook."""
    bp.add_url_rule("/apps/<app>/settings", endpoint="settings_post", view_func=settings_post,
                    methods=["POST"])
    bp.add_url_rule("/apps/<app>/deploy-git", endpoint="deploy_git_post",
                    view_func=deploy_git_post, methods=["POST"])
    endpoint(f"{API}/<app>/settings", "GET", "Editable settings, cron tasks, optional plugins",
             action="apps.read", bp=bp, prefix="", responses=APP_RESPONSES)(api_settings)
    endpoint(f"{API}/<app>/settings", "POST",
             "Change one setting: kind nginx|resource|resource-clear|docker-options (200) or "
             "letsencrypt|redirect (202, background)", action=SETTINGS_ACTION, bp=bp, prefix="",
             request_schema=SETTINGS_SCHEMA,
             responses={**APP_RESPONSES, **OP_RESPONSES})(api_settings_post)
    endpoint(f"{API}/<app>/deploy-git", "POST", "Deploy from a git repository (git:sync --build)",
             action="apps.deploy", bp=bp, prefix="", request_schema=GIT_SCHEMA,
             responses=OP_RESPONSES)(api_deploy_git)
