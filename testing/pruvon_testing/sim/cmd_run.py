"""``run``, ``run:detached``, ``run:list`` and ``enter`` as real processes.

``run APP CMD...`` starts a one-off ``run`` container (``APP.run.NNNNN``, ``DYNO=run.NNNNN``)
whose process is CMD itself (``/bin/sh`` when no CMD is given), with the app's
environment; it disappears when the process ends (``docker run --rm``).
``enter APP [TYPE|DYNO] [CMD...]`` runs CMD with the environment of an existing
container.  Quirks from the captures: ``enter APP CMD`` takes CMD as the process
type, ``--container-id ID CMD`` still reads CMD as the type, and with two web
containers ``enter APP web`` uses the first.
"""

from __future__ import annotations

import secrets
import subprocess
import sys

from pruvon_testing.sim import confine, containers, envfile, execs, images
from pruvon_testing.sim.containers import Container
from pruvon_testing.sim.core import Ctx, SimExit, command
from pruvon_testing.sim.routing import locked

DEFAULT_SHELL = ["/bin/sh"]


def _app_env(ctx: Ctx, app: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for scope in (None, app):
        try:
            values.update(envfile.read_env(ctx.state, scope))
        except envfile.EnvParseError as exc:
            ctx.fail(str(exc))
    return values


def _parse_run(ctx: Ctx) -> tuple[str, dict[str, str], list[str]]:
    """``run [--env K=V]... [--no-tty] [--force-tty] [--cron-id ID] APP CMD...``."""
    args = list(ctx.args)
    extra: dict[str, str] = {}
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag in ("-e", "--env"):
            pair = args.pop(0) if args else ""
            key, has_equals, value = pair.partition("=")
            if not has_equals or not key:
                ctx.fail(f"Invalid environment variable: {pair}")
            extra[key] = value
        elif flag == "--cron-id":
            if args:
                args.pop(0)
        elif flag not in ("--no-tty", "--force-tty", "--rm", "--rm-container"):
            ctx.fail(f"Unknown flag: {flag}")
    app = ctx.require_app(args[0] if args else None)
    return app, extra, args[1:]


def _require_release_image(ctx: Ctx, app: str) -> images.Image:
    image = images.app_image(ctx.state, app)
    if image is None or not containers.is_deployed(ctx.state, app):
        ctx.warn(f"App image (dokku/{app}:latest) not found")
        ctx.err("Error: No such image: ")
        ctx.warn("Invalid image stage detected: expected 'release', got ''")
        ctx.fail("Successfully deploy your app to fix dokku run calls")
    assert image is not None
    return image


def _new_run_container(ctx: Ctx, app: str, env: dict[str, str], argv: list[str], pid: int) -> Container:
    number = env["DYNO"].split(".", 1)[1]
    with locked(ctx.state):
        containers.collect_garbage(ctx.state)
        return containers.create(
            ctx.state,
            app=app,
            process_type="run",
            dyno=env["DYNO"],
            container_type="run",
            image=f"dokku/{app}:latest",
            name=f"{app}.run.{number}",
            command=argv,
            env=env,
            image_labels=dict(containers.IMAGE_LABELS),
            pid=pid,
        )


def _run_env(ctx: Ctx, app: str, extra: dict[str, str]) -> dict[str, str]:
    env = _app_env(ctx, app)
    env.update(extra)
    env["DYNO"] = f"run.{secrets.randbelow(9000) + 1000}"
    return env


@command("run")
def run(ctx: Ctx) -> int:
    app, extra, argv = _parse_run(ctx)
    _require_release_image(ctx, app)
    env = _run_env(ctx, app, extra)
    argv = argv or list(DEFAULT_SHELL)
    proc_env = execs.process_env(ctx, env)
    if execs.resolve(argv, proc_env) is None:
        ctx.err(
            "docker: Error response from daemon: failed to create task for container: "
            "failed to create shim task: OCI runtime create failed: runc create failed: "
            f'unable to start container process: exec: "{argv[0]}": executable file not '
            "found in $PATH: unknown."
        )
        return execs.NOT_FOUND
    return execs.launch(
        ctx, argv, proc_env, lambda pid: _new_run_container(ctx, app, env, argv, pid), app
    )


@command("run:detached")
def run_detached(ctx: Ctx) -> int:
    """Start CMD in the background; print the container name, like Dokku."""
    app, extra, argv = _parse_run(ctx)
    _require_release_image(ctx, app)
    if not argv:
        ctx.fail("No command specified for detached run")
    env = _run_env(ctx, app, extra)
    proc_env = execs.process_env(ctx, env)
    wrapped = execs.confined(ctx, app, argv)
    if wrapped is None:
        return confine.REFUSED
    with locked(ctx.state):
        holder = _new_run_container(ctx, app, env, argv, 0)
    log = containers.log_path(ctx.state, holder.id)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pruvon_testing.sim.runner", str(log), "--", *wrapped],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**proc_env, "PYTHONPATH": ":".join(sys.path)},
        start_new_session=True,
    )
    _DETACHED.append(proc)
    with locked(ctx.state):
        holder.pid = proc.pid
        holder.pid_start = containers.pid_start_time(proc.pid)
        containers.save(ctx.state, holder)
    ctx.out(holder.name)
    return 0


