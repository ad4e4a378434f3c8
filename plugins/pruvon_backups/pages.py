"""The ``/backups`` pages: the overview, run now, verify, restore, delete, download.

A refused form comes back with its message and status (bad input 400, a run
in progress 409, a Dokku failure 5xx); a missing or hidden backup (404) and a
refused permission (403) go to the web app's error handler like any view.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request
from pruvon_web.public import error_message, error_status

from pruvon_backups import engine, overview, specs
from pruvon_backups.web import (
    actor,
    allowed,
    backup_operation,
    download,
    guard,
    manager,
    not_found,
    on_this_host,
    pruvon,
    record,
    runner,
)
from pruvon_core.operations import Operation
from pruvon_core.output import human_bytes

CAN = ("backups.run", "backups.restore", "backups.delete", "services.create")


def refused_form(render: Callable[..., tuple[Any, int]]) -> Callable[[Callable[..., Any]], Any]:
    """Render the form again with the typed error's message; 403/404 and bugs propagate."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            try:
                return view(**kwargs)
            except specs.UnknownBackup:
                raise
            except Exception as exc:
                status = error_status(exc)
                if status in (None, 403, 404):
                    raise
                flash(error_message(exc), "error")
                return render(status, **kwargs)

        return wrapped

    return decorator


def op_page(op: Operation) -> Response:
    return redirect(f"/backups/operations/{op.id}", 303)


# --------------------------------------------------------------------------- overview
def render_list(status: int = 200, **_: Any) -> tuple[Any, int]:
    guard().require("backups.read")
    context = pruvon()
    view = overview.overview(context, actor())
    running = [op for op in manager().store.list(active=True) if op.kind in (
        specs.RUN.kind, specs.RESTORE.kind) and on_this_host(op)]
    return render_template(
        "backups/list.html", view=view, schedule=overview.schedule_view(context),
        can={a: allowed(a) for a in CAN}, running=running, age=overview.human_age,
        size=human_bytes, form=request.form), status


def backups_page() -> Any:
    return render_list()


@refused_form(render_list)
def run_post() -> Any:
    form = request.form
    params = {"scope": form.get("scope", ""), "type": form.get("type", "").strip(),
              "name": form.get("name", "").strip(), "app": form.get("app", "").strip()}
    if params["scope"] == "service" and ":" in form.get("service", ""):
        params["type"], params["name"] = form["service"].split(":", 1)
    return op_page(specs.start_run(runner(), params))


@not_found
@refused_form(render_list)
def verify_post(backup_id: str) -> Any:
    found = record(backup_id)
    result = engine.verify(pruvon(), found.id, specs.identities(request.form.get("identity")),
                           actor=actor())
    if result.ok:
        flash(f"Backup {found.id} verified: " + "; ".join(result.checks), "success")
    else:
        flash(f"Backup {found.id} failed verification: {result.problem}", "error")
    return redirect(f"/backups#backup-{found.id}", 303)


@not_found
@refused_form(render_list)
def delete_post(backup_id: str) -> Any:
    found = record(backup_id)
    guard().require("backups.delete")
    engine.delete(pruvon(), found.id, actor=actor())
    flash(f"Backup {found.id} of {found.type} {found.service} deleted.", "success")
    return redirect("/backups", 303)


@not_found
def download_get(backup_id: str) -> Any:
    return download(backup_id)


# --------------------------------------------------------------------------- restore
def render_restore(status: int = 200, backup_id: str = "", **_: Any) -> tuple[Any, int]:
    found = record(backup_id)
    return render_template("backups/restore.html", backup=found, form=request.form,
                           can={a: allowed(a) for a in CAN}, size=human_bytes), status


@not_found
@refused_form(render_restore)
def restore_page(backup_id: str) -> Any:
    found = record(backup_id)
    guard().require("backups.restore")
    if request.method == "GET":
        return render_restore(backup_id=backup_id)
    form = request.form
    params = {"id": found.id, "confirm": form.get("confirm", "").strip(),
              "into": form.get("into", "").strip() if form.get("target") == "new" else None,
              "safety": form.get("safety") == "1", "identity": form.get("identity") or None}
    return op_page(specs.start_restore(runner(), params))


# --------------------------------------------------------------------------- operations
def operation_page(op_id: str) -> Any:
    guard().require("backups.read")
    op = backup_operation(op_id)
    return render_template("backups/operation.html", op=op, output=manager().store.output(op.id),
                           progress=specs.progress_of(op))


def register(bp: Blueprint) -> None:
    """The pages' routes, added by the blueprint hook (``routes.blueprint``)."""
    for rule, view, methods in (
        ("/backups", backups_page, ["GET"]),
        ("/backups/run", run_post, ["POST"]),
        ("/backups/<backup_id>/verify", verify_post, ["POST"]),
        ("/backups/<backup_id>/delete", delete_post, ["POST"]),
        ("/backups/<backup_id>/download", download_get, ["GET"]),
        ("/backups/<backup_id>/restore", restore_page, ["GET", "POST"]),
        ("/backups/operations/<op_id>", operation_page, ["GET"]),
    ):
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=methods)
