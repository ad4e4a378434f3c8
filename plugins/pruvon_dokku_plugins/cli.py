"""``pruvon dokku-plugins …``: Dokku's plugins from the host (``pruvon plugins`` lists Pruvon's).

Changes run as background operations with Dokku's output printed live;
exit 0 ok, 1 Dokku failed, 2 bad input, 3 another plugin change is running.
"""

from __future__ import annotations

import click

from pruvon_core.cli import CliContext, CliError, echo_json, echo_table, format_option, pass_ctx
from pruvon_core.cli_run import (
    CliEnv,
    ask_every_host,
    fail_if_hosts_failed,
    host_rows,
    run_spec,
    typed_errors,
)
from pruvon_dokku_plugins import operations, service


def run(obj: CliContext, spec: operations.OperationSpec, **params) -> None:
    env = CliEnv(obj)
    run_spec(operations.runner(env.system_guard(), operations.PluginsDeps(env.client, env.state_dir)),
             spec, operations.TARGET, params)


@click.group("dokku-plugins")
def plugins_group() -> None:
    """Dokku's plugins: list, install, update, enable, disable, uninstall."""


@plugins_group.command("list")
@format_option
@pass_ctx
@typed_errors(())
def list_command(obj: CliContext, fmt: str) -> None:
    """Installed plugins with version and state (with --host all: every host's)."""
    if obj.all_hosts:
        list_all_hosts(CliEnv(obj, all_hosts_ok=True), fmt)
        return
    data = service.plugins_view(CliEnv(obj).client)
    if fmt == "json":
        echo_json(data)
        return
    echo_table(_shown(data["plugins"]), LIST_COLUMNS)


LIST_COLUMNS = ["name", "version", "enabled", "core", "description"]


def _shown(rows: list[dict]) -> list[dict]:
    return [{**p, "enabled": "yes" if p["enabled"] else "no", "core": "yes" if p["core"] else ""}
            for p in rows]


def list_all_hosts(env: CliEnv, fmt: str) -> None:
    """``dokku-plugins list --host all``: one ``plugin:list`` per host, all at once.

    What an operator of several hosts asks: which host runs which version of
    a plugin.  Rows carry their ``host``; a host that does not answer is named
    on stderr with the age of its rows shown instead, and the exit is 5.
    """
    answers = ask_every_host(env, service.plugins_view, key="dokku-plugins.list")
    rows = host_rows(answers, "plugins")
    if fmt == "json":
        echo_json({"plugins": rows, "hosts": [a.as_dict() for a in answers]})
    else:
        echo_table(_shown(rows), ["host", *LIST_COLUMNS])
    fail_if_hosts_failed(answers)


@plugins_group.command("install")
@click.argument("url")
@click.option("--name", default=None, help="Install under this name.")
@pass_ctx
@typed_errors(())
def install_command(obj: CliContext, url: str, name: str | None) -> None:
    """Install from URL (https://, git://, ssh://, user@host:path) or an official name."""
    run(obj, operations.INSTALL, url=url, name=name)


def _action(action: str) -> click.Command:
    """``update NAME [COMMITTISH]``, ``enable|disable|uninstall NAME``."""
    def command(obj: CliContext, name: str, committish: str | None = None) -> None:
        run(obj, operations.ACTION, action=action, name=name, committish=committish)

    command.__doc__ = f"{action.capitalize()} the plugin NAME (plugin:{action})."
    wrapped = pass_ctx(typed_errors(())(command))
    if action == "update":  # click lists arguments in the reverse order they are added
        wrapped = click.argument("committish", required=False)(wrapped)
    return click.command(action)(click.argument("name")(wrapped))


for _name in service.ACTIONS:
    plugins_group.add_command(_action(_name))


@plugins_group.command("letsencrypt")
@click.option("--email", default=None, help="Set the global e-mail ('' clears).")
@click.option("--autorenew/--no-autorenew", default=None, help="Add or remove the cron job.")
@format_option
@pass_ctx
@typed_errors(())
def letsencrypt_command(obj: CliContext, email: str | None, autorenew: bool | None,
                        fmt: str) -> None:
    """Let's Encrypt's global settings and every certificate's expiry; change with options."""
    env = CliEnv(obj)
    values = {k: v for k, v in (("email", email), ("autorenew", autorenew)) if v is not None}
    if values:
        deps = operations.PluginsDeps(env.client, env.state_dir)
        operations.runner(env.system_guard(), deps).apply(operations.LETSENCRYPT, "letsencrypt",
                                                 {"values": values})
    view = service.letsencrypt_view(env.client)
    if view is None:
        raise CliError("the letsencrypt plugin is not installed "
                       "(pruvon dokku-plugins install letsencrypt)", 1)
    if fmt == "json":
        echo_json({"letsencrypt": view})
        return
    click.echo(f"email      {view['email'] or '-'}")
    click.echo(f"autorenew  {'on' if view['autorenew'] else 'off'}")
    click.echo("")
    echo_table(view["certificates"], ["app", "expires", "time_left", "renew_in"])
