"""``plugin:list`` / ``plugin:installed`` and the simulated host's plugin inventory.

The inventory has three parts, listed together as ``plugn list`` would:

* Dokku's core plugins (fixed for 0.38.27; ``builds`` really reports 0.34.0);
* the community service plugins the simulator implements in Python
  (``postgres``, ``redis`` installed unless the ``uninstalled`` knob names them, as on
  the reference host; ``mysql``, ``mariadb``, ``mongo`` once ``plugin:install``-ed or
  named by the ``installed`` knob);
* script plugins installed under ``<root>/plugins/enabled/<name>/`` with a
  ``plugin.toml`` (their git origin/commit/branch are read like Dokku does).
"""

from __future__ import annotations

import subprocess
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from pruvon_testing.sim.core import (
    Ctx,
    SimExit,
    SimState,
    command,
    go_json,
    pop_format_flag,
)
from pruvon_testing.sim.knobs import version_at_least
from pruvon_testing.sim.services_types import TYPES as SERVICE_TYPES

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


# Service plugins implemented by the simulator itself (``cmd_services``), with
# the version and commit of the upstream snapshot their data is taken from.
BUILTIN_COMMUNITY: dict[str, PluginInfo] = {
    **{stype.kind: PluginInfo(
        stype.kind, stype.plugin_version, f"dokku {stype.kind} service plugin", False,
        f"file:///srv/plugins/dokku-{stype.kind}", stype.plugin_commit, "master")
       for stype in sorted(SERVICE_TYPES.values(), key=lambda t: t.kind)},
    # the letsencrypt plugin's commands (cmd_letsencrypt), not a service type
    "letsencrypt": PluginInfo(
        "letsencrypt", "0.25.1", "Automated installation of let's encrypt TLS certificates",
        False, "https://github.com/dokku/dokku-letsencrypt.git",
        "1d5b6cbbd1a4b1f47df1a6c2c4bd3a0d3a6e0b42", "master"),
}
# not on a fresh host: installed by ``plugin:install`` (or the ``installed`` knob)
OFF_BY_DEFAULT = ("letsencrypt",)


def builtin_installed(state: SimState, name: str) -> bool:
    """A built-in community plugin is installed unless the ``uninstalled`` knob lists it;
    one that is not installed by default (a service type's ``default_installed``, or one of
    :data:`OFF_BY_DEFAULT`) also needs the ``installed`` knob to list it."""
    if name not in BUILTIN_COMMUNITY or name in (state.knobs().get("uninstalled") or []):
        return False
    default = SERVICE_TYPES[name].default_installed if name in SERVICE_TYPES else (
        name not in OFF_BY_DEFAULT)
    return default or name in (state.knobs().get("installed") or [])


def is_core_command(name: str) -> bool:
    """Core plugin commands get ``--app APP`` inserted as their first argument."""
    return name.split(":", 1)[0] not in BUILTIN_COMMUNITY


def plugin_enabled(state: SimState, name: str) -> bool:
    """Whether the plugin providing simulated command ``name`` is installed and enabled."""
    prefix = name.split(":", 1)[0]
    if prefix not in BUILTIN_COMMUNITY:
        return True
    return builtin_installed(state, prefix) and prefix not in (state.knobs().get("disabled") or [])


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
    from pruvon_testing.sim.dispatch import installed

    plugins = [
        PluginInfo(name, CORE_VERSION_OVERRIDES.get(name, state.version), description, True)
        for name, description in CORE_PLUGINS
    ]
    disabled = state.knobs().get("disabled") or []
    plugins += [replace(info, enabled=name not in disabled)
                for name, info in BUILTIN_COMMUNITY.items() if builtin_installed(state, name)]
    known = {p.name for p in plugins}
    plugins += [_script_plugin(d) for d in installed(state) if d.name not in known]
    plugins += [replace(_script_plugin(d), enabled=False) for d in _disabled_dirs(state)
                if d.name not in known]
    return sorted(plugins, key=lambda p: p.name.encode())


def disabled_dir(state: SimState) -> Path:
    """``plugn disable`` keeps the plugin available but not enabled: here, beside enabled/."""
    return state.plugins_dir.parent / "disabled"


