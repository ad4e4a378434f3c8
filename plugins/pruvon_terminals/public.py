"""What other plugins may use of ``pruvon_terminals``: its documented public API.

A plugin adds a terminal target (a service console, a VM console …) by
subclassing :class:`TerminalTarget`, returning an instance from its
``pruvon_terminal_targets`` hook and building a :class:`Launch` from the
validated :class:`TerminalRequest` and the :class:`TargetContext` (the Dokku
client, the ``terminals:`` settings).  :class:`TargetError` carries the
message the operator sees.  The services plugin's console is the worked
example; a target with its own socket URL bridges it with :func:`serve_terminal`.
Everything here is a re-export; no Flask is imported.
"""

from __future__ import annotations

from pruvon_terminals.serving import serve_terminal
from pruvon_terminals.targets import (
    Launch,
    TargetContext,
    TargetError,
    TerminalRequest,
    TerminalTarget,
)

__all__ = ["Launch", "TargetContext", "TargetError", "TerminalRequest", "TerminalTarget",
           "serve_terminal"]
