"""The services plugin's blueprint: every route added explicitly, once.

The ``pruvon_web_blueprints`` hook calls :func:`blueprint`; nothing is
registered as a side effect of importing a module.  Each front-end module
(``api.py``, ``pages.py``, ``transfer_web.py``, ``ws.py``) has a
``register(bp)``.  The blueprint is built on the first call and reused
(Flask refuses new routes on a blueprint an application has registered, and
the API documentation must list each endpoint once).
"""

from __future__ import annotations

import functools

from flask import Blueprint

from pruvon_services import api, pages, transfer_web, ws

# the front-end modules, in registration order
MODULES = (api, pages, transfer_web, ws)


@functools.cache
def blueprint() -> Blueprint:
    bp = Blueprint("services", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static/services")
    for module in MODULES:
        module.register(bp)
    return bp
