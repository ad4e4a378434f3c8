"""Real processes for ``dokku run``, ``dokku enter`` and ``docker exec``.

A command "in" a simulated container is a real process with the container's
environment (app ENV, ``DYNO``, ``PORT``) - enough for terminals to be tested
end to end - confined by bubblewrap to the container's own filesystem under the
simulator's state, as an unprivileged uid, without network (see ``confine``).
Where confinement is unavailable the command is refused: nothing runs bare.

* As a console script (stdin/stdout are the real fds 0/1) the simulator
  ``execvpe``s the command: stdin, stdout and the TTY pass straight through and
  the process keeps the simulator's pid, which the container record carries.
* In-process (``main.run`` in tests) it runs the command as a child with the
  captured stdin and copies its output to the command's streams.

The environment is built from scratch (never the host's), except ``TERM`` and
a UTF-8 locale so the commands render; ``PATH`` and ``HOME`` are the sandbox's.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable

from pruvon_testing.sim import confine
from pruvon_testing.sim.core import Ctx

Register = Callable[[int], object]
NOT_FOUND = 127


def process_env(ctx: Ctx, container_env: dict[str, str]) -> dict[str, str]:
    """What the process sees: the container's variables plus what a shell needs."""
    env = {"LANG": "C.UTF-8"}
    if ctx.env.get("TERM"):
        env["TERM"] = ctx.env["TERM"]
    env.update(container_env)
    return confine.sandbox_env(env)


def is_console(ctx: Ctx) -> bool:
    """True when the command's streams are the process's real stdin/stdout."""
    try:
        return ctx.stdout.fileno() == 1 and ctx.stdin.fileno() == 0
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


def resolve(argv: list[str], env: dict[str, str]) -> str | None:
    """The executable ``argv[0]`` names inside the sandbox."""
    del env  # the sandbox's PATH is fixed
    return confine.resolve(argv)


def _is_tty(ctx: Ctx) -> bool:
    try:
        return bool(ctx.stdin.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def confined(ctx: Ctx, container: str, argv: list[str]) -> list[str] | None:
    """``argv`` wrapped in the container's sandbox; None (after saying why) when no
    sandbox can be built, so the caller refuses instead of running it bare."""
    try:
        bwrap = confine.require_bwrap(ctx.env)
    except confine.ConfinementUnavailable as exc:
        ctx.err(f"pruvon-dokku-sim: {exc}")
        return None
    root = confine.fs_root(ctx.state.root, container)
    return confine.wrap(bwrap, root, argv, tty=_is_tty(ctx))


def launch(
    ctx: Ctx, argv: list[str], env: dict[str, str], register: Register | None, container: str
) -> int:
    """Run ``argv`` confined in ``container``'s sandbox; returns its exit status.

    In console mode this does not return on success (the process is replaced).
    """
    wrapped = confined(ctx, container, argv)
    if wrapped is None:
        return confine.REFUSED
    argv = wrapped
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
        cwd=ctx.state.root,
    )
    if register is not None:
        register(proc.pid)
    out, err = proc.communicate(stdin)
    ctx.stdout.write(out)
    ctx.stderr.write(err)
    ctx.stdout.flush()
    ctx.stderr.flush()
    return proc.returncode
