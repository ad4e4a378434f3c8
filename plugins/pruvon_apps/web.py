"""Web pages, JSON API and WebSockets of the apps plugin.

Every view checks its action on the specific app with ``permissions.check``
(through :class:`service.Guard`) besides the ``routes:`` gate of the web
layer, and every change is audited with the client address.  Long changes
(restart, scale, domains, ports, deploy, create, destroy, config with
restart) start a background operation and answer at once: pages redirect to
the operation's page, the API answers ``202`` with the operation, and the
operation page follows it (any worker can, the record is on disk).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
)
from pruvon_web.public import (
    DOKKU_RESPONSES,
    Revalidator,
    UserEditError,
    authorize,
    body,
    client_ip,
    dokku_status,
    endpoint,
    json_error,
    parse_json,
    query_int,
    render_error,
    route,
    web_state,
)
from pruvon_web.public import close as ws_close

from pruvon_apps import service
from pruvon_core.dokku import client_from_config, errors, validate
from pruvon_core.dokku.models import LiveState
from pruvon_core.operations import (
    OperationConflict,
    OperationError,
    OperationManager,
    OperationNotFound,
    follow,
)
from pruvon_core.permissions import PermissionDenied, Resource

bp = Blueprint("apps", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/apps")

TABS = ("overview", "processes", "config", "domains", "ports", "storage", "settings", "logs",
        "operations")
API = "/api/v1/apps"
MAX_LOG_LINES = 1000
MAX_OUTPUT_LINE = 10**9  # ?after= of an operation's output: a line count


# --------------------------------------------------------------------------- plumbing
def guard() -> service.Guard:
    state = web_state()
    return service.Guard(g.identity.actor, state.config(), state.state_dir, client_ip(),
                         extra={"via": g.identity.via})


def client() -> Any:
    return web_state().client()


def manager() -> OperationManager:
    return OperationManager(web_state().state_dir)


def domain_index() -> service.DomainIndex:
    return service.DomainIndex(web_state().state_dir)


def storage_dir() -> str:
    return str(web_state().config().get("apps.storage_dir") or service.STORAGE_DIR)


def error_status(exc: Exception) -> int:
    """The HTTP status for an error of the service layer or of Dokku.

    Dokku's errors are mapped by :func:`pruvon_web.statuses.dokku_status`,
    the one table every front end uses.
    """
    dokku = dokku_status(exc)
    if dokku is not None:
        return dokku
    table: list[tuple[type, int]] = [
        (PermissionDenied, 403), (service.AppsError, 400), (UserEditError, 400),
        (OperationNotFound, 404), (OperationConflict, 409), (OperationError, 400),
    ]
    return next((status for kind, status in table if isinstance(exc, kind)), 500)


def error_text(exc: Exception) -> str:
    if isinstance(exc, service.HostAccessDenied):
        return f"not allowed: {exc.reason}"
    if isinstance(exc, PermissionDenied):
        return f"not allowed: {exc.action}"
    return str(getattr(exc, "message", None) or exc)


HANDLED = (PermissionDenied, service.AppsError, UserEditError, errors.DokkuError,
           OperationError)


def visible_app(app: str) -> str:
    """404 for an app the user may not read (never reveals that it exists)."""
    if not guard().allowed("apps.read", app):
        raise PermissionDenied(g.identity.actor, "apps.read", Resource("app", app))
    return service.require_app(client(), app)


def start_op(
    app: str, action: str, kind: str, steps: list[str], runner: Callable[[Any], Any],
    title: str, **details: Any,
) -> Any:
    """Check, start the operation, audit its start and (later) its outcome."""
    check = guard()
    check.require(action, app)
    check.record(action, app, "ok", phase="started", **details)

    def finished(op: Any) -> None:
        result = "ok" if op.status == "succeeded" else "failed"
        check.record(action, app, result, operation=op.id, status=op.status,
                     error=op.error or None, **details)

    return manager().start(kind, f"app:{app}", steps, runner, actor=g.identity.actor.id,
                           title=title, on_finish=finished)


def op_page(app: str, op: Any) -> Response:
    return redirect(f"/apps/{app}/operations/{op.id}", 303)


def page_error(exc: Exception, app: str | None = None, tab: str | None = None) -> Any:
    """A refused form: back to the tab with the message, with the right status."""
    status = error_status(exc)
    if status in (403, 404) or app is None or tab is None:
        return render_error(status, error_text(exc))
    flash(error_text(exc), "error")
    return render_detail(app, tab, status)


# --------------------------------------------------------------------------- list
def app_rows(query: str) -> tuple[list[service.AppRow], float | None, LiveState]:
    """Visible apps (2 Dokku calls), the age of the domains column, whether states are live."""
    check = guard()
    index = domain_index()
    domains, age = index.load()
    rows, live = service.list_apps_live(client(), lambda name: check.allowed("apps.read", name),
                                        query, domains)
    if index.stale(r.name for r in rows):
        config = web_state().config()
        index.refresh_in_background(lambda: client_from_config(config))
    return rows, age, live


@bp.get("/apps")
def apps_list() -> Any:
    if not guard().allowed("apps.read"):
        return render_error(403, "Your account may not see apps.")
    query = request.args.get("q", "")[:200]
    try:
        rows, age, live = app_rows(query)
    except errors.DokkuError as exc:
        return render_error(error_status(exc), str(exc))
    return render_template("apps/list.html", rows=rows, query=query, domains_age=age,
                           live=live, live_notice=service.live_state_notice(live),
                           can_create=guard().allowed("apps.create"))


# --------------------------------------------------------------------------- detail
def tab_context(app: str, tab: str) -> dict[str, Any]:
    """Only the reads the tab needs (the slow ports report only on its tab)."""
    dokku = client()
    check = guard()
    context: dict[str, Any] = {
        "detail": service.app_detail(dokku, app),
        "can": {a: check.allowed(a, app) for a in (
            "apps.config.read", "apps.config.write", "apps.domains.write", "apps.ports.write",
            "apps.storage.write", "apps.ps.write", "apps.logs", "apps.destroy", "apps.deploy",
            "apps.settings.write", service.HOST_ACCESS, "apps.terminal", "apps.run")},
        "running": manager().store.running(f"app:{app}"),
    }
    if tab == "processes":
        context["rollback_image"] = service.rollback_image(
            manager().store.list(target=f"app:{app}"))
    elif tab == "config":
        reveal = request.args.get("reveal") == "1" and context["can"]["apps.config.read"]
        context["config"] = service.config_view(dokku, app, reveal=reveal)
        context["revealed"] = reveal
        if reveal:
            check.record("apps.config.read", app, "ok", what="reveal")
    elif tab == "ports":
        context["ports"] = dokku.ports(app)
    elif tab == "storage":
        context["mounts"] = dokku.storage(app)
        context["storage_dir"] = storage_dir()
    elif tab == "settings":
        from pruvon_apps import settings

        reports = service.plugin_reports(dokku, app, service.SETTINGS_REPORTS)
        context["settings"] = service.app_settings(dokku, app, reports)
        context["editable"] = settings.settings_view(dokku, app, reports)
        context["install"] = settings.OPTIONAL_PLUGINS
        context["nginx_keys"] = {k: d for k, (_, d) in validate.NGINX_KEYS.items()}
        context["resource_names"] = validate.RESOURCE_NAMES
    elif tab == "operations":
        context["operations"] = manager().store.list(target=f"app:{app}")[:50]
    return context


def render_detail(app: str, tab: str, status: int = 200) -> Any:
    context = tab_context(app, tab)
    return render_template("apps/detail.html", app=app, tab=tab, tabs=TABS,
                           form=request.form, **context), status


@bp.get("/apps/<app>")
def app_page(app: str) -> Any:
    tab = request.args.get("tab", "overview")
    if tab not in TABS:
        return render_error(404, f"no tab {tab!r}; tabs: {', '.join(TABS)}")
    try:
        visible_app(app)
        return render_detail(app, tab)
    except HANDLED as exc:
        return render_error(error_status(exc) if not isinstance(exc, PermissionDenied) else 404,
                            error_text(exc) if not isinstance(exc, PermissionDenied)
                            else f"App {app} does not exist")


@bp.get("/apps/<app>/config.env")
def config_download(app: str) -> Any:
    try:
        visible_app(app)
        guard().require("apps.config.read", app)
        values = client().config(app)
    except HANDLED as exc:
        return render_error(error_status(exc), error_text(exc))
    guard().record("apps.config.read", app, "ok", what="download")
    return Response(service.dotenv(values), mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="{app}.env"'})


def config_form() -> tuple[dict[str, str], list[str], bool]:
    """Rows ``key``/``value`` (several), ``remove`` checkboxes, ``restart``."""
    keys = request.form.getlist("key")
    values = request.form.getlist("value")
    if len(keys) != len(values):
        raise service.AppsError("every key needs a value field")
    changes = {k.strip(): v for k, v in zip(keys, values, strict=True) if k.strip()}
    return changes, request.form.getlist("remove"), request.form.get("restart") == "1"


@bp.post("/apps/<app>/config")
def config_post(app: str) -> Any:
    try:
        visible_app(app)
        values, unset, restart = config_form()
        service.check_config_change(values, unset)
        return apply_config(app, values, unset, restart, page=True)
    except HANDLED as exc:
        return page_error(exc, app, "config")


def apply_config(app: str, values: dict[str, str], unset: list[str], restart: bool,
                 page: bool) -> Any:
    """Without restart: done at once (≈0.2 s). With restart: a background operation."""
    details = {"set": sorted(values), "unset": sorted(unset), "restart": restart}
    if not restart:
        with guard().mutation("apps.config.write", app, **details):
            service.set_config(client(), app, values, unset, restart=False)
        if page:
            flash(f"Saved {len(values)} set, {len(unset)} removed (not restarted).", "success")
            return redirect(f"/apps/{app}?tab=config", 303)
        return {"app": app, **details}

    def runner(ctx: Any) -> None:
        ctx.step("apply")
        service.set_config(dokku, app, values, unset, True, ctx)
        ctx.done()

    dokku = client()
    op = start_op(app, "apps.config.write", "apps.config", ["apply"], runner,
                  f"config change on {app}", **details)
    return op_page(app, op) if page else (op_json(op), 202)


def _changes(app: str, action: str, kind: str, title: str, steps: list[str],
             work: Callable[[Any, Any], Any], **details: Any) -> Any:
    dokku = client()

    def runner(ctx: Any) -> Any:
        ctx.step(steps[0])
        result = work(dokku, ctx)
        if ctx.op.steps[0].status == "running":
            ctx.done()
        return result if isinstance(result, dict) else None

    return start_op(app, action, kind, steps, runner, title, **details)


def check_domains(action: object, names: list[str]) -> tuple[str, list[str]]:
    """A domains change, checked before any operation starts."""
    if not isinstance(action, str) or action not in service.DOMAIN_ACTIONS:
        raise service.AppsError(f"domain action must be one of {', '.join(service.DOMAIN_ACTIONS)}")
    if action != "clear":
        try:
            validate.domains(names)
        except errors.DokkuError as exc:
            raise service.AppsError(exc.message) from exc
    return action, names


def domains_op(app: str, action: str, names: list[str]) -> Any:
    action, names = check_domains(action, names)
    index = domain_index()
    return _changes(app, "apps.domains.write", "apps.domains", f"domains {action} on {app}",
                    ["apply"], lambda c, ctx: service.change_domains(c, app, action, names, ctx,
                                                                     index),
                    change=action, domains=names)


@bp.post("/apps/<app>/domains")
def domains_post(app: str) -> Any:
    return _list_change_post(app, "domains", "domains", check_domains, domains_op)


ListCheck = Callable[[object, list[str]], tuple[str, list[str]]]


def _list_change_post(app: str, tab: str, field: str, check: ListCheck,
                      operation: Callable[[str, str, list[str]], Any]) -> Any:
    """A tab's ``add|remove|set|clear`` form: the words of ``field`` become an operation.

    Every field is checked first: bad input never reaches Dokku or an operation.
    """
    try:
        action, words = check(request.form.get("action", ""), request.form.get(field, "").split())
        visible_app(app)
        return op_page(app, operation(app, action, words))
    except HANDLED as exc:
        return page_error(exc, app, tab)


def check_ports(action: object, mappings: list[str]) -> tuple[str, list[str]]:
    """A ports change, checked before any operation starts."""
    if not isinstance(action, str) or action not in service.PORT_ACTIONS:
        raise service.AppsError(f"port action must be one of {', '.join(service.PORT_ACTIONS)}")
    if action != "clear":
        if not mappings:
            raise service.AppsError("give at least one port mapping, e.g. http:80:5000")
        for mapping in mappings:
            service.parse_port(mapping)
    return action, mappings


def ports_op(app: str, action: str, mappings: list[str]) -> Any:
    action, mappings = check_ports(action, mappings)
    return _changes(app, "apps.ports.write", "apps.ports", f"ports {action} on {app}", ["apply"],
                    lambda c, ctx: service.change_ports(c, app, action, mappings, ctx),
                    change=action, ports=mappings)


@bp.post("/apps/<app>/ports")
def ports_post(app: str) -> Any:
    return _list_change_post(app, "ports", "mappings", check_ports, ports_op)


def storage_change(app: str, action: str, host: str, container: str) -> None:
    if action not in ("mount", "unmount"):
        raise service.AppsError("storage action must be mount or unmount")
    check = guard()
    check.require("apps.storage.write", app)
    reach = service.storage_reach(app, host, storage_dir()) if action == "mount" else None
    with check.mutation("apps.storage.write", app, reach, change=action, host=host,
                        container=container):
        service.storage_change(client(), app, action == "mount", host, container, storage_dir())


@bp.post("/apps/<app>/storage")
def storage_post(app: str) -> Any:
    try:
        visible_app(app)
        action = request.form.get("action", "")
        storage_change(app, action, request.form.get("host", ""),
                       request.form.get("container", ""))
        flash(f"Storage {action}ed.", "success")
        return redirect(f"/apps/{app}?tab=storage", 303)
    except HANDLED as exc:
        return page_error(exc, app, "storage")


def ps_op(app: str, action: str, process: str | None) -> Any:
    action, process = service.check_ps(action, process)
    dokku = client()

    def runner(ctx: Any) -> Any:
        service.ps_action(dokku, app, action, process or None, ctx)

    title = f"{action} {app}{' ' + process if process else ''}"
    return start_op(app, "apps.ps.write", "apps.ps", ["run", "verify"], runner, title,
                    ps=action, process=process)


@bp.post("/apps/<app>/ps")
def ps_post(app: str) -> Any:
    try:
        action, process = service.check_ps(request.form.get("action", ""),
                                           request.form.get("process", "").strip() or None)
        visible_app(app)
        return op_page(app, ps_op(app, action, process))
    except HANDLED as exc:
        return page_error(exc, app, "processes")


def scale_op(app: str, counts: dict[str, int]) -> Any:
    dokku = client()

    def runner(ctx: Any) -> Any:
        service.scale(dokku, app, counts, ctx)

    return start_op(app, "apps.ps.write", "apps.scale", ["run", "verify"], runner,
                    f"scale {app}", scale=counts)


@bp.post("/apps/<app>/scale")
def scale_post(app: str) -> Any:
    try:
        pairs = [f"{k[len('scale-'):]}={v.strip()}" for k, v in request.form.items()
                 if k.startswith("scale-") and v.strip()]
        new_type = request.form.get("new_type", "").strip()
        if new_type:
            pairs.append(f"{new_type}={request.form.get('new_count', '').strip()}")
        counts = service.parse_scale(pairs)
        visible_app(app)
        return op_page(app, scale_op(app, counts))
    except HANDLED as exc:
        return page_error(exc, app, "processes")


def check_image(image: object) -> str:
    """A docker image reference to deploy, checked before any operation starts."""
    try:
        return validate.image(image)
    except errors.DokkuError as exc:
        raise service.AppsError(exc.message) from exc


def deploy_op(app: str, image: str) -> Any:
    image = check_image(image)
    return _changes(app, "apps.deploy", "apps.deploy", f"deploy {image} to {app}", ["deploy"],
                    lambda c, ctx: service.deploy_image(c, app, image, ctx), image=image)


@bp.post("/apps/<app>/deploy")
def deploy_post(app: str) -> Any:
    try:
        image = check_image(request.form.get("image", "").strip())
        visible_app(app)
        return op_page(app, deploy_op(app, image))
    except HANDLED as exc:
        return page_error(exc, app, "processes")


# --------------------------------------------------------------------------- destroy
def destroy_op(app: str, confirm: str, with_services: bool) -> Any:
    if confirm != app:
        raise service.AppsError(f"type the app name ({app}) exactly to confirm")
    dokku, state_dir = client(), web_state().state_dir
    index = domain_index()

    def runner(ctx: Any) -> Any:
        return service.destroy(dokku, app, confirm, state_dir,
                               with_services, ctx, index)

    return start_op(app, "apps.destroy", "apps.destroy", service.destroy_steps(), runner,
                    f"destroy {app}", with_services=with_services)


@bp.route("/apps/<app>/destroy", methods=["GET", "POST"])
def destroy_page(app: str) -> Any:
    try:
        visible_app(app)
        if not guard().allowed("apps.destroy", app):
            raise PermissionDenied(g.identity.actor, "apps.destroy", Resource("app", app))
        if request.method == "POST":
            op = destroy_op(app, request.form.get("confirm", ""),
                            request.form.get("with_services") == "1")
            return op_page(app, op)
        return render_template("apps/destroy.html", app=app)
    except HANDLED as exc:
        status = error_status(exc)
        if status == 400:
            flash(error_text(exc), "error")
            return render_template("apps/destroy.html", app=app), 400
        return render_error(status, error_text(exc))


# --------------------------------------------------------------------------- operations
def op_json(op: Any, after: int | None = None) -> dict[str, Any]:
    data = op.as_dict()
    if after is not None:
        data["output"] = manager().store.output(op.id, after=after)
    return data


def app_operation(app: str, op_id: str) -> Any:
    op = manager().store.get(op_id)
    if op.target != f"app:{app}":
        raise OperationNotFound(f"no operation {op_id!r} on {app}")
    return op


@bp.get("/apps/<app>/operations/<op_id>")
def operation_page(app: str, op_id: str) -> Any:
    if not guard().allowed("apps.read", app):
        return render_error(404, f"App {app} does not exist")
    try:
        op = app_operation(app, op_id)
    except HANDLED as exc:
        return render_error(error_status(exc), error_text(exc))
    return render_template("apps/operation.html", app=app, op=op,
                           output=manager().store.output(op.id),
                           can_cancel=guard().allowed(op_action(op), app))


def op_action(op: Any) -> str:
    """The permission an operation's kind needs (cancelling needs the same)."""
    return {"apps.config": "apps.config.write", "apps.domains": "apps.domains.write",
            "apps.ports": "apps.ports.write", "apps.ps": "apps.ps.write",
            "apps.scale": "apps.ps.write", "apps.deploy": "apps.deploy",
            "apps.destroy": "apps.destroy", "apps.create": "apps.create",
            "apps.rollback": "apps.destroy"}.get(op.kind, "apps.ps.write")


