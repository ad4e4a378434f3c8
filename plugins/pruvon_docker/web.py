"""What the docker pages, API and WebSockets share: the request's guard, client, runner.

Views catch no typed errors: the web app's one error handler turns them into
the page message or ``{"error": …}`` with the status of ``pruvon_web.statuses``
(an unknown container 404, a refused state change 409, bad input 400).
"""

from __future__ import annotations

from typing import Any

from flask import g
from pruvon_web.public import allowed, client_ip, web_state

from pruvon_core.guard import Guard
from pruvon_core.opspecs import Runner
from pruvon_docker import ACTIONS, operations

API = "/api/v1/docker"


def client() -> Any:
    return web_state().client()


def guard() -> Guard:
    state = web_state()
    return Guard(g.identity.actor, state.config(), state.state_dir, client_ip(),
                 extra={"via": g.identity.via}, kind=operations.RESOURCE)


def runner() -> Runner:
    """The one operations runner, for this request's actor."""
    return operations.runner(guard(), operations.DockerDeps(client(), web_state().state_dir))


def can() -> dict[str, bool]:
    """Which docker actions this actor holds (buttons the page shows)."""
    return {action.name: allowed(g.identity, action.name) for action in ACTIONS}
