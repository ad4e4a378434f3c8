"""Built-in plugin: Dokku services (postgres, redis, … through their Dokku plugins).

Layers: ``kinds.py`` and ``service.py`` (kind facts and reads from Dokku),
``operations.py`` (every change, declared once for the core runner), ``cli.py``,
``console.py`` (the service console terminal target), ``cards.py`` (the
dashboard card), and the web front ends, imported only when the web plugin
asks for blueprints (``routes.py``): ``api.py``, ``pages.py`` (+ ``templates/``,
``static/``), ``transfer_web.py`` over ``transfer.py`` (export downloads,
import uploads) and ``ws.py`` (logs, console, progress sockets), sharing
``web.py``.  Other plugins use it through :mod:`pruvon_services.public` or
these hooks.
"""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action
from pruvon_core.route_grants import RouteGrant

ACTIONS = [
    Action("services.read", "See services and their status", True, "service"),
    Action("services.create", "Create services", False, None),
    Action("services.destroy", "Destroy a service", False, "service"),
    Action("services.link", "Link or unlink a service and an app", False, "service"),
    Action("services.manage", "Start, stop, restart, expose a service", False, "service"),
    Action("services.console", "Open a service console", False, "service"),
    Action("services.export", "Export a service's data", False, "service"),
    Action("services.import", "Import data into a service", False, "service"),
    # global (no resource kind) and not route-granted: only admins hold it
    Action("services.host_access", "Reach past a service's container: raw docker options "
           "(--config-options) for its container", False, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_route_grants():
    """``/services/<type>/<name>…`` is one service; ``/services/create`` creates one;
    ``/ws/services/import/<task>`` is an import's progress (its socket checks the service)."""
    return [RouteGrant("/services", resource_kind="service", create_action="services.create",
                       create_flag="can_create_services", task_segments=("import",))]


@hookimpl
def pruvon_terminal_targets():
    """The service console; the terminals plugin runs it like any other target."""
    from pruvon_services.console import ServiceConsoleTarget

    return [ServiceConsoleTarget()]


@hookimpl
def pruvon_dashboard_cards(actor, pruvon):
    from pruvon_services.cards import services_card

    return services_card(actor, pruvon)


@hookimpl
def pruvon_web_blueprints():
    from pruvon_services.routes import blueprint

    return [blueprint()]


@hookimpl
def pruvon_web_menu(actor):
    return [{"label": "Services", "href": "/services", "order": 15, "action": "services.read"}]


@hookimpl
def pruvon_register_commands(cli):
    from pruvon_services.cli import register

    register(cli)
