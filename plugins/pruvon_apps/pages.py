"""The apps plugin's HTML pages: list, detail tabs, forms, operation pages.

Each form parses its fields and hands them to the operations runner
(``web.runner()``): long changes redirect to the operation's page, quick ones
back to their tab.  Views catch no errors: a refused form is re-rendered with
the message by :func:`form_page` (bad input, a busy app, a Dokku failure),
and everything else - 403, 404 - goes to the web app's one error handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request
from pruvon_docker.public import container_usage, human_size
from pruvon_web.public import form_page, render_error, web_state

from pruvon_apps import operations, service
from pruvon_apps.web import (
    app_operation,
    cancel,
    client,
    domain_index,
    guard,
    manager,
    readable,
    runner,
    storage_dir,
    visible_app,
)
from pruvon_core import hosts
from pruvon_core.dokku import client_for, validate
from pruvon_core.dokku.models import LiveState
from pruvon_core.hosts import op_target
from pruvon_core.operations import Operation
from pruvon_core.permissions import PermissionDenied, Resource

TABS = ("overview", "processes", "config", "domains", "ports", "storage", "settings", "files",
        "logs", "operations")


# --------------------------------------------------------------------------- plumbing
def tab_form(tab: str) -> Callable[[Callable[..., Any]], Any]:
    """:func:`form_page` for a form on one of the app's tabs."""
    return form_page(lambda status, app, **_: render_detail(app, tab, status))


def op_page(op: Operation) -> Response:
    app = op.target.split(":", 1)[1].partition("@")[0]  # the host prefix stays the request's
    return redirect(f"/apps/{app}/operations/{op.id}", 303)


# --------------------------------------------------------------------------- list
def app_rows(query: str) -> tuple[list[service.AppRow], float | None, LiveState]:
    """Visible apps (2 Dokku calls), the age of the domains column, whether states are live."""
    check = guard()
    index = domain_index()
    domains, age = index.load()
    rows, live = service.list_apps_live(client(), lambda name: check.allowed("apps.read", name),
                                        query, domains)
    if index.stale(r.name for r in rows):
        config, state_dir, host = web_state().config(), web_state().state_dir, hosts.current()
        index.refresh_in_background(lambda: client_for(config, host, state_dir))
    return rows, age, live


def apps_list() -> Any:
    if not guard().allowed("apps.read"):
        return render_error(403, "Your account may not see apps.")
    query = request.args.get("q", "")[:200]
    rows, age, live = app_rows(query)
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
        "running": manager().store.running(op_target("app", app)),
    }
    if tab == "overview":
        from pruvon_apps import extras

        context["usage"] = container_usage(dokku)  # one docker stats read, shared with /docker
        context["human_size"] = human_size
        context["linked"] = extras.linked(dokku, app)
    if tab == "processes":
        context["rollback_image"] = service.rollback_image(
            manager().store.list(target=op_target("app", app)))
    elif tab == "config":
        reveal = request.args.get("reveal") == "1" and context["can"]["apps.config.read"]
        context["config"] = service.config_view(dokku, app, reveal=reveal)
        context["revealed"] = reveal
        if reveal:
            check.record("apps.config.read", app, "ok", what="reveal")
    elif tab == "ports":
        context["ports"] = service.ports_view(dokku, app)
    elif tab == "storage":
        context["mounts"] = service.storage_list(dokku, app)
        context["storage_dir"] = storage_dir()
    elif tab == "settings":
        from pruvon_apps import settings

        reports = service.plugin_reports(dokku, app, service.SETTINGS_REPORTS)
        context["settings"] = service.app_settings(dokku, app, reports)
        context["editable"] = settings.settings_view(dokku, app, reports)
        context["install"] = settings.OPTIONAL_PLUGINS
        context["nginx_keys"] = {k: d for k, (_, d) in validate.NGINX_KEYS.items()}
        context["resource_names"] = validate.RESOURCE_NAMES
    elif tab == "files":
        from pruvon_apps import files

        try:
            context["files"] = files.app_files(dokku, app, files.lib_root(web_state().config()),
                                               deployed=context["detail"].state != "not deployed")
        except files.FilesOverSsh as exc:  # said in the tab: the other tabs still work
            context["files_unavailable"] = f"{exc.message}; {exc.hint}"
    elif tab == "operations":
        context["operations"] = manager().store.list(target=op_target("app", app))[:50]
    return context


def render_detail(app: str, tab: str, status: int = 200) -> tuple[Any, int]:
    context = tab_context(app, tab)
    return render_template("apps/detail.html", app=app, tab=tab, tabs=TABS,
                           form=request.form, **context), status


