"""The docker plugin's WebSockets: a container's live logs, and its shell.

Logs: one text frame per line of ``docker logs --tail N -f ID`` (stdout and
stderr in order), with the app log viewer's protections - the action checked
at the upgrade, the user's access re-checked while it runs (a revoked user
or a narrowed grant closes it), the ``docker logs`` process group killed when
the socket ends.  The shell is the terminals plugin's bridge to the
``container`` terminal target (admin-only ``docker.exec``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from pruvon_terminals.public import serve_terminal
from pruvon_web.public import Revalidator, authorize, error_message, pump_lines, route
from pruvon_web.public import close as ws_close

from pruvon_core.dokku import errors
from pruvon_docker import host
from pruvon_docker.web import client

MAX_LOG_LINES = 1000


def logs_socket(ws: Any, ref: str) -> None:
    """``?lines=`` (default 100, at most 1000) of history, then new lines as they come."""
    identity = authorize(ws, "docker.logs")
    if identity is None:
        return
    try:
        lines = int(request.args.get("lines", "100"))
        if not 0 <= lines <= MAX_LOG_LINES:
            raise host.DockerInputError(f"lines must be from 0 to {MAX_LOG_LINES}")
        container = host.find(client(), ref)
        stream = client().docker_stream(host.logs_args(container.id, lines, follow=True))
    except (ValueError, errors.DokkuError) as exc:
        return ws_close(ws, error_message(exc),
                        1011 if isinstance(exc, errors.DokkuError) else 1008)
    pump_lines(ws, stream, Revalidator(identity, action="docker.logs"), "docker-logs")


def terminal_socket(ws: Any) -> None:
    """``?container=ID&shell=/bin/sh|/bin/bash``: the ``container`` terminal target."""
    serve_terminal(ws, "container")


def register(bp: Blueprint) -> None:
    route("/ws/docker/logs/<ref>", bp=bp)(logs_socket)
    route("/ws/docker/terminal", bp=bp)(terminal_socket)