@bp.post("/apps/<app>/operations/<op_id>/cancel")
def operation_cancel(app: str, op_id: str) -> Any:
    try:
        op = app_operation(app, op_id)
        guard().require(op_action(op), app if op.kind != "apps.create" else None)
        manager().store.request_cancel(op_id)
        guard().record(op_action(op), app, "ok", what="cancel", operation=op_id)
    except HANDLED as exc:
        return render_error(error_status(exc), error_text(exc))
    flash("Cancel requested.", "success")
    return redirect(f"/apps/{app}/operations/{op_id}", 303)


# --------------------------------------------------------------------------- create
def create_request(data: dict[str, Any]) -> service.CreateRequest:
    """A create request from a form or JSON; every field typed and bounded."""
    def text(key: str) -> str:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise service.AppsError(f"{key}: must be text")
        return value.strip()

    def words(key: str) -> list[str]:
        value = data.get(key, "")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
        return text(key).split()

    env = service.parse_pairs(line for line in text("env").splitlines() if line.strip())
    mounts = []
    for line in text("mounts").splitlines():
        if line.strip():
            host, sep, container = line.strip().rpartition(":")
            if not sep:
                raise service.AppsError(f"mount {line.strip()!r} must look like HOST:CONTAINER")
            mounts.append((host, container))
    links = []
    for item in words("services"):
        create = item.startswith("+")
        kind, sep, name = item.lstrip("+").partition(":")
        if not sep:
            raise service.AppsError(f"service {item!r} must look like TYPE:NAME (+TYPE:NAME "
                                    "to create it)")
        links.append(service.ServiceLink(kind, name, create))
    return service.CreateRequest(
        name=text("name"), image=text("image"), git_repo=text("git_repo"),
        git_ref=text("git_ref"), services=links, domains=words("domains"), env=env,
        ports=words("ports"), mounts=mounts)


