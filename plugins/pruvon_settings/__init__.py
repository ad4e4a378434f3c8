"""Built-in plugin: host-wide Dokku settings (``/settings``, ``pruvon settings …``).

Global domains (``domains:*-global``), cron mail (``cron:set --global``), the
SSH keys that may push to Dokku (``ssh-keys:*``, each key checked and its
fingerprint shown) and the GitHub key sync of users with a
``github.username``.  Layers: ``service.py`` (Dokku calls and checks),
``operations.py`` (each change declared once), ``cli.py``, ``web.py`` (page
and JSON API), ``templates/settings``.  Admin-only: its actions are global and
no page grant opens them.
"""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action

ACTIONS = [
    Action("settings.read", "See global domains, cron mail and the SSH keys that may push",
           True, None),
    Action("settings.ssh_keys.write", "Add and remove SSH keys that may push to Dokku, sync "
           "them from GitHub", False, None),
    Action("settings.domains.write", "Change Dokku's global domains", False, None),
    Action("settings.cron.write", "Change the global cron mail settings", False, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_validate_config(data):
    """``github.keys_url`` (where ``<user>.keys`` is fetched) must be https (or loopback http)."""
    github = data.get("github") if isinstance(data, dict) else None
    if github is None:
        return []
    if not isinstance(github, dict):
        return ["github: must be a mapping"]
    from pruvon_settings.service import check_keys_url

    if "keys_url" in github:
        problem = check_keys_url(github["keys_url"])
        return [f"github.keys_url: {problem}"] if problem else []
    return []


@hookimpl
def pruvon_register_commands(cli):
    from pruvon_settings.cli import settings_group

    cli.add_command(settings_group)


@hookimpl
def pruvon_web_blueprints():
    from pruvon_settings.web import blueprint

    return [blueprint()]


@hookimpl
def pruvon_web_menu(actor):
    return [{"label": "Settings", "href": "/settings", "order": 80, "action": "settings.read"}]
