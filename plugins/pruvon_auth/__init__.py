"""Built-in plugin: local users, roles, API keys, TOTP and the audit log."""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action

ACTIONS = [
    Action("users.read", "See local users and their grants", True, None),
    Action("users.write", "Create, change, disable and remove local users", False, None),
    Action("apikeys.write", "Create and revoke API keys", False, None),
    Action("audit.read", "Read the audit log", True, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_register_commands(cli):
    """``pruvon user|apikey|audit|secret`` and ``pruvon check``."""
    from pruvon_auth.cli import register

    register(cli)
