"""Real processes for ``dokku run``, ``dokku enter`` and ``docker exec``.

A simulated container has no filesystem of its own, so a command "in" it is a
real process on this machine with the container's environment (app ENV,
``DYNO``, ``PORT``) - enough for terminals to be tested end to end.

* As a console script (stdin/stdout are the real fds 0/1) the simulator
  ``execvpe``s the command: stdin, stdout and the TTY pass straight through and
  the process keeps the simulator's pid, which the container record carries.
* In-process (``main.run`` in tests) it runs the command as a child with the
  captured stdin and copies its output to the command's streams.

The environment is built from scratch (never the host's), except ``PATH``,
``TERM`` and a UTF-8 locale so the commands can be found and render.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable

from pruvon_testing.sim.core import Ctx

Register = Callable[[int], object]
NOT_FOUND = 127


def process_env(ctx: Ctx, container_env: dict[str, str]) -> dict[str, str]:
    """What the process sees: the container's variables plus what a shell needs."""
    env = {
        "PATH": ctx.env.get("PATH") or os.defpath,
        "HOME": tempfile.gettempdir(),
        "LANG": "C.UTF-8",
    }
    if ctx.env.get("TERM"):
        env["TERM"] = ctx.env["TERM"]
    env.update(container_env)
    env["PATH"] = ctx.env.get("PATH") or env.get("PATH") or os.defpath
    return env


def is_console(ctx: Ctx) -> bool:
    """True when the command's streams are the process's real stdin/stdout."""
    try:
        return ctx.stdout.fileno() == 1 and ctx.stdin.fileno() == 0
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


def resolve(argv: list[str], env: dict[str, str]) -> str | None:
    """The executable ``argv[0]`` names, searched on the process's PATH."""
    if "/" in argv[0]:
        return argv[0] if os.access(argv[0], os.X_OK) else None
    return shutil.which(argv[0], path=env.get("PATH"))


def launch(ctx: Ctx, argv: list[str], env: dict[str, str], register: Register | None) -> int:
    """Run ``argv`` as the container's process; returns its exit status.

    In console mode this does not return on success (the process is replaced).
    """
    if is_console(ctx):
        sys.stdout.flush()
        sys.stderr.flush()
        if register is not None:
            register(os.getpid())
        os.execvpe(argv[0], argv, env)  # noqa: S606 - argv list, never a shell string
    stdin = ctx.stdin.read() if hasattr(ctx.stdin, "read") else b""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    if register is not None:
        register(proc.pid)
    out, err = proc.communicate(stdin)
    ctx.stdout.write(out)
    ctx.stderr.write(err)
    ctx.stdout.flush()
    ctx.stderr.flush()
    return proc.returncode
