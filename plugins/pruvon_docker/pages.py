"""The docker plugin's HTML pages: ``/docker`` and its forms, logs, shell and prune pages.

Forms hand their fields to the operations runner (``web.runner()``) and
redirect back to ``/docker`` with a message; a refused form (bad input, an
unknown container, docker's refusal) re-renders its page with the message and
the status; a permission refusal is the web app's 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request
from pruvon_web.public import allowed, form_page, render_error, web_state

from pruvon_core import hosts
from pruvon_core.permissions import PermissionDenied
from pruvon_docker import host, operations
from pruvon_docker.text import human_size
from pruvon_docker.web import can, client, runner


def _require(action: str) -> None:
    if not allowed(g.identity, action):
        raise PermissionDenied(g.identity.actor, action, None)


def shown(ref: str) -> str:
    """A container reference as people read it: a full id shortened like docker does."""
    return ref[:12] if len(ref) == 64 else ref


# --------------------------------------------------------------------------- the page
def unreachable() -> str | None:
    """Why docker cannot be asked on the host this page acts on (``None``: it can).

    A host reached over Dokku's ssh interface has no docker unless the config
    names a command for it (``hosts[].docker``); the page says so instead of
    failing each of its reads with the same error.
    """
    if client().docker is not None:
        return None
    name = hosts.current() or hosts.default_name(web_state().config())
    return (f"Docker is not reachable on host {name}: Pruvon reaches it through Dokku's ssh "
            "interface, which runs no docker. To manage its containers here, name a docker "
            f"command for it in the config (hosts: - name: {name} … docker: ssh root@HOST "
            "docker).")


def render_index(status: int = 200, **_: Any) -> tuple[str, int]:
    _require("docker.read")
    missing = unreachable()
    view = host.Overview([], [], [], [], [missing]) if missing else host.overview(client())
    running = [c for c in view.containers if c.running]
    totals = {
        "running": len(running), "containers": len(view.containers),
        "cpu": sum(c.usage.cpu_percent for c in running if c.usage),
        "memory": sum(c.usage.mem_used for c in running if c.usage),
        "images": sum(i.size for i in view.images),
        "unused_images": sum(i.size for i in view.images if i.unused),
        "volumes": sum(v.size or 0 for v in view.volumes),
    }
    return render_template("docker/index.html", view=view, can=can(), totals=totals,
                           human_size=human_size, unreachable=missing), status


def index() -> Any:
    return render_index()


def lifecycle_view(action: str) -> Callable[..., Any]:
    @form_page(render_index)
    def view(ref: str) -> Response:
        params = {"signal": request.form.get("signal") or None} if action == "kill" else {}
        runner().apply(operations.LIFECYCLE[action], ref, params)
        flash(f"{action}: {shown(ref)}", "success")
        return redirect("/docker#containers", 303)

    view.__name__ = f"container_{action}"
    return view


# --------------------------------------------------------------------------- remove
def render_remove(status: int = 200, ref: str = "", **_: Any) -> tuple[str, int]:
    _require("docker.remove")
    container = host.find(client(), ref)
    return render_template("docker/remove.html", container=container), status


def remove_page(ref: str) -> Any:
    return render_remove(ref=ref)


@form_page(render_remove)
def remove_post(ref: str) -> Response:
    runner().apply(operations.REMOVE, ref, {
        "force": request.form.get("force") == "on",
        "confirm": request.form.get("confirm") or None,
    })
    flash(f"removed container {ref}", "success")
    return redirect("/docker#containers", 303)


# --------------------------------------------------------------------------- logs, shell
def logs_page(ref: str) -> Any:
    _require("docker.logs")
    container = host.find(client(), ref)
    return render_template("docker/logs.html", container=container,
                           ws_path=f"/ws/docker/logs/{container.id}")


def terminal_page(ref: str) -> Any:
    _require("docker.exec")
    container = host.find(client(), ref)
    if not container.running:
        return render_error(409, f"Container {container.name} is not running.")
    shell = request.args.get("shell", "/bin/sh")
    if shell not in host.SHELLS:
        return render_error(400, f"shell must be one of {', '.join(host.SHELLS)}")
    return render_template("docker/terminal.html", container=container, shells=host.SHELLS,
                           mode="enter",
                           shell=shell, ws_path="/ws/docker/terminal",
                           query={"container": container.id, "shell": shell})


# --------------------------------------------------------------------------- prune
def _prune_options(source: Any) -> tuple[bool, bool]:
    return source.get("all_images") in ("1", "on"), source.get("volumes") in ("1", "on")


def render_prune(status: int = 200, **_: Any) -> tuple[str, int]:
    _require("docker.prune")
    all_images, volumes = _prune_options(request.values)
    plan = host.prune_plan(client(), all_images, volumes)
    return render_template("docker/prune.html", plan=plan, human_size=human_size,
                           word=operations.PRUNE_WORD, output=None), status


def prune_page() -> Any:
    return render_prune()


@form_page(render_prune)
def prune_post() -> Any:
    all_images, volumes = _prune_options(request.form)
    result = runner().apply(operations.PRUNE, operations.PRUNE_TARGET, {
        "all_images": all_images, "volumes": volumes, "confirm": request.form.get("confirm")})
    return render_template("docker/prune.html", plan=None, human_size=human_size,
                           word=operations.PRUNE_WORD, output=result["output"])


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/docker", "index", index)
    for action in host.ACTIONS:
        bp.add_url_rule(f"/docker/{action}/<ref>", f"container_{action}",
                        lifecycle_view(action), methods=["POST"])
    bp.add_url_rule("/docker/remove/<ref>", "remove_page", remove_page)
    bp.add_url_rule("/docker/remove/<ref>", "remove_post", remove_post, methods=["POST"])
    bp.add_url_rule("/docker/logs/<ref>", "logs_page", logs_page)
    bp.add_url_rule("/docker/terminal/<ref>", "terminal_page", terminal_page)
    bp.add_url_rule("/docker/prune", "prune_page", prune_page)
    bp.add_url_rule("/docker/prune", "prune_post", prune_post, methods=["POST"])
