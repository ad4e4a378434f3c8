"""``pruvon-dokku-sim``: the simulator's entry point, global flags and dispatch.

:func:`run` executes one command in-process with captured streams (used by
the golden tests, fast); :func:`main` is the console script that behaves as
the ``dokku`` executable (used by the client's transports, the demo and the
end-to-end tests).

The flow follows Dokku's main ``dokku`` script: ``parse_args`` exports
``--quiet``/``--trace``/``--force``/``--app`` wherever they appear, leading
global flags are shifted away, ``help``/no arguments and ``version`` are
answered by the main script itself, and everything else goes to a simulated
core plugin (``@command``) or to the plugins installed in the state dir.
"""

from __future__ import annotations

import importlib
import io
import os
import pkgutil
import sys
from pathlib import Path

from pruvon_testing.sim import core, knobs, sshcommand
from pruvon_testing.sim.core import COMMANDS, Ctx, SimExit, SimState

_loaded = False

# Dokku's PLUGIN_ALIASES: a command prefix that names another plugin.
PLUGIN_ALIASES = {
    "docker-local": "scheduler-docker-local",
    "dockerfile": "builder-dockerfile",
    "herokuish": "builder-herokuish",
    "k3s": "scheduler-k3s",
    "lambda": "builder-lambda",
    "nixpacks": "builder-nixpacks",
    "pack": "builder-pack",
    "rails": "builder-railpack",
}


def load_commands() -> None:
    """Import every ``cmd_*`` module once; each registers its commands."""
    global _loaded
    if _loaded:
        return
    package = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"pruvon_testing.sim.{info.name}")
    _loaded = True


def parse_global_flags(argv: list[str], env: dict[str, str]) -> list[str]:
    """``parse_args`` + the leading-flag shift of Dokku's main script.

    Every ``--quiet``/``--trace``/``--force``/``--app X`` in argv is exported
    (even after the command); only the flags *before* the command are removed.
    ``--version`` is left in place so that ``dokku --version`` prints the version.
    """
    skip = False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--quiet":
            env["DOKKU_QUIET_OUTPUT"] = "1"
        elif arg == "--trace":
            env["DOKKU_TRACE"] = "1"
        elif arg == "--force":
            env["DOKKU_APPS_FORCE_DELETE"] = "1"
        elif arg == "--app":
            env["DOKKU_APP_NAME"] = argv[index + 1] if index + 1 < len(argv) else ""
            skip = True
    if not argv or not argv[0].startswith("--"):
        return list(argv)
    shifted, skip = 0, False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--version":
            continue
        if arg == "--app":
            shifted += 2
            skip = True
        elif arg.startswith("--"):
            shifted += 1
        else:
            break
    return list(argv[shifted:])


