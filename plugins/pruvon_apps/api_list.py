"""``GET /api/v1/apps``: every app the caller may see, with its live state.

The apps plugin owns its whole API; this list endpoint is registered through
the apps plugin's ``pruvon_web_blueprints`` on a blueprint of its own whose
prefix is ``/api/v1``, so its OpenAPI entry (path ``/api/v1/apps``, tag
``apps``) is what it was when the web plugin served it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from pruvon_web.public import DOKKU_RESPONSES, allowed, endpoint, web_state

from pruvon_core.permissions import Resource

bp = Blueprint("apps_api_list", __name__, url_prefix="/api/v1")

APPS_SCHEMA = {
    "type": "object",
    "properties": {
        "apps": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "state": {"type": "string",
                              "enum": ["running", "stopped", "mixed", "not deployed"]},
                },
            },
        },
        "live_state": {  # available false: docker unreadable, states from ps:report
            "type": "object",
            "properties": {
                "available": {"type": "boolean"},
                "source": {"type": "string", "enum": ["docker", "report"]},
                "age": {"type": "number"},
                "error": {"type": ["string", "null"]},
            },
        },
    },
}


@endpoint("/apps", "GET", "Every app the caller may see, with its live state",
          action="apps.read", response_schema=APPS_SCHEMA,
          responses={"200": "OK", **DOKKU_RESPONSES}, bp=bp)
def apps() -> Any:
    client = web_state().client()
    overview = client.apps_overview()  # Dokku errors: the web plugin's error handler
    visible = [a for a in overview if allowed(g.identity, "apps.read", Resource("app", a.name))]
    live = client.live_state()  # what that overview found (this process)
    return {"apps": [{"name": a.name, "state": a.state} for a in visible],
            "live_state": live.as_dict() if live is not None else None}
