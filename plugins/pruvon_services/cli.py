"""``pruvon services …``: every Dokku datastore from a shell on the Dokku host.

Arguments come in Dokku's order (``pruvon services link TYPE NAME APP`` is
``dokku <type>:link NAME APP``).  Run as root or the ``pruvon`` user, the CLI
is the ``system`` actor; every change runs through the same operation specs
as the web UI (validation before Dokku, per-service lock, audit with the
operating-system user).  ``--format json`` for scripts.

Exit codes: 0 ok, 1 Dokku failed, 2 bad input, 3 the service is busy with
another operation, 4 timed out, 20 the service does not exist (as Dokku).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import click

from pruvon_core.cli import CliContext, CliError, echo_json, echo_table, format_option, pass_ctx
from pruvon_core.cli_run import (
    CliEnv,
    ask_every_host,
    echo_lines,
    fail_if_hosts_failed,
    host_rows,
    run_spec,
    typed_errors,
)
from pruvon_core.dokku import errors, validate
from pruvon_core.guard import Guard
from pruvon_core.operations import Operation
from pruvon_core.opspecs import OperationSpec
from pruvon_core.permissions import SYSTEM
from pruvon_services import operations as ops
from pruvon_services.kinds import CREATE_FLAGS, UPGRADE_FLAGS, ServiceKind, available_kinds
from pruvon_services.service import (
    ServicesError,
    check_name,
    export_stream,
    list_services,
    require_kind,
    require_unlinked,
    service_detail,
)

service_errors = typed_errors((errors.ServiceNotFound, errors.AppNotFound))
LIST_COLUMNS = ["type", "name", "status", "version", "exposed_ports", "links"]


# --------------------------------------------------------------------------- plumbing
class Env(CliEnv):
    """What every command needs: config, client, state dir, guard, runner."""

    def __init__(self, obj: CliContext, all_hosts_ok: bool = False) -> None:
        super().__init__(obj, all_hosts_ok)
        self.guard = Guard(SYSTEM, self.config, self.state_dir,
                           extra={"os_user": self.os_user, "via": "cli"}).for_kind("service")
        self.deps = ops.ServicesDeps(self.client, self.state_dir,
                                     obj.store if self.config is not None else None,
                                     _context())
        self.runner = ops.runner(self.guard, self.deps)

    def kind(self, name: str) -> ServiceKind:
        return require_kind(self.deps.available(), name)


def _context() -> Any:
    """The plugin context (plugin-declared kinds, before-destroy safeguards)."""
    from pruvon_core.plugins import get_plugin_manager

    return get_plugin_manager().pruvon


JSON_META = "pruvon_services.json"


def run(env: Env, spec: OperationSpec, kind: str, name: str, **params: Any) -> Operation:
    """Run ``spec`` on ``TYPE/NAME`` through the one runner, printing its output live
    (on stderr under ``--format json``, whose record goes to stdout)."""
    as_json = click.get_current_context().meta.get(JSON_META, False)
    return run_spec(env.runner, spec, ops.target(kind, name), params, err=as_json)


def reports_operation(fn: Any) -> Any:
    """``--format json``: the command's finished operation record on stdout."""

    @format_option
    @functools.wraps(fn)
    def command(*args: Any, fmt: str, **kwargs: Any) -> Any:
        click.get_current_context().meta[JSON_META] = fmt == "json"
        op = fn(*args, **kwargs)
        if fmt == "json" and op is not None:
            echo_json(op.as_dict())
        return op

    return command


def _flag_values(options: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, str]:
    """Click's ``image_version`` keyword → ``--image-version``, only flags given."""
    values = {}
    for flag in allowed:
        value = options.get(flag[2:].replace("-", "_"))
        if value not in (None, ""):
            values[flag] = value
    return values


def _flag_options(flags: tuple[str, ...]) -> Any:
    """Click options for the plugin flags ``flags`` (``--image`` …), as Dokku spells them."""

    def decorate(fn: Any) -> Any:
        for flag in reversed(flags):
            fn = click.option(flag, default=None, help=f"Dokku's {flag}.")(fn)
        return fn

    return decorate


def type_and_name(fn: Any) -> Any:
    """``<type> <name>``, Dokku's ``<type>:<command> NAME`` as two arguments.

    The command function gets the type as ``kind`` (``type`` is Python's).
    """

    def renamed(*args: Any, **kwargs: Any) -> Any:
        kwargs["kind"] = kwargs.pop("type")
        return fn(*args, **kwargs)

    functools.update_wrapper(renamed, fn)
    return click.argument("type")(click.argument("name")(renamed))


