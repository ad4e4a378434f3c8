"""Terminal pages and WebSockets (imported only by the web plugin).

Pages (server-rendered, xterm.js from the web plugin's vendored assets, no
inline script):

* ``/apps/<app>/terminal`` - pick process type / container / shell, or switch
  to a one-off ``run`` with a command; needs ``apps.terminal`` (``apps.run``)
  on that app;
* ``/host/terminal`` - the host shell, admins only and only when
  ``terminals.host_shell: true``.

WebSockets ``/ws/apps/<app>/terminal``, ``/ws/apps/<app>/run`` and
``/ws/host/terminal``: the web plugin has already checked Origin, identity and
``routes:`` grants at the upgrade; here the target's own action is checked on
the specific app, the caps are taken in the shared registry, and the bridge
runs with the web layer's :class:`~pruvon_web.ws.Revalidator` (user, session,
signing key, maximum age and the target's own action) every
``terminals.revalidate_interval`` seconds.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from dataclasses import asdict, replace
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request
from pruvon_web.public import (
    Revalidator,
    WebState,
    allowed,
    audit_event,
    client_ip,
    close,
    parse_json,
    release,
    render_error,
    route,
    web_state,
)

from pruvon_core import hosts
from pruvon_core.dokku import validate
from pruvon_core.dokku.errors import DokkuError
from pruvon_core.permissions import Resource
from pruvon_terminals import settings as terminal_settings
from pruvon_terminals.procs import kill_session, process_start
from pruvon_terminals.registry import Entry, LimitReached, Registry, new_id
from pruvon_terminals.sessions import SHUTDOWN, Limits, TerminalBridge, clamp
from pruvon_terminals.targets import (
    TargetContext,
    TargetError,
    TerminalRequest,
    TerminalTarget,
    collect,
    running_dynos,
)

bp = Blueprint(
    "terminals",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/terminals",
)

# PTY leaders bridged by this process: killed at interpreter exit (a stopping
# server must not leave shells behind; a SIGKILLed one is cleaned up by the
# registry's stale-entry pruning).
_LIVE: set[int] = set()
START_TIMEOUT = 30.0  # seconds a one-off run waits for the client's start message
_LIVE_LOCK = threading.Lock()


def watch_shutdown(
    signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT),
) -> None:
    """Close every terminal as soon as the server process is asked to stop.

    gunicorn's worker handles SIGTERM by finishing open connections within its
    graceful timeout - and a terminal never finishes by itself, so the worker
    (and its PTYs) would be killed when the timeout ends; SIGQUIT/SIGINT make
    it exit at once while open sockets keep the interpreter waiting.  Chaining a
    handler that sets :data:`sessions.SHUTDOWN` lets every bridge close and reap
    its terminal first.  Only handlers a server installed are chained (not the
    defaults of a CLI or test process), and only from the main thread, where
    gunicorn builds the app.
    """
    for signum in signals:
        previous = signal.getsignal(signum)
        if (not callable(previous) or previous is signal.default_int_handler
                or getattr(previous, "pruvon_terminals", False)):
            continue

        def handler(sig: int, frame: Any, previous: Any = previous) -> None:
            SHUTDOWN.set()
            previous(sig, frame)

        handler.pruvon_terminals = True  # type: ignore[attr-defined]
        try:
            signal.signal(signum, handler)
        except ValueError:  # not the main thread
            return


@atexit.register
def _kill_live_sessions() -> None:
    with _LIVE_LOCK:
        leaders = list(_LIVE)
    for leader in leaders:
        kill_session(leader)


# --------------------------------------------------------------------------- pages
def _valid_app(app: str) -> str:
    try:
        return validate.app_name(app)
    except ValueError:
        abort(404)


def _settings(state: WebState) -> terminal_settings.TerminalSettings:
    return terminal_settings.load(state.config())


@bp.route("/apps/<app>/terminal")
def app_terminal(app: str) -> Any:
    """The terminal page of an app: enter a container, or run a one-off command."""
    app = _valid_app(app)
    mode = "run" if request.args.get("mode") == "run" else "enter"
    action = "apps.run" if mode == "run" else "apps.terminal"
    if not allowed(g.identity, action, Resource("app", app)):
        return render_error(403, f"You may not open a terminal on app {app}.")
    try:
        settings = _settings(web_state())
    except terminal_settings.SettingsError as exc:
        return render_error(500, str(exc))
    dynos, problem = _dynos(app)
    if not dynos and problem is None:
        if not web_state().client().app_exists(app):
            return render_error(404, f"App {app} does not exist.")
        if mode == "enter":
            problem = f"App {app} has no running container to open a shell in."
    if "cmd" in request.args:
        return render_error(400, "The command is not taken from the URL (URLs are kept in "
                                 "access logs and browser history): type it into the form.")
    path = f"/ws/apps/{app}/run" if mode == "run" else f"/ws/apps/{app}/terminal"
    keep = () if mode == "run" else ("process", "container", "shell")
    query = {k: request.args[k] for k in keep if request.args.get(k)}
    return render_template(
        "terminals/terminal.html",
        app=app,
        mode=mode,
        dynos=dynos,
        problem=problem,
        shells=settings.shells,
        query=query,
        ws_path=path,
        can_run=allowed(g.identity, "apps.run", Resource("app", app)),
        can_enter=allowed(g.identity, "apps.terminal", Resource("app", app)),
    )


def _dynos(app: str) -> tuple[list[tuple[str, str]], str | None]:
    """``[(container id, dyno)]`` for the pickers, or the error Dokku gave."""
    try:
        found = running_dynos(web_state().client(), app)
    except DokkuError as exc:
        return [], exc.message
    return sorted(((cid, dyno) for cid, dyno in found.items()), key=lambda pair: pair[1]), None


@bp.route("/host/terminal")
def host_terminal() -> Any:
    """A shell on the host (admins; off unless ``terminals.host_shell: true``)."""
    if not allowed(g.identity, "host.terminal"):
        return render_error(403, "Only administrators may open a host shell.")
    try:
        settings = _settings(web_state())
    except terminal_settings.SettingsError as exc:
        return render_error(500, str(exc))
    if not settings.host_shell:
        return render_error(404, "The host shell is off (terminals.host_shell: false).")
    return render_template("terminals/terminal.html", app=None, mode="host", dynos=[],
                           problem=None, shells=(), query={}, ws_path="/ws/host/terminal",
                           host_user=settings.host_user, can_run=False, can_enter=False)


# --------------------------------------------------------------------------- admin
def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


@bp.route("/settings/terminals")
def admin_list() -> Any:
    """Every open terminal of this host, with a close button (``terminals.admin``)."""
    if not allowed(g.identity, "terminals.admin"):
        return render_error(403, "Only administrators may see other users' terminals.")
    state = web_state()
    rows = []
    for entry in Registry(state.state_dir).entries():
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.started))
        rows.append({**asdict(entry), "started_text": started,
                     "duration_text": _duration(entry.duration)})
    try:
        host_shell = _settings(state).host_shell
    except terminal_settings.SettingsError:
        host_shell = False
    return render_template("terminals/admin.html", entries=rows, host_shell=host_shell)


@bp.route("/settings/terminals/<entry_id>/close", methods=["POST"])
def admin_close(entry_id: str) -> Any:
    """Ask the bridging server to close one terminal (CSRF-checked by the web layer)."""
    identity = g.identity
    if not allowed(identity, "terminals.admin"):
        audit_event(identity.actor, "terminals.admin", f"terminal:{entry_id}", "denied")
        return render_error(403, "Only administrators may close other users' terminals.")
    registry = Registry(web_state().state_dir)
    entry = registry.get(entry_id) if entry_id.isalnum() else None
    if entry is None:
        return render_error(404, f"No open terminal {entry_id}.")
    registry.request_kill(entry.id, f"closed by {identity.record.username}")
    audit_event(identity.actor, "terminals.admin", f"terminal:{entry.id}", "ok",
                user=entry.username, terminal=entry.label, outcome="close requested")
    flash(f"Terminal {entry.id} of {entry.username} is being closed.", "success")
    return redirect("/settings/terminals", code=303)


def menu_entries(pruvon: Any) -> list[dict[str, Any]]:
    """The menu: the admin list always (filtered by action), the host shell when on."""
    entries = [{"label": "Terminals", "href": "/settings/terminals", "order": 930,
                "action": "terminals.admin", "host": False}]  # every host's terminals
    try:
        enabled = terminal_settings.load(pruvon.config).host_shell
    except terminal_settings.SettingsError:
        enabled = False  # a config error the pages will report
    if enabled:
        entries.append({"label": "Host shell", "href": "/host/terminal", "order": 940,
                        "action": "host.terminal", "host": False})  # Pruvon's own machine
    return entries


# --------------------------------------------------------------------------- sockets
@route("/ws/apps/<app>/terminal", bp=bp)
def ws_app_terminal(ws: Any, app: str) -> None:
    serve_terminal(ws, "app", app)


@route("/ws/apps/<app>/run", bp=bp)
def ws_app_run(ws: Any, app: str) -> None:
    serve_terminal(ws, "run", app)


@route("/ws/host/terminal", bp=bp)
def ws_host_terminal(ws: Any) -> None:
    serve_terminal(ws, "host", None)


def _initial_size() -> tuple[int, int]:
    try:
        return clamp(int(request.args.get("cols", 80)), "cols"), clamp(
            int(request.args.get("rows", 24)), "rows")
    except ValueError:
        return 80, 24


def _start_command(ws: Any, timeout: float = START_TIMEOUT) -> Any:
    """The ``cmd`` of the client's first message, ``{"type":"start","cmd":…}``.

    The command travels on the socket, never in its URL: proxies log URLs and
    browsers keep them in history, and a one-off command may hold a password.
    """
    try:
        frame = ws.receive(timeout=timeout)
    except Exception as exc:  # the peer went away before starting
        raise TargetError("the connection closed before the start message") from exc
    if frame is None:
        raise TargetError(f"no start message within {timeout:g} seconds")
    try:
        message = parse_json(frame) if isinstance(frame, str) else None
    except ValueError:
        message = None
    if not isinstance(message, dict) or message.get("type") != "start":
        raise TargetError('the first message must be {"type":"start","cmd":...}')
    return message.get("cmd")


def _authorize(ws: Any, target: TerminalTarget, resource: Resource | None) -> Any:
    """The identity if it may use ``target`` on ``resource``; refusals are audited."""
    identity = g.get("identity")
    if identity is None:
        close(ws, "authentication required")
        return None
    if not allowed(identity, target.action, resource):
        audit_event(identity.actor, f"{target.action}.start", resource, "denied")
        close(ws, f"not allowed: {target.action}")
        return None
    return identity


def serve_terminal(ws: Any, target_name: str, app: str | None = None,
                   service_type: str | None = None, service: str | None = None) -> None:
    """Open target ``target_name`` for this WebSocket and bridge it until it ends.

    Exported for plugins whose terminal targets need their own URL (a service
    console): call it from their handler, e.g.
    ``serve_terminal(ws, "service", service_type=kind, service=name)``.  The
    socket is released here too (idempotent), so even a handler declared with
    plain ``sock.route`` rather than :func:`pruvon_web.ws.route` cannot stall
    the worker.
    """
    try:
        _serve(ws, target_name, app, service_type, service)
    finally:
        release(ws)


def _serve(ws: Any, target_name: str, app: str | None, service_type: str | None,
           service: str | None) -> None:
    state = web_state()
    target = collect(state.pruvon).get(target_name)
    if target is None:
        return close(ws, f"unknown terminal target {target_name!r}")
    try:
        settings = _settings(state)
        term_request = TerminalRequest.from_query(target_name, app, request.args,
                                                  service_type, service)
        resource = target.resource(term_request)
    except (terminal_settings.SettingsError, TargetError) as exc:
        return close(ws, str(exc))
    identity = _authorize(ws, target, resource)
    if identity is None:
        return None
    if not target.available(settings):
        return close(ws, f"{target.label} is switched off in the configuration")
    if target.takes_command:
        try:
            term_request = term_request.with_command(_start_command(ws))
        except TargetError as exc:
            return close(ws, str(exc))
    registry = Registry(state.state_dir)
    me = os.getpid()
    entry = Entry(id=new_id(), username=identity.record.username, actor=identity.actor.id,
                  target=target_name, label=f"{target_name} (starting)", source_ip=client_ip(),
                  started=time.time(), server_pid=me, server_start=process_start(me))
    try:
        registry.add(entry, settings.max_per_user, settings.max_sessions)
    except LimitReached as exc:
        return close(ws, str(exc))
    try:
        _run_session(ws, state, identity, target, term_request, resource, settings, entry)
    finally:
        registry.remove(entry.id)


def _on_host(target: TerminalTarget, label: str) -> str:
    """The label as the open-terminals list (every host's) shows it: ``… on prod`` for a
    terminal on another Dokku host; the host shell is always Pruvon's own machine."""
    host = hosts.current()
    return f"{label} on {host}" if host and target.name != "host" else label


def _run_session(ws: Any, state: WebState, identity: Any, target: TerminalTarget,
                 term_request: TerminalRequest, resource: Resource | None,
                 settings: terminal_settings.TerminalSettings, entry: Entry) -> None:
    registry = Registry(state.state_dir)
    try:
        launch = target.prepare(term_request, TargetContext(state.client(), settings))
        handle = launch.start(*_initial_size())
    except TargetError as exc:
        return close(ws, str(exc))
    except DokkuError as exc:
        return close(ws, exc.message)
    with _LIVE_LOCK:
        _LIVE.add(handle.pid)
    entry = replace(entry, label=_on_host(target, launch.label), leader_pid=handle.pid)
    registry.update(entry)
    action = target.action
    audit_event(identity.actor, f"{action}.start", resource or target.name, "ok",
                session=entry.id, terminal=launch.label, **launch.details)
    bridge = TerminalBridge(
        ws, handle,
        Limits(settings.idle_timeout, settings.max_lifetime, settings.revalidate_interval),
        Revalidator(identity, interval=0, action=target.action, resource=resource).reason,
        kill_requested=lambda: registry.kill_requested(entry.id),
    )
    bridge.send_json({"type": "ready", "session": entry.id, "target": launch.label})
    if launch.notice:
        bridge.send_json({"type": "notice", "message": launch.notice})
    try:
        outcome = bridge.run()
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(handle.pid)
    audit_event(identity.actor, f"{action}.end", resource or target.name, "ok",
                session=entry.id, terminal=launch.label, duration=round(outcome.duration, 3),
                exit_code=outcome.code, reason=outcome.reason or outcome.status)
    return None