def _has_tty(ctx: Ctx) -> bool:
    """Dokku's ``has_tty`` asks ``tty`` about stdin."""
    if ctx.env.get("DOKKU_FORCE_TTY") == "true":
        return True
    if ctx.env.get("DOKKU_DISABLE_TTY") == "true":
        return False
    try:
        return os.isatty(ctx.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def execute(ctx: Ctx, argv: list[str]) -> int:
    """Run one ``dokku ARGV`` invocation against ``ctx``'s state and streams."""
    load_commands()
    argv = parse_global_flags(argv, ctx.env)
    ctx.state.overrides = knobs.overrides_from_env(ctx.env)
    name = argv[0] if argv else ""
    ctx.command = "help" if name == "" else name
    ctx.args = list(argv[1:])
    knobs.log_call(ctx.state, "dokku", argv)
    try:
        fault = knobs.apply(ctx)
        if fault is not None:
            return fault
        if name in ("help", ""):
            from pruvon_testing.sim.cmd_help import main_help

            main_help(ctx, all_commands=len(argv) > 1 and argv[1] == "--all",
                      show_headers=_has_tty(ctx) and not ctx.quiet)
            return 0
        if name in ("version", "-v", "--version"):
            ctx.out(f"dokku version {ctx.state.version}")
            return 0
        return _execute_command(ctx, argv)
    except SimExit as exc:
        return exc.code


def _execute_command(ctx: Ctx, argv: list[str]) -> int:
    """``execute_dokku_cmd``: simulated core plugins first, then installed plugins."""
    from pruvon_testing.sim import dispatch
    from pruvon_testing.sim.cmd_plugin import is_core_command, plugin_enabled

    name = argv[0]
    prefix = name.split(":", 1)[0]
    if prefix in PLUGIN_ALIASES:
        name = PLUGIN_ALIASES[prefix] + name[len(prefix) :]
        argv = [name, *argv[1:]]
    handler = COMMANDS.get(name)
    if handler is not None and plugin_enabled(ctx.state, name):
        args = list(argv[1:])
        if is_core_command(name) and ctx.env.get("DOKKU_APP_NAME"):
            args.insert(0, ctx.env["DOKKU_APP_NAME"])
        ctx.command, ctx.args = name, args
        return int(handler(ctx) or 0)
    code = dispatch.dispatch_installed(ctx, argv)
    if code is not None:
        return code
    ctx.warn(f"`{' '.join(argv)}` is not a dokku command.")
    ctx.warn("See `dokku help` for a list of available commands.")
    return 1


def dispatch(ctx: Ctx) -> int:
    """Run ``ctx.command`` with ``ctx.args`` (kept for callers that build a Ctx)."""
    argv = [ctx.command, *ctx.args] if ctx.command else list(ctx.args)
    return execute(ctx, argv)


def run(
    argv: list[str],
    *,
    root: str | os.PathLike[str],
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
) -> tuple[int, bytes, bytes]:
    """Run one simulated ``dokku`` command in-process; return (exit, stdout, stderr)."""
    state = SimState(Path(root))
    state.root.mkdir(parents=True, exist_ok=True)
    out, err = io.BytesIO(), io.BytesIO()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DOKKU_")}
    full_env["PRUVON_SIM_ROOT"] = str(root)
    full_env.update(env or {})
    ctx = Ctx(state=state, args=[], command="", stdout=out, stderr=err,
              stdin=io.BytesIO(stdin), env=full_env)
    code = execute(ctx, list(argv))
    return code, out.getvalue(), err.getvalue()


def _seed_demo(state: SimState) -> int:
    from pruvon_testing.sim.demo import seed_demo

    seed_demo(state.root)
    sys.stdout.write(f"Seeded a demo host in {state.root}\n")
    return 0


def main(argv: list[str] | None = None) -> None:
    """Console script: behave as ``dokku`` (``--seed-demo`` builds the demo host)."""
    args = sys.argv[1:] if argv is None else argv
    state = SimState.for_console_script()
    if args == ["--seed-demo"]:
        sys.exit(_seed_demo(state))
    # The caller's environment passes through, as Dokku's `sudo -E` re-exec keeps it:
    # e.g. a plugin script running `DOKKU_QUIET_OUTPUT=1 dokku config:set …`.
    env = dict(os.environ)
    original = env.pop("SSH_ORIGINAL_COMMAND", None)
    os.environ.pop("SSH_ORIGINAL_COMMAND", None)  # Dokku: export -n
    if original:  # reached through ssh: re-split the command string as Dokku does
        words = sshcommand.resplit(args[0] if args else "", original)
        if words is None:
            sys.stderr.write("xargs: unmatched quote; by default quotes are special to xargs\n")
            sys.exit(1)
        args = words
    ctx = Ctx(state=state, args=[], command="", env=env)
    try:
        code = execute(ctx, args)
    except ValueError as exc:  # a malformed knob: say which, like a real CLI would
        sys.stderr.write(f" !     simulator: {exc}\n")
        code = 1
    sys.stdout.flush()
    sys.exit(code)


__all__ = ["core", "dispatch", "execute", "load_commands", "main", "parse_global_flags", "run"]
