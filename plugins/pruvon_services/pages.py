"""The services plugin's HTML pages: list, detail, create, destroy, console, operations.

Each form parses its fields and hands them to the services' operations runner
(``web.runner()``): a change that takes Dokku seconds (link ≈50 s on a real
host) redirects to the operation's page with its progress; views catch no
errors: a refused form is re-rendered with the message by :func:`form_page`
(bad input, a busy service, a Dokku failure), and 403/404 go to the web
app's one error handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request
from pruvon_web.public import form_page, render_error, web_state

from pruvon_core.dokku.errors import DokkuError
from pruvon_core.hosts import op_target
from pruvon_core.operations import Operation
from pruvon_services import operations
from pruvon_services.kinds import ServiceKind, kind_facts
from pruvon_services.operations import target
from pruvon_services.service import ServicesError, list_services, mask_dsn, service_detail
from pruvon_services.web import (
    allowed_filter,
    can,
    cancel,
    client,
    create_operation,
    guard,
    kinds,
    manager,
    op_service,
    readable,
    runner,
    service_operation,
    visible,
)

UPGRADE_FORM = ("--image", "--image-version")  # the upgrade form's fields (other flags: CLI/API)
WRITE_ACTIONS = ("services.link", "services.manage", "services.destroy", "services.console",
                 "services.export", "services.import", "services.create")


# --------------------------------------------------------------------------- plumbing
def detail_form(view: Callable[..., Any]) -> Any:
    """:func:`form_page` for a form on a service's page."""
    return form_page(lambda status, kind, name: render_detail(kind, name, status))(view)


def op_page(op: Operation) -> Response:
    kind, name = op_service(op)  # the target may carry its host (postgres/db@prod)
    return redirect(f"/services/{kind}/{name}/operations/{op.id}", 303)


# --------------------------------------------------------------------------- list
def services_list() -> Any:
    if not can("services.read"):
        return render_error(403, "Your account may not see services.")
    available = kinds()
    rows = list_services(client(), available, allowed=allowed_filter())
    return render_template("services/list.html", rows=rows, kinds=available,
                           can_create=can("services.create"))


# --------------------------------------------------------------------------- detail
def detail_context(kind: ServiceKind, name: str) -> dict[str, Any]:
    """The service's facts; its DSN masked unless a writer asked to reveal it (audited)."""
    detail = service_detail(client(), kind, name)
    abilities = {a: can(a, kind.name, name) for a in WRITE_ACTIONS}
    abilities["reveal"] = can(operations.REVEAL_ACTION, kind.name, name)
    reveal = request.args.get("reveal") == "1" and abilities["reveal"]
    if reveal:  # audited like the API's and the CLI's reveal
        guard().record(operations.REVEAL_ACTION, target(kind.name, name), "ok", reveal="dsn")
    return {
        "kind": kind, "name": name, "detail": detail,
        "dsn": detail.dsn if reveal else mask_dsn(detail.dsn or ""), "revealed": reveal,
        "can": abilities,
        "running": manager().store.running(op_target("service", target(kind.name, name))),
        "operations": manager().store.list(target=op_target("service", target(kind.name, name)))[:20],
        "apps": linkable_apps(detail.row.links) if abilities["services.link"] else [],
    }


def linkable_apps(linked: list[str]) -> list[str]:
    """Apps the actor may read that are not linked yet (one cached ``apps:list``)."""
    check = guard().for_kind("app")
    return [app for app in client().list_apps()
            if app not in linked and check.allowed("apps.read", app)]


def render_detail(kind: str, name: str, status: int = 200) -> tuple[Any, int]:
    facts, name = visible(kind, name)
    return render_template("services/detail.html", form=request.form,
                           **detail_context(facts, name)), status


def service_page(kind: str, name: str) -> Any:
    return render_detail(kind, name)


# --------------------------------------------------------------------------- changes
@detail_form
def link_post(kind: str, name: str) -> Any:
    spec = operations.LINK if request.form.get("action", "link") == "link" else operations.UNLINK
    params = {"app": request.form.get("app", "").strip(),
              "alias": request.form.get("alias", "").strip() or None,
              "querystring": request.form.get("querystring", "").strip() or None}
    return start(spec, kind, name, params)


@detail_form
def manage_post(kind: str, name: str) -> Any:
    specs = {"start": operations.START, "stop": operations.STOP, "restart": operations.RESTART}
    action = request.form.get("action", "")
    if action not in specs:
        raise ServicesError("action must be start, stop or restart")
    return start(specs[action], kind, name, {})


@detail_form
def expose_post(kind: str, name: str) -> Any:
    if request.form.get("action") == "unexpose":
        return start(operations.UNEXPOSE, kind, name, {})
    return start(operations.EXPOSE, kind, name,
                 {"ports": request.form.get("ports", "").split()})


@detail_form
def clone_post(kind: str, name: str) -> Any:
    return start(operations.CLONE, kind, name,
                 {"new_name": request.form.get("new_name", "").strip()})


@detail_form
def upgrade_post(kind: str, name: str) -> Any:
    flags = {flag: request.form.get(flag.lstrip("-"), "").strip() for flag in UPGRADE_FORM}
    return start(operations.UPGRADE, kind, name, {"flags": {k: v for k, v in flags.items() if v}})


