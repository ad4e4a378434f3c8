"""CLI commands behind the Dokku plugin shim (``dokku-plugin/``).

``report`` is a normal command (``pruvon report`` / ``dokku pruvon:report``).
The hidden ones exist only for the shim and are not part of the public CLI:

* ``trigger NAME [-- ARGS...]`` forwards a Dokku trigger to the
  ``pruvon_dokku_trigger`` hook.  It exits 0 unless a plugin deliberately
  vetoes a ``pre-*`` trigger by returning False (exit :data:`EXIT_VETO`), so a
  broken plugin can never break a Dokku operation.
* ``dokku-exec NAME [-- ARGS...]`` runs ``dokku pruvon:NAME ARGS`` as the
  pruvon command NAME names.  The mapping is resolved against the live click
  tree, so groups added by any plugin (third-party included) are reachable
  without changing the shim; see :func:`resolve_dokku_name` for the rule.
* ``dokku-help`` prints ``dokku pruvon:help`` in Dokku's ``<plugin>:help`` format.

The shim passes user arguments after ``--`` and as separate argv entries, so
they reach the command unchanged and are never parsed as the shim's options.
"""

from __future__ import annotations

import difflib
import getpass
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import click

from pruvon_core import __version__
from pruvon_core.config import ConfigError, ConfigUnreadable, config_path, load_config
from pruvon_core.output import format_option
from pruvon_core.plugins import get_plugin_manager

EXIT_VETO = 3
"""``pruvon trigger`` exit status for a deliberate veto (the shim aborts Dokku)."""

EXIT_UNKNOWN_COMMAND = 1
"""Exit status of an unknown ``pruvon:NAME``, as Dokku's own unknown-command error."""

SERVICE_NAME = "pruvon"
TRIGGER_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DOKKU_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:-]*$")
SHIM_INTERNAL = frozenset({"trigger", "dokku-exec", "dokku-help"})
_RAW_ARGS = {"ignore_unknown_options": True, "help_option_names": []}


