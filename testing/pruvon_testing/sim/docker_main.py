"""``pruvon-docker-sim``: the ``docker`` CLI's view of the simulator's containers.

Reads the same state directory as ``pruvon-dokku-sim`` (``PRUVON_SIM_ROOT``) and
answers ``ps``, ``inspect``, ``stats``, ``logs``, ``exec`` and ``version`` (also
as ``docker container …``) with docker's output shapes and error messages; the
lifecycle commands and images, volumes, networks, ``system df|prune`` are in
:mod:`docker_objects`.
:func:`run` executes in-process (tests); :func:`main` is the console script.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pruvon_testing.sim import containers, dockerview, execs, gotemplate, knobs
from pruvon_testing.sim.containers import Container
from pruvon_testing.sim.core import Ctx, SimExit, SimState

CLIENT_VERSION = "25.0.5"
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
PS_COLUMNS = ("ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names")
STATS_COLUMNS = ("ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs")
GLOBAL_WITH_VALUE = {"-H", "--host", "-c", "--context", "--config", "-l", "--log-level"}


class DockerCli:
    """One ``docker`` invocation against the simulator state."""

    def __init__(self, state: SimState, ctx: Ctx) -> None:
        self.state = state
        self.ctx = ctx

    # -- output -------------------------------------------------------------------
    def out(self, text: str) -> None:
        self.ctx.out(text)

    def fail(self, message: str, code: int = 1) -> None:
        self.ctx.err(message)
        raise SimExit(code)

    def no_such_container(self, ref: str) -> None:
        self.fail(f"Error: No such container: {ref}")

    def require(self, ref: str) -> Container:
        found = containers.find(self.state, ref)
        if found is None:
            self.no_such_container(ref)
        assert found is not None
        return found


# -- argument parsing (docker's pflag style, short flags may be clustered) -------------


@dataclass
class Parsed:
    flags: dict[str, list[str]] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)

    def has(self, *names: str) -> bool:
        return any(name in self.flags for name in names)

    def last(self, *names: str, default: str = "") -> str:
        values = [v for name in names for v in self.flags.get(name, [])]
        return values[-1] if values else default

    def all(self, *names: str) -> list[str]:
        return [v for name in names for v in self.flags.get(name, [])]


def parse(cli: DockerCli, command: str, args: list[str], bools: set[str], values: set[str]) -> Parsed:
    """Flags up to the first positional (docker stops at it for ``exec``-like commands)."""
    parsed = Parsed()
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "--":
            parsed.positional.extend(queue)
            break
        if not arg.startswith("-") or arg == "-":
            parsed.positional.append(arg)
            if command == "exec":
                parsed.positional.extend(queue)
                break
            continue
        name, has_value, value = arg.partition("=")
        if arg.startswith("--"):
            names = [name]
        else:
            names = [f"-{ch}" for ch in arg[1:]]
            has_value = False
        for index, flag in enumerate(names):
            if flag in bools:
                parsed.flags.setdefault(flag, []).append("true")
            elif flag in values:
                if has_value:
                    item = value
                elif not arg.startswith("--") and index < len(names) - 1:
                    item = arg[arg.index(flag[1]) + 1 :]
                elif queue:
                    item = queue.pop(0)
                else:
                    cli.fail(f"flag needs an argument: {flag}\nSee 'docker {command} --help'.", 125)
                parsed.flags.setdefault(flag, []).append(item)
                break
            else:
                kind = "flag" if flag.startswith("--") else "shorthand flag"
                cli.fail(f"unknown {kind}: '{flag.lstrip('-')}' in {arg}\n"
                         f"See 'docker {command} --help'.", 125)
    return parsed


# -- docker ps ------------------------------------------------------------------------


def _filters(cli: DockerCli, specs: list[str]) -> Callable[[Container], bool]:
    """docker's filters: labels ANDed; several values of another key ORed; keys ANDed."""
    by_key: dict[str, list[str]] = {}
    for spec in specs:
        key, has_equals, value = spec.partition("=")
        if not has_equals or key not in ("label", "status", "name", "id"):
            cli.fail(f"Error response from daemon: invalid filter '{spec}'")
        if key == "status" and value not in STATUSES:
            cli.fail(f"Error response from daemon: invalid filter 'status={value}'")
        by_key.setdefault(key, []).append(value)

    def label_ok(container: Container, spec: str) -> bool:
        name, has_value, value = spec.partition("=")
        if name not in container.labels:
            return False
        return not has_value or container.labels[name] == value

    def accept(container: Container) -> bool:
        checks = {
            "label": lambda: all(label_ok(container, s) for s in by_key["label"]),
            "status": lambda: container.status in by_key["status"],
            "name": lambda: any(v.lstrip("/") in container.name for v in by_key["name"]),
            "id": lambda: any(container.id.startswith(v) for v in by_key["id"]),
        }
        return all(checks[key]() for key in by_key)

    return accept


