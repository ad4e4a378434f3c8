"""``plugin:list`` / ``plugin:installed`` and the simulated host's plugin inventory.

The inventory has three parts, listed together as ``plugn list`` would:

* Dokku's core plugins (fixed for 0.38.27; ``builds`` really reports 0.34.0);
* the community service plugins the simulator implements in Python
  (``postgres``, ``redis``), installed unless the ``uninstalled`` knob names them;
* script plugins installed under ``<root>/plugins/enabled/<name>/`` with a
  ``plugin.toml`` (their git origin/commit/branch are read like Dokku does).
"""

from __future__ import annotations

import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pruvon_core.testing.sim.core import Ctx, SimExit, SimState, command, go_json
from pruvon_core.testing.sim.knobs import version_at_least

CORE_PLUGINS: tuple[tuple[str, str], ...] = (
    ("00_dokku-standard", "dokku core standard plugin"),
    ("20_events", "dokku core events logging plugin"),
    *((name, f"dokku core {name} plugin") for name in (
        "app-json", "apps", "builder", "builder-dockerfile", "builder-herokuish",
        "builder-lambda", "builder-nixpacks", "builder-null", "builder-pack",
        "builder-railpack", "buildpacks", "builds", "caddy-vhosts")),
    ("certs", "dokku core certificate management plugin"),
    *((name, f"dokku core {name} plugin") for name in (
        "checks", "common", "config", "cron", "docker-options", "domains", "enter", "git",
        "haproxy-vhosts", "logs", "network", "nginx-vhosts", "openresty-vhosts", "plugin",
        "ports", "proxy", "ps", "registry", "repo", "resource", "run", "scheduler",
        "scheduler-docker-local", "scheduler-k3s", "scheduler-null", "shell", "ssh-keys",
        "storage", "trace", "traefik-vhosts")),
)
CORE_VERSION_OVERRIDES = {"builds": "0.34.0"}  # as installed on the reference host


@dataclass(frozen=True)
class PluginInfo:
    """One ``plugn list`` entry plus Dokku's git enrichment."""

    name: str
    version: str
    description: str
    core: bool
    source_url: str = ""
    committish: str = ""
    branch: str = ""
    enabled: bool = True

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "enabled": self.enabled,
                "core": self.core, "description": self.description,
                "source_url": self.source_url, "committish": self.committish,
                "branch": self.branch}


# Service plugins implemented by the simulator itself (cmd_postgres / cmd_redis).
BUILTIN_COMMUNITY: dict[str, PluginInfo] = {
    "postgres": PluginInfo(
        "postgres", "1.48.0", "dokku postgres service plugin", False,
        "file:///srv/plugins/dokku-postgres", "f694199be12924bcfa7d16d8c7200028b60104cf",
        "master"),
    "redis": PluginInfo(
        "redis", "1.43.0", "dokku redis service plugin", False,
        "file:///srv/plugins/dokku-redis", "f639c61f1c2ddf19e7f336838597593354fc1689",
        "master"),
}


def builtin_installed(state: SimState, name: str) -> bool:
    """A built-in community plugin is installed unless the ``uninstalled`` knob lists it."""
    return name in BUILTIN_COMMUNITY and name not in (state.knobs().get("uninstalled") or [])


def is_core_command(name: str) -> bool:
    """Core plugin commands get ``--app APP`` inserted as their first argument."""
    return name.split(":", 1)[0] not in BUILTIN_COMMUNITY


def plugin_enabled(state: SimState, name: str) -> bool:
    """Whether the plugin providing simulated command ``name`` is installed."""
    prefix = name.split(":", 1)[0]
    return prefix not in BUILTIN_COMMUNITY or builtin_installed(state, prefix)


def _git(directory: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", f"safe.directory={directory}", *args],
        cwd=directory, capture_output=True, text=True, check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _script_plugin(directory: Path) -> PluginInfo:
    try:
        meta = tomllib.loads((directory / "plugin.toml").read_text()).get("plugin", {})
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        meta = {}
    info = PluginInfo(directory.name, str(meta.get("version", "")),
                      " ".join(str(meta.get("description", "")).split()), False)
    if not (directory / ".git").exists():
        return info
    branch = _git(directory, "rev-parse", "--abbrev-ref", "HEAD")
    return PluginInfo(info.name, info.version, info.description, False,
                      _git(directory, "remote", "get-url", "origin"),
                      _git(directory, "rev-parse", "HEAD"),
                      "" if branch == "HEAD" else branch)


def inventory(state: SimState) -> list[PluginInfo]:
    """Every installed plugin, sorted by name like ``plugn list``."""
    from pruvon_core.testing.sim.dispatch import installed

    plugins = [
        PluginInfo(name, CORE_VERSION_OVERRIDES.get(name, state.version), description, True)
        for name, description in CORE_PLUGINS
    ]
    plugins += [info for name, info in BUILTIN_COMMUNITY.items() if builtin_installed(state, name)]
    known = {p.name for p in plugins}
    plugins += [_script_plugin(d) for d in installed(state) if d.name not in known]
    return sorted(plugins, key=lambda p: p.name.encode())


def _plugn_line(info: PluginInfo) -> str:
    status = "enabled" if info.enabled else "disabled"
    return f"  {info.name:<20} {info.version} {status}    {info.description}"


@command("plugin:list")
def plugin_list(ctx: Ctx) -> None:
    """Text (``plugn list``) or JSON; before 0.38.22 every argument was ignored."""
    plugins = inventory(ctx.state)
    fmt = "stdout"
    if version_at_least(ctx.state, "0.38.22"):
        fmt = _format_arg(ctx.args)
        if fmt not in ("stdout", "json"):
            ctx.fail("Invalid output format specified, supported formats: json, stdout")
    if fmt == "json":
        ctx.out(go_json([p.as_json() for p in plugins], sort_keys=False))
        return
    for info in plugins:
        ctx.out(_plugn_line(info))


def _format_arg(args: list[str]) -> str:
    fmt, queue = "stdout", list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "--format":
            fmt = queue.pop(0) if queue else ""
        elif arg.startswith("--format="):
            fmt = arg.split("=", 1)[1]
    return fmt


@command("plugin:installed")
def plugin_installed(ctx: Ctx) -> None:
    """Silent; exit 0 when installed, 1 otherwise (also without a name)."""
    name = ctx.args[0] if ctx.args else ""
    if not any(p.name == name for p in inventory(ctx.state)):
        raise SimExit(1)


@command("plugin", "plugin:help")
def plugin_help(ctx: Ctx) -> None:
    """Bare ``plugin`` runs ``subcommands/default``, which prints the help page."""
    from pruvon_core.testing.sim.cmd_help import bash_plugin_usage

    bash_plugin_usage(ctx, "plugin")
