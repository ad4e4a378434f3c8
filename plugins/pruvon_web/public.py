"""What other plugins may use of ``pruvon_web``: its documented public API.

A feature plugin's pages, JSON endpoints and WebSockets are built from these
(the apps and terminals plugins are the worked examples): the request's web
state, the identity checks, error pages, the JSON API helpers and the
WebSocket route/revalidation helpers.  Other plugins import from here, never
from the modules behind it; ``tests/unit/test_architecture.py`` enforces that.
Everything here is a re-export: the behaviour lives in the modules named.
"""

from __future__ import annotations

from pruvon_web.api import DOKKU_RESPONSES, body, endpoint
from pruvon_web.context import WebState, web_state
from pruvon_web.errors import render_error
from pruvon_web.forms import form_page
from pruvon_web.inputs import parse_json, query_int
from pruvon_web.routes import add_pages, api_adder
from pruvon_web.security import audit_event, client_ip, json_error
from pruvon_web.statuses import dokku_status, error_message, error_status
from pruvon_web.usersedit import UserEditError
from pruvon_web.views import allowed
from pruvon_web.ws import Revalidator, authorize, close, pump_lines, release, route

__all__ = [
    "DOKKU_RESPONSES",
    "Revalidator",
    "UserEditError",
    "WebState",
    "add_pages",
    "allowed",
    "api_adder",
    "audit_event",
    "authorize",
    "body",
    "client_ip",
    "close",
    "dokku_status",
    "endpoint",
    "error_message",
    "error_status",
    "form_page",
    "json_error",
    "parse_json",
    "pump_lines",
    "query_int",
    "release",
    "render_error",
    "route",
    "web_state",
]
