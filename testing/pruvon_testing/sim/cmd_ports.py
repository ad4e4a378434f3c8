"""Simulated ``ports:*`` commands (Dokku 0.38.27 ``plugins/ports``, a Go plugin).

Faithful to Dokku's quirks: any scheme is accepted (``ftp:21:5000``), a bare ``8080`` parses
as an internal mapping and is silently dropped, ``ports:list`` has no ``--format`` (Go pflag
exits 2), and ``ports:list`` exits 1 when only detected ports exist.
"""

from __future__ import annotations

from pruvon_testing.sim import routing
from pruvon_testing.sim.core import Ctx, command, go_json, on_trigger
from pruvon_testing.sim.routing import GLOBAL, PortMap, PortMapError


@on_trigger("ports-set-detected", "ports")
def _ports_set_detected(ctx: Ctx, app: str, port_map: str = "") -> int:
    """A build records the ports it detected (the image's EXPOSE, e.g. ``http:5000:5000``)."""
    routing.set_detected_ports(ctx.state, app, port_map)
    return 0


@on_trigger("ports-configure", "ports")
def _ports_configure(ctx: Ctx, app: str) -> int:
    routing.ports_configure(ctx, app)
    return 0


routing.register_property_plugin("ports")


def _app_and_maps(ctx: Ctx, name: str, need_maps: bool = True) -> tuple[str, list[PortMap]]:
    """Go pflag parsing, ``VerifyAppName``, then the port maps (any error exits)."""
    args = routing.positional(ctx, name, ctx.args)
    app = ctx.verify_app(args[0] if args else "")
    maps: list[PortMap] = []
    if need_maps:
        if len(args) < 2:
            ctx.fail("No port mapping specified")
        try:
            maps = routing.parse_port_maps(" ".join(args[1:]))
        except PortMapError as exc:
            ctx.fail(str(exc))
    return app, maps


def _check_reuse(ctx: Ctx, maps: list[PortMap], what: str) -> None:
    reused = routing.check_reuse(maps)
    if reused:
        ctx.fail(f"Error validating {what}: {reused}")


def _store(ctx: Ctx, app: str, maps: list[PortMap]) -> None:
    try:
        routing.set_port_maps(ctx.state, app, maps)
    except PortMapError as exc:
        ctx.fail(str(exc))


@command("ports:add")
def ports_add(ctx: Ctx) -> int:
    app, maps = _app_and_maps(ctx, "ports:add")
    _check_reuse(ctx, maps, "new port mappings")
    with routing.locked(ctx.state):
        existing = routing.port_maps(ctx.state, app) or []
        _check_reuse(ctx, existing + maps, "all port mappings")
        _store(ctx, app, existing + maps)
    return routing.post_proxy_ports_update(ctx, app, "add")


@command("ports:set")
def ports_set(ctx: Ctx) -> int:
    app, maps = _app_and_maps(ctx, "ports:set")
    _check_reuse(ctx, maps, "port mappings")
    _store(ctx, app, maps)
    return routing.post_proxy_ports_update(ctx, app, "set")


@command("ports:remove")
def ports_remove(ctx: Ctx) -> int:
    """Remove exact mappings, or every mapping on a bare host port (``ports:remove APP 8443``)."""
    app, maps = _app_and_maps(ctx, "ports:remove")
    by_port = {m.host_port for m in maps if m.internal}
    exact = {str(m) for m in maps if not m.internal}
    with routing.locked(ctx.state):
        keep = [
            m
            for m in routing.port_maps(ctx.state, app) or []
            if str(m) not in exact and m.host_port not in by_port
        ]
        if keep:
            _store(ctx, app, keep)
        else:
            ctx.state.prop_delete("ports", app, "map")
    return routing.post_proxy_ports_update(ctx, app, "remove")


@command("ports:clear")
def ports_clear(ctx: Ctx) -> int:
    app, _ = _app_and_maps(ctx, "ports:clear", need_maps=False)
    routing.clear_ports(ctx.state, app)
    return routing.post_proxy_ports_update(ctx, app, "clear")


@command("ports:list")
def ports_list(ctx: Ctx) -> int:
    """Explicit mappings only, columnized under an indented ``----->`` header."""
    app, _ = _app_and_maps(ctx, "ports:list", need_maps=False)
    maps = routing.port_maps(ctx.state, app)
    if not maps:
        ctx.fail("No port mappings configured for app")
    lines = [str(m) for m in maps]
    if not ctx.quiet:
        lines.append("-----> scheme:host port:container port")
        ctx.info1(f"Port mappings for {app}")
    rows = [line.split(":") for line in sorted(lines)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(2)] + [row[2]]
        ctx.out("    " + "  ".join(cells))
    return 0


def _collect(ctx: Ctx, app: str) -> dict[str, str]:
    if app == GLOBAL:
        return {}
    state = ctx.state
    explicit = routing.port_maps(state, app)
    detected = routing.detected_port_maps(state, app)
    return {
        "--ports-map": " ".join(str(m) for m in explicit or []),
        "--ports-map-json": go_json(None if explicit is None else [m.as_json() for m in explicit]),
        "--ports-map-detected": " ".join(str(m) for m in detected),
        "--ports-map-detected-json": go_json([m.as_json() for m in detected]),
    }


@command("ports:report")
def ports_report(ctx: Ctx) -> int:
    """Both prefixed and unprefixed JSON keys; nested JSON is encoded as strings."""
    return routing.report_command(ctx, "ports", lambda app: _collect(ctx, app))


HELP = [  # plugins/ports/src/commands/commands.go, in source order
    ("ports:list <app>", "List port mappings for app"),
    ("ports:add <app> [<scheme>:<host-port>:<container-port>...]", "Add port mappings to an app"),
    ("ports:clear <app>", "Clear all port mappings for an app"),
    (
        "ports:remove <app> [<host-port>|<scheme>:<host-port>:<container-port>...]",
        "Remove specific port mappings from an app",
    ),
    ("ports:set <app> [<scheme>:<host-port>:<container-port>...]", "Set port mappings for an app"),
    ("ports:report [<app>] [<flag>]", "Displays a ports report for one or more apps"),
]


routing.help_commands("ports", "Manage ports for an app", HELP)