@click.group("services")
def services_group() -> None:
    """Dokku services (postgres, redis, mysql …): list, create, link, export, import."""


# --------------------------------------------------------------------------- reads
@services_group.command("types")
@format_option
@pass_ctx
@service_errors
def types_command(obj: CliContext, fmt: str) -> None:
    """The service types installed on this host and what Pruvon can do with them."""
    kinds = Env(obj).deps.available()
    if fmt == "json":
        echo_json({"types": [k.as_dict() for k in kinds]})
        return
    echo_table([{"type": k.name, "title": k.title, "console": "yes" if k.console else "no",
                 "export": f".{k.export_ext}" if k.exportable else "no"} for k in kinds],
               ["type", "title", "console", "export"])


@services_group.command("list")
@click.option("--type", "kind", default=None, metavar="TYPE", help="Only services of this type.")
@format_option
@pass_ctx
@service_errors
def list_command(obj: CliContext, kind: str | None, fmt: str) -> None:
    """Every service with its status, version, exposed ports and linked apps.

    With `--host all` every host is asked at once (each row carries its
    host); a host that fails or does not answer within its timeout is named
    on stderr with its last good rows, and the exit is 5.
    """
    if obj.all_hosts:
        list_all_hosts(Env(obj, all_hosts_ok=True), kind, fmt)
        return
    env = Env(obj)
    kinds = [env.kind(kind)] if kind else env.deps.available()
    rows = [r.as_dict() for r in list_services(env.client, kinds)]
    if fmt == "json":
        echo_json({"services": rows})
        return
    echo_table([{**r, "links": " ".join(r["links"])} for r in rows], LIST_COLUMNS)


def list_all_hosts(env: Env, kind: str | None, fmt: str) -> None:
    """``services list --host all``: every host in parallel, a timeout per host.

    Per host: its installed kinds (``plugin:list``, cached), one ``<type>:list``
    per kind and the two bulk reads of :func:`list_services`, whatever the
    number of services.  ``--type`` names a kind: a host without its plugin
    has no rows, and a type no answering host has is refused (exit 2).
    """
    wanted = check_type(kind) if kind else None

    def fetch(client: Any) -> dict[str, Any]:
        kinds = available_kinds(client, _context())
        chosen = [k for k in kinds if wanted in (None, k.name)]
        return {"services": [r.as_dict() for r in list_services(client, chosen)],
                "types": [k.name for k in kinds]}

    answers = ask_every_host(env, fetch, key=f"services.list:{wanted or ''}")
    if wanted and not any(a.ok and wanted in a.data["types"] for a in answers):
        raise ServicesError(f"unknown service type {wanted!r}: no host has the {wanted} plugin")
    rows = host_rows(answers, "services")
    if fmt == "json":
        echo_json({"services": rows, "hosts": [a.as_dict() for a in answers]})
    else:
        echo_table([{**r, "links": " ".join(r["links"])} for r in rows], ["host", *LIST_COLUMNS])
    fail_if_hosts_failed(answers)


def check_type(kind: str) -> str:
    """A service type name by Dokku's rule, or a ServicesError (exit 2)."""
    try:
        return validate.service_type(kind)
    except validate.InvalidName as exc:
        raise ServicesError(str(exc)) from exc


@services_group.command("info")
@type_and_name
@click.option("--reveal", is_flag=True, help="Show the DSN with its password (audited).")
@format_option
@pass_ctx
@service_errors
def info_command(obj: CliContext, kind: str, name: str, reveal: bool, fmt: str) -> None:
    """One service: Dokku's <type>:info (the DSN's password masked unless --reveal)."""
    env = Env(obj)
    detail = service_detail(env.client, env.kind(kind), check_name(name))
    if reveal:
        env.guard.record(ops.REVEAL_ACTION, ops.target(kind, name), "ok", reveal="dsn")
    data = detail.as_dict(reveal=reveal)
    if fmt == "json":
        echo_json(data)
        return
    pairs = [(k.replace("_", " "), v) for k, v in data["info"].items()]
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        click.echo(f"{key.ljust(width)}  {value or '-'}")


@services_group.command("logs")
@type_and_name
@click.option("-n", "--num", "lines", type=int, default=None, help="Only the last N lines.")
@click.option("-t", "--tail", is_flag=True, help="Keep following.")
@pass_ctx
@service_errors
def logs_command(obj: CliContext, kind: str, name: str, lines: int | None, tail: bool) -> None:
    """The service container's logs (<type>:logs)."""
    env = Env(obj)
    stream = env.client.service_logs(env.kind(kind).name, check_name(name), tail, lines)
    echo_lines(stream)