# --------------------------------------------------------------------------- report
def service_state(name: str = SERVICE_NAME) -> str:
    """``systemctl is-active NAME`` (active, inactive, failed, …) or ``unknown``.

    ``unknown`` covers hosts without systemd and a systemctl that cannot answer,
    because the report must work everywhere, including containers and the simulator.
    """
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return "unknown"
    try:
        proc = subprocess.run(
            [systemctl, "is-active", name],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return proc.stdout.strip() or "unknown"


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def config_report(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Path, readability, validity and every error of the config file."""
    target = config_path(path)
    report: dict[str, Any] = {
        "path": str(target),
        "readable": True,
        "valid": True,
        "errors": [],
        "listen": None,
    }
    try:
        config = load_config(target)
    except ConfigUnreadable as exc:
        report.update(readable=False, valid=False, errors=list(exc.errors))
    except ConfigError as exc:
        report.update(valid=False, errors=list(exc.errors))
    else:
        report["listen"] = config.listen
    return report


def build_report(config_file: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Everything ``pruvon report`` shows, as one JSON-ready dict."""
    config = config_report(config_file)
    plugins = [
        {
            "name": row["name"],
            "version": row.get("version"),
            "error": row.get("error"),
            "hook_errors": row.get("hook_errors", []),
        }
        for row in get_plugin_manager().report()
    ]
    return {
        "version": __version__,
        "executable": sys.argv[0],
        "user": _current_user(),
        "listen": config.pop("listen"),
        "service": service_state(),
        "config": config,
        "plugins": plugins,
    }


def dokku_report_lines(title: str, rows: list[tuple[str, str]]) -> list[str]:
    """Dokku's ``*:report`` layout: ``=====> title`` then aligned ``Label: value`` rows."""
    width = max((len(label) for label, _ in rows), default=0) + 1
    lines = [f"=====> {title}"]
    lines += [f"       {(label + ':').ljust(width)} {value}" for label, value in rows]
    return lines


def _report_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    config = data["config"]
    loaded = [p["name"] for p in data["plugins"] if not p["error"]]
    rows = [
        ("Pruvon version", data["version"]),
        ("Pruvon executable", data["executable"]),
        ("Running as", data["user"]),
        ("Listen", data["listen"] or ""),
        ("Service state", data["service"]),
        ("Config path", config["path"]),
        ("Config readable", str(config["readable"]).lower()),
        ("Config valid", str(config["valid"]).lower()),
    ]
    rows += [("Config error", err) for err in config["errors"]]
    rows.append(("Plugins loaded", " ".join(loaded)))
    for plugin in data["plugins"]:
        if plugin["error"]:
            rows.append((f"Plugin error {plugin['name']}", plugin["error"]))
        for hook_error in plugin["hook_errors"]:
            rows.append((f"Plugin error {plugin['name']}", f"{hook_error['hook']}: {hook_error['error']}"))
    return rows


def _root_config_file(ctx: click.Context) -> Any:
    """The root group's ``--config`` value, if the root group has one."""
    return ctx.find_root().params.get("config_file")


@click.command("report")
@format_option
@click.pass_context
def report_command(ctx: click.Context, fmt: str) -> None:
    """Show Pruvon's version, listen address, service, config and plugin state."""
    data = build_report(_root_config_file(ctx))
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    click.echo("\n".join(dokku_report_lines("pruvon information", _report_rows(data))))
    if not data["config"]["readable"] and os.geteuid() != 0:
        click.echo(
            f" !     {data['user']} cannot read {data['config']['path']}: commands that need "
            "the config must run as root (sudo pruvon …) or the file must be group-readable.",
            err=True,
        )


# --------------------------------------------------------------------------- trigger
@click.command("trigger", hidden=True, context_settings=_RAW_ARGS)
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def trigger_command(name: str, args: tuple[str, ...]) -> None:
    """Forward Dokku trigger NAME with ARGS to the pruvon_dokku_trigger hook (shim only)."""
    if not TRIGGER_NAME_RE.match(name):
        raise click.UsageError(f"invalid trigger name {name!r}: expected e.g. post-create")
    manager = get_plugin_manager()
    errors_before = len(manager.hook_errors)
    results = manager.hook.pruvon_dokku_trigger(name=name, args=list(args), pruvon=manager.pruvon)
    for plugin, _hook, error in list(manager.hook_errors)[errors_before:]:
        click.echo(f" !     pruvon: plugin {plugin} failed on trigger {name}: {error}", err=True)
    if any(result is False for result in results):
        if name.startswith("pre-"):
            # only the app name: other trigger arguments may carry config values
            target = f" for {args[0]}" if args else ""
            click.echo(f" !     pruvon: a plugin vetoed Dokku trigger {name}{target}", err=True)
            sys.exit(EXIT_VETO)
        click.echo(f" !     pruvon: ignoring a veto of {name}: only pre-* triggers can be vetoed", err=True)


# --------------------------------------------------------------------------- name mapping
def _child(group: click.Group, ctx: click.Context, name: str) -> click.Command | None:
    """A visible subcommand of ``group`` (hidden ones are not reachable from Dokku)."""
    command = group.get_command(ctx, name)
    if command is None or command.hidden:
        return None
    return command


def _sub_context(command: click.Command, name: str, parent: click.Context) -> click.Context:
    return click.Context(command, info_name=name, parent=parent)


def _resolve_dashed(group: click.Group, ctx: click.Context, name: str) -> list[str] | None:
    """Split ``name`` at dashes into a path of commands under ``group``.

    An exact command name wins; otherwise the longest prefix naming a group is
    tried first, so ``backup-list`` is ``backup list`` and a group called
    ``my-tools`` still resolves ``my-tools-run`` to ``my-tools run``.
    """
    if _child(group, ctx, name) is not None:
        return [name]
    cuts = [i for i, ch in enumerate(name) if ch == "-"]
    for cut in reversed(cuts):
        prefix, rest = name[:cut], name[cut + 1 :]
        sub = _child(group, ctx, prefix)
        if isinstance(sub, click.Group) and rest:
            tail = _resolve_dashed(sub, _sub_context(sub, prefix, ctx), rest)
            if tail is not None:
                return [prefix, *tail]
    return None


def _resolve_colons(group: click.Group, ctx: click.Context, parts: list[str]) -> list[str] | None:
    current: click.Command = group
    for part in parts:
        if not isinstance(current, click.Group):
            return None
        sub = _child(current, ctx, part)
        if sub is None:
            return None
        ctx = _sub_context(sub, part, ctx)
        current = sub
    return parts


def resolve_dokku_name(root: click.Group, ctx: click.Context, name: str) -> list[str] | None:
    """The pruvon argv words for ``dokku pruvon:NAME``, or None when unknown.

    Rule: ``NAME`` is a command (``report``) or dash-joined path
    (``user-add`` → ``user add``; exact names win, then the longest group
    prefix), or an explicit colon path (``user:add``) for names that are
    ambiguous with dashes.  Hidden commands are never reachable.
    """
    if not DOKKU_NAME_RE.match(name) or name in SHIM_INTERNAL:
        return None
    if ":" in name:
        parts = name.split(":")
        return _resolve_colons(root, ctx, parts) if all(parts) else None
    return _resolve_dashed(root, ctx, name)


def _walk(
    group: click.Group, ctx: click.Context, path: list[str]
) -> Iterator[tuple[list[str], click.Command]]:
    """Every visible leaf command under ``group`` with its path, sorted by name."""
    for name in sorted(group.list_commands(ctx)):
        command = _child(group, ctx, name)
        if command is None or name in SHIM_INTERNAL:
            continue
        if isinstance(command, click.Group):
            yield from _walk(command, _sub_context(command, name, ctx), [*path, name])
        else:
            yield [*path, name], command


def dokku_name(root: click.Group, ctx: click.Context, path: list[str]) -> str:
    """The ``pruvon:…`` spelling for ``path``: dashed when it maps back, else colons."""
    dashed = "-".join(path)
    if resolve_dokku_name(root, ctx, dashed) == path:
        return dashed
    return ":".join(path)


def _unknown_command(root: click.Group, ctx: click.Context, name: str) -> None:
    click.echo(f" !     `pruvon:{name}` is not a pruvon command.", err=True)
    known = [dokku_name(root, ctx, path) for path, _ in _walk(root, ctx, [])]
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        click.echo(f" !     Did you mean `pruvon:{close[0]}`?", err=True)
    click.echo(" !     See `dokku pruvon:help` for a list of available commands.", err=True)
    sys.exit(EXIT_UNKNOWN_COMMAND)


@click.command("dokku-exec", hidden=True, context_settings=_RAW_ARGS)
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def dokku_exec_command(ctx: click.Context, name: str, args: tuple[str, ...]) -> None:
    """Run 'dokku pruvon:NAME ARGS' as the pruvon command NAME maps to (shim only)."""
    root_ctx = ctx.find_root()
    root = root_ctx.command
    if not isinstance(root, click.Group):
        raise click.UsageError("dokku-exec must be registered on the pruvon root group")
    words = resolve_dokku_name(root, root_ctx, name)
    if words is None:
        _unknown_command(root, root_ctx, name)
        return
    prefix: list[str] = []
    config_file = _root_config_file(ctx)
    if config_file:
        prefix = ["--config", str(config_file)]
    try:
        root.main(args=[*prefix, *words, *args], prog_name=root_ctx.info_name or "pruvon")
    except PermissionError as exc:
        _needs_privilege(exc, words)


def _needs_privilege(exc: PermissionError, words: list[str]) -> None:
    """Explain a permission failure: Dokku runs plugin commands as its own user."""
    where = f": {exc.filename}" if exc.filename else ""
    click.echo(f" !     {exc.strerror or 'Permission denied'}{where} (running as {_current_user()})", err=True)
    click.echo(
        " !     Dokku runs plugin commands as the dokku user; run this one on the host "
        f"as root: sudo pruvon {shlex.join(words)} …",
        err=True,
    )
    sys.exit(1)


# --------------------------------------------------------------------------- help
def _option_usage(option: click.Option) -> str:
    flag = max(option.opts, key=len)
    if option.is_flag:
        piece = flag
    elif isinstance(option.type, click.Choice):
        piece = f"{flag} {'|'.join(str(c) for c in option.type.choices)}"
    else:
        piece = f"{flag} <{(option.name or 'value').replace('_', '-')}>"
    return piece if option.required else f"[{piece}]"


def _argument_usage(argument: click.Argument) -> str:
    piece = f"<{(argument.name or 'arg').replace('_', '-')}>"
    if argument.nargs == -1:
        piece += "..."
    return piece if argument.required else f"[{piece}]"


USAGE_WIDTH = 60
"""Longer usages list their arguments and ``[flags]``, as Dokku's ``storage:create``."""


def command_usage(command: click.Command, width: int = USAGE_WIDTH) -> str:
    """Dokku-style usage: ``<arg> [<optional>] [--flag] [--format a|b]``.

    When every option does not fit in ``width`` characters the options become
    ``[flags]`` so one long command does not push every description off screen;
    ``dokku pruvon:<command> --help`` shows them all.
    """
    arguments = [_argument_usage(p) for p in command.params if isinstance(p, click.Argument)]
    options = [
        _option_usage(p)
        for p in command.params
        if isinstance(p, click.Option) and not p.hidden
    ]
    usage = " ".join([*arguments, *options])
    if len(usage) > width and options:
        usage = " ".join([*arguments, "[flags]"])
    return usage


def columnize(rows: list[tuple[str, str]], prefix: str = "    ") -> list[str]:
    """Two columns separated by two spaces, as Dokku's ``*:help`` output."""
    width = max((len(left) for left, _ in rows), default=0)
    return [f"{prefix}{left.ljust(width)}  {right}".rstrip() for left, right in rows]


def dokku_help_rows(root: click.Group, ctx: click.Context) -> list[tuple[str, str]]:
    """One (usage, description) row per reachable command, plus the shim's own."""
    rows = [
        ("pruvon <args>...", "Run `pruvon <args>` unchanged (e.g. dokku pruvon --version)"),
        ("pruvon:help", "List every Pruvon command including those added by plugins"),
    ]
    for path, command in _walk(root, ctx, []):
        usage = f"pruvon:{dokku_name(root, ctx, path)} {command_usage(command)}".rstrip()
        rows.append((usage, command.get_short_help_str(limit=90)))
    return sorted(rows)


@click.command("dokku-help", hidden=True)
@click.pass_context
def dokku_help_command(ctx: click.Context) -> None:
    """Print 'dokku pruvon:help' in Dokku's help format (shim only)."""
    root_ctx = ctx.find_root()
    root = root_ctx.command
    if not isinstance(root, click.Group):
        raise click.UsageError("dokku-help must be registered on the pruvon root group")
    lines = [
        "Usage: dokku pruvon[:COMMAND]",
        "",
        "Administer this Dokku host with Pruvon (web UI and CLI)",
        "",
        "Additional commands:",
        *columnize(dokku_help_rows(root, root_ctx)),
    ]
    click.echo("\n".join(lines))


SHIM_COMMANDS: tuple[click.Command, ...] = (
    report_command,
    trigger_command,
    dokku_exec_command,
    dokku_help_command,
)
"""Every command the shim needs on the root group (``cli.add_command`` each)."""

__all__ = [
    "EXIT_VETO",
    "SHIM_COMMANDS",
    "build_report",
    "dokku_exec_command",
    "dokku_help_command",
    "report_command",
    "resolve_dokku_name",
    "trigger_command",
]
