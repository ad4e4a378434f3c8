"""The ``ps`` plugin: report, scale, start/stop/restart/rebuild, inspect, set, restore.

Dokku's quirks reproduced here (see the ``ps-*`` captures and INDEX.md):

* ``ps:restart`` / ``ps:rebuild`` run through the ``builds`` plugin and print
  "does not exist" / "has not been deployed" on **stdout**; ``ps:stop`` /
  ``ps:start`` print "has not been deployed" on stderr, exit 0;
* ``ps:scale`` accepts negative counts, deploys only the types whose count
  changed, and ``--skip-deploy`` stores the count without deploying - so a
  later scale that leaves that type's count unchanged does not start it;
* ``ps:inspect`` on a never-deployed app prints a Python traceback twice;
* status labels differ between text (``Status web 1``) and JSON (``status-web.1``),
  and the container id in them has 11 characters.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass

from pruvon_testing.sim import containers, deploy, dockerview, envfile, routing
from pruvon_testing.sim.core import (
    Ctx,
    Flag,
    SimExit,
    command,
    go_json,
    on_trigger,
    parse_flags,
)
from pruvon_testing.sim.knobs import version_at_least
from pruvon_testing.sim.reports import GLOBAL, run_report, set_property
from pruvon_testing.sim.routing import locked

PS_KEYS = (
    "dockerfile-start-cmd",
    "procfile-path",
    "restart-policy",
    "restore",
    "skip-deploy",
    "start-cmd",
    "stop-timeout-seconds",
)
HELP = [
    ("ps:inspect <app>", "Displays a sanitized version of docker inspect for an app"),
    ("ps:rebuild [--parallel count] [--all|<app>]", "Rebuilds an app from source"),
    ("ps:report [<app>] [<flag>]", "Displays a process report for one or more apps"),
    ("ps:restart [--parallel count] [--all|<app>] [<process-name>]", "Restart an app"),
    ("ps:restore [<app>]", "Start previously running apps e.g. after reboot"),
    (
        "ps:scale [--skip-deploy] [--format stdout|json] <app> [<proc>=<count>...]",
        "Get/Set how many instances of a given process to run",
    ),
    ("ps:set <app> <key> <value>", "Set or clear a ps property for an app"),
    ("ps:start [--parallel count] [--all|<app>]", "Start an app"),
    ("ps:stop [--parallel count] [--all|<app>]", "Stop an app"),
]


@on_trigger("release-and-deploy", "scheduler-docker-local")
def _release_and_deploy(ctx: Ctx, app: str, *_args: str) -> int:
    """``config:set`` (with restart) and friends redeploy through this trigger."""
    return deploy.release_and_deploy(ctx, app)


@on_trigger("post-app-rename-setup", "scheduler-docker-local")
def _rename_containers(ctx: Ctx, old: str, new: str) -> int:
    containers.rename_app(ctx, old, new)
    return 0


@command("ps", "ps:help")
def ps_help(ctx: Ctx) -> int:
    routing.print_help(ctx, "ps", "Manage app processes", HELP)
    ctx.out("    ")
    return 0


# -- report ---------------------------------------------------------------------------


def running_state(items: list[containers.Container]) -> str:
    """Dokku's ``Running``: true (all up), false (none up or none at all), mixed."""
    up = sum(1 for c in items if c.running)
    if not items or up == 0:
        return "false"
    return "true" if up == len(items) else "mixed"


def _prop_triplet(ctx: Ctx, app: str, key: str, default: str) -> dict[str, str]:
    value = ctx.state.prop_get("ps", app, key)
    global_value = ctx.state.prop_get("ps", GLOBAL, key)
    return {
        f"--ps-{key}": value,
        f"--ps-global-{key}": global_value,
        f"--ps-computed-{key}": value or global_value or default,
    }


def ps_values(ctx: Ctx, app: str) -> dict[str, str]:
    """Every ``ps:report`` flag and its value for one app."""
    state = ctx.state
    current = containers.current_containers(state, app)
    values = {
        "--deployed": "true" if containers.is_deployed(state, app) else "false",
        "--processes": str(len(current)),
        "--ps-can-scale": "true",
        "--restore": state.prop_get("ps", app, "restore") or "true",
        "--running": running_state(current),
    }
    for key in ("dockerfile-start-cmd", "start-cmd"):
        value = state.prop_get("ps", app, key)
        values[f"--ps-{key}"] = value
        values[f"--ps-computed-{key}"] = value
    values.update(_prop_triplet(ctx, app, "procfile-path", "Procfile"))
    values.update(_prop_triplet(ctx, app, "restart-policy", deploy.DEFAULT_RESTART_POLICY))
    values.update(_prop_triplet(ctx, app, "skip-deploy", "false"))
    values.update(_prop_triplet(ctx, app, "stop-timeout-seconds", "30"))
    for container in current:
        values[f"--status-{container.dyno}"] = f"{container.status} (CID: {container.id[:11]})"
    return values


