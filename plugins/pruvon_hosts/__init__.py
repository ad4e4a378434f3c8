"""Built-in plugin: several Dokku hosts from one Pruvon (issue 17, docs/hosts.md).

Core holds the registry (:mod:`pruvon_core.hosts`), the per-host clients
(:func:`pruvon_core.dokku.client_for`, ``pruvon.client(host)``) and the fan-out
(:mod:`pruvon_core.fanout`).  This plugin adds ``pruvon hosts …``
(``cli.py``), the host prefix of the web UI and its host switcher
(``web.py``), and the all-hosts pages.  ``service.py`` holds the logic.
"""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action
from pruvon_core.route_grants import RouteGrant

ACTIONS = [
    Action("hosts.read", "See the Dokku hosts and every granted host's apps", True, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_route_grants():
    """``/hosts`` lists the hosts and their apps: what each user sees is filtered by grants."""
    return [RouteGrant("/hosts", actions=("hosts.read",), open_to_all=True)]


@hookimpl
def pruvon_register_commands(cli):
    from pruvon_hosts.cli import register

    register(cli)


@hookimpl
def pruvon_web_blueprints():
    from pruvon_hosts.web import api_blueprint, blueprint

    return [blueprint(), api_blueprint()]


@hookimpl
def pruvon_startup(app_context, pruvon):
    """Start loading each remote host's app states in the background (DESIGN §4).

    Without docker on a host, app state comes from Dokku's all-apps
    ``ps:report`` (≈0.75 s per app): loading it when the server starts means
    the first page finds it loaded or loading instead of waiting for it.
    """
    from pruvon_hosts.service import warm_up

    warm_up(pruvon)
