"""Simulator knobs: latency, injected faults, hangs and an emulated Dokku version.

Knobs come from ``<root>/sim.json`` (written by :meth:`SimState.set_knobs`)
and, with priority, from the environment of the invocation:

* ``PRUVON_SIM_LATENCY``: ``0`` (default), seconds as a number, or
  ``realistic`` (medians measured on a real 0.38.27 host, ``TIMINGS.md``);
  in ``sim.json`` also ``{"command": seconds, "*": seconds}`` per command.
* ``PRUVON_SIM_VERSION``: e.g. ``0.35.0``; commands consult
  :func:`version_at_least` to refuse what that version did not have.
* ``PRUVON_SIM_FAULTS``: JSON ``{"apps:list": {"exit": 1, "stderr": "..."}}``; an
  optional ``"args": ["blog"]`` limits a fault to invocations starting with those
  arguments.
* ``PRUVON_SIM_HANG``: comma-separated command names that never return.
* ``installed`` / ``uninstalled`` (``sim.json`` only): built-in service plugins
  switched on (mysql, mariadb, mongo are off on a fresh host, as on the reference
  host) or off (postgres, redis are on); ``plugin:install``/``uninstall`` set them.
* ``call_log`` (``sim.json`` only): when true, every ``dokku`` and ``docker``
  invocation appends one JSON line (time, tool, argv) to ``<root>/calls.log``,
  so tests and benchmarks count the calls that reached the host, from any
  number of processes.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pruvon_testing.sim.core import Ctx, SimState

# Real medians in seconds (TIMINGS.md); the loop of ps:report is per app.
REALISTIC: dict[str, float] = {
    "apps:list": 0.067, "apps": 0.067, "apps:report": 0.069, "apps:exists": 0.05,
    "apps:create": 15.1, "apps:destroy": 4.76, "apps:clone": 75.7, "apps:rename": 57.9,
    "ps:report": 0.832, "ps:stop": 2.21, "ps:start": 53.9, "ps:restart": 49.3,
    "ps:rebuild": 57.5, "ps:scale": 0.068,
    "config:export": 0.051, "config:show": 0.056, "config": 0.056, "config:get": 0.05,
    "config:keys": 0.05, "config:set": 0.225, "config:unset": 0.17,
    "domains:report": 0.171, "domains:add": 17.8, "domains:set": 8.7,
    "domains:remove": 9.3, "domains:clear": 9.9,
    "ports:report": 1.5, "ports:list": 1.5, "urls": 1.8, "url": 1.8,
    "ports:add": 7.7, "ports:set": 7.0, "ports:remove": 8.4, "ports:clear": 7.9,
    "storage:mount": 0.08, "storage:unmount": 0.072,
    "plugin:list": 0.675, "version": 0.046, "help": 1.17,
    "git:from-image": 44.5,
}
# Service plugins (services/TIMINGS.md: dokku-postgres 1.48.0, dokku-redis 1.43.0). The
# size-dependent export/import and the app-redeploying link/unlink keep the default here.
REALISTIC.update({
    "postgres:list": 0.156, "postgres:info": 0.420, "postgres:exists": 0.148,
    "postgres:links": 0.110, "postgres:create": 7.4, "postgres:destroy": 1.5,
    "postgres:start": 5.2, "postgres:clone": 10.3, "postgres:expose": 0.9,
    "postgres:unexpose": 10.5,
    "redis:list": 0.148, "redis:info": 0.379, "redis:exists": 0.148, "redis:links": 0.110,
    "redis:export": 0.702, "redis:create": 2.1, "redis:destroy": 1.0, "redis:unexpose": 10.5,
})
# ``postgres:info SVC --status`` (any single info flag) skips most docker inspects.
REALISTIC_INFO_FLAG: dict[str, float] = {"postgres:info": 0.275}
# Service plugins measured on no host (mysql, mariadb, mongo) are the same generated
# template as dokku-postgres: their plugin-side commands take postgres' medians.
TEMPLATE_KINDS = ("mysql", "mariadb", "mongo")
PS_REPORT_PER_APP = 0.75
DEFAULT_REALISTIC = 0.06  # Go "property" commands: 50-100 ms


def overrides_from_env(env: dict[str, str]) -> dict[str, object]:
    """Knob values given through the environment (they win over ``sim.json``)."""
    values: dict[str, object] = {}
    if env.get("PRUVON_SIM_LATENCY"):
        values["latency"] = env["PRUVON_SIM_LATENCY"]
    if env.get("PRUVON_SIM_VERSION"):
        values["version"] = env["PRUVON_SIM_VERSION"]
    if env.get("PRUVON_SIM_FAULTS"):
        try:
            values["faults"] = json.loads(env["PRUVON_SIM_FAULTS"])
        except ValueError as exc:
            raise ValueError(f"PRUVON_SIM_FAULTS is not valid JSON: {exc}") from None
    if env.get("PRUVON_SIM_HANG"):
        values["hang"] = [c.strip() for c in env["PRUVON_SIM_HANG"].split(",") if c.strip()]
    return values


def parse_version(text: str) -> tuple[int, ...]:
    """``"0.38.27"`` -> ``(0, 38, 27)``; a clear error for anything else."""
    try:
        return tuple(int(part) for part in text.strip().lstrip("v").split("."))
    except ValueError:
        raise ValueError(f"invalid Dokku version {text!r} (expected e.g. 0.35.0)") from None


def version_at_least(state: SimState, minimum: str) -> bool:
    """True when the emulated Dokku version is ``minimum`` or newer."""
    return parse_version(state.version) >= parse_version(minimum)


def log_call(state: SimState, tool: str, argv: list[str]) -> None:
    """Append this invocation to ``<root>/calls.log`` when the ``call_log`` knob is on."""
    if not state.knobs().get("call_log"):
        return
    line = json.dumps({"t": time.time(), "tool": tool, "argv": list(argv)}) + "\n"
    fd = os.open(state.root / "calls.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())  # one write with O_APPEND: lines never interleave
    finally:
        os.close(fd)


def template_command(command: str) -> str:
    """``mysql:list`` => ``postgres:list`` (timed); every other command unchanged."""
    kind, _, sub = command.partition(":")
    if kind in TEMPLATE_KINDS and sub and command not in REALISTIC:
        return f"postgres:{sub}"
    return command


def latency_for(ctx: Ctx) -> float:
    """Seconds to sleep before running ``ctx.command`` under the current knobs."""
    value = ctx.state.knobs().get("latency", 0)
    if isinstance(value, dict):
        value = value.get(ctx.command, value.get("*", 0))
    if value == "realistic":
        if ctx.command == "ps:report" and not [a for a in ctx.args if not a.startswith("--")]:
            return PS_REPORT_PER_APP * max(1, len(ctx.state.apps()))
        if ctx.command == "help" and "--all" in ctx.args:
            return 1.5
        command = template_command(ctx.command)
        if command in REALISTIC_INFO_FLAG and any(a.startswith("--") for a in ctx.args):
            return REALISTIC_INFO_FLAG[command]
        return REALISTIC.get(command, DEFAULT_REALISTIC)
    try:
        seconds = float(value or 0)
    except (TypeError, ValueError):
        raise ValueError(
            f"invalid latency knob {value!r}: use 0, a number of seconds, or 'realistic'"
        ) from None
    if seconds < 0:
        raise ValueError(f"invalid latency knob {value!r}: must not be negative")
    return seconds


def apply(ctx: Ctx) -> int | None:
    """Apply latency, hang and fault knobs; return an exit code when a fault fires."""
    knobs = ctx.state.knobs()
    delay = latency_for(ctx)
    if delay:
        time.sleep(delay)
    if ctx.command in (knobs.get("hang") or []):
        while True:  # until the caller's timeout kills us
            time.sleep(3600)
    fault = (knobs.get("faults") or {}).get(ctx.command)
    if fault is None:
        return None
    if not isinstance(fault, dict):
        raise ValueError(f"fault for {ctx.command!r} must be an object with exit/stderr/stdout")
    wanted = fault.get("args")
    if wanted is not None and ctx.args[: len(wanted)] != list(wanted):
        return None  # the fault targets other arguments (e.g. another app)
    if fault.get("stdout"):
        ctx.out(str(fault["stdout"]), end="")
    if fault.get("stderr"):
        ctx.err(str(fault["stderr"]), end="" if str(fault["stderr"]).endswith("\n") else "\n")
    return int(fault.get("exit", 1))