def start(spec: Any, kind: str, name: str, params: dict[str, Any]) -> Response:
    """Validate first (bad input never reaches Dokku), then look the service up and start."""
    facts, name = readable(kind, name)
    run = runner()
    params = run.validate(spec, target(facts.name, name), params)
    visible(facts.name, name)
    return op_page(run.start(spec, target(facts.name, name), params))


# --------------------------------------------------------------------------- destroy
def _destroy_form(status: int, kind: str, name: str) -> tuple[Any, int]:
    facts, name = readable(kind, name)
    return render_template("services/destroy.html", kind=facts, name=name,
                           links=_links_or_none(facts.name, name)), status


def _links_or_none(kind: str, name: str) -> list[str] | None:
    try:
        return client().service_links(kind, name)
    except DokkuError:
        return None


@form_page(_destroy_form)
def destroy_page(kind: str, name: str) -> Any:
    facts, name = visible(kind, name, "services.destroy")
    if request.method == "POST":
        return start(operations.DESTROY, facts.name, name,
                     {"confirm": request.form.get("confirm", "")})
    return _destroy_form(200, facts.name, name)


# --------------------------------------------------------------------------- create
def create_params(form: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(type/name target, params)`` from the create form; flags only the kind's own."""
    kind = str(form.get("type", "")).strip()
    facts = kind_facts(kind, web_state().pruvon) if kind else None
    flags = {}
    for flag in facts.create_flags if facts else ():
        value = str(form.get(f"{kind}.{flag.lstrip('-')}", "")).strip()
        if value:
            flags[flag] = value
    apps = [a for a in str(form.get("link", "")).replace(",", " ").split() if a]
    name = str(form.get("name", "")).strip()
    return target(kind, name), {"flags": flags, "link": apps}


def _create_form(status: int) -> tuple[Any, int]:
    """The form; on GET prefilled from the query (``?type=postgres&link=blog`` from an app)."""
    form = request.form if request.method == "POST" else request.args
    return render_template("services/create.html", form=form,
                           kinds=kinds()), status


@form_page(_create_form)
def create_page() -> Any:
    if not can("services.create"):
        return render_error(403, "Your account may not create services.")
    if request.method == "GET":
        if request.args.get("operation"):
            return render_operation(create_operation(request.args["operation"]), create=True)
        return _create_form(200)
    where, params = create_params(request.form.to_dict())
    op = runner().start(operations.CREATE, where, params)
    return redirect(f"/services/create?operation={op.id}", 303)


# --------------------------------------------------------------------------- console, ops
def console_page(kind: str, name: str) -> Any:
    facts, name = visible(kind, name, "services.console")
    if not facts.console:
        return render_error(404, f"{facts.title} services have no console.")
    return render_template("services/console.html", kind=facts, name=name,
                           ws_path=f"/ws/services/{facts.name}/{name}/console")


def operation_page(kind: str, name: str, op_id: str) -> Any:
    facts, name = readable(kind, name)
    return render_operation(service_operation(facts.name, name, op_id))


def operation_cancel(kind: str, name: str, op_id: str) -> Any:
    """Ask a running operation to stop (needs the permission that started it; audited)."""
    cancel(kind, name, op_id)
    flash("Cancel requested.", "success")
    return redirect(f"/services/{kind}/{name}/operations/{op_id}", 303)


def render_operation(op: Operation, create: bool = False) -> Any:
    """An operation's progress page; a create is followed on its own socket (see web.py)."""
    kind, name = op_service(op)
    ws_path = (f"/ws/services/create?operation={op.id}" if create
               else f"/ws/services/{kind}/{name}/operations/{op.id}")
    can_cancel = not create and op.active and can(operations.cancel_action(op.kind), kind, name)
    return render_template("services/operation.html", kind=kind_facts(kind, web_state().pruvon),
                           name=name, op=op, ws_path=ws_path, can_cancel=can_cancel,
                           output=manager().store.output(op.id))


def register(bp: Blueprint) -> None:
    """The pages' routes, added by the blueprint hook (``routes.blueprint``)."""
    one = "/services/<kind>/<name>"
    for rule, view, methods in (
        ("/services", services_list, ["GET"]),
        ("/services/create", create_page, ["GET", "POST"]),
        (one, service_page, ["GET"]),
        (f"{one}/link", link_post, ["POST"]),
        (f"{one}/manage", manage_post, ["POST"]),
        (f"{one}/expose", expose_post, ["POST"]),
        (f"{one}/clone", clone_post, ["POST"]),
        (f"{one}/upgrade", upgrade_post, ["POST"]),
        (f"{one}/destroy", destroy_page, ["GET", "POST"]),
        (f"{one}/console", console_page, ["GET"]),
        (f"{one}/operations/<op_id>", operation_page, ["GET"]),
        (f"{one}/operations/<op_id>/cancel", operation_cancel, ["POST"]),
    ):
        bp.add_url_rule(rule, endpoint=f"page_{view.__name__}", view_func=view, methods=methods)