def start_create(req: service.CreateRequest) -> Any:
    """Validate everything, then run the wizard's steps as one operation."""
    check = guard()
    check.require("apps.create")
    dokku = client()
    service.check_create(dokku, req, storage_dir())
    reach = check.host_access("apps.create", req.name, service.create_reach(req, storage_dir()))
    state = web_state()
    identity = g.identity

    def granted(app: str) -> None:
        if identity.record.role == "admin":
            return
        from pruvon_auth.public import grant_app

        grant_app(state.store, identity.record.username, app)

    def runner(ctx: Any) -> Any:
        return service.run_create(dokku, req, ctx, storage_dir_value,
                                  after_create=granted)

    storage_dir_value = storage_dir()

    def finished(op: Any) -> None:
        check.record("apps.create", req.name, "ok" if op.status == "succeeded" else "failed",
                     operation=op.id, status=op.status, error=op.error or None, **reach)

    return manager().start("apps.create", f"app:{req.name}", service.create_steps(req), runner,
                           actor=identity.actor.id, title=f"create {req.name}",
                           on_finish=finished)


def start_rollback(op: Any) -> Any:
    """Undo what a failed create did: destroy the app, then the services it created."""
    check = guard()
    app = op.target.split(":", 1)[1]
    check.require("apps.create")
    if op.kind != "apps.create" or op.status not in ("failed", "cancelled", "timed_out",
                                                      "interrupted"):
        raise service.AppsError("only a failed or cancelled create can be rolled back")
    plan = service.rollback_plan(op.steps)
    if not plan:
        raise service.AppsError("nothing to roll back: no step had completed")
    dokku = client()

    def runner(ctx: Any) -> Any:
        return service.run_rollback(dokku, plan, ctx)

    check.record("apps.destroy", app, "ok", what="rollback", operation=op.id)
    return manager().start("apps.rollback", op.target, service.rollback_steps(plan), runner,
                           actor=g.identity.actor.id, title=f"roll back create {app}")


