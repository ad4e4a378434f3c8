"""Built-in plugin: PTY terminals into app containers, one-off runs and the host.

Targets come from the ``pruvon_terminal_targets`` hook (:mod:`targets`); the
PTY ↔ WebSocket bridge is :mod:`sessions`; open terminals are listed in the
state directory (:mod:`registry`) so ``pruvon terminals list|kill`` and the
caps work across processes.  Flask is imported only by :mod:`web`.
"""

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


@hookimpl
def pruvon_validate_config(data):
    if isinstance(data, dict) and data.get("terminals") is not None:
        from pruvon_terminals.settings import validate

        return validate(data["terminals"])
    return []


@hookimpl
def pruvon_terminal_targets():
    from pruvon_terminals.targets import BUILTIN_TARGETS

    return list(BUILTIN_TARGETS)


@hookimpl
def pruvon_register_commands(cli):
    from pruvon_terminals.cli import terminals_group

    cli.add_command(terminals_group)


@hookimpl
def pruvon_web_blueprints():
    from pruvon_terminals.web import bp, watch_shutdown

    watch_shutdown()
    return [bp]


@hookimpl
def pruvon_web_menu(actor, pruvon):
    from pruvon_terminals.web import menu_entries

    return menu_entries(pruvon)
