"""The ``pruvon`` command line: a click root group that plugins extend.

Core commands live here (``--version``, ``plugins``, ``config …``); every
feature adds its own group through the ``pruvon_register_commands`` hook.
Output is a table for people and ``--format json`` for scripts; user mistakes
end with a message on stderr and a meaningful exit code, never a traceback.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from pruvon_core import __version__, hosts
from pruvon_core.config import (
    ConfigError,
    ConfigStore,
    ConfigUnreadable,
    config_path,
    dump,
    load_config,
    redact,
)
from pruvon_core.files import as_disk_full
from pruvon_core.output import echo_json, echo_table, format_option
from pruvon_core.plugins import get_plugin_manager
from pruvon_core.registry import backup_targets, service_types
from pruvon_core.shim_commands import SHIM_COMMANDS

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
ALL_HOSTS = hosts.ALL


class CliError(click.ClickException):
    """A user-facing failure: printed as ``Error: …`` on stderr, exit ``code``."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = code


@dataclass
class CliContext:
    """What every command can reach through ``click.get_current_context().obj``."""

    config_file: Path
    _store: ConfigStore | None = field(default=None, repr=False)
    host: str | None = None  # --host: a host name, "all", or None (the default host)

    @property
    def store(self) -> ConfigStore:
        if self._store is None:
            self._store = ConfigStore(self.config_file)
        return self._store

    @property
    def all_hosts(self) -> bool:
        """``--host all``: a list command fans out to every host."""
        return self.host == ALL_HOSTS

    def single_host(self) -> None:
        """Refuse ``--host all`` where a command acts on one host."""
        if self.all_hosts:
            raise CliError("--host all works with list commands only; name one host", EXIT_USAGE)

    def config(self):  # -> Config
        """The validated config, or a clean CLI error naming every problem."""
        try:
            return self.store.current()
        except ConfigError as exc:
            raise CliError(format_config_error(exc), 2 if isinstance(exc, ConfigUnreadable) else 1) from exc


pass_ctx = click.make_pass_decorator(CliContext)


def cli_state_dir() -> Path:
    """The state directory (audit log, operations), or a CLI error saying how to get one."""
    from pruvon_core.config import state_dir

    try:
        return state_dir()
    except OSError as exc:
        raise CliError(f"cannot use the state directory: {exc} (run as root or the pruvon "
                       "user, or set PRUVON_STATE_DIR)") from exc


def os_user() -> str:
    """Who ran the command, for the audit log (the sudo caller, not root)."""
    return os.environ.get("SUDO_USER") or getpass.getuser()

def format_config_error(exc: ConfigError) -> str:
    lines = [f"invalid config {exc.path}:" if exc.path else "invalid config:"]
    lines += [f"  {err}" for err in exc.errors]
    return "\n".join(lines)


class PruvonGroup(click.Group):
    """Root group: plugin groups are added lazily, once, before dispatch."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            manager = get_plugin_manager()
            manager.hook.pruvon_register_commands(cli=self, pruvon=manager.pruvon)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a full disk, from any command, is a message, not a traceback."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            full = as_disk_full(exc)
            if full is None:
                raise
            raise CliError(f"{full}; free some space and run the command again") from exc


@click.group(cls=PruvonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pruvon")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: $PRUVON_CONFIG or /etc/pruvon.yml).",
)
@click.option(
    "--host",
    "host",
    default=None,
    metavar="NAME",
    help="The Dokku host to act on (a name from `pruvon hosts list`; default: the default "
    "host). `--host all` makes list commands cover every host.",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, host: str | None) -> None:
    """Pruvon: administer a Dokku host from the CLI, Dokku itself, or the web."""
    from pruvon_core.runtime import bind, make_context

    ctx.obj = CliContext(config_path(config_file), host=host)
    manager = get_plugin_manager()
    # hooks called by core from here on get this command's config (--config)
    bind(manager, make_context(manager, ctx.obj.store))
    if host is not None and host != ALL_HOSTS:
        select_host(ctx.obj, host)


def select_host(obj: CliContext, name: str) -> None:
    """Make ``name`` the host every Dokku call of this command goes to."""
    if name.startswith("-") or not name:
        raise CliError(f"--host {name!r}: not a host name", EXIT_USAGE)
    config = obj.config() if obj.config_file.exists() else None
    try:
        hosts.set_current(hosts.select(config, name))
    except hosts.UnknownHost as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


@cli.command("plugins")
@format_option
def plugins_command(fmt: str) -> None:
    """List loaded plugins, the hooks they implement, and any load errors.

    Also the service types and backup targets the plugins declare, as the
    services and backups features will see them (checked, de-duplicated).
    """
    manager = get_plugin_manager()
    kinds = {
        "service_types": [kind.as_dict() for kind in service_types(manager.pruvon)],
        "backup_targets": [target.as_dict() for target in backup_targets(manager.pruvon)],
    }
    rows = manager.report()
    if fmt == "json":
        echo_json({"plugins": rows, **kinds})
        return
    echo_table(rows, ["name", "version", "distribution", "hooks", "error"])
    for label, entries in (("service types", kinds["service_types"]),
                           ("backup targets", kinds["backup_targets"])):
        names = ", ".join(entry["name"] for entry in entries) or "-"
        click.echo(f"{label}: {names}")


@cli.group("config")
def config_group() -> None:
    """Validate and inspect the configuration file."""


@config_group.command("validate")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@format_option
@pass_ctx
def config_validate(obj: CliContext, path: Path | None, fmt: str) -> None:
    """Check a config file. Exit 0 valid, 1 invalid (every error listed), 2 unreadable."""
    target = path or obj.config_file
    try:
        load_config(target)
    except ConfigError as exc:
        code = EXIT_USAGE if isinstance(exc, ConfigUnreadable) else EXIT_FAILURE
        if fmt == "json":
            echo_json({"path": str(target), "valid": False, "errors": exc.errors})
        else:
            click.echo(format_config_error(exc), err=True)
        sys.exit(code)
    if fmt == "json":
        echo_json({"path": str(target), "valid": True, "errors": []})
    else:
        click.echo(f"{target}: valid")


@config_group.command("show")
@format_option
@pass_ctx
def config_show(obj: CliContext, fmt: str) -> None:
    """Print the config with password hashes and secrets redacted."""
    config = obj.config()
    safe = redact(config.data)
    if fmt == "json":
        echo_json(json.loads(json.dumps(safe, default=str)))
    else:
        click.echo(dump(safe), nl=False)


# report, trigger, dokku-exec, dokku-help: what the Dokku shim calls
for _shim_command in SHIM_COMMANDS:
    cli.add_command(_shim_command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point; the Go original's flags are mapped first (``compat``)."""
    from pruvon_core.compat import CompatError, translate

    try:
        args = translate(sys.argv[1:] if argv is None else argv)
    except CompatError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    cli.main(args=args, prog_name="pruvon")


if __name__ == "__main__":  # pragma: no cover
    main()
