"""Built-in plugin: the optional web UI (Flask + flask-sock behind gunicorn)."""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action

ACTIONS = [
    Action("dashboard.read", "See the dashboard", True, None),
    Action("settings.write", "Change Pruvon settings from the web UI", False, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS
