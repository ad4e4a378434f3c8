"""``pruvon hosts list|add|remove|check``: the Dokku hosts this Pruvon manages.

``add`` connects once and records the host's ssh key (its fingerprint is
printed: compare it with ``ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub``
on the host); a changed key is refused from then on.  Exit codes: 0 ok,
1 a host failed (``check``: any host unreachable), 2 bad input.
"""

from __future__ import annotations

import click

from pruvon_core.cli import CliContext, CliError, echo_json, echo_table, format_option, pass_ctx
from pruvon_core.config import ConfigError, state_dir
from pruvon_core.dokku import errors
from pruvon_core.hosts import hosts_from_config
from pruvon_hosts import service


def _state() -> object:
    try:
        return state_dir()
    except OSError as exc:
        raise CliError(f"cannot use the state directory: {exc} (run as root or the pruvon "
                       "user, or set PRUVON_STATE_DIR)") from exc


def _config(obj: CliContext):  # -> Config | None
    return obj.config() if obj.config_file.exists() else None


@click.group("hosts")
def hosts_group() -> None:
    """Dokku hosts reached over ssh: list, add, remove, check."""


@hosts_group.command("list")
@format_option
@pass_ctx
def list_command(obj: CliContext, fmt: str) -> None:
    """Every host: its name, ssh address, and which is the default one."""
    found = [h.as_dict() for h in hosts_from_config(_config(obj)).values()]
    if fmt == "json":
        echo_json({"hosts": found})
        return
    echo_table([{**h, "default": "yes" if h["default"] else ""} for h in found],
               ["name", "address", "default"])


@hosts_group.command("add")
@click.argument("name")
@click.argument("target", metavar="dokku@HOST")
@click.option("--port", type=int, default=None, help="ssh port (default 22).")
@click.option("--key", default=None, help="Private key file (absolute path).")
@format_option
@pass_ctx
def add_command(obj: CliContext, name: str, target: str, port: int | None, key: str | None,
                fmt: str) -> None:
    """Connect to dokku@HOST once, record its host key, and add it as NAME."""
    try:
        added = service.add(obj.store, _state(), name, target, port, key)
    except (service.HostsError, ConfigError) as exc:
        raise CliError(str(exc), 2) from exc
    except errors.DokkuError as exc:
        raise CliError(f"{target}: {exc}", 1) from exc
    if fmt == "json":
        echo_json(added.as_dict())
        return
    click.echo(f"added host {name} ({added.host.address}), Dokku {added.version}")
    for line in added.fingerprints:
        click.echo(f"host key recorded: {line}")


@hosts_group.command("remove")
@click.argument("name")
@format_option
@pass_ctx
def remove_command(obj: CliContext, name: str, fmt: str) -> None:
    """Remove host NAME and forget its recorded key."""
    try:
        host = service.remove(obj.store, _state(), name)
    except (service.HostsError, ConfigError) as exc:
        raise CliError(str(exc), 2) from exc
    if fmt == "json":
        echo_json({"removed": host.name})
    else:
        click.echo(f"removed host {host.name}")


@hosts_group.command("check")
@click.argument("names", nargs=-1)
@format_option
@pass_ctx
def check_command(obj: CliContext, names: tuple[str, ...], fmt: str) -> None:
    """Reach every host (or NAMES) at once: Dokku version, latency, recorded key."""
    config = _config(obj)
    known = list(hosts_from_config(config))
    for name in names:
        if name not in known:
            raise CliError(f"no host named {name!r} (known: {', '.join(known)})", 2)
    rows = service.check(config, _state(), list(names) or known)
    if fmt == "json":
        echo_json({"hosts": rows})
    else:
        echo_table([{**r, "ok": "yes" if r["ok"] else "NO", "version": r["version"] or "",
                     "error": r["error"] or "", "fingerprints": " ".join(r["fingerprints"])}
                    for r in rows], ["name", "address", "ok", "version", "error"])
    if not all(r["ok"] for r in rows):
        raise CliError("some hosts could not be reached", 1)


def register(cli: click.Group) -> None:
    cli.add_command(hosts_group)


__all__ = ["hosts_group", "register"]
