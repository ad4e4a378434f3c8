"""The services plugin's blueprint: every route added explicitly, once.

The ``pruvon_web_blueprints`` hook calls :func:`blueprint`; nothing is
registered as a side effect of importing a module.  Built on the first call
and reused (Flask refuses new routes on a blueprint an application has
registered, and one process may build several applications).
"""

from __future__ import annotations

import functools

from flask import Blueprint

from pruvon_services import pages, transfer_web, ws


@functools.cache
def blueprint() -> Blueprint:
    bp = Blueprint("services", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static/services")
    for module in (pages, transfer_web, ws):
        module.register(bp)
    return bp