@bp.route("/apps/create", methods=["GET", "POST"])
def create_page() -> Any:
    if not guard().allowed("apps.create"):
        return render_error(403, "Your account may not create apps.")
    if request.method == "GET":
        return render_template("apps/create.html", form={})
    try:
        op = start_create(create_request(request.form.to_dict()))
    except HANDLED as exc:
        flash(error_text(exc), "error")
        return render_template("apps/create.html", form=request.form), error_status(exc)
    return redirect(f"/apps/{op.target.split(':', 1)[1]}/operations/{op.id}", 303)


@route("/ws/apps/create", bp=bp)
def create_socket(ws: Any) -> None:
    """JSON frames: client ``{"type":"create", ...fields}`` / ``{"type":"rollback"}``.

    Server: ``{"type":"progress","operation":{...},"output":[...]}`` until the
    operation ends, then ``{"type":"done","status":...}``; errors are
    ``{"type":"error","error":...}`` and the socket stays open for a retry.
    """
    identity = authorize(ws, "apps.create")
    if identity is None:
        return
    revalidator = Revalidator(identity, action="apps.create")
    last = None
    while True:
        raw = ws.receive(timeout=60)
        if not revalidator.ok():
            return revalidator.close(ws)
        if raw is None:
            continue
        try:
            message = parse_json(raw)
            if not isinstance(message, dict):
                raise service.AppsError("frames must be JSON objects")
            kind = message.pop("type", None)
            if kind == "create":
                last = start_create(create_request(message))
            elif kind == "rollback" and last is not None:
                last = start_rollback(manager().store.get(last.id))
            else:
                raise service.AppsError("send {\"type\": \"create\", ...} or "
                                        "{\"type\": \"rollback\"} after a failure")
        except (ValueError, *HANDLED) as exc:
            ws.send(json.dumps({"type": "error", "error": error_text(exc),
                                "status": error_status(exc)}))
            continue
        if not stream_operation(ws, last.id, revalidator):
            return


