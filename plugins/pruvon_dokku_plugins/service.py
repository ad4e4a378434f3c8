"""Dokku plugins: the installed list, the curated official ones, and running a plugin command.

Install, update, enable, disable and uninstall are long (a clone, a docker
pull, the plugin's install trigger): they run as background operations whose
output lines are the command's own, live (:func:`run_plugin_command`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pruvon_core.dokku import DokkuClient
from pruvon_core.dokku.hostcmds import email, plugin_name
from pruvon_core.errors import InputError
from pruvon_core.operations import Context

# The official plugins of github.com/dokku an operator installs most (name → repository).
CURATED: dict[str, str] = {name: f"https://github.com/dokku/dokku-{name}.git" for name in (
    "postgres", "mysql", "mariadb", "mongo", "redis", "letsencrypt", "redirect", "maintenance",
    "http-auth", "memcached", "rabbitmq", "elasticsearch", "clickhouse", "nats", "couchdb",
    "rethinkdb", "solr", "meilisearch", "typesense", "omnisci", "graphite", "pushpin")}
ACTIONS = ("update", "enable", "disable", "uninstall")


class PluginsError(InputError):
    """Bad input to a plugin change (400 in the web, exit 2 in the CLI)."""


def plugins_view(client: DokkuClient) -> dict[str, Any]:
    """Installed plugins (one ``plugin:list``) and the curated ones not installed yet."""
    installed = client.plugins()
    names = {p.name for p in installed}
    return {
        "plugins": [{"name": p.name, "version": p.version, "enabled": p.enabled,
                     "core": bool(p.core), "description": p.description,
                     "source_url": p.source_url} for p in installed],
        "curated": [{"name": n, "url": u} for n, u in CURATED.items() if n not in names],
    }


def install_args(client: DokkuClient, url: object, name: object = None) -> list[str]:
    """``plugin:install`` argv: a curated name, or a URL with an optional name; checked."""
    if not isinstance(url, str) or not url.strip():
        raise PluginsError("give a plugin URL (https://…, git://…, ssh://, user@host:path) or "
                           "one of the official plugins: " + ", ".join(CURATED))
    url = url.strip()
    if url in CURATED:
        url, name = CURATED[url], name or url
    return client.plugin_install_args(url, str(name).strip() if name else None)


def action_args(client: DokkuClient, action: object, name: object,
                committish: object = None) -> list[str]:
    """``plugin:update NAME [REF]`` or ``plugin:enable|disable|uninstall NAME``; checked."""
    if action not in ACTIONS:
        raise PluginsError(f"action must be one of {', '.join(ACTIONS)}")
    if action == "update":
        return client.plugin_update_args(str(name), str(committish) if committish else None)
    if committish:
        raise PluginsError("only update takes a committish")
    return client.plugin_args(str(action), str(name))


def check_not_core(client: DokkuClient, name: str) -> None:
    """Core plugins are part of Dokku: refused before Dokku is asked to change one."""
    plugin_name(name)
    for plugin in client.plugins():
        if plugin.name == name and plugin.core:
            raise PluginsError(f"{name} is a core Dokku plugin: update Dokku instead")


def run_plugin_command(client: DokkuClient, args: list[str], ctx: Context | None) -> list[str]:
    """Run the checked argv with its output fed to the operation line by line (cancellable)."""
    stream = client.plugin_stream(args)
    lines: list[str] = []
    if ctx is None:
        return list(stream)
    ctx.step("run")
    with ctx.watch(stream.cancel):
        for line in stream:
            lines.append(line)
            ctx.line(line)
    ctx.check_cancel()
    ctx.done(lines[-1] if lines else "")
    return lines


# --------------------------------------------------------------------------- letsencrypt
def letsencrypt_view(client: DokkuClient) -> dict[str, Any] | None:
    """Global Let's Encrypt settings and every certificate's expiry; None when not installed.

    Three reads (``letsencrypt:report --global``, ``:cron-job``, ``:list``) whatever the
    number of apps, plus the cached ``plugin:list``.
    """
    if not client.plugin_installed("letsencrypt"):
        return None
    with ThreadPoolExecutor(max_workers=3) as pool:  # independent reads, side by side
        settings = pool.submit(client.letsencrypt_global)
        cron = pool.submit(client.letsencrypt_cron)
        certificates = pool.submit(client.letsencrypt_list)
        return {**settings.result(), "autorenew": cron.result(),
                "certificates": [c.as_dict() for c in certificates.result()]}


def check_letsencrypt(values: object) -> dict[str, Any]:
    """``{"email": str, "autorenew": bool}`` (either or both), checked."""
    if not isinstance(values, dict) or not values:
        raise PluginsError("give email and/or autorenew")
    unknown = sorted(set(values) - {"email", "autorenew"})
    if unknown:
        raise PluginsError(f"unknown Let's Encrypt setting {unknown[0]!r}")
    checked: dict[str, Any] = {}
    if "email" in values:
        checked["email"] = email(str(values["email"]).strip())
    if "autorenew" in values:
        if not isinstance(values["autorenew"], bool):
            raise PluginsError("autorenew must be true or false")
        checked["autorenew"] = values["autorenew"]
    return checked


def set_letsencrypt(client: DokkuClient, values: dict[str, Any]) -> dict[str, Any]:
    """Write what changes: the global email, the auto-renew cron job."""
    if not client.plugin_installed("letsencrypt"):
        raise PluginsError("the letsencrypt plugin is not installed")
    if "email" in values and client.letsencrypt_global()["email"] != values["email"]:
        client.letsencrypt_set_global("email", values["email"])
    if "autorenew" in values and client.letsencrypt_cron() != values["autorenew"]:
        client.letsencrypt_cron_set(values["autorenew"])
    return {"email": client.letsencrypt_global()["email"], "autorenew": client.letsencrypt_cron()}