def _table(rows: list[list[str]]) -> list[str]:
    """docker's tabwriter (minwidth 10, padding 3); the last column is not padded."""
    widths = [max(10, *(len(r[i]) + 3 for r in rows)) for i in range(len(rows[0]) - 1)]
    return ["".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + r[-1] for r in rows]


def _emit(cli: DockerCli, template: str, rows: list[dict], columns: tuple[str, ...]) -> None:
    if template and template != "table":
        is_table = template.startswith("table")
        body = template[5:].lstrip() if is_table else template
        try:
            lines = [gotemplate.render(body, row) for row in rows]
            if is_table:
                cells = [gotemplate.header(body).split("\t")] + [line.split("\t") for line in lines]
                width = max(len(c) for c in cells)
                lines = _table([c + [""] * (width - len(c)) for c in cells])
        except gotemplate.TemplateError as exc:
            cli.fail(str(exc))
        for line in lines:
            cli.out(line.rstrip() if is_table else line)
        return
    body = "\t".join("{{." + c + "}}" for c in columns)
    cells = [gotemplate.header(body).split("\t")]
    cells += [[gotemplate.go_value(row[c]) for c in columns] for row in rows]
    for line in _table(cells):
        cli.out(line.rstrip())


def cmd_ps(cli: DockerCli, args: list[str]) -> int:
    parsed = parse(cli, "ps", args, {"-a", "--all", "-q", "--quiet", "--no-trunc", "-s",
                                     "--size", "-l", "--latest"},
                   {"-f", "--filter", "--format", "-n", "--last"})
    accept = _filters(cli, parsed.all("-f", "--filter"))
    everything = parsed.has("-a", "--all") or any(
        f.startswith("status=") for f in parsed.all("-f", "--filter"))
    found = [c for c in containers.all_containers(cli.state) if everything or c.running]
    found = sorted((c for c in found if accept(c)), key=lambda c: c.seq, reverse=True)
    last = parsed.last("-n", "--last")
    if parsed.has("-l", "--latest"):
        found = found[:1]
    elif last.lstrip("-").isdigit() and int(last) >= 0:
        found = found[: int(last)]
    trunc = not parsed.has("--no-trunc")
    if parsed.has("-q", "--quiet"):
        for container in found:
            cli.out(container.short_id if trunc else container.id)
        return 0
    moment = containers.now(cli.state)
    rows = [{**dockerview.ps_row(c, trunc=trunc, moment=moment), "_labels": c.labels}
            for c in found]
    _emit(cli, parsed.last("--format"), rows, PS_COLUMNS)
    return 0


# -- inspect ---------------------------------------------------------------------------


def cmd_inspect(cli: DockerCli, args: list[str], *, object_word: str = "object") -> int:
    parsed = parse(cli, "inspect", args, {"-s", "--size"}, {"-f", "--format", "--type"})
    if not parsed.positional:
        cli.fail("docker: 'docker inspect' requires at least 1 argument.\n\n"
                 "Usage:  docker inspect [OPTIONS] NAME|ID [NAME|ID...]\n\n"
                 "See 'docker inspect --help' for more information")
    found, missing = [], []
    for ref in parsed.positional:
        container = containers.find(cli.state, ref)
        if container is None:
            missing.append(ref)
        else:
            found.append(dockerview.inspect(cli.state, container))
    template = parsed.last("-f", "--format")
    if template:
        try:
            for data in found:
                cli.out(gotemplate.render(template, data))
        except gotemplate.TemplateError as exc:
            cli.fail(str(exc))
    else:
        cli.out(json.dumps(found, indent=4, ensure_ascii=False))
    if missing:
        noun = "object" if object_word == "object" else "container"
        for ref in missing:
            cli.ctx.err(f"Error: No such {noun}: {ref}")
        return 1
    return 0