# Children of an in-process simulator (tests): kept so they can be reaped.
_DETACHED: list[subprocess.Popen] = []


@command("run:list")
def run_list(ctx: Ctx) -> int:
    """Running one-off containers of an app (``NAME  COMMAND  CREATED`` table)."""
    app = ctx.require_app(ctx.args[0] if ctx.args else None)
    ctx.info2_quiet(f"{app} run containers")
    rows = [c for c in containers.app_containers(ctx.state, app) if c.container_type == "run"]
    ctx.out("NAME   COMMAND   CREATED")
    for container in rows:
        ctx.out(f"{container.name}   \"{' '.join(container.command)}\"   {container.created_at}")
    return 0


# -- enter ------------------------------------------------------------------------------


def _pick_container(ctx: Ctx, app: str, rest: list[str]) -> tuple[Container, list[str]]:
    """Dokku's argument handling, quirks included: after ``--container-id ID`` the next
    word is still read as the process type (so ``--container-id ID echo hi`` fails)."""
    container_id = ""
    if rest and rest[0] == "--container-id":
        container_id = rest[1] if len(rest) > 1 else ""
        rest = rest[2:]
    current = containers.current_containers(ctx.state, app)
    if not containers.is_deployed(ctx.state, app) or not current:
        ctx.fail(f"App {app} has not been deployed")
    types = sorted({c.process_type for c in current})
    if rest:
        wanted, rest = rest[0], rest[1:]
        matches = [c for c in current if wanted in (c.process_type, c.dyno)]
        if not matches:
            ctx.warn(f"No containers found for type '{wanted}'")
            ctx.fail(f"Available types for app ({app}): {' '.join(types)}")
    elif container_id or len(types) == 1:
        matches = [c for c in current if c.process_type == types[0]]
    else:
        ctx.warn("No container type specified")
        ctx.fail(f"Available types for app ({app}): {' '.join(types)}")
    if not container_id:
        return matches[0], rest
    found = containers.find(ctx.state, container_id)
    if found is None or found.app != app:
        ctx.fail(f"Specified container must be for the app {app}")
    assert found is not None
    return found, rest


@command("enter")
def enter(ctx: Ctx) -> int:
    app = ctx.require_app(ctx.args[0] if ctx.args else None)
    container, argv = _pick_container(ctx, app, list(ctx.args[1:]))
    if not container.running:
        ctx.err(f"Error response from daemon: container {container.id} is not running")
        raise SimExit(1)
    argv = argv or list(DEFAULT_SHELL)
    env = execs.process_env(ctx, container.env)
    if execs.resolve(argv, env) is None:
        ctx.out(
            "OCI runtime exec failed: exec failed: unable to start container process: "
            f'exec: "{argv[0]}": executable file not found in $PATH: unknown'
        )
        return 126
    return execs.launch(ctx, argv, env, None, app)
