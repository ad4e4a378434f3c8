"""Serving a terminal target at a plugin's own WebSocket URL, without importing Flask early.

:mod:`pruvon_terminals.public` re-exports :func:`serve_terminal` for plugins
whose targets need their own URL (the docker page's container shell, a
service console); the web module it calls is imported only when a socket is
served, so the CLI never loads Flask through the public API.
"""

from __future__ import annotations

from typing import Any


def serve_terminal(ws: Any, target_name: str, app: str | None = None,
                   service_type: str | None = None, service: str | None = None) -> None:
    """Bridge ``ws`` to terminal target ``target_name`` until it ends
    (see :func:`pruvon_terminals.web.serve_terminal`)."""
    from pruvon_terminals.web import serve_terminal as serve

    serve(ws, target_name, app, service_type, service)
