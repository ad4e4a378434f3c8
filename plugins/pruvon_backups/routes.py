"""The backups plugin's blueprint: pages, API and WebSocket routes, added once.

Built on the first call and reused (Flask refuses new routes on a registered
blueprint, and the API document must list each endpoint once).
"""

from __future__ import annotations

import functools

from flask import Blueprint

from pruvon_backups import api, pages, ws


@functools.cache
def blueprint() -> Blueprint:
    bp = Blueprint("backups", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static/backups")
    for module in (pages, api, ws):
        module.register(bp)
    return bp