# -- stats -----------------------------------------------------------------------------


class _Stop(Exception):
    pass


def _raise_stop(_signum: int, _frame: object) -> None:
    raise _Stop


def cmd_stats(cli: DockerCli, args: list[str]) -> int:
    parsed = parse(cli, "stats", args, {"-a", "--all", "--no-stream", "--no-trunc"}, {"--format"})
    if parsed.positional:
        selected = [cli.require(ref) for ref in parsed.positional]
    else:
        every = parsed.has("-a", "--all")
        selected = [c for c in containers.all_containers(cli.state) if every or c.running]
    template = parsed.last("--format")
    trunc = not parsed.has("--no-trunc")
    if parsed.has("--no-stream"):
        _emit(cli, template, [dockerview.stats_row(c, trunc=trunc) for c in selected],
              STATS_COLUMNS)
        return 0
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        while True:
            _emit(cli, template, [dockerview.stats_row(c, trunc=trunc) for c in selected],
                  STATS_COLUMNS)
            time.sleep(1)
    except (_Stop, KeyboardInterrupt):
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- logs ------------------------------------------------------------------------------


def cmd_logs(cli: DockerCli, args: list[str]) -> int:
    parsed = parse(cli, "logs", args, {"-f", "--follow", "-t", "--timestamps", "--details"},
                   {"-n", "--tail", "--since", "--until"})
    if len(parsed.positional) != 1:
        cli.fail("docker: 'docker logs' requires exactly 1 argument.\n\n"
                 "Usage:  docker logs [OPTIONS] CONTAINER\n\n"
                 "See 'docker logs --help' for more information")
    container = cli.require(parsed.positional[0])
    lines, offset = containers.read_log(cli.state, container.id)
    tail = parsed.last("-n", "--tail", default="all")
    if tail != "all":
        if not tail.isdigit():
            cli.fail(f'invalid value "{tail}" for flag --tail')
        lines = lines[-int(tail) :] if int(tail) else []
    stamps = parsed.has("-t", "--timestamps")
    if not parsed.has("-f", "--follow"):
        for line in lines:
            _write_log_line(cli, line, stamps)
        return 0
    previous = signal.signal(signal.SIGTERM, _raise_stop)  # before the first line is out
    try:
        for line in lines:
            _write_log_line(cli, line, stamps)
        while containers.find(cli.state, container.id, include_retired=True) is not None:
            new, offset = containers.read_log(cli.state, container.id, offset)
            for line in new:
                _write_log_line(cli, line, stamps)
            time.sleep(0.1)
    except (_Stop, KeyboardInterrupt):
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _write_log_line(cli: DockerCli, line: containers.LogLine, stamps: bool) -> None:
    text = f"{line.time} {line.text}" if stamps else line.text
    if line.stream == "stderr":
        cli.ctx.err(text)
    else:
        cli.out(text)


# -- exec ------------------------------------------------------------------------------


def cmd_exec(cli: DockerCli, args: list[str]) -> int:
    parsed = parse(cli, "exec", args, {"-i", "--interactive", "-t", "--tty", "-d", "--detach",
                                       "--privileged"},
                   {"-e", "--env", "-w", "--workdir", "-u", "--user", "--env-file"})
    if len(parsed.positional) < 2:
        cli.fail("docker: 'docker exec' requires at least 2 arguments.\n\n"
                 "Usage:  docker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
                 "See 'docker exec --help' for more information")
    container = cli.require(parsed.positional[0])
    if not container.running:
        cli.fail(f"Error response from daemon: container {container.id} is not running")
    extra = {}
    for pair in parsed.all("-e", "--env"):
        key, _, value = pair.partition("=")
        extra[key] = value
    argv = parsed.positional[1:]
    env = execs.process_env(cli.ctx, {**container.env, **extra})
    if execs.resolve(argv, env) is None:
        cli.ctx.out(
            "OCI runtime exec failed: exec failed: unable to start container process: "
            f'exec: "{argv[0]}": executable file not found in $PATH: unknown'
        )
        return 126
    return execs.launch(cli.ctx, argv, env, None, container.app or container.name)