def _disabled_dirs(state: SimState) -> list[Path]:
    base = disabled_dir(state)
    return sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.name.encode()) \
        if base.is_dir() else []


def _plugn_line(info: PluginInfo) -> str:
    status = "enabled" if info.enabled else "disabled"
    return f"  {info.name:<20} {info.version} {status}    {info.description}"


@command("plugin:list")
def plugin_list(ctx: Ctx) -> None:
    """Text (``plugn list``) or JSON; before 0.38.22 every argument was ignored."""
    plugins = inventory(ctx.state)
    fmt = "stdout"
    if version_at_least(ctx.state, "0.38.22"):
        fmt = pop_format_flag(ctx.args)[0]
        if fmt not in ("stdout", "json"):
            ctx.fail("Invalid output format specified, supported formats: json, stdout")
    if fmt == "json":
        ctx.out(go_json([p.as_json() for p in plugins], sort_keys=False))
        return
    for info in plugins:
        ctx.out(_plugn_line(info))


@command("plugin:installed")
def plugin_installed(ctx: Ctx) -> None:
    """Silent; exit 0 when installed, 1 otherwise (also without a name)."""
    name = ctx.args[0] if ctx.args else ""
    if not any(p.name == name for p in inventory(ctx.state)):
        raise SimExit(1)


@command("plugin", "plugin:help")
def plugin_help(ctx: Ctx) -> None:
    """Bare ``plugin`` runs ``subcommands/default``, which prints the help page."""
    from pruvon_testing.sim.cmd_help import bash_plugin_usage

    bash_plugin_usage(ctx, "plugin")


# -- plugin management (run as root on a real host; the simulator allows it) ---------
_URL_PREFIXES = ("https:", "git", "ssh:", "file:")
_TARBALL_SUFFIXES = (".tar.gz", ".tgz")


def _plugin_name(url: str) -> str:
    """Dokku's ``plugin_name``: last path part, minus ``.git`` and a ``dokku-`` prefix."""
    name = url.rstrip("/").split("/")[-1]
    name = name.removesuffix(".git")
    return name.removeprefix("dokku-")


def _safe_name(ctx: Ctx, name: str) -> str:
    if not name or "/" in name or name.startswith(".") or "\0" in name:
        ctx.fail(f"Invalid plugin name: {name}")
    return name


def _install_args(args: list[str]) -> tuple[str, dict[str, str], bool]:
    """``download_and_enable_plugin``'s getopts: ``--committish X``, ``--name N``,
    ``--skip-install-trigger`` after the URL."""
    url, rest = args[0], list(args[1:])
    options: dict[str, str] = {}
    skip = False
    while rest:
        arg = rest.pop(0)
        if arg in ("--committish", "--name"):
            options[arg[2:]] = rest.pop(0) if rest else ""
        elif arg == "--skip-install-trigger":
            skip = True
    return url, options, skip


