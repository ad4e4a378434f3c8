"""Built-in plugin: Dokku's own plugins (``/plugins``, ``pruvon dokku-plugins …``).

Installed plugins with version and state (``plugin:list``), install from a
URL or the curated official ones, update, enable, disable, uninstall — long
operations with live output.  Layers: ``service.py``, ``operations.py``,
``cli.py``, ``web.py``, ``templates/dokku_plugins``.  Admin-only (global
actions, no page grant).
"""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action

ACTIONS = [
    Action("plugins.read", "See Dokku's installed plugins", True, None),
    Action("plugins.write", "Install, update, enable, disable and uninstall Dokku plugins "
           "(code that runs as root on the host)", False, None),
    Action("plugins.letsencrypt.write", "Set Let's Encrypt's global e-mail and turn its "
           "auto-renew cron job on or off", False, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_register_commands(cli):
    from pruvon_dokku_plugins.cli import plugins_group

    cli.add_command(plugins_group)


@hookimpl
def pruvon_web_blueprints():
    from pruvon_dokku_plugins.web import blueprint

    return [blueprint()]


@hookimpl
def pruvon_web_menu(actor):
    return [{"label": "Plugins", "href": "/plugins", "order": 70, "action": "plugins.read"}]