# -- version ---------------------------------------------------------------------------


def cmd_version(cli: DockerCli, args: list[str]) -> int:
    parsed = parse(cli, "version", args, set(), {"-f", "--format"})
    data = {
        "Client": {"Version": CLIENT_VERSION, "ApiVersion": "1.44", "Os": "linux",
                   "Arch": "amd64"},
        "Server": {"Version": CLIENT_VERSION, "ApiVersion": "1.44", "Os": "linux",
                   "Arch": "amd64"},
    }
    template = parsed.last("-f", "--format")
    if template:
        cli.out(gotemplate.render(template, data))
        return 0
    cli.out(f"Client:\n Version:           {CLIENT_VERSION}\n API version:       1.44")
    cli.out(f"\nServer:\n Engine:\n  Version:          {CLIENT_VERSION}\n"
            "  API version:      1.44 (minimum version 1.24)")
    return 0


COMMANDS: dict[str, Callable[[DockerCli, list[str]], int]] = {
    "ps": cmd_ps,
    "inspect": cmd_inspect,
    "stats": cmd_stats,
    "logs": cmd_logs,
    "exec": cmd_exec,
    "version": cmd_version,
}
CONTAINER_ALIASES = {"ls": "ps", "list": "ps", "ps": "ps", "inspect": "inspect", "stats": "stats",
                     "logs": "logs", "exec": "exec"}


def dispatch(cli: DockerCli, argv: list[str]) -> int:
    args = list(argv)
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag in GLOBAL_WITH_VALUE and args:
            args.pop(0)
    if not args:
        cli.out("Usage:  docker [OPTIONS] COMMAND")
        return 0
    name, rest = args[0], args[1:]
    from pruvon_testing.sim import docker_objects  # it builds on this module's parser

    commands = {**COMMANDS, **docker_objects.COMMANDS}
    aliases = {**CONTAINER_ALIASES, **docker_objects.CONTAINER_ALIASES}
    if name == "image" and rest and rest[0] in ("ls", "list"):
        return commands["images"](cli, rest[1:])
    if name == "container" and rest and rest[0] in aliases:
        sub = aliases[rest[0]]
        if sub == "inspect":
            return cmd_inspect(cli, rest[1:], object_word="container")
        return commands[sub](cli, rest[1:])
    handler = commands.get(name)
    if handler is None:
        cli.fail(f"docker: '{name}' is not a docker command.\nSee 'docker --help'")
    assert handler is not None
    return handler(cli, rest)


def _execute(state: SimState, argv: list[str], **fields: object) -> int:
    ctx = Ctx(state=state, args=list(argv), command="docker", **fields)  # type: ignore[arg-type]
    knobs.log_call(state, "docker", argv)
    try:
        return dispatch(DockerCli(state, ctx), argv)
    except SimExit as exc:
        return exc.code


def run(argv: list[str], *, root: str | os.PathLike[str], stdin: bytes = b"",
        env: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
    """Run one simulated ``docker`` command in-process; return (exit, stdout, stderr)."""
    out, err = io.BytesIO(), io.BytesIO()
    full_env = {**os.environ, "PRUVON_SIM_ROOT": str(root), **(env or {})}
    code = _execute(SimState(Path(root)), argv, stdout=out, stderr=err,
                    stdin=io.BytesIO(stdin), env=full_env)
    return code, out.getvalue(), err.getvalue()


def main(argv: list[str] | None = None) -> None:
    """Console script: behave as ``docker`` for the simulator's containers."""
    args = sys.argv[1:] if argv is None else argv
    state = SimState.for_console_script()
    sys.exit(_execute(state, args))


if __name__ == "__main__":
    main()
