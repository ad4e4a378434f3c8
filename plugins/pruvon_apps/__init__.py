"""Built-in plugin: the app lifecycle (list, detail, config, domains, scale …).

Layers (docs/development.md): ``service.py`` and ``settings.py`` (Dokku
operations, pure Python), ``operations.py`` (each operation declared once for
the core runner), ``cli.py`` (``pruvon apps …``), and the web front ends,
imported only when the web plugin asks for blueprints: ``pages.py``,
``api.py``, ``ws.py``, ``settings_web.py`` (sharing ``web.py``), their routes
added by ``routes.py``; ``api_list.py`` (``GET /api/v1/apps``),
``configuration.py`` (the ``apps:`` config section), ``templates/apps``.
Service facts come from :mod:`pruvon_services.public`.
"""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action
from pruvon_core.route_grants import RouteGrant

ACTIONS = [
    Action("apps.read", "See apps, their state, domains and processes", True, "app"),
    Action("apps.config.read", "Read an app's environment variables", True, "app",
           sensitive=True),
    Action("apps.config.write", "Set or unset an app's environment variables", False, "app"),
    Action("apps.domains.write", "Add, remove or set an app's domains", False, "app"),
    Action("apps.ports.write", "Change an app's port mappings", False, "app"),
    Action("apps.storage.write", "Mount or unmount storage on an app", False, "app"),
    Action("apps.ps.write", "Scale, start, stop, restart or rebuild an app", False, "app"),
    Action("apps.logs", "Read an app's logs", True, "app"),
    Action("apps.create", "Create apps", False, None),
    Action("apps.destroy", "Destroy an app", False, "app"),
    Action("apps.deploy", "Deploy an app from an image or git repository", False, "app"),
    Action("apps.settings.write", "Change an app's nginx settings, resource limits, docker "
           "options, Let's Encrypt and redirects", False, "app"),
    # global (no resource kind) and not route-granted: only admins hold it
    Action("apps.host_access", "Reach past an app's containers: docker options off the "
           "scoped allowlist, storage outside the app's own directory, file:// git sources",
           False, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_route_grants():
    """``/apps`` lists apps, ``/apps/<app>…`` is app ``<app>``, ``/apps/create`` creates one."""
    return [RouteGrant("/apps", resource_kind="app", create_action="apps.create",
                       create_flag="can_create_apps")]


@hookimpl
def pruvon_validate_config(data):
    """The apps plugin owns ``apps:`` (see ``configuration.py``)."""
    if isinstance(data, dict) and data.get("apps") is not None:
        from pruvon_apps.configuration import validate

        return validate(data["apps"])
    return []


@hookimpl
def pruvon_app_templates():
    """The shipped create-wizard presets (``presets/*.json``)."""
    from pruvon_apps.presets import shipped

    return shipped()


@hookimpl
def pruvon_register_commands(cli):
    from pruvon_apps.cli import register

    register(cli)


@hookimpl
def pruvon_web_blueprints():
    from pruvon_apps import api_list
    from pruvon_apps.routes import blueprint

    return [blueprint(), api_list.bp]


@hookimpl
def pruvon_web_menu(actor):
    return [{"label": "Apps", "href": "/apps", "order": 10, "action": "apps.read"}]


@hookimpl
def pruvon_dashboard_cards(actor, pruvon):
    from pruvon_apps.pages import operations_card

    return [operations_card(actor, pruvon)]