# --------------------------------------------------------------------------- create, destroy
@services_group.command("create")
@type_and_name
@_flag_options(CREATE_FLAGS)
@click.option("--link", "links", multiple=True, help="Link to this app after creating "
              "(repeatable).")
@reports_operation
@pass_ctx
@service_errors
def create_command(obj: CliContext, kind: str, name: str, links: tuple[str, ...],
                   **options: Any) -> Operation:
    """Create a service (<type>:create NAME [flags]), then link the apps given."""
    env = Env(obj)
    op = run(env, ops.CREATE, kind, name, flags=_flag_values(options, CREATE_FLAGS),
             link=list(links))
    click.echo(f"created {kind} service {name}", err=True)
    return op


def _confirm(kind: str, name: str) -> str:
    """Dokku's own prompt: type the name to destroy."""
    click.echo(f" !     WARNING: Potentially Destructive Action\n"
               f" !     This command will destroy {name} {kind} service.\n"
               f" !     To proceed, type \"{name}\"", err=True)
    return click.prompt("", prompt_suffix="> ", default="", show_default=False, err=True)


@services_group.command("destroy")
@type_and_name
@click.option("--force", is_flag=True, help="Do not ask for the service name.")
@reports_operation
@pass_ctx
@service_errors
def destroy_command(obj: CliContext, kind: str, name: str, force: bool) -> Operation:
    """Destroy a service (refused while apps are linked to it)."""
    env = Env(obj)
    service_kind, name = env.kind(kind), check_name(name)
    require_unlinked(env.client, service_kind, name)  # before the prompt; missing: exit 20
    confirm = name if force else _confirm(kind, name)
    if confirm != name:
        raise CliError(f"confirmation did not match {name}; nothing destroyed", 2)
    op = run(env, ops.DESTROY, kind, name, confirm=confirm)
    for note in op.result.get("safeguards", []):
        click.echo(note, err=True)
    click.echo(f"destroyed {kind} service {name}", err=True)
    return op


@services_group.command("clone")
@type_and_name
@click.argument("new_name")
@_flag_options(CREATE_FLAGS)
@reports_operation
@pass_ctx
@service_errors
def clone_command(obj: CliContext, kind: str, name: str, new_name: str,
                  **options: Any) -> Operation:
    """Create NEW_NAME with a copy of NAME's data (<type>:clone)."""
    return run(Env(obj), ops.CLONE, kind, name, new_name=new_name,
        flags=_flag_values(options, CREATE_FLAGS))


@services_group.command("upgrade")
@type_and_name
@_flag_options(UPGRADE_FLAGS)
@reports_operation
@pass_ctx
@service_errors
def upgrade_command(obj: CliContext, kind: str, name: str, **options: Any) -> Operation:
    """Recreate the service container on another image or version (<type>:upgrade)."""
    return run(Env(obj), ops.UPGRADE, kind, name, flags=_flag_values(options, UPGRADE_FLAGS))


# --------------------------------------------------------------------------- links, lifecycle
@services_group.command("link")
@type_and_name
@click.argument("app")
@click.option("--alias", default=None, help="Set ALIAS_URL instead of the default.")
@click.option("--querystring", default=None, help="Append ?key=value&… to the URL.")
@reports_operation
@pass_ctx
@service_errors
def link_command(obj: CliContext, kind: str, name: str, app: str, alias: str | None,
                 querystring: str | None) -> Operation:
    """Link the service to APP (sets its URL variable and restarts the app)."""
    return run(Env(obj), ops.LINK, kind, name, app=app, alias=alias, querystring=querystring)


@services_group.command("unlink")
@type_and_name
@click.argument("app")
@reports_operation
@pass_ctx
@service_errors
def unlink_command(obj: CliContext, kind: str, name: str, app: str) -> Operation:
    """Unlink the service from APP (unsets its URL variable and restarts the app)."""
    return run(Env(obj), ops.UNLINK, kind, name, app=app)


def _lifecycle(spec: OperationSpec, verb: str) -> None:
    @type_and_name
    @reports_operation
    @pass_ctx
    @service_errors
    def command(obj: CliContext, kind: str, name: str) -> Operation:
        return run(Env(obj), spec, kind, name)

    command.__doc__ = f"{verb.capitalize()} the service container (<type>:{verb})."
    services_group.command(verb)(command)