@command("ps:report")
def ps_report(ctx: Ctx) -> int:
    return run_report(ctx, "ps", ps_values)


# -- scale ----------------------------------------------------------------------------


def _show_scale(ctx: Ctx, app: str, fmt: str) -> int:
    formation = deploy.read_formation(ctx.state, app)
    names = sorted(formation)
    if fmt == "json":
        ctx.out(go_json([{"process_type": n, "quantity": formation[n]} for n in names]))
        return 0
    ctx.info1_quiet(f"Scaling for {app}")
    ctx.out("proctype: qty")
    ctx.out("--------: ---")
    for name in names:
        ctx.out(f"{name + ':':<5} {formation[name]}")
    return 0


def _parse_pairs(ctx: Ctx, pairs: list[str]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for pair in pairs:
        name, has_equals, count = pair.partition("=")
        if not has_equals or count == "":
            ctx.fail(f"Missing count for process type {name}")
        try:
            wanted[name] = int(count, 10)
        except ValueError:
            ctx.fail(f"Invalid count for process type {name}")
    return wanted


@command("ps:scale")
def ps_scale(ctx: Ctx) -> int:
    """Show or set the formation; deploys the changed types of a deployed app."""
    flags = [Flag("skip-deploy", usage="skip-deploy: skip deploy of the app")]
    if version_at_least(ctx.state, "0.36.0"):
        flags.append(Flag("format", "string", "stdout", "format: [ stdout | json ]"))
    opts, positional = parse_flags(ctx, "ps:scale", ctx.args, flags)
    app = ctx.require_app(positional[0] if positional else None)
    pairs = positional[1:]
    fmt = str(opts.get("format") or "stdout")
    if not pairs:
        if fmt not in ("stdout", "json"):
            ctx.fail(f'Format must be "stdout" or "json": "{fmt}"')
        return _show_scale(ctx, app, fmt)
    ctx.info1(f"Scaling {app} processes: {' '.join(pairs)}")
    wanted = _parse_pairs(ctx, pairs)
    state = ctx.state
    with locked(state):
        formation = deploy.read_formation(state, app)
        changed = [n for n, c in wanted.items() if formation.get(n) != c]
        formation.update(wanted)
        deploy.write_formation(state, app, formation)
    if opts["skip-deploy"] or not containers.is_deployed(state, app) or not changed:
        return 0
    return deploy.deploy_processes(ctx, app, only=changed)


# -- lifecycle --------------------------------------------------------------------------


@dataclass
class Targets:
    apps: list[str]
    rest: list[str]


def _targets(ctx: Ctx) -> Targets:
    """``[--parallel N] [--serial] [--all|<app>] [extra]`` of the lifecycle commands."""
    args = list(ctx.args)
    every, positional = False, []
    while args:
        arg = args.pop(0)
        if arg == "--all":
            every = True
        elif arg == "--parallel":
            if args:
                args.pop(0)
        elif arg.startswith("--parallel=") or arg == "--serial":
            continue
        else:
            positional.append(arg)
    if every:
        return Targets(ctx.state.apps(), positional)
    return Targets(positional[:1], positional[1:])


def _stdout_missing(ctx: Ctx, app: str | None) -> bool:
    """The builds-plugin path: "does not exist" on stdout, exit 20."""
    if not app:
        ctx.out(" !     Please specify an app to run the command on")
        raise SimExit(1)
    if not ctx.state.app_exists(app):
        ctx.out(f" !     App {app} does not exist")
        raise SimExit(20)
    return True


@command("ps:stop")
def ps_stop(ctx: Ctx) -> int:
    for app in _targets(ctx).apps or [""]:
        ctx.require_app(app)
        if not containers.is_deployed(ctx.state, app):
            ctx.warn(f"App {app} has not been deployed")
            continue
        ctx.info1(f"Stopping {app}")
        deploy.stop_app(ctx.state, app)
        ctx.state.prop_set("ps", app, "restore", "false")
    return 0


@command("ps:start")
def ps_start(ctx: Ctx) -> int:
    status = 0
    for app in _targets(ctx).apps or [""]:
        ctx.require_app(app)
        status = status or start_app(ctx, app)
    return status


def start_app(ctx: Ctx, app: str) -> int:
    """Release a stopped app again; start exited containers of a partly running one."""
    state = ctx.state
    if not containers.is_deployed(state, app):
        ctx.warn(f"App {app} has not been deployed")
        return 0
    current = containers.current_containers(state, app)
    if running_state(current) == "false":
        ctx.warn("App has been detected as not running, releasing")
        status = deploy.release_and_deploy(ctx, app)
        if status:
            return status
        return deploy.proxy_rebuild(ctx, app)
    ctx.info1(f"Starting {app}")
    with locked(state):
        for container in current:
            if not container.running:
                containers.set_status(state, container, "running")
    state.prop_set("ps", app, "restore", "true")
    return 0


@command("ps:restart")
def ps_restart(ctx: Ctx) -> int:
    targets = _targets(ctx)
    status = 0
    for app in targets.apps or [""]:
        _stdout_missing(ctx, app)
        if not containers.is_deployed(ctx.state, app):
            ctx.out(f" !     App {app} has not been deployed")
            continue
        only = targets.rest[:1] or None
        status = status or deploy.deploy_processes(ctx, app, only=only)
    return status


@command("ps:rebuild")
def ps_rebuild(ctx: Ctx) -> int:
    status = 0
    for app in _targets(ctx).apps or [""]:
        _stdout_missing(ctx, app)
        status = status or deploy.rebuild_app(ctx, app)
    return status


@command("ps:restore")
def ps_restore(ctx: Ctx) -> int:
    """Start every deployed app whose ``restore`` property is not false."""
    apps = ctx.args[:1] or ctx.state.apps()
    for app in apps:
        ctx.require_app(app)
        if ctx.state.prop_get("ps", app, "restore") == "false":
            ctx.info1(f"Skipping {app}: restore is disabled")
            continue
        if containers.is_deployed(ctx.state, app):
            ctx.info1(f"Restoring app {app}")
            start_app(ctx, app)
    return 0


# -- set ----------------------------------------------------------------------------------


def _validate_ps(ctx: Ctx, key: str, value: str) -> None:
    if key == "restart-policy" and value and not _valid_restart_policy(value):
        ctx.fail("Invalid restart-policy specified")


def _valid_restart_policy(value: str) -> bool:
    if value in ("no", "always", "unless-stopped", "on-failure"):
        return True
    name, _, retries = value.partition(":")
    return name == "on-failure" and retries.isdigit()


@command("ps:set")
def ps_set(ctx: Ctx) -> int:
    return set_property(ctx, "ps", PS_KEYS, _validate_ps)


# -- inspect ----------------------------------------------------------------------------

_TRACEBACK = """docker: 'docker container inspect' requires at least 1 argument

Usage:  docker container inspect [OPTIONS] CONTAINER [CONTAINER...]

See 'docker container inspect --help' for more information
Traceback (most recent call last):
  File "/tmp/dokku-{pid}-trigger-scheduler-docker-local-scheduler-inspect.{suffix}", line 5, in <module>
    data = json.load(sys.stdin)
           ^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/json/__init__.py", line 293, in load
    return loads(fp.read(),
           ^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/json/decoder.py", line 337, in decode
    obj, end = self.raw_decode(s, idx=_w(s, 0).end())
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode
    raise JSONDecodeError("Expecting value", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
"""


def sanitized_inspect(ctx: Ctx, app: str) -> list[dict]:
    """``docker inspect`` of the app's containers with config values masked."""
    try:
        secret_keys = set(envfile.read_env(ctx.state, app))
    except ValueError:
        secret_keys = set()
    result = []
    for container in containers.current_containers(ctx.state, app):
        data = dockerview.inspect(ctx.state, container)
        config = data["Config"]
        assert isinstance(config, dict)
        config["Env"] = [
            f"{item.split('=', 1)[0]}=XXXXXX" if item.split("=", 1)[0] in secret_keys else item
            for item in config["Env"]
        ]
        result.append(data)
    return result


@command("ps:inspect")
def ps_inspect(ctx: Ctx) -> int:
    app = ctx.require_app(ctx.args[0] if ctx.args else None)
    data = sanitized_inspect(ctx, app)
    if not data:
        suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(6))
        text = _TRACEBACK.format(pid=os.getpid(), suffix=suffix)
        ctx.err(text, end="")
        ctx.err(" !     " + text)
        return 1
    ctx.out(json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False))
    return 0
