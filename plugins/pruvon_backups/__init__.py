"""Built-in plugin: scheduled, verified backups of services and app configuration."""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action
from pruvon_core.registry import backup_targets
from pruvon_core.route_grants import RouteGrant

ACTIONS = [
    Action("backups.read", "See backups and their manifests", True, None),
    Action("backups.run", "Run a backup now", False, None),
    Action("backups.restore", "Restore a backup over a service or app", False, None),
    Action("backups.delete", "Delete a backup", False, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_route_grants():
    """A ``routes:`` entry for ``/backups`` grants every backup action (Pruvon grants pages)."""
    return [RouteGrant("/backups", actions=tuple(a.name for a in ACTIONS))]


@hookimpl(trylast=True)
def pruvon_register_commands(cli):
    """``pruvon backup …``, and ``restore-snapshot`` in the apps group (registered first)."""
    from pruvon_backups.cli import register

    register(cli)


@hookimpl
def pruvon_before_destroy(target, pruvon):
    """A safety backup of a service, or a snapshot of an app, before it is destroyed."""
    from pruvon_backups.safety import before_destroy

    return before_destroy(pruvon, target)


@hookimpl
def pruvon_validate_config(data, pruvon=None):
    """The backups plugin owns ``backup:`` (Pruvon's meaning, see ``settings.py``)."""
    if isinstance(data, dict) and data.get("backup") is not None:
        from pruvon_backups.settings import target_kind_problems, validate

        problems = validate(data["backup"])
        if not problems and pruvon is not None:
            kinds = {kind.name: kind for kind in backup_targets(pruvon)}
            problems = target_kind_problems(data["backup"], kinds)
        return problems
    return []


@hookimpl
def pruvon_backup_targets():
    """The built-in target: a directory on this host (``backup.backup_dir``)."""
    from pruvon_backups.targets import LOCAL_KIND

    return [LOCAL_KIND]


@hookimpl
def pruvon_web_blueprints():
    from pruvon_backups.routes import blueprint

    return [blueprint()]


@hookimpl
def pruvon_web_menu(actor):
    return [{"label": "Backups", "href": "/backups", "order": 30, "action": "backups.read"}]


@hookimpl
def pruvon_dashboard_cards(actor, pruvon):
    from pruvon_backups.cards import backups_card

    return backups_card(actor, pruvon)
