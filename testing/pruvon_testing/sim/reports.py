"""Shared front ends of the simulated ``<plugin>:report`` and ``<plugin>:set`` commands.

Dokku's Go plugins share ``common.ReportSingleApp`` and the property writers, so
their argument handling and messages are the same across plugins; the
rendering itself is SIM-A's :func:`core.emit_report`.
"""

from __future__ import annotations

from collections.abc import Callable

from pruvon_testing.sim.core import Ctx, command, emit_report, pop_format_flag

GLOBAL = "--global"
Collector = Callable[[Ctx, str], dict[str, str]]


def run_report(
    ctx: Ctx, plugin: str, collect: Collector, *, legacy_prefix: bool = True,
    global_collect: Callable[[Ctx], dict[str, str]] | None = None,
) -> int:
    """Shared ``<plugin>:report`` driver: one app, every app in turn, or ``--global``.

    ``--global`` is a target only for plugins whose Go report knows it
    (``global_collect``: cron, domains …); elsewhere it is an info flag.
    """
    app, info_flag = "", ""
    fmt, rest = pop_format_flag(ctx.args)
    for arg in rest:
        if arg == GLOBAL and global_collect is not None and not app:
            app = GLOBAL
        elif arg.startswith("--"):
            info_flag = arg
        elif not app:
            app = arg
    if fmt not in ("stdout", "json"):
        ctx.fail(f'Format must be "stdout" or "json": "{fmt}"')
    if info_flag and fmt == "json":
        ctx.fail("--format flag cannot be specified when specifying an info flag")
    if app == GLOBAL and global_collect is not None:
        emit_report(ctx, plugin, "global", global_collect(ctx), info_flag, fmt,
                    legacy_prefix=legacy_prefix)
        return 0
    apps = [app] if app else ctx.state.apps()
    if not apps:
        ctx.warn("You haven't deployed any applications yet")
        return 0
    for name in apps:
        ctx.require_app(name)
        emit_report(ctx, plugin, name, collect(ctx, name), info_flag, fmt,
                    legacy_prefix=legacy_prefix)
    return 0


def set_property(
    ctx: Ctx,
    plugin: str,
    keys: tuple[str, ...],
    validate: Callable[[Ctx, str, str], None] | None = None,
) -> int:
    """Dokku's ``fn-plugin-property-write`` front end shared by ``*:set`` commands."""
    args = list(ctx.args)
    target = args.pop(0) if args else ""
    if target != GLOBAL:
        ctx.require_app(target)
    if not args or not args[0]:
        ctx.fail("No key specified")
    key, value = args[0], " ".join(args[1:])
    if key not in keys:
        ctx.fail(f"Invalid property specified, valid properties include: {', '.join(sorted(keys))}")
    if validate is not None:
        validate(ctx, key, value)
    ctx.write_property(plugin, target, key, value)
    return 0


def property_commands(
    plugin: str, collect: Collector, keys: tuple[str, ...], *, legacy_prefix: bool = True,
    global_collect: Callable[[Ctx], dict[str, str]] | None = None,
) -> None:
    """Register ``<plugin>:report`` and ``<plugin>:set`` of a property-only Go plugin."""

    def report(ctx: Ctx) -> int:
        return run_report(ctx, plugin, collect, legacy_prefix=legacy_prefix,
                          global_collect=global_collect)

    def set_(ctx: Ctx) -> int:
        return set_property(ctx, plugin, keys)

    command(f"{plugin}:report")(report)
    command(f"{plugin}:set")(set_)
