"""The apps plugin's blueprint: every route added explicitly, once.

The ``pruvon_web_blueprints`` hook calls :func:`blueprint`; nothing is
registered as a side effect of importing a module.  The blueprint is built on
the first call and reused (Flask refuses new routes on a blueprint that an
application has registered, and the API documentation must list each
endpoint once, however many applications a process creates).
"""

from __future__ import annotations

import functools

from flask import Blueprint

from pruvon_apps import api, pages, settings_web, ws


@functools.cache
def blueprint() -> Blueprint:
    bp = Blueprint("apps", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static/apps")
    for module in (pages, api, settings_web, ws):
        module.register(bp)
    return bp