def stream_operation(ws: Any, op_id: str, revalidator: Revalidator) -> bool:
    """Send progress frames until the operation ends; False if the socket must close."""
    store = manager().store
    for op, lines in follow(store, op_id, interval=0.25, stop=lambda: not revalidator.ok()):
        ws.send(json.dumps({"type": "progress", "operation": op.as_dict(), "output": lines}))
        if not op.active:
            ws.send(json.dumps({"type": "done", "status": op.status, "error": op.error,
                                "app": op.target.split(":", 1)[1], "operation": op.id,
                                "can_rollback": op.kind == "apps.create"
                                and bool(service.rollback_plan(op.steps))
                                and op.status != "succeeded"}))
            return True
    if not revalidator.ok():
        revalidator.close(ws)
        return False
    return True


# --------------------------------------------------------------------------- logs socket
@route("/ws/apps/<app>/logs", bp=bp)
def logs_socket(ws: Any, app: str) -> None:
    """One text frame per log line (``dokku logs -t``); ``?process=web`` filters.

    ``?source=nginx-access`` / ``nginx-error`` follow the app's nginx logs instead.

    The ``dokku logs`` process is cancelled (its process group killed) as
    soon as the socket closes or the user loses access: no orphans.
    """
    identity = authorize(ws, "apps.logs", Resource("app", app))
    if identity is None:
        return
    try:
        service.require_app(client(), app)
        source = request.args.get("source", "app")
        if source == "app":
            process = request.args.get("process") or None
            lines = min(max(int(request.args.get("lines", "100")), 1), MAX_LOG_LINES)
            stream = client().logs(app, tail=True, lines=lines, process=process)
        else:
            stream = client().stream(service.nginx_log_args(app, source))
    except (ValueError, errors.DokkuError) as exc:
        return ws_close(ws, error_text(exc), 1011 if isinstance(exc, errors.DokkuError) else 1008)
    pump_logs(ws, stream, Revalidator(identity, action="apps.logs", resource=Resource("app", app)))


