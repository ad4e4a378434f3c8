"""``pruvon backup …``: run, list, verify, restore, prune and the daily ``auto`` run.

Also reachable as ``dokku pruvon:backup-run`` (…) through the Dokku plugin
shim.  Run as root or the ``pruvon`` user, the CLI is the ``system`` actor;
every outcome is audited.  A progress bar goes to stderr on a terminal.

Exit codes: 0 ok, 1 a backup/verify/Dokku failure, 2 bad input, 3 another
backup run holds the lock.

``--host NAME`` (the root option) picks the host: ``run``, ``list``,
``verify``, ``restore``, ``download``, ``delete`` and ``prune`` act on that
host's services and backups only (a backup of another host is refused,
naming its host); ``auto`` and ``run`` without a service go through every
host unless ``--host`` names one; ``list`` and ``prune`` take ``--host all``.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pruvon_backups import config as backup_config
from pruvon_backups import engine, scan, schedule, snapshots
from pruvon_backups.errors import BackupBusy
from pruvon_core import hosts
from pruvon_core.cli import CliContext, CliError, echo_json, echo_table, format_option, pass_ctx
from pruvon_core.dokku import errors as dokku_errors
from pruvon_core.errors import InputError
from pruvon_core.output import human_bytes
from pruvon_core.plugins import get_plugin_manager

human = functools.partial(human_bytes, missing="?")  # a size not known yet

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_BUSY = 3
LIST_COLUMNS = ["id", "type", "service", "rotation", "created", "size", "status", "encrypted",
                "path"]


def _context(obj: CliContext, all_hosts_ok: bool = False) -> Any:
    """The bound hook context, after the config was checked (clean error when invalid).

    Its client is the ``--host`` host's (the root option made it the host acted
    on, as for every command); ``--host all`` only where ``all_hosts_ok``.
    Without a config file the defaults apply (``backup_dir``, ``db_types`` …), as
    for the other commands run by root on a fresh host.
    """
    if not all_hosts_ok:
        obj.single_host()
    if obj.config_file.exists():
        obj.config()
    return get_plugin_manager().pruvon


def _run_hosts(obj: CliContext) -> list[str | None] | None:
    """The hosts a scheduled run covers: the one ``--host`` names, else every host."""
    if obj.host is None or obj.all_hosts:
        return None
    return [hosts.current()]


def _cli_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Typed errors as ``Error: …`` on stderr with the exit codes above."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BackupBusy as exc:
            raise CliError(str(exc), EXIT_BUSY) from exc
        except InputError as exc:
            raise CliError(str(exc), EXIT_INPUT) from exc
        except (dokku_errors.InvalidName, dokku_errors.InvalidValue) as exc:
            raise CliError(exc.message, EXIT_INPUT) from exc
        except dokku_errors.DokkuError as exc:
            raise CliError(str(exc), EXIT_FAILED) from exc

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


class ProgressBar:
    """``label 12.0 MiB / 40.0 MiB  30%`` redrawn on stderr, only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done != total):
            return
        self._last = now
        text = f"{self.label} {human(done)}"
        if total:
            text += f" / {human(total)} {min(100, done * 100 // total):3d}%"
        click.echo(f"\r{text}\033[K", nl=False, err=True)

    def close(self) -> None:
        if self.enabled:
            click.echo("", err=True)


# --------------------------------------------------------------------------- group
@click.group("backup")
def backup_group() -> None:
    """Backups of services: run, list, verify, restore, prune, and the daily auto run."""


