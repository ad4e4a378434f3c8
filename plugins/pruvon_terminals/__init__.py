"""Built-in plugin: PTY terminals into app containers, one-off runs and the host."""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action

ACTIONS = [
    Action("apps.terminal", "Open a shell in an app's running container", False, "app"),
    Action("apps.run", "Run a one-off command in a new app container", False, "app"),
    Action("host.terminal", "Open a shell on the host (admins only)", False, None),
    Action("terminals.admin", "List and close other users' terminals", False, None),
]


@hookimpl
def pruvon_register_actions():
    return ACTIONS
