"""Serving a terminal on a socket another plugin routes (the service console).

:mod:`pruvon_terminals.public` stays importable without Flask (the CLI loads
terminal targets too), so the web module is imported only when a socket is
actually served.
"""

from __future__ import annotations

from typing import Any


def serve_terminal(ws: Any, target_name: str, app: str | None = None,
                   service_type: str | None = None, service: str | None = None) -> None:
    """:func:`pruvon_terminals.web.serve_terminal`: every terminal's limits, registry,
    audit and revalidation, for ``/ws/services/<type>/<name>/console`` and the like."""
    from pruvon_terminals.web import serve_terminal as serve

    serve(ws, target_name, app, service_type, service)
