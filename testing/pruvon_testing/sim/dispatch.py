"""Dokku's dispatch to plugins installed under ``<root>/plugins/enabled/<name>/``.

Mirrors ``execute_dokku_cmd`` in Dokku's main script for non-core plugins:

1. ``<plugin>/subcommands/default``, then ``<cmd>/subcommands/<cmd>``, then
   ``<prefix>/subcommands/<suffix>`` for ``prefix:suffix`` - run with the full argv.
2. Otherwise every plugin's ``commands`` script runs in name order; exit 10
   (``DOKKU_NOT_IMPLEMENTED_EXIT``) means "not mine", any other status means
   handled, and a non-zero one stops the loop with that status.

Scripts run as Dokku's system user when the simulator runs as root on a
machine that has one (:mod:`pruvon_testing.sim.plugin_user`), and get Dokku's environment (``PLUGIN_ENABLED_PATH``, ``DOKKU_ROOT``,
``DOKKU_NOT_IMPLEMENTED_EXIT`` …) and a ``dokku`` on ``PATH`` that is this
simulator, so a plugin can call back into "Dokku" as it would on a host.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from pruvon_testing.sim.core import Ctx, SimState
from pruvon_testing.sim.plugin_user import as_dokku_user

NOT_IMPLEMENTED = 10


def installed(state: SimState) -> list[Path]:
    """Enabled plugin directories, sorted like a shell glob (``LC_ALL=C``)."""
    base = state.plugins_dir
    if not base.is_dir():
        return []
    return sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.name.encode())


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def sim_command() -> list[str]:
    """argv that runs this simulator: the console script next to Python, else ``-m``."""
    script = Path(sys.executable).parent / "pruvon-dokku-sim"
    if _executable(script):
        return [str(script)]
    return [sys.executable, "-m", "pruvon_testing.sim"]


def _dokku_shim(state: SimState) -> Path:
    """``<root>/bin/dokku``: a wrapper so plugin scripts can run ``dokku …``."""
    bin_dir = state.root / "bin"
    shim = bin_dir / "dokku"
    text = (
        "#!/bin/sh\n"
        f"PRUVON_SIM_ROOT={shlex.quote(str(state.root))}\n"
        "export PRUVON_SIM_ROOT\n"
        f"exec {shlex.join(sim_command())} \"$@\"\n"
    )
    if not shim.exists() or shim.read_text() != text:
        bin_dir.mkdir(parents=True, exist_ok=True)
        tmp = bin_dir / f".dokku.{os.getpid()}"
        tmp.write_text(text)
        tmp.chmod(0o755)
        os.replace(tmp, shim)
    return bin_dir


def plugin_env(ctx: Ctx) -> dict[str, str]:
    """The environment Dokku gives plugin scripts, pointing at the simulated host."""
    env = dict(ctx.env)
    enabled = str(ctx.state.plugins_dir)
    env.update({
        "PRUVON_SIM_ROOT": str(ctx.state.root),
        "DOKKU_ROOT": str(ctx.state.home),
        "DOKKU_LIB_ROOT": str(ctx.state.root),
        "PLUGIN_PATH": str(ctx.state.plugins_dir.parent),
        "PLUGIN_ENABLED_PATH": enabled,
        "PLUGIN_AVAILABLE_PATH": enabled,
        "DOKKU_NOT_IMPLEMENTED_EXIT": str(NOT_IMPLEMENTED),
        "DOKKU_VALID_EXIT": "0",
        "DOKKU_API_VERSION": "1",
    })
    env["PATH"] = f"{_dokku_shim(ctx.state)}{os.pathsep}{env.get('PATH', os.defpath)}"
    return env


def run_script(ctx: Ctx, argv: list[str], env: dict[str, str] | None = None) -> int:
    """Run a plugin script with the command's streams (real fds when there are any)."""
    env, credentials = as_dokku_user(env or plugin_env(ctx))
    streams = {}
    for name, stream in (("stdin", ctx.stdin), ("stdout", ctx.stdout), ("stderr", ctx.stderr)):
        try:
            streams[name] = stream.fileno()
        except (AttributeError, OSError, ValueError):
            streams[name] = None
    if None not in streams.values():
        ctx.stdout.flush()
        ctx.stderr.flush()
        return subprocess.run(argv, env=env, check=False, **streams, **credentials).returncode
    stdin_data = ctx.stdin.read() if streams["stdin"] is None else None
    proc = subprocess.run(
        argv,
        env=env,
        input=stdin_data,
        stdin=streams["stdin"] if stdin_data is None else None,
        capture_output=True,
        check=False,
        **credentials,
    )
    ctx.stdout.write(proc.stdout)
    ctx.stderr.write(proc.stderr)
    return proc.returncode


def subcommand_for(state: SimState, name: str) -> Path | None:
    """Dokku's ``subcommands/`` lookup for command ``name``."""
    if "/" in name or name.startswith(".") or "\0" in name:
        return None  # never let a command name walk out of the plugin directory
    base = state.plugins_dir
    prefix, _, suffix = name.partition(":")
    candidates = [base / name / "subcommands" / "default", base / name / "subcommands" / name]
    candidates.append(base / prefix / "subcommands" / (suffix if suffix else name))
    return next((path for path in candidates if _executable(path)), None)


def dispatch_installed(ctx: Ctx, argv: list[str]) -> int | None:
    """Run ``argv`` through installed plugins; ``None`` when no plugin implements it."""
    if not argv:
        return None
    env = plugin_env(ctx)
    script = subcommand_for(ctx.state, argv[0])
    if script is not None:
        return run_script(ctx, [str(script), *argv], env)
    implemented = False
    for plugin in installed(ctx.state):
        commands = plugin / "commands"
        if not _executable(commands):
            continue
        code = run_script(ctx, [str(commands), *argv], env)
        if code == NOT_IMPLEMENTED:
            continue
        implemented = True
        if code:
            return code
    return 0 if implemented else None


def help_output(ctx: Ctx, all_commands: bool) -> list[bytes]:
    """Each installed plugin's ``commands help`` output (``--all`` visible to it)."""
    env, credentials = as_dokku_user(plugin_env(ctx))
    outputs = []
    for plugin in installed(ctx.state):
        commands = plugin / "commands"
        if not _executable(commands):
            continue
        # Plugins detect `help --all` from their parent's command line, as Dokku's do:
        # a non-exec'ing bash parent carries those arguments.
        wrapper = ["bash", "-c", '"$0" help; :', str(commands), "help"]
        if all_commands:
            wrapper.append("--all")
        proc = subprocess.run(wrapper, env=env, capture_output=True, stdin=subprocess.DEVNULL,
                              check=False, **credentials)
        if proc.returncode not in (0, NOT_IMPLEMENTED):
            ctx.stderr.write(proc.stderr)
        outputs.append(proc.stdout)
    return outputs