def pump_logs(ws: Any, stream: Any, revalidator: Revalidator) -> None:
    finished = threading.Event()

    def reader() -> None:
        try:
            for line in stream:
                ws.send(line)
        except Exception as exc:  # the stream's typed error or a closed socket
            with contextlib.suppress(Exception):  # peer gone: nothing left to tell
                ws.send(json.dumps({"type": "error", "error": error_text(exc)}))
        finally:
            finished.set()

    thread = threading.Thread(target=reader, daemon=True, name="apps-logs")
    thread.start()
    try:
        while not finished.is_set():
            ws.receive(timeout=1)
            if not revalidator.ok():
                revalidator.close(ws)
                break
    except Exception:  # noqa: S110 - ConnectionClosed: the browser went away
        pass
    finally:
        stream.cancel()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- JSON API
def api_call(fn: Callable[[], Any]) -> Any:
    """Run an API view body, mapping typed errors to ``{"error"}`` + status."""
    try:
        return fn()
    except HANDLED as exc:
        status = error_status(exc)
        return json_error(error_text(exc), status)


def api_app(app: str) -> str:
    if not guard().allowed("apps.read", app):
        raise errors.AppNotFound(f"App {app} does not exist", exit_code=20)
    return service.require_app(client(), app)


APP_RESPONSES = {"200": "OK", "400": "Bad input", "404": "No such app (or not yours)",
                 **DOKKU_RESPONSES}
OP_RESPONSES = {"202": "Operation started", "400": "Bad input", "404": "No such app",
                "409": "The app is busy with another operation", **DOKKU_RESPONSES}


@endpoint(f"{API}/<app>", "GET", "One app: state, containers, domains, scale, deploy source",
          action="apps.read", bp=bp, prefix="", responses=APP_RESPONSES)
def api_app_detail(app: str) -> Any:
    return api_call(lambda: service.app_detail(client(), api_app(app)).as_dict())


@endpoint(f"{API}/<app>/config", "GET", "Environment variables (values need apps.config.read)",
          action="apps.read", bp=bp, prefix="", responses=APP_RESPONSES)
def api_config(app: str) -> Any:
    def run() -> Any:
        api_app(app)
        reveal = guard().allowed("apps.config.read", app)
        if reveal:
            guard().record("apps.config.read", app, "ok", what="api")
        return {"config": dict(service.config_view(client(), app, reveal)), "masked": not reveal}

    return api_call(run)


CONFIG_SCHEMA = {"type": "object", "properties": {
    "set": {"type": "object", "additionalProperties": {"type": "string"}},
    "unset": {"type": "array", "items": {"type": "string"}},
    "restart": {"type": "boolean"}}}


@endpoint(f"{API}/<app>/config", "PATCH", "Set/unset variables; restart=true runs in background",
          action="apps.config.write", bp=bp, prefix="", request_schema=CONFIG_SCHEMA,
          responses={**APP_RESPONSES, **OP_RESPONSES})
def api_config_patch(app: str) -> Any:
    def run() -> Any:
        api_app(app)
        data = body(CONFIG_SCHEMA)
        values, unset = data.get("set", {}), data.get("unset", [])
        restart = data.get("restart", False)
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise service.AppsError("set: must be an object of string values")
        if not isinstance(unset, list) or not all(isinstance(k, str) for k in unset):
            raise service.AppsError("unset: must be a list of keys")
        if not isinstance(restart, bool):
            raise service.AppsError("restart: must be true or false")
        service.check_config_change(values, unset)
        return apply_config(app, values, unset, restart, page=False)

    return api_call(run)


def _api_op(app: str, schema: dict[str, Any], check: Callable[[dict[str, Any]], tuple[Any, ...]],
            start: Callable[..., Any]) -> Any:
    """Check every field of the body, then find the app, then start the operation.

    In that order: bad input is a 400 before any Dokku call or operation
    (``{"action": "restart", "process": "--all"}`` used to be accepted with
    202 and fail later).
    """
    def run() -> Any:
        fields = check(body(schema))
        api_app(app)
        return op_json(start(*fields)), 202

    return api_call(run)


