"""The service console terminal target (``dokku postgres:connect NAME`` → psql, redis-cli).

Provided to the terminals plugin through ``pruvon_terminal_targets``: the
terminals plugin owns the PTY, the limits and the WebSocket bridge, this
plugin owns what a service console is.  A services page serves it at
``/ws/services/<type>/<name>/console`` with the terminals plugin's
``serve_terminal(ws, "service", service_type=TYPE, service=NAME)``.
"""

from __future__ import annotations

from pruvon_terminals.public import (
    Launch,
    TargetContext,
    TargetError,
    TerminalRequest,
    TerminalTarget,
)

from pruvon_core.dokku import validate
from pruvon_core.permissions import Resource


class ServiceConsoleTarget(TerminalTarget):
    """A service's own console; needs ``services.console`` on that service."""

    name = "service"
    label = "Service console"
    action = "services.console"

    def resource(self, request: TerminalRequest) -> Resource | None:
        try:
            kind = validate.service_type(request.service_type)
            name = validate.service_name(request.service)
        except ValueError as exc:
            raise TargetError(str(exc)) from exc
        return Resource("service", name, service_type=kind)

    def prepare(self, request: TerminalRequest, ctx: TargetContext) -> Launch:
        resource = self.resource(request)
        assert resource is not None and resource.service_type is not None
        client = ctx.client
        args = client.connect_args(resource.service_type, resource.name)
        return Launch(
            label=f"{resource.service_type}:connect {resource.name}",
            start=lambda cols, rows: client.pty(args, cols, rows),
        )
