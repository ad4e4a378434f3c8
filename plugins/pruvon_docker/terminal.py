"""The ``container`` terminal target: a shell in any running container, by id.

``docker exec -it ID SHELL`` where SHELL is ``/bin/sh`` or ``/bin/bash`` (an
allowlist: no free command line, so the terminal cannot be turned into a
one-off runner of whatever the URL says).  Its action, ``docker.exec``, is
granted by no page: only admins (and their API keys with that scope) hold it.
The terminals plugin owns the PTY, the limits, the session list and the
WebSocket bridge; the docker page serves it at ``/ws/docker/terminal/<id>``.
"""

from __future__ import annotations

from pruvon_terminals.public import (
    Launch,
    TargetContext,
    TargetError,
    TerminalRequest,
    TerminalTarget,
)

from pruvon_core.dokku.errors import DokkuError
from pruvon_core.permissions import Resource
from pruvon_docker import host


class ContainerShellTarget(TerminalTarget):
    """A shell in a running container, found by id or name."""

    name = "container"
    label = "Container shell"
    action = "docker.exec"

    def resource(self, request: TerminalRequest) -> Resource | None:
        return None  # a global action: the container is named in the audit label

    def prepare(self, request: TerminalRequest, ctx: TargetContext) -> Launch:
        shell = "/bin/sh" if request.shell in ("auto", "") else request.shell
        try:
            args = host.exec_args(request.container or "", shell)
            container = host.find(ctx.client, args[2])
        except (ValueError, DokkuError) as exc:
            raise TargetError(getattr(exc, "message", None) or str(exc)) from exc
        if not container.running:
            raise TargetError(f"container {container.name} is not running ({container.status})")
        client = ctx.client
        return Launch(
            label=f"docker exec {container.name} {shell}",
            start=lambda cols, rows: client.docker_pty(args, cols, rows),
            details={"container": container.id[:12], "name": container.name, "shell": shell,
                     "app": container.app},
        )
