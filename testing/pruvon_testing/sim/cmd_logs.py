"""``logs``, ``logs:report``, ``logs:set`` and ``logs:failed``.

``logs APP`` prints the log of every container of the app's current deploy,
grouped per container (``-n`` applies to each), coloured per container with
Dokku's palette (36 33 32 35 31) even without a TTY, as the captures show.
``-p`` matches the process type only (``-p web.1`` matches nothing).

``-t`` follows: it keeps printing new lines until it is killed.  On a real host
those lines come from traffic; the simulator writes one request line per
running web container every ``log_traffic_interval`` seconds (knob, default 2;
``0`` turns it off, as the golden tests do when they replay the captured curls).
SIGTERM ends it like Dokku: `` !     context canceled`` on stderr, exit 143.
"""

from __future__ import annotations

import secrets
import signal
import time
from dataclasses import dataclass

from pruvon_testing.sim import containers
from pruvon_testing.sim.containers import Container, LogLine
from pruvon_testing.sim.core import Ctx, SimExit, command
from pruvon_testing.sim.reports import run_report, set_property

COLORS = (36, 33, 32, 35, 31)
DEFAULT_NUM = 100
LOGS_KEYS = ("app-label-alias", "max-size", "vector-cron-sink", "vector-sink")
GLOBAL_ONLY_KEYS = ("vector-image", "vector-networks")
LOGS_DEFAULTS = {
    "app-label-alias": "com.dokku.app-name",
    "max-size": "10m",
    "vector-image": "timberio/vector:0.57.0-debian",
}


@dataclass
class LogsArgs:
    app: str
    tail: bool = False
    num: int = DEFAULT_NUM
    quiet: bool = False
    process: str = ""


def _parse(ctx: Ctx) -> LogsArgs:
    args = list(ctx.args)
    app = ""
    parsed = LogsArgs(app="")
    while args:
        arg = args.pop(0)
        if arg in ("-t", "--tail"):
            parsed.tail = True
        elif arg in ("-q", "--quiet"):
            parsed.quiet = True
        elif arg in ("-n", "--num", "-p", "--ps"):
            if not args:
                ctx.fail(f"Missing value for {arg}")
            value = args.pop(0)
            if arg in ("-p", "--ps"):
                parsed.process = value
            elif value.isdigit():
                parsed.num = int(value)
            else:
                ctx.fail(f"Invalid value for {arg}: {value}")
        elif arg in ("-h", "--help"):
            ctx.out(
                "Usage: dokku logs <app> [-h] [-t|--tail] [-n|--num num] [-q|--quiet] "
                "[-p|--ps process]"
            )
            raise SimExit(0)
        elif not app:
            app = arg
    parsed.app = ctx.require_app(app)
    return parsed


def format_line(line: LogLine, container: Container, index: int, quiet: bool) -> str:
    if quiet:
        return line.text
    color = COLORS[index % len(COLORS)]
    return f"\x1b[{color}m{line.time} app[{container.dyno}]:\x1b[0m {line.text}"


@command("logs")
def logs(ctx: Ctx) -> int:
    opts = _parse(ctx)
    state = ctx.state
    if not containers.is_deployed(state, opts.app):
        ctx.fail(f"App {opts.app} has not been deployed")
    selected = [
        c
        for c in containers.current_containers(state, opts.app)
        if not opts.process or c.process_type == opts.process
    ]
    if not opts.tail:
        _print_recent(ctx, opts, selected)
        return 0
    # installed before the first line: a SIGTERM right after it must be handled
    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        offsets = _print_recent(ctx, opts, selected)
        _follow(ctx, opts, selected, offsets)
    except (_Cancelled, KeyboardInterrupt):
        ctx.err(" !     context canceled")
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _print_recent(ctx: Ctx, opts: LogsArgs, selected: list[Container]) -> dict[str, int]:
    """The last ``-n`` lines of each container, grouped; returns the read offsets."""
    offsets: dict[str, int] = {}
    for index, container in enumerate(selected):
        lines, offsets[container.id] = containers.read_log(ctx.state, container.id)
        for line in lines[-opts.num :] if opts.num else []:
            ctx.out(format_line(line, container, index, opts.quiet))
    return offsets


class _Cancelled(Exception):
    pass


def _on_term(_signum: int, _frame: object) -> None:
    raise _Cancelled


def _follow(ctx: Ctx, opts: LogsArgs, selected: list[Container], offsets: dict[str, int]) -> None:
    """Poll the container logs forever, like ``docker logs --follow`` (ended by a signal)."""
    interval = float(ctx.state.knobs().get("log_traffic_interval", 2.0) or 0)
    next_traffic = time.monotonic() + interval
    while True:
        if interval and time.monotonic() >= next_traffic:
            _simulate_traffic(ctx, selected)
            next_traffic = time.monotonic() + interval
        for index, container in enumerate(selected):
            lines, offsets[container.id] = containers.read_log(
                ctx.state, container.id, offsets[container.id]
            )
            for line in lines:
                ctx.out(format_line(line, container, index, opts.quiet))
        time.sleep(0.1)


def _simulate_traffic(ctx: Ctx, selected: list[Container]) -> None:
    """One request line per running web container (what busybox ``httpd -v`` logs)."""
    for container in selected:
        if container.process_type == "web" and container.running:
            port = 32768 + secrets.randbelow(28000)
            containers.append_log(
                ctx.state, container.id, f"[::ffff:172.17.0.1]:{port}: response:200"
            )


# -- logs:report / logs:set / logs:failed ---------------------------------------------


def logs_values(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state
    values: dict[str, str] = {}
    for key in LOGS_KEYS + GLOBAL_ONLY_KEYS:
        app_value = "" if key in GLOBAL_ONLY_KEYS else state.prop_get("logs", app, key)
        global_value = state.prop_get("logs", "--global", key)
        if key not in GLOBAL_ONLY_KEYS:
            values[f"--logs-{key}"] = app_value
        values[f"--logs-global-{key}"] = global_value
        values[f"--logs-computed-{key}"] = app_value or global_value or LOGS_DEFAULTS.get(key, "")
    return values


@command("logs:report")
def logs_report(ctx: Ctx) -> int:
    return run_report(ctx, "logs", logs_values)


@command("logs:set")
def logs_set(ctx: Ctx) -> int:
    return set_property(ctx, "logs", LOGS_KEYS + GLOBAL_ONLY_KEYS)


@command("logs:failed")
def logs_failed(ctx: Ctx) -> int:
    """The simulator keeps no failed-deploy containers: Dokku's message for that case."""
    args = [a for a in ctx.args if a != "--all"]
    apps = ctx.state.apps() if "--all" in ctx.args else [ctx.require_app(args[0] if args else None)]
    for app in apps:
        ctx.warn(f"No failed containers found for {app}")
    return 0
