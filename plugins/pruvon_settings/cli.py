"""``pruvon settings …``: Dokku's host-wide settings from a shell on the host.

The CLI is the ``system`` actor; every change runs through the same specs as
the page and the API (validated first, audited with the OS user).  Exit codes:
0 ok, 1 Dokku failed, 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pruvon_core.cli import CliContext, CliError, echo_json, echo_table, format_option, pass_ctx
from pruvon_core.cli_support import CliParts, typed_errors
from pruvon_settings import operations, service


def parts(obj: CliContext) -> tuple[CliParts, operations.SettingsDeps]:
    env = CliParts.of(obj)
    return env, operations.SettingsDeps(env.client, env.state_dir, env.config)


def apply(obj: CliContext, spec: operations.OperationSpec, target: str, **params):
    env, deps = parts(obj)
    return operations.runner(env.guard, deps).apply(spec, target, params)


@click.group("settings")
def settings_group() -> None:
    """Dokku's global domains, cron mail and the SSH keys that may push."""


@settings_group.command("show")
@format_option
@pass_ctx
@typed_errors
def show_command(obj: CliContext, fmt: str) -> None:
    """Global domains, cron mail and SSH keys (with fingerprints)."""
    env, _deps = parts(obj)
    data = service.overview(env.client)
    if fmt == "json":
        echo_json(data)
        return
    click.echo(f"global domains  {' '.join(data['domains']['global']) or '-'}")
    click.echo(f"cron mailto     {data['cron']['mailto'] or '-'}")
    click.echo(f"cron mailfrom   {data['cron']['mailfrom'] or '-'}")
    click.echo("")
    echo_table(data["ssh_keys"], ["name", "fingerprint"])


@settings_group.group("ssh-keys")
def keys_group() -> None:
    """SSH keys that may push to Dokku (ssh-keys:*)."""


@keys_group.command("list")
@format_option
@pass_ctx
@typed_errors
def keys_list(obj: CliContext, fmt: str) -> None:
    env, _deps = parts(obj)
    keys = [k.as_dict() for k in env.client.ssh_keys()]
    if fmt == "json":
        echo_json({"ssh_keys": keys})
    else:
        echo_table(keys, ["name", "fingerprint"])


@keys_group.command("add")
@click.argument("name")
@click.argument("key_file", required=False, type=click.Path(dir_okay=False, path_type=Path,
                                                            allow_dash=True))
@pass_ctx
@typed_errors
def keys_add(obj: CliContext, name: str, key_file: Path | None) -> None:
    """Add the public key in KEY_FILE (or on stdin) as NAME; prints its fingerprint."""
    if key_file is None or str(key_file) == "-":
        text = sys.stdin.read(service.MAX_KEYS_BODY)
    else:
        try:
            text = key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {key_file}: {exc}", 2) from exc
    added = apply(obj, operations.SSH_KEY_ADD, "ssh-keys", name=name, key=text)
    click.echo(added["fingerprint"])


@keys_group.command("remove")
@click.argument("name")
@pass_ctx
@typed_errors
def keys_remove(obj: CliContext, name: str) -> None:
    apply(obj, operations.SSH_KEY_REMOVE, "ssh-keys", name=name)
    click.echo(f"removed {name}")


@keys_group.command("sync")
@click.argument("user", required=False)
@format_option
@pass_ctx
@typed_errors
def keys_sync(obj: CliContext, user: str | None, fmt: str) -> None:
    """Import the GitHub keys of users with github.username (all, or USER).

    Exit 1 when a user's keys could not be fetched (nothing changed for them).
    """
    result = apply(obj, operations.GITHUB_SYNC, "ssh-keys", user=user)["results"]
    if fmt == "json":
        echo_json({"results": result})
    else:
        echo_table([{**r, "added": len(r["added"]), "removed": len(r["removed"]),
                     "refused": len(r["refused"])} for r in result],
                   ["user", "github", "added", "removed", "refused", "error"])
    failed = [r for r in result if r["error"]]
    if failed:
        raise CliError("; ".join(f"{r['user']}: {r['error']}" for r in failed), 1)


@settings_group.command("domains")
@click.argument("action", type=click.Choice(["add", "remove", "set", "clear"]))
@click.argument("domains", nargs=-1)
@pass_ctx
@typed_errors
def domains_command(obj: CliContext, action: str, domains: tuple[str, ...]) -> None:
    """Change Dokku's global domains (domains:add-global …)."""
    apply(obj, operations.GLOBAL_DOMAINS, "domains", change=action, domains=list(domains))
    env, _deps = parts(obj)
    click.echo(" ".join(env.client.domains(None).global_vhosts) or "(no global domains)")


@settings_group.command("cron")
@click.option("--mailto", default=None, help="Where cron output goes ('' clears).")
@click.option("--mailfrom", default=None, help="The sender of cron mail ('' clears).")
@pass_ctx
@typed_errors
def cron_command(obj: CliContext, mailto: str | None, mailfrom: str | None) -> None:
    """Set the global cron mail settings (cron:set --global)."""
    values = {k: v for k, v in (("mailto", mailto), ("mailfrom", mailfrom)) if v is not None}
    result = apply(obj, operations.CRON_MAIL, "cron", values=values)
    for key in ("mailto", "mailfrom"):
        click.echo(f"{key}  {result.get(key) or '-'}")