def _print_summary(summary: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        echo_json(summary)
    else:
        several = len(summary["hosts"]) > 1
        parts = summary["hosts"] if several else [summary]
        for part in parts:
            on = f"host {part['host']}, " if several else ""
            click.echo(f"{on}rotation {summary['rotation']}: {len(part['ok'])} backed up, "
                       f"{len(part['failed'])} failed, {len(part['pruned'])} pruned")
        for failure in summary["failed"]:
            where = f"{failure['type']} {failure['service']}" if failure["type"] else "listing"
            on = f"host {failure['host']}: " if several else ""
            click.echo(f"failed: {on}{where}: {failure['error']}", err=True)
    if summary["failed"]:
        sys.exit(EXIT_FAILED)


def _bar_for(kind: str, name: str) -> ProgressBar:
    return ProgressBar(f"{kind} {name}")


@backup_group.command("run")
@click.argument("kind", metavar="[TYPE", required=False)
@click.argument("name", metavar="NAME]", required=False)
@click.option("--rotation", default=None,
              help="manual (default for one service), daily, weekly, monthly or safety.")
@format_option
@pass_ctx
@_cli_errors
def run_command(obj: CliContext, kind: str | None, name: str | None, rotation: str | None,
                fmt: str) -> None:
    """Back up one service now, or every due service when none is named.

    Without TYPE NAME and without --rotation this is 'pruvon backup auto'; with
    --rotation every service of backup.db_types is backed up in that rotation.
    """
    pruvon = _context(obj, all_hosts_ok=not (kind or name))
    if kind and not name:
        raise CliError("give both TYPE and NAME (e.g. pruvon backup run postgres blog-db), "
                       "or neither to back up every due service", EXIT_INPUT)
    if kind and name:
        bar = ProgressBar(f"{kind} {name}")
        try:
            record = engine.run_backup(pruvon, kind, name, rotation or "manual", progress=bar)
        finally:
            bar.close()
        if fmt == "json":
            echo_json({"backup": record.as_dict(backup_config.host_name(pruvon, None))})
        else:
            on = f" on host {record.host}" if record.host else ""
            click.echo(f"backup {record.id}: {record.type} {record.service}{on} "
                       f"({human(record.raw_size)} → {human(record.size)}) {record.path or record.key}")
        return
    if rotation is None:
        summary = schedule.run_due(pruvon, progress=_bar_for, on=_run_hosts(obj))
    else:
        summary = schedule.run_many(pruvon, lambda: schedule.all_services(pruvon), rotation,
                                    "run", progress=_bar_for, on=_run_hosts(obj))
    _print_summary(summary, fmt)


@backup_group.command("auto")
@format_option
@pass_ctx
@_cli_errors
def auto_command(obj: CliContext, fmt: str) -> None:
    """The scheduled run (systemd pruvon-backup.timer): the rotation of the day, then prune.

    Monthly on backup.do_monthly, weekly on backup.do_weekly, else daily; a
    service already backed up today is skipped.  Every configured host in turn
    (--host NAME: that one only); a host that fails is reported and the others
    go on.  Exit 1 if any service or host failed, 3 if another run is in progress.
    """
    pruvon = _context(obj, all_hosts_ok=True)
    _print_summary(schedule.run_due(pruvon, progress=_bar_for, on=_run_hosts(obj)), fmt)


@backup_group.command("list")
@click.option("--type", "kind", default=None, help="Only this service type.")
@click.option("--service", default=None, help="Only this service (or app, for --type app).")
@click.option("--rescan", is_flag=True,
              help="Look for files on the local targets again (Pruvon's tree, lost rows).")
@format_option
@pass_ctx
@_cli_errors
def list_command(obj: CliContext, kind: str | None, service: str | None, rescan: bool,
                 fmt: str) -> None:
    """Every backup of the host in the catalogue, newest first (deleted ones left out).

    With --host all, every host's (each row naming its host).
    """
    pruvon = _context(obj, all_hosts_ok=True)
    scan.rescan(pruvon, force=rescan)
    host = None if obj.all_hosts else engine.acting_host()
    records = engine.catalogue(pruvon).list(type=kind, service=service, host=host)
    default = backup_config.host_name(pruvon, None)
    if fmt == "json":
        echo_json({"backups": [r.as_dict(default) for r in records]})
        return
    rows = [{**r.as_dict(default), "size": human(r.size),
             "path": r.path or f"{r.target}:{r.key}"} for r in records]
    echo_table(rows, (["host"] if obj.all_hosts else []) + LIST_COLUMNS)


@backup_group.command("verify")
@click.argument("backup_id", metavar="ID")
@click.option("--identity", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="age identity file, to decrypt an encrypted backup.")
@format_option
@pass_ctx
@_cli_errors
def verify_command(obj: CliContext, backup_id: str, identity: Path | None, fmt: str) -> None:
    """Re-read a backup: sha256, decryption, decompression, the dump's header. Exit 1 if bad."""
    pruvon = _context(obj)
    result = engine.verify(pruvon, engine.of_acting_host(pruvon, backup_id).id, identity)
    if fmt == "json":
        echo_json({"verify": result.as_dict()})
    elif result.ok:
        click.echo(f"backup {result.id} is good:")
        for check in result.checks:
            click.echo(f"  {check}")
    if not result.ok:
        if fmt != "json":
            click.echo(f"Error: backup {result.id} failed verification: {result.problem}", err=True)
        sys.exit(EXIT_FAILED)


def _confirm(kind: str, name: str, host: str) -> None:
    """Ask the operator to type the service name; refuse when stdin is not a terminal.

    ``host`` is the host's name (said when it is not the default one, ``''``).
    """
    where = f"{kind} service {name}" + (f" on host {host}" if host else "")
    if not sys.stdin.isatty():
        raise CliError(f"restoring writes over {where}: run on a terminal to "
                       "confirm, or pass --yes", EXIT_INPUT)
    typed = click.prompt(f"This replaces the data of {where}. Type its name "
                         "to confirm", default="", show_default=False, err=True)
    if typed.strip() != name:
        raise CliError("the name did not match; nothing was restored", EXIT_INPUT)


@backup_group.command("restore")
@click.argument("backup_id", metavar="ID")
@click.option("--into", default=None, help="Restore into this new service instead.")
@click.option("--identity", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="age identity file, to decrypt an encrypted backup.")
@click.option("--no-safety-backup", "no_safety", is_flag=True,
              help="Do not back up the service's current data first.")
@click.option("--yes", is_flag=True, help="Do not ask to type the service name.")
@format_option
@pass_ctx
@_cli_errors
def restore_command(obj: CliContext, backup_id: str, into: str | None, identity: Path | None,
                    no_safety: bool, yes: bool, fmt: str) -> None:
    """Verify a backup, then import it into its service (or a new one with --into)."""
    pruvon = _context(obj)
    record = engine.of_acting_host(pruvon, backup_id)
    if not yes:
        _confirm(record.type, into or record.service, record.host)
    bar = ProgressBar("restoring")
    try:
        result = engine.restore(pruvon, backup_id, into=into, identity=identity,
                                safety=not no_safety, progress=bar)
    finally:
        bar.close()
    if fmt == "json":
        echo_json({"restore": result.as_dict()})
        return
    click.echo(f"restored backup {result.id} into {result.type} {result.service} "
               f"({human(result.bytes)})")
    if result.safety_backup:
        click.echo(f"safety backup of the previous data: {result.safety_backup}")


@backup_group.command("delete")
@click.argument("backup_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@_cli_errors
def delete_command(obj: CliContext, backup_id: str, yes: bool) -> None:
    """Delete a backup's file (its catalogue row stays, marked deleted)."""
    pruvon = _context(obj)
    engine.of_acting_host(pruvon, backup_id)
    if not yes and not click.confirm(f"Delete backup {backup_id}?", err=True):
        raise CliError("nothing was deleted", EXIT_INPUT)
    record = engine.delete(pruvon, backup_id)
    click.echo(f"deleted backup {record.id} ({record.key})")


@backup_group.command("prune")
@click.option("--dry-run", is_flag=True, help="Only show what retention would delete.")
@format_option
@pass_ctx
@_cli_errors
def prune_command(obj: CliContext, dry_run: bool, fmt: str) -> None:
    """Apply retention (keep_daily_days, keep_weekly_num, keep_monthly_num per target).

    The newest good backup of each service is never deleted; manual and
    safety backups are kept until deleted by hand.  The --host host's backups
    (--host all: every host's), each host's services counted apart.
    """
    pruvon = _context(obj, all_hosts_ok=True)
    records = engine.prune(pruvon, dry_run=dry_run, every_host=obj.all_hosts)
    if fmt == "json":
        default = backup_config.host_name(pruvon, None)
        echo_json({"dry_run": dry_run, "backups": [r.as_dict(default) for r in records]})
        return
    verb = "would delete" if dry_run else "deleted"
    for record in records:
        click.echo(f"{verb} {record.id} {record.type} {record.service} {record.rotation} "
                   f"{record.created} {record.path or record.key}")
    click.echo(f"{len(records)} backup(s) {verb}")


@backup_group.command("download")
@click.argument("backup_id", metavar="ID")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write the stored bytes to ('-' for stdout).")
@pass_ctx
@_cli_errors
def download_command(obj: CliContext, backup_id: str, output: Path) -> None:
    """Copy a backup's stored bytes (compressed, encrypted as stored) to a file."""
    pruvon = _context(obj)
    chunks = engine.open_download(pruvon, engine.of_acting_host(pruvon, backup_id).id)
    if str(output) == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        return
    try:
        out = open(output, "xb")  # noqa: SIM115 - closed below, after the chunks
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}", EXIT_INPUT) from exc
    with out:
        for chunk in chunks:
            out.write(chunk)


@click.command("restore-snapshot")
@click.argument("backup_id", metavar="ID")
@click.option("--app", "app", default=None, help="Recreate under this name instead.")
@click.option("--identity", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="age identity file, when the env values are encrypted.")
@format_option
@pass_ctx
@_cli_errors
def restore_snapshot_command(obj: CliContext, backup_id: str, app: str | None,
                             identity: Path | None, fmt: str) -> None:
    """Recreate an app from a configuration snapshot (pruvon backup list --type app)."""
    pruvon = _context(obj)
    result = snapshots.restore_snapshot(pruvon, engine.of_acting_host(pruvon, backup_id).id,
                                        app=app, identity=identity)
    if fmt == "json":
        echo_json({"restore_snapshot": result})
        return
    for step in result["steps"]:
        click.echo(step)


@click.command("snapshot")
@click.argument("app")
@format_option
@pass_ctx
@_cli_errors
def snapshot_command(obj: CliContext, app: str, fmt: str) -> None:
    """Store a configuration snapshot of an app on the backup targets now."""
    pruvon = _context(obj)
    record = snapshots.capture(pruvon, app)
    if fmt == "json":
        echo_json({"backup": record.as_dict(backup_config.host_name(pruvon, None))})
    else:
        click.echo(f"snapshot {record.id} of {app}: {record.path or record.key}")


def register(cli: click.Group) -> None:
    """The ``backup`` group; ``restore-snapshot`` and ``snapshot`` join the apps group."""
    cli.add_command(backup_group)
    apps = cli.commands.get("apps")
    if isinstance(apps, click.Group):
        apps.add_command(restore_snapshot_command)
        apps.add_command(snapshot_command)