for _spec, _verb in ((ops.START, "start"), (ops.STOP, "stop"), (ops.RESTART, "restart"),
                     (ops.UNEXPOSE, "unexpose")):
    _lifecycle(_spec, _verb)


@services_group.command("expose")
@type_and_name
@click.argument("ports", nargs=-1)
@reports_operation
@pass_ctx
@service_errors
def expose_command(obj: CliContext, kind: str, name: str, ports: tuple[str, ...]) -> Operation:
    """Publish the service's ports on the host ([IP:]PORT each; none: random ports)."""
    return run(Env(obj), ops.EXPOSE, kind, name, ports=list(ports))


# --------------------------------------------------------------------------- data
def _write_atomically(stream: Any, path: Path) -> int:
    """Chunks into a temp file beside ``path``, renamed over it only when complete."""
    target = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in stream.chunks():
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written


@services_group.command("export")
@type_and_name
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically); default: standard output.")
@pass_ctx
@service_errors
def export_command(obj: CliContext, kind: str, name: str, output: Path | None) -> None:
    """Stream the service's export (<type>:export) to a file or standard output."""
    env = Env(obj)
    service_kind, name = env.kind(kind), check_name(name)
    if output is None and sys.stdout.isatty():
        raise CliError(f"the export is binary: give -o FILE.{service_kind.export_ext} or "
                       "redirect standard output", 2)
    target = ops.target(service_kind.name, name)
    with env.guard.mutation("services.export", target, output=str(output or "-")), \
            export_stream(env.client, service_kind, name) as stream:
        if output is not None:
            written = _write_atomically(stream, output)
            click.echo(f"exported {target}: {written} bytes to {output}", err=True)
            return
        out = sys.stdout.buffer
        for chunk in stream.chunks():
            out.write(chunk)
        out.flush()


def _source(file: str) -> tuple[IO[bytes], int | None]:
    if file == "-":
        if sys.stdin.isatty():
            raise CliError("give FILE or pipe the dump into standard input", 2)
        return sys.stdin.buffer, None
    path = Path(file)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror}", 2) from exc
    return handle, path.stat().st_size


def _follow_progress(env: Env, op: Operation) -> Operation:
    """A progress bar on a terminal (stderr) while the import runs; the final record."""
    store = env.runner.manager.store
    show = sys.stderr.isatty()
    while True:
        record = store.get(op.id)
        if show:
            detail = record.steps[0].detail if record.steps else ""
            filled = int(record.percent / 5)
            click.echo(f"\r[{'#' * filled}{'.' * (20 - filled)}] {record.percent:5.1f}% "
                       f"{detail}", nl=False, err=True)
        if not record.active:
            if show:
                click.echo("", err=True)
            return env.runner.wait(op)
        time.sleep(0.3)


@services_group.command("import")
@type_and_name
@click.argument("file")
@reports_operation
@pass_ctx
@service_errors
def import_command(obj: CliContext, kind: str, name: str, file: str) -> Operation:
    """Feed a dump to <type>:import (FILE, or '-' for standard input).

    A file that does not start like this type's export is refused before
    Dokku sees it.
    """
    env = Env(obj)
    source, size = _source(file)
    try:
        op = env.runner.start(ops.IMPORT, ops.target(kind, name),
                              {"source": source, "size": size, "filename": file})
        final = _follow_progress(env, op)
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    if final.status != "succeeded":
        raise CliError(f"{final.title} {final.status}: {final.error}", 1)
    click.echo(f"imported {final.result.get('bytes')} bytes into {kind}/{name}", err=True)
    return final


@services_group.command("console")
@type_and_name
@pass_ctx
@service_errors
def console_command(obj: CliContext, kind: str, name: str) -> None:
    """Open the service's own console (<type>:connect: psql, redis-cli …) here."""
    env = Env(obj)
    service_kind, name = env.kind(kind), check_name(name)
    if not service_kind.console:
        raise ServicesError(f"the {service_kind.name} plugin has no console (<type>:connect)")
    target = ops.target(service_kind.name, name)
    args = env.client.connect_args(service_kind.name, name)
    transport = env.client.transport
    env.guard.record("services.console", target, "ok", phase="started")
    code = subprocess.call(transport.command(args, tty=sys.stdin.isatty()),
                           env=transport.environment())
    env.guard.record("services.console", target, "ok" if code == 0 else "failed", exit=code)
    if code:
        raise CliError(f"{service_kind.name}:connect {name} exited {code}", 1)


def register(cli: click.Group) -> None:
    cli.add_command(services_group)


__all__ = ["register", "services_group"]