def list_change_schema(actions: tuple[str, ...], field: str) -> dict[str, Any]:
    """The body of an ``add|remove|set|clear`` change: the action and a list of strings."""
    return {"type": "object", "properties": {
        "action": {"type": "string", "enum": list(actions)},
        field: {"type": "array", "items": {"type": "string"}}}}


def _api_list_change(app: str, schema: dict[str, Any], field: str, check: ListCheck,
                     operation: Callable[[str, str, list[str]], Any]) -> Any:
    return _api_op(app, schema, lambda d: check(d.get("action", ""), _str_list(d, field)),
                   lambda action, items: operation(app, action, items))


DOMAINS_SCHEMA = list_change_schema(service.DOMAIN_ACTIONS, "domains")


@endpoint(f"{API}/<app>/domains", "POST", "Add, remove, set or clear domains (background)",
          action="apps.domains.write", bp=bp, prefix="", request_schema=DOMAINS_SCHEMA,
          responses=OP_RESPONSES)
def api_domains(app: str) -> Any:
    return _api_list_change(app, DOMAINS_SCHEMA, "domains", check_domains, domains_op)


def _str_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise service.AppsError(f"{key}: must be a list of strings")
    return value


PORTS_SCHEMA = list_change_schema(service.PORT_ACTIONS, "mappings")


@endpoint(f"{API}/<app>/ports", "GET", "Configured and detected port mappings",
          action="apps.read", bp=bp, prefix="", responses=APP_RESPONSES)
def api_ports_get(app: str) -> Any:
    def run() -> Any:
        report = client().ports(api_app(app))
        return {"configured": [str(m) for m in report.configured],
                "detected": [str(m) for m in report.detected]}

    return api_call(run)


@endpoint(f"{API}/<app>/ports", "POST", "Add, remove, set or clear port mappings (background)",
          action="apps.ports.write", bp=bp, prefix="", request_schema=PORTS_SCHEMA,
          responses=OP_RESPONSES)
def api_ports(app: str) -> Any:
    return _api_list_change(app, PORTS_SCHEMA, "mappings", check_ports, ports_op)


STORAGE_SCHEMA = {"type": "object", "properties": {
    "action": {"type": "string", "enum": ["mount", "unmount"]},
    "host": {"type": "string"}, "container": {"type": "string"}}}


@endpoint(f"{API}/<app>/storage", "GET", "Storage mounts", action="apps.read", bp=bp, prefix="",
          responses=APP_RESPONSES)
def api_storage_get(app: str) -> Any:
    return api_call(lambda: {"mounts": [
        {"host": m.host_path, "container": m.container_path}
        for m in client().storage(api_app(app))]})


@endpoint(f"{API}/<app>/storage", "POST", "Mount or unmount (host inside Dokku's storage dir)",
          action="apps.storage.write", bp=bp, prefix="", request_schema=STORAGE_SCHEMA,
          responses=APP_RESPONSES)
def api_storage(app: str) -> Any:
    def run() -> Any:
        api_app(app)
        data = body(STORAGE_SCHEMA)
        storage_change(app, str(data.get("action", "")), str(data.get("host", "")),
                       str(data.get("container", "")))
        return {"mounts": [{"host": m.host_path, "container": m.container_path}
                           for m in client().storage(app)]}

    return api_call(run)


PS_SCHEMA = {"type": "object", "properties": {
    "action": {"type": "string", "enum": list(service.PS_ACTIONS)},
    "process": {"type": "string"}}}


@endpoint(f"{API}/<app>/ps", "POST", "start/stop/restart/rebuild (background, verified)",
          action="apps.ps.write", bp=bp, prefix="", request_schema=PS_SCHEMA,
          responses=OP_RESPONSES)
def api_ps(app: str) -> Any:
    return _api_op(app, PS_SCHEMA, lambda d: service.check_ps(d.get("action"), d.get("process")),
                   lambda action, process: ps_op(app, action, process))


