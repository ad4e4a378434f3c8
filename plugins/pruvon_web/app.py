"""The Flask application factory: ``gunicorn 'pruvon_web.app:create_app()'``.

Configuration comes from the same places as the CLI: ``PRUVON_CONFIG`` (or
``/etc/pruvon.yml``) and ``PRUVON_STATE_DIR`` (or ``/var/lib/pruvon``).  An
invalid config refuses to start (the error names the bad key); a config that
turns invalid while serving keeps the last good one (see ``ConfigStore``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.exceptions import HTTPException

from pruvon_core.config import ConfigStore
from pruvon_core.config import state_dir as default_state_dir
from pruvon_core.dokku import errors
from pruvon_core.errors import InputError
from pruvon_core.files import as_disk_full, private_dir
from pruvon_core.operations import OperationError
from pruvon_core.permissions import PermissionDenied
from pruvon_core.plugins import PluginManager, flatten, get_plugin_manager
from pruvon_core.runtime import bind
from pruvon_web import security
from pruvon_web.context import WebState
from pruvon_web.inputs import PruvonRequest, StrictJSONProvider
from pruvon_web.statuses import dokku_status, error_message, error_status

log = logging.getLogger("pruvon.web")

MAX_FORM_BYTES = 1024 * 1024  # forms and JSON bodies; uploads use dedicated streams
# one WebSocket message: the reader buffers a whole message before the handler sees it,
# so an unbounded one would let any signed-in client exhaust the worker's memory
MAX_WS_MESSAGE_BYTES = 1 << 20


def create_app(
    config_path: str | os.PathLike[str] | None = None,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    plugins: PluginManager | None = None,
) -> Flask:
    """Build the web application; raises ``ConfigError`` on an invalid config."""
    store = ConfigStore(config_path)
    store.current()  # refuse to start on a missing or invalid file
    state_path = Path(state_dir) if state_dir else default_state_dir()
    private_dir(state_path)
    state = WebState(store=store, state_dir=state_path, plugins=plugins or get_plugin_manager())
    bind(state.plugins, state.pruvon)  # core's hook calls (audit, config) get this app's context

    app = Flask("pruvon_web", static_folder="static", template_folder="templates")
    app.request_class = PruvonRequest  # every JSON parse error a 400 (inputs.py)
    app.json = StrictJSONProvider(app)  # no NaN, no deep nesting, UTF-8 only
    app.extensions["pruvon"] = state
    app.config.update(MAX_CONTENT_LENGTH=MAX_FORM_BYTES, PROPAGATE_EXCEPTIONS=False)
    app.config["SOCK_SERVER_OPTIONS"] = {"max_message_size": MAX_WS_MESSAGE_BYTES}
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    security.install(app, state)
    _register_blueprints(app, state)
    _register_error_handlers(app)
    app.context_processor(_template_context)
    state.plugins.hook.pruvon_startup(app_context=state, pruvon=state.pruvon)
    return app


def _register_blueprints(app: Flask, state: WebState) -> None:
    """Ours first, then every plugin's; a plugin's broken blueprint is skipped."""
    from pruvon_web import admin_views, api, auth_views, views, ws

    for blueprint in (auth_views.bp, views.bp, admin_views.bp, api.bp, ws.bp):
        app.register_blueprint(blueprint)
    for blueprint in flatten(state.plugins.hook.pruvon_web_blueprints(pruvon=state.pruvon)):
        try:
            app.register_blueprint(blueprint)
        except Exception as exc:  # one plugin's mistake must not stop the server
            name = getattr(blueprint, "name", repr(blueprint))
            state.plugins.hook_errors.append((name, "pruvon_web_blueprints", str(exc)))
            log.error("blueprint %s not registered: %s", name, exc)


def _register_error_handlers(app: Flask) -> None:
    """Errors become a page or JSON with a message; tracebacks only reach the log."""
    from pruvon_web.views import render_error

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        message = exc.description or exc.name
        if exc.code == 413:
            message = f"Request too large (limit {MAX_FORM_BYTES // 1024} KiB)."
        return _error_response(exc.code or 500, message, render_error)

    @app.errorhandler(errors.DokkuError)
    def dokku_error(exc: errors.DokkuError) -> Any:
        status = dokku_status(exc) or 502
        log.warning("%s %s: Dokku error %d: %s", request.method, request.path, status, exc)
        return _error_response(status, str(exc), render_error)

    def typed_error(exc: Exception) -> Any:
        """Bad input, a refused permission, a busy target: the message and its status."""
        return _error_response(error_status(exc) or 400, error_message(exc), render_error)

    for kind in (InputError, PermissionDenied, OperationError):
        app.register_error_handler(kind, typed_error)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        full = as_disk_full(exc)
        if full is not None:  # 507 Insufficient Storage, naming what could not be written
            log.error("%s on %s %s", full, request.method, request.path)
            return _error_response(507, f"{full}; free some space and try again.", render_error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(500, "Internal error; details are in the server log.", render_error)


def _error_response(status: int, message: str, render_error: Any) -> Any:
    if security.is_api_path(request.path) or security.is_ws_path(request.path):
        return security.json_error(message, status)
    return render_error(status, message)


def _template_context() -> dict[str, Any]:
    """Values every page template can use: who is signed in and the menu."""
    from pruvon_web.views import menu_for

    identity = g.get("identity")
    return {
        "identity": identity,
        "menu": menu_for(identity) if identity else [],
        "active_path": request.path,
        "admin_notices": admin_notices(identity),
        "has_page": has_page,
    }


def has_page(path: str) -> bool:
    """Whether some plugin serves ``path``: templates link only to pages that exist."""
    from flask import current_app

    return any(rule.rule == path for rule in current_app.url_map.iter_rules())


def admin_notices(identity: Any) -> list[str]:
    """Problems only an admin can fix: a broken config file, failing plugins."""
    if identity is None or identity.record.role != "admin":
        return []
    state = current_app.extensions["pruvon"]
    notices = []
    if state.store.error is not None:
        notices.append("The config file is invalid; still serving the last good version: "
                       + "; ".join(state.store.error.errors))
    for name, hook, error in list(state.plugins.hook_errors)[-3:]:
        notices.append(f"Plugin {name} failed in {hook}: {error}")
    return notices