def app_page(app: str) -> Any:
    tab = request.args.get("tab", "overview")
    if tab not in TABS:
        return render_error(404, f"no tab {tab!r}; tabs: {', '.join(TABS)}")
    return render_detail(visible_app(app), tab)


def config_download(app: str) -> Any:
    visible_app(app)
    check = guard()
    check.require("apps.config.read", app)
    values = service.config_values(client(), app)
    check.record("apps.config.read", app, "ok", what="download")
    return Response(service.dotenv(values), mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="{app}.env"'})


# --------------------------------------------------------------------------- changes
def config_form() -> tuple[dict[str, str], list[str], bool]:
    """Rows ``key``/``value`` (several), ``remove`` checkboxes, ``restart``."""
    keys = request.form.getlist("key")
    values = request.form.getlist("value")
    if len(keys) != len(values):
        raise service.AppsError("every key needs a value field")
    changes = {k.strip(): v for k, v in zip(keys, values, strict=True) if k.strip()}
    return changes, request.form.getlist("remove"), request.form.get("restart") == "1"


@tab_form("config")
def config_post(app: str) -> Any:
    values, unset, restart = config_form()
    service.check_config_change(values, unset)
    visible_app(app)
    params = {"set": values, "unset": unset}
    if restart:
        return op_page(runner().start(operations.CONFIG, app, params))
    runner().apply(operations.CONFIG_NO_RESTART, app, params)
    flash(f"Saved {len(values)} set, {len(unset)} removed (not restarted).", "success")
    return redirect(f"/apps/{app}?tab=config", 303)


def _list_change(app: str, spec: operations.OperationSpec, field: str, key: str) -> Any:
    """A tab's ``add|remove|set|clear`` form: the words of ``field`` become an operation.

    Every field is checked first (by the spec): bad input never reaches Dokku.
    """
    params = {"change": request.form.get("action", ""), key: request.form.get(field, "").split()}
    run = runner()
    params = run.validate(spec, app, params)
    visible_app(app)
    return op_page(run.start(spec, app, params))


@tab_form("domains")
def domains_post(app: str) -> Any:
    return _list_change(app, operations.DOMAINS, "domains", "domains")


@tab_form("ports")
def ports_post(app: str) -> Any:
    return _list_change(app, operations.PORTS, "mappings", "ports")


@tab_form("storage")
def storage_post(app: str) -> Any:
    visible_app(app)
    action = request.form.get("action", "")
    runner().apply(operations.STORAGE, app, {
        "change": action, "host": request.form.get("host", ""),
        "container": request.form.get("container", "")})
    flash(f"Storage {action}ed.", "success")
    return redirect(f"/apps/{app}?tab=storage", 303)


@tab_form("processes")
def ps_post(app: str) -> Any:
    action, process = service.check_ps(request.form.get("action", ""),
                                       request.form.get("process", "").strip() or None)
    visible_app(app)
    return op_page(runner().start(operations.PS, app, {"action": action, "process": process}))


@tab_form("processes")
def scale_post(app: str) -> Any:
    pairs = [f"{k[len('scale-'):]}={v.strip()}" for k, v in request.form.items()
             if k.startswith("scale-") and v.strip()]
    new_type = request.form.get("new_type", "").strip()
    if new_type:
        pairs.append(f"{new_type}={request.form.get('new_count', '').strip()}")
    counts = service.parse_scale(pairs)
    visible_app(app)
    return op_page(runner().start(operations.SCALE, app, {"counts": counts}))


@tab_form("processes")
def deploy_post(app: str) -> Any:
    image = service.check_image(request.form.get("image", "").strip())
    visible_app(app)
    return op_page(runner().start(operations.DEPLOY, app, {"image": image}))


# --------------------------------------------------------------------------- destroy
@form_page(lambda status, app: (render_template("apps/destroy.html", app=app), status))
def destroy_page(app: str) -> Any:
    visible_app(app)
    if not guard().allowed("apps.destroy", app):
        raise PermissionDenied(guard().actor, "apps.destroy", Resource("app", app))
    if request.method == "POST":
        return op_page(runner().start(operations.DESTROY, app, {
            "confirm": request.form.get("confirm", ""),
            "with_services": request.form.get("with_services") == "1"}))
    return render_template("apps/destroy.html", app=app)


# --------------------------------------------------------------------------- operations
@tab_form("overview")
def kill_post(app: str, container: str) -> Any:
    visible_app(app)
    done = runner().apply(operations.KILL, app, {"container": container})
    flash(f"Killed {done['dyno'] or done['container']} ({done['container']}).", "success")
    return redirect(f"/apps/{app}", 303)


def operation_page(app: str, op_id: str) -> Any:
    op = app_operation(readable(app), op_id)
    return render_template("apps/operation.html", app=app, op=op,
                           output=manager().store.output(op.id),
                           can_cancel=guard().allowed(operations.cancel_action(op.kind), app))


def operation_cancel(app: str, op_id: str) -> Any:
    cancel(app, op_id)
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

    def for_app(value: str) -> str:
        """A template's ``{app}`` (``+postgres:{app}-postgres``) is the new app's name."""
        return value.replace("{app}", text("name"))

    env = service.parse_pairs(line for line in text("env").splitlines() if line.strip())
    mounts = []
    for line in for_app(text("mounts")).splitlines():
        if line.strip():
            host, sep, container = line.strip().rpartition(":")
            if not sep:
                raise service.AppsError(f"mount {line.strip()!r} must look like HOST:CONTAINER")
            mounts.append((host, container))
    links = []
    for item in map(for_app, words("services")):
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


def start_create(req: service.CreateRequest) -> Operation:
    """Validate everything, then run the wizard's steps as one operation."""
    return runner().start(operations.CREATE, req.name, {"request": req})


def start_rollback(op: Operation) -> Operation:
    """Undo what a failed create did: destroy the app, then the services it created."""
    return runner().start(operations.ROLLBACK, op.target.split(":", 1)[1], {"operation": op})


def create_form() -> Any:
    """The wizard, filled from ``?template=NAME`` when one is chosen."""
    from pruvon_apps import presets

    pruvon = web_state().pruvon
    chosen = request.args.get("template", "")
    template = presets.find(pruvon, chosen) if chosen else None
    if chosen and template is None:
        flash(f"No app template named {chosen[:60]!r}.", "error")
    form = presets.form_fields(template) if template else {}
    return render_template("apps/create.html", form=form, template=template,
                           templates=presets.templates(pruvon))


def refused_create(status: int) -> tuple[Any, int]:
    """The wizard again with what was typed and why it was refused."""
    from pruvon_apps import presets

    return render_template("apps/create.html", form=request.form,
                           templates=presets.templates(web_state().pruvon)), status


@form_page(refused_create)
def create_page() -> Any:
    if not guard().allowed("apps.create"):
        return render_error(403, "Your account may not create apps.")
    if request.method == "GET":
        return create_form()
    return op_page(start_create(create_request(request.form.to_dict())))


# --------------------------------------------------------------------------- dashboard
def operations_card(actor: Any, pruvon: Any) -> dict[str, Any]:
    """Running and recent operations on the apps this actor may read (``pruvon``: hook context)."""
    ops = [op for op in pruvon.operations().store.list()[:50]
           if op.target.startswith("app:")
           and pruvon.allowed(actor, "apps.read", Resource("app", op.target[4:]))][:8]
    return {"title": "Operations", "order": 20, "action": "apps.read",
            "template": "apps/_ops_card.html", "context": {"ops": ops}}


def register(bp: Blueprint) -> None:
    """The pages' routes, added by the blueprint hook (``routes.blueprint``)."""
    for rule, view, methods in (
        ("/apps", apps_list, ["GET"]),
        ("/apps/create", create_page, ["GET", "POST"]),
        ("/apps/<app>", app_page, ["GET"]),
        ("/apps/<app>/config.env", config_download, ["GET"]),
        ("/apps/<app>/config", config_post, ["POST"]),
        ("/apps/<app>/domains", domains_post, ["POST"]),
        ("/apps/<app>/ports", ports_post, ["POST"]),
        ("/apps/<app>/storage", storage_post, ["POST"]),
        ("/apps/<app>/ps", ps_post, ["POST"]),
        ("/apps/<app>/scale", scale_post, ["POST"]),
        ("/apps/<app>/deploy", deploy_post, ["POST"]),
        ("/apps/<app>/destroy", destroy_page, ["GET", "POST"]),
        ("/apps/<app>/operations/<op_id>", operation_page, ["GET"]),
        ("/apps/<app>/containers/<container>/kill", kill_post, ["POST"]),
        ("/apps/<app>/operations/<op_id>/cancel", operation_cancel, ["POST"]),
    ):
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=methods)


__all__ = ["create_request", "operations_card", "register", "start_create", "start_rollback"]