SCALE_SCHEMA = {"type": "object", "properties": {
    "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}}


@endpoint(f"{API}/<app>/scale", "POST", "Scale process types (background, verified)",
          action="apps.ps.write", bp=bp, prefix="", request_schema=SCALE_SCHEMA,
          responses=OP_RESPONSES)
def api_scale(app: str) -> Any:
    def check(data: dict[str, Any]) -> tuple[dict[str, int]]:
        counts = data.get("counts")
        if not isinstance(counts, dict) or not counts:
            raise service.AppsError("counts: must be an object such as {\"web\": 2}")
        pairs = [f"{k}={v}" if isinstance(v, int) and not isinstance(v, bool) else f"{k}=x"
                 for k, v in counts.items()]
        return (service.parse_scale(pairs),)

    return _api_op(app, SCALE_SCHEMA, check, lambda counts: scale_op(app, counts))


DEPLOY_SCHEMA = {"type": "object", "properties": {"image": {"type": "string"}}}


@endpoint(f"{API}/<app>/deploy", "POST", "Deploy a docker image (background)",
          action="apps.deploy", bp=bp, prefix="", request_schema=DEPLOY_SCHEMA,
          responses=OP_RESPONSES)
def api_deploy(app: str) -> Any:
    return _api_op(app, DEPLOY_SCHEMA, lambda d: (check_image(d.get("image", "")),),
                   lambda image: deploy_op(app, image))


DESTROY_SCHEMA = {"type": "object", "properties": {
    "confirm": {"type": "string"}, "with_services": {"type": "boolean"}}}


@endpoint(f"{API}/<app>", "DELETE", "Destroy (confirm = the app name); snapshot first",
          action="apps.destroy", bp=bp, prefix="", request_schema=DESTROY_SCHEMA,
          responses=OP_RESPONSES)
def api_destroy(app: str) -> Any:
    def check(data: dict[str, Any]) -> tuple[str, bool]:
        confirm, with_services = data.get("confirm", ""), data.get("with_services", False)
        if not isinstance(with_services, bool):
            raise service.AppsError("with_services: must be true or false")
        if confirm != app:
            raise service.AppsError(f"type the app name ({app}) exactly to confirm")
        return confirm, with_services

    return _api_op(app, DESTROY_SCHEMA, check,
                   lambda confirm, with_services: destroy_op(app, confirm, with_services))


CREATE_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string"}, "image": {"type": "string"}, "git_repo": {"type": "string"},
    "git_ref": {"type": "string"},
    "services": {"type": "array", "items": {"type": "string"},
                 "description": "TYPE:NAME to link, +TYPE:NAME to create and link"},
    "domains": {"type": "array", "items": {"type": "string"}},
    "env": {"type": "string", "description": "KEY=value lines"},
    "ports": {"type": "array", "items": {"type": "string"}},
    "mounts": {"type": "string", "description": "HOST:CONTAINER lines"}}}


@endpoint(f"{API}", "POST", "Create an app (background); the creator is granted it",
          action="apps.create", bp=bp, prefix="", request_schema=CREATE_SCHEMA,
          responses={"202": "Operation started", "400": "Bad input", "409": "Name busy"})
def api_create() -> Any:
    return api_call(lambda: (op_json(start_create(create_request(body(CREATE_SCHEMA)))), 202))


@endpoint(f"{API}/create", "GET", "Check a new app name: {\"ok\": bool, \"error\": …}",
          action="apps.create", bp=bp, prefix="")
def api_check_name() -> Any:
    def run() -> Any:
        why = service.check_name(client(), request.args.get("name", ""))
        return {"ok": why is None, "error": why}

    return api_call(run)


@endpoint(f"{API}/<app>/operations", "GET", "The app's operations, newest first",
          action="apps.read", bp=bp, prefix="")
def api_operations(app: str) -> Any:
    def run() -> Any:
        if not guard().allowed("apps.read", app):
            raise errors.AppNotFound(f"App {app} does not exist", exit_code=20)
        return {"operations": [o.as_dict() for o in manager().store.list(target=f"app:{app}")]}

    return api_call(run)


@endpoint(f"{API}/<app>/operations/<op_id>", "GET",
          "One operation with output lines after ?after=N", action="apps.read", bp=bp, prefix="")
def api_operation(app: str, op_id: str) -> Any:
    def run() -> Any:
        if not guard().allowed("apps.read", app):
            raise errors.AppNotFound(f"App {app} does not exist", exit_code=20)
        after = query_int("after", 0, 0, MAX_OUTPUT_LINE)
        return op_json(app_operation(app, op_id), after=after)

    return api_call(run)


@endpoint(f"{API}/<app>/operations/<op_id>/cancel", "POST", "Ask a running operation to stop",
          action="apps.read", bp=bp, prefix="", responses={"200": "Cancel requested"})
def api_operation_cancel(app: str, op_id: str) -> Any:
    def run() -> Any:
        if not guard().allowed("apps.read", app):
            raise errors.AppNotFound(f"App {app} does not exist", exit_code=20)
        op = app_operation(app, op_id)
        guard().require(op_action(op), None if op.kind == "apps.create" else app)
        guard().record(op_action(op), app, "ok", what="cancel", operation=op_id)
        return op_json(manager().store.request_cancel(op_id))

    return api_call(run)


@endpoint(f"{API}/<app>/operations/<op_id>/rollback", "POST",
          "Undo the completed steps of a failed create", action="apps.create", bp=bp, prefix="",
          responses=OP_RESPONSES)
def api_rollback(app: str, op_id: str) -> Any:
    return api_call(lambda: (op_json(start_rollback(app_operation(app, op_id))), 202))


# --------------------------------------------------------------------------- dashboard
def operations_card(actor: Any, pruvon: Any) -> dict[str, Any]:
    """Running and recent operations on the apps this actor may read (``pruvon``: hook context)."""
    ops = [op for op in pruvon.operations().store.list()[:50]
           if op.target.startswith("app:")
           and pruvon.allowed(actor, "apps.read", Resource("app", op.target[4:]))][:8]
    return {"title": "Operations", "order": 20, "action": "apps.read",
            "template": "apps/_ops_card.html", "context": {"ops": ops}}


__all__ = ["bp", "operations_card"]
