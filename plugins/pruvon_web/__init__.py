"""Built-in plugin: the optional web UI (Flask + flask-sock behind gunicorn).

Only this module is imported by the CLI; Flask is imported lazily by the
``serve`` command and by the app factory, so ``pruvon`` works without the
``web`` extra installed.
"""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action
from pruvon_core.route_grants import RouteGrant

ACTIONS = [
    Action("dashboard.read", "See the dashboard", True, None),
    Action("settings.write", "Change Pruvon settings from the web UI", False, None),
]

# "host": False - the same page for every Dokku host: never under a /h/<host> prefix
MENU = [
    {"label": "Dashboard", "href": "/", "order": 0, "action": "dashboard.read"},
    {"label": "Users", "href": "/settings/users", "order": 900, "action": "users.read",
     "host": False},
    {"label": "API keys", "href": "/settings/apikeys", "order": 910, "action": "apikeys.write",
     "host": False},
    {"label": "Audit log", "href": "/logs", "order": 920, "action": "audit.read", "host": False},
    {"label": "Account", "href": "/account", "order": 990, "action": None, "host": False},
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_route_grants():
    """The dashboard, the audit log (served as ``/api/v1/audit`` too) and the pages
    every signed-in user opens whatever their grants: own account, sign-out, static files."""
    return [
        RouteGrant("/", actions=("dashboard.read",), open_to_all=True),
        RouteGrant("/logs", actions=("audit.read",), api_aliases=("/audit",)),
        RouteGrant("/logout", open_to_all=True),
        RouteGrant("/account", open_to_all=True),
        RouteGrant("/static", open_to_all=True),
    ]


@hookimpl
def pruvon_register_commands(cli):
    from pruvon_web.serve import serve_command

    cli.add_command(serve_command)


@hookimpl
def pruvon_web_menu(actor):
    return [dict(entry) for entry in MENU]


@hookimpl
def pruvon_dashboard_cards(actor, pruvon):
    from pruvon_web.cards import host_card

    return [host_card(actor, pruvon)]