def _fetch_plugin(ctx: Ctx, url: str, target: Path) -> None:
    """``plugn install``: a git clone, or a local ``file:`` tarball extracted."""
    import shutil
    import tarfile

    if url.endswith(_TARBALL_SUFFIXES):
        path = Path(url.removeprefix("file://"))
        if not path.is_file():
            ctx.fail(f"Unable to download plugin from {url}")
        target.mkdir(parents=True)
        with tarfile.open(path) as archive:
            archive.extractall(target, filter="data")
        entries = list(target.iterdir())
        if len(entries) == 1 and entries[0].is_dir():  # tarballs usually hold one directory
            for child in entries[0].iterdir():
                shutil.move(str(child), target / child.name)
            entries[0].rmdir()
        return
    proc = subprocess.run(["git", "clone", "--quiet", "--", url, str(target)],
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        ctx.fail(f"Unable to clone plugin repo {url}: {proc.stderr.strip()}")


def _prime_completion(ctx: Ctx) -> None:
    ctx.info1_quiet("Priming bash-completion cache")


@command("plugin:install")
def plugin_install(ctx: Ctx) -> int:
    """Install a plugin from a git URL (``file://`` works offline) or a tarball."""
    from pruvon_testing.sim.core import fire_trigger

    flag = ctx.args[0] if ctx.args else ""
    if flag and flag != "--core" and not (
        flag.startswith(_URL_PREFIXES) or flag.endswith(_TARBALL_SUFFIXES)
    ):
        ctx.warn("First argument must be --core or url to plugin")
        ctx.warn("Valid prefixes: https:, git:, ssh:, file:")
        ctx.warn("Valid suffixes: .tar.gz, .tgz")
        ctx.fail("Please retry with valid arguments")
    if flag and flag != "--core":
        code = _download_and_enable(ctx)
        if code:
            return code
    elif len(ctx.args) > 1:
        ctx.info1_quiet("Cannot install additional core plugins, running core plugin install "
                        "trigger")
    else:
        fire_trigger(ctx, "install")
    _prime_completion(ctx)
    return 0


def _download_and_enable(ctx: Ctx) -> int:
    from pruvon_testing.sim.core import fire_trigger

    url, options, skip_trigger = _install_args(ctx.args)
    name = _safe_name(ctx, options.get("name") or _plugin_name(url))
    if name in BUILTIN_COMMUNITY:  # the simulator's own postgres/redis …: just (re)enable
        if builtin_installed(ctx.state, name):
            ctx.fail("Plugin already enabled")
        uninstalled = [n for n in ctx.state.knobs().get("uninstalled") or [] if n != name]
        wanted = [n for n in ctx.state.knobs().get("installed") or [] if n != name]
        ctx.state.set_knobs(uninstalled=uninstalled, installed=[*wanted, name])
        ctx.info1_quiet(f"Plugin {name} enabled")
        return 0
    target = ctx.state.plugins_dir / name
    ctx.info1_quiet(f"Cloning plugin repo {url} to {target}")
    if target.exists() or name in dict(CORE_PLUGINS):
        ctx.fail("Plugin already enabled")
    ctx.state.plugins_dir.mkdir(parents=True, exist_ok=True)
    _fetch_plugin(ctx, url, target)
    ctx.info1_quiet(f"Plugin {name} enabled")
    if options.get("committish"):
        proc = subprocess.run(["git", "-C", str(target), "checkout", "--quiet",
                               options["committish"], "--"], capture_output=True, text=True,
                              check=False)
        if proc.returncode:
            ctx.fail(proc.stderr.strip() or f"Unable to check out {options['committish']}")
    return 0 if skip_trigger else fire_trigger(ctx, "install")


def _named(ctx: Ctx, verb: str, core_refusal: str = "") -> str:
    """The plugin argument of ``plugin:<verb>``: required, and not core when ``core_refusal``."""
    name = ctx.args[0] if ctx.args else ""
    if not name:
        ctx.fail(f"Please specify a plugin to {verb}")
    if core_refusal and name in dict(CORE_PLUGINS):
        ctx.fail(core_refusal)
    return name


@command("plugin:uninstall")
def plugin_uninstall(ctx: Ctx) -> None:
    """Remove an installed (non-core) plugin after its ``uninstall`` trigger."""
    import shutil

    from pruvon_testing.sim.core import fire_trigger

    name = _named(ctx, "uninstall", "Cannot uninstall a core plugin")
    target = ctx.state.plugins_dir / _safe_name(ctx, name)
    if builtin_installed(ctx.state, name):
        fire_trigger(ctx, "uninstall", name)
        uninstalled = ctx.state.knobs().get("uninstalled") or []
        ctx.state.set_knobs(uninstalled=[*uninstalled, name])
    elif target.is_dir() or (disabled_dir(ctx.state) / name).is_dir():
        fire_trigger(ctx, "uninstall", name)
        shutil.rmtree(target if target.is_dir() else disabled_dir(ctx.state) / name)
    else:
        ctx.fail(f"Plugin ({name}) is not currently installed")
    ctx.info1_quiet(f"Plugin {name} uninstalled")
    _prime_completion(ctx)


@command("plugin:trigger")
def plugin_trigger(ctx: Ctx) -> int:
    """``plugn trigger NAME ARGS``: fire a hook at every plugin, simulated and installed."""
    from pruvon_testing.sim.core import fire_trigger

    if not ctx.args:
        return 0
    return fire_trigger(ctx, ctx.args[0], *ctx.args[1:])


def _available(ctx: Ctx, name: str) -> bool:
    return (name in BUILTIN_COMMUNITY and builtin_installed(ctx.state, name)) or \
        (ctx.state.plugins_dir / name).is_dir() or (disabled_dir(ctx.state) / name).is_dir()


def _is_enabled(ctx: Ctx, name: str) -> bool:
    if name in BUILTIN_COMMUNITY:
        return builtin_installed(ctx.state, name) and \
            name not in (ctx.state.knobs().get("disabled") or [])
    return name in dict(CORE_PLUGINS) or (ctx.state.plugins_dir / name).is_dir()


def _toggle(ctx: Ctx, name: str, enable: bool) -> None:
    """``plugn enable|disable``: builtins through the ``disabled`` knob, scripts by moving."""
    disabled = [n for n in ctx.state.knobs().get("disabled") or [] if n != name]
    if name in BUILTIN_COMMUNITY:
        ctx.state.set_knobs(disabled=disabled if enable else [*disabled, name])
        return
    source, target = ctx.state.plugins_dir / name, disabled_dir(ctx.state) / name
    if enable:
        source, target = target, source
    target.parent.mkdir(parents=True, exist_ok=True)
    source.rename(target)


@command("plugin:enable")
def plugin_enable(ctx: Ctx) -> None:
    """Dokku's ``enable_plugin``: already enabled, then unknown, are refused in that order."""
    name = _named(ctx, "enable")
    if _is_enabled(ctx, _safe_name(ctx, name)):
        ctx.fail("Plugin already enabled")
    if not _available(ctx, name):
        ctx.fail("Plugin does not exist")
    _toggle(ctx, name, True)
    ctx.info1_quiet(f"Plugin {name} enabled")
    _prime_completion(ctx)


@command("plugin:disable")
def plugin_disable(ctx: Ctx) -> None:
    """Dokku's ``disable_plugin``: core, already disabled, unknown are refused."""
    name = _named(ctx, "disable", "Cannot disable a core plugin")
    if not _is_enabled(ctx, _safe_name(ctx, name)):
        ctx.fail("Plugin already disabled" if _available(ctx, name) else "Plugin does not exist")
    _toggle(ctx, name, False)
    ctx.info1_quiet(f"Plugin {name} disabled")
    _prime_completion(ctx)


@command("plugin:update")
def plugin_update(ctx: Ctx) -> int:
    """``plugin:update [NAME [COMMITTISH]]``: ``plugn update`` (git pull/checkout), then the
    ``update`` trigger; without a name every enabled non-core plugin."""
    from pruvon_testing.sim.core import fire_trigger
    from pruvon_testing.sim.dispatch import installed

    name = ctx.args[0] if ctx.args else ""
    committish = ctx.args[1] if len(ctx.args) > 1 else ""
    if name:
        if "/" in name or name.startswith(".") or not name.strip():
            ctx.fail("Invalid plugin name specified")
        if not _is_enabled(ctx, name):
            ctx.fail("Specified plugin not enabled or installed")
        if name in dict(CORE_PLUGINS):
            ctx.fail("Cannot trigger plugin:update against core plugin, please update Dokku "
                     "instead")
        _plugn_update(ctx, name, committish)
    else:
        for directory in installed(ctx.state):
            _plugn_update(ctx, directory.name, "")
    code = fire_trigger(ctx, "update")
    _prime_completion(ctx)
    return code


def _plugn_update(ctx: Ctx, name: str, committish: str) -> None:
    """A git plugin is pulled (or checked out at ``committish``); others are left as they are."""
    target = ctx.state.plugins_dir / name
    if not (target / ".git").exists():
        return
    steps = [["fetch", "--quiet", "origin"],
             ["checkout", "--quiet", committish, "--"] if committish else
             ["pull", "--quiet", "--ff-only"]]
    for step in steps:
        proc = subprocess.run(["git", "-c", f"safe.directory={target}", "-C", str(target), *step],
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            ctx.fail(proc.stderr.strip() or f"Unable to update plugin {name}")
