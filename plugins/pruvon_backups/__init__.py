"""Built-in plugin: scheduled, verified backups of services and app configuration."""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action
from pruvon_core.registry import BackupTarget

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
def pruvon_backup_targets():
    """The built-in target: a directory on this host (``backup.backup_dir``)."""
    return [BackupTarget("local", "A directory on this host (backup.backup_dir)")]
