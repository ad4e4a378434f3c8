"""``pruvon-dokku-sim``: the simulator's entry point and command dispatch.

:func:`run` executes one command in-process with captured streams (used by
the golden tests, fast); :func:`main` is the console script that behaves as
the ``dokku`` executable (used by the client's transports, the demo and the
end-to-end tests).
"""

from __future__ import annotations

import importlib
import io
import os
import pkgutil
import sys
from pathlib import Path

from pruvon_core.testing.sim import core
from pruvon_core.testing.sim.core import COMMANDS, Ctx, SimExit, SimState

_loaded = False


def load_commands() -> None:
    """Import every ``cmd_*`` module once; each registers its commands."""
    global _loaded
    if _loaded:
        return
    package = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"pruvon_core.testing.sim.{info.name}")
    _loaded = True


def dispatch(ctx: Ctx) -> int:
    """Run ``ctx.command`` like Dokku's main script would."""
    load_commands()
    handler = COMMANDS.get(ctx.command)
    if handler is None:
        ctx.err(f" !     `{ctx.command}` is not a dokku command.")
        ctx.err(" !     See `dokku help` for a list of available commands.")
        return 1
    try:
        code = handler(ctx)
    except SimExit as exc:
        return exc.code
    return int(code or 0)


def _make_ctx(argv: list[str], state: SimState, **streams) -> Ctx:
    command = argv[0] if argv else "help"
    return Ctx(state=state, args=list(argv[1:]), command=command, **streams)


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
    full_env = dict(os.environ)
    full_env["PRUVON_SIM_ROOT"] = str(root)
    full_env.update(env or {})
    ctx = _make_ctx(argv, state, stdout=out, stderr=err, stdin=io.BytesIO(stdin), env=full_env)
    code = dispatch(ctx)
    return code, out.getvalue(), err.getvalue()


def main(argv: list[str] | None = None) -> None:
    """Console script: behave as ``dokku``."""
    args = sys.argv[1:] if argv is None else argv
    try:
        state = SimState.from_env()
    except SimExit as exc:
        sys.exit(exc.code)
    ctx = _make_ctx(args, state)
    sys.exit(dispatch(ctx))


__all__ = ["core", "dispatch", "load_commands", "main", "run"]
