"""Simulated ``proxy:*``, ``nginx:*`` and ``docker-options:*`` commands (certs: ``cmd_certs``).

Also registers the nginx-vhosts plugin's trigger handlers (``post-create``,
``post-domains-update``, ``post-proxy-ports-update``, ``proxy-build-config``, clone/rename/
delete), so that ``apps:create``, deploys and the domains/ports commands rebuild the
simulated ``nginx.conf`` with Dokku's exact output.
"""

from __future__ import annotations

import shlex

from pruvon_testing.sim import routing
from pruvon_testing.sim.core import Ctx, Flag, command, fire_trigger, on_trigger, parse_flags
from pruvon_testing.sim.routing import GLOBAL

# -- nginx-vhosts triggers ---------------------------------------------------------------------

on_trigger("post-create", "nginx-vhosts")(routing.nginx_post_create)
on_trigger("post-app-clone-setup", "nginx-vhosts")(routing.nginx_clone_setup)


def _nginx_rebuild(ctx: Ctx, app: str, *_args: str) -> int:
    """Domains/ports changes and deploys (``Triggering early nginx proxy rebuild``, post-deploy)
    rebuild the app's ``nginx.conf``."""
    return routing.nginx_build_config(ctx, app)


for _trigger in ("post-domains-update", "post-proxy-ports-update", "proxy-build-config"):
    on_trigger(_trigger, "nginx-vhosts")(_nginx_rebuild)
on_trigger("post-app-rename-setup", "nginx-vhosts")(routing.nginx_rename_setup)


# proxy's clone setup runs after domains' (plugin order), so the copied port wins, as in Dokku
routing.register_property_plugin("proxy")
routing.register_property_plugin("docker-options")


@on_trigger("post-delete", "nginx-vhosts")
def _nginx_delete(ctx: Ctx, app: str, *_args: str) -> int:
    (ctx.state.app_dir(app) / routing.NGINX_CONF).unlink(missing_ok=True)
    return routing.destroy_props(ctx, "nginx", app)


# -- proxy ---------------------------------------------------------------------------------------

PROXY_PROPERTIES = ("disabled", "proxy-port", "proxy-ssl-port", "type")
PROXY_GLOBAL_PROPERTIES = ("proxy-port", "proxy-ssl-port", "type")


def _proxy_collect(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state

    def prop(key: str) -> str:
        return state.prop_get("proxy", app, key)

    def glob(key: str) -> str:
        return state.prop_get("proxy", GLOBAL, key)

    flags = {
        "--proxy-computed-proxy-port": (prop("proxy-port") if app != GLOBAL else "")
        or glob("proxy-port"),
        "--proxy-computed-proxy-ssl-port": (prop("proxy-ssl-port") if app != GLOBAL else "")
        or glob("proxy-ssl-port"),
        "--proxy-computed-type": routing.proxy_type(state, app),
        "--proxy-global-proxy-port": glob("proxy-port"),
        "--proxy-global-proxy-ssl-port": glob("proxy-ssl-port"),
        "--proxy-global-type": glob("type"),
    }
    if app != GLOBAL:
        flags.update(
            {
                "--proxy-computed-disabled": prop("disabled") or "false",
                "--proxy-disabled": prop("disabled"),
                "--proxy-enabled": "true" if routing.proxy_enabled(state, app) else "false",
                "--proxy-proxy-port": prop("proxy-port"),
                "--proxy-proxy-ssl-port": prop("proxy-ssl-port"),
                "--proxy-type": prop("type"),
            }
        )
    return flags


@command("proxy:report")
def proxy_report(ctx: Ctx) -> int:
    return routing.report_command(ctx, "proxy", lambda app: _proxy_collect(ctx, app))


def _property_set(
    ctx: Ctx, plugin: str, app: str, prop: str, value: str, valid: tuple, valid_global: tuple
) -> None:
    """Dokku's ``common.CommandPropertySet`` (``=====> Setting x to y`` / ``Unsetting x``)."""
    if app != GLOBAL:
        ctx.verify_app(app)
    elif prop not in valid_global:
        ctx.fail("Property cannot be specified globally")
    if not prop:
        ctx.fail("No property specified")
    if prop not in set(valid) | set(valid_global):
        names = ", ".join(sorted(set(valid) | set(valid_global)))
        ctx.fail(f"Invalid property specified, valid properties include: {names}")
    with routing.locked(ctx.state):
        ctx.write_property(plugin, app, prop, value)


@command("proxy:set")
def proxy_set(ctx: Ctx) -> int:
    """``proxy:set <app> <type>`` (legacy form) or ``proxy:set <app> <property> [<value>]``."""
    args = list(ctx.args)  # `--global` is the app position
    app, prop, value = ([*args, "", "", ""])[:3]
    if prop not in PROXY_PROPERTIES and not value:
        if ":" in prop:
            ctx.warn("Detected potential port mapping instead of proxy type")
            ctx.fail("Consider using ports:set command or specifying a valid proxy")
        prop, value = "type", prop
    _property_set(ctx, "proxy", app, prop, value, PROXY_PROPERTIES, PROXY_GLOBAL_PROPERTIES)
    return 0


ALL_FLAGS = [
    Flag("all", "bool", "false", "run against all apps"),
    Flag("parallel", "string", "", "number of apps to run in parallel, -1 to match cpu count"),
]


def _targets(ctx: Ctx, flagset: str) -> list[str]:
    """``<app>`` or ``--all`` (Go pflag ``--all``/``--parallel`` flags)."""
    values, rest = parse_flags(ctx, flagset, ctx.args, ALL_FLAGS)
    if values["all"]:
        return ctx.state.apps()
    return [ctx.verify_app(rest[0] if rest else "")]


def _proxy_toggle(ctx: Ctx, enable: bool) -> int:
    """``proxy:enable``/``proxy:disable``: flip the property, fire the trigger, rebuild nginx.

    Dokku's nginx plugin also restarts a deployed app here; the simulator only rebuilds the
    proxy configuration (the containers keep running).
    """
    targets = _targets(ctx, f"proxy:{'enable' if enable else 'disable'}")
    for app in targets:
        if routing.proxy_enabled(ctx.state, app) == enable:
            # sic: Dokku says "disable", not "disabled"
            ctx.info1(f"Proxy is already {'enabled' if enable else 'disable'} for app")
            continue
        ctx.info1(f"{'Enabling' if enable else 'Disabling'} proxy for app")
        if enable:
            ctx.state.prop_delete("proxy", app, "disabled")
        else:
            ctx.state.prop_set("proxy", app, "disabled", "true")
        trigger = "proxy-enable" if enable else "proxy-disable"
        status = fire_trigger(ctx, trigger, app) or routing.nginx_build_config(ctx, app)
        if status:
            return status
    return 0


@command("proxy:enable")
def proxy_enable(ctx: Ctx) -> int:
    return _proxy_toggle(ctx, True)


@command("proxy:disable")
def proxy_disable(ctx: Ctx) -> int:
    return _proxy_toggle(ctx, False)


@command("proxy:build-config")
def proxy_build_config(ctx: Ctx) -> int:
    targets = _targets(ctx, "proxy:build-config")
    for app in targets:
        status = routing.nginx_build_config(ctx, app)
        if status:
            return status
    return 0


# -- nginx ---------------------------------------------------------------------------------------

# property -> computed default (``{app}`` is replaced); None = no computed/global variant
NGINX_DEFAULTS: dict[str, str | None] = {
    "access-log-format": "",
    "access-log-path": "/var/log/nginx/{app}-access.log",
    "bind-address-ipv4": "",
    "bind-address-ipv6": "::",
    "client-body-timeout": "60s",
    "client-header-timeout": "60s",
    "client-max-body-size": "1m",
    "disable-custom-config": "false",
    "error-log-path": "/var/log/nginx/{app}-error.log",
    "hsts": "true",
    "hsts-include-subdomains": "true",
    "hsts-max-age": "15724800",
    "hsts-preload": "false",
    "keepalive-timeout": "75s",
    "last-visited-at": None,
    "lingering-timeout": "5s",
    "nginx-conf-sigil-path": "nginx.conf.sigil",
    "nginx-service-command": "",
    "proxy-buffer-size": "4k",
    "proxy-buffering": "on",
    "proxy-buffers": "8 4k",
    "proxy-busy-buffers-size": "8k",
    "proxy-connect-timeout": "60s",
    "proxy-keepalive": "",
    "proxy-read-timeout": "60s",
    "proxy-send-timeout": "60s",
    "send-timeout": "60s",
    "underscore-in-headers": "off",
    "x-forwarded-for-value": "$remote_addr",
    "x-forwarded-port-value": "$server_port",
    "x-forwarded-proto-value": "$scheme",
    "x-forwarded-ssl": "",
}
# The reference host's installer set this global property (Dokku's nginx-service helper).
NGINX_INSTALL_GLOBALS = {"nginx-service-command": "/usr/local/bin/nginx-service"}


def _nginx_global(ctx: Ctx, key: str) -> str:
    path = ctx.state.prop_dir("nginx", GLOBAL) / key
    if path.exists():
        return path.read_text()
    return NGINX_INSTALL_GLOBALS.get(key, "")


def _nginx_collect(ctx: Ctx, app: str) -> dict[str, str]:
    """App, computed and global value of every property; ``--global`` keeps the global ones."""
    flags: dict[str, str] = {}
    for key, default in NGINX_DEFAULTS.items():
        if default is None:
            if app != GLOBAL:
                flags[f"--nginx-{key}"] = ctx.state.prop_get("nginx", app, key)
            continue
        own = ctx.state.prop_get("nginx", app, key) if app != GLOBAL else ""
        glob = _nginx_global(ctx, key)
        flags[f"--nginx-global-{key}"] = glob
        if app != GLOBAL:
            flags[f"--nginx-computed-{key}"] = own or glob or default.format(app=app)
            flags[f"--nginx-{key}"] = own
    return flags


@command("nginx:report")
def nginx_report(ctx: Ctx) -> int:
    """Unprefixed JSON keys only (like domains/certs)."""
    return routing.report_command(
        ctx, "nginx", lambda app: _nginx_collect(ctx, app), legacy_prefix=False
    )


# nginx:set's VALID_KEYS, in the order its error message lists them
NGINX_SET_KEYS = [
    "access-log-format",
    "access-log-path",
    "bind-address-ipv4",
    "bind-address-ipv6",
    "client-body-timeout",
    "client-header-timeout",
    "client-max-body-size",
    "disable-custom-config",
    "error-log-path",
    "hsts",
    "hsts-include-subdomains",
    "hsts-preload",
    "hsts-max-age",
    "keepalive-timeout",
    "lingering-timeout",
    "nginx-conf-sigil-path",
    "nginx-service-command",
    "proxy-buffer-size",
    "proxy-buffering",
    "proxy-buffers",
    "proxy-busy-buffers-size",
    "proxy-connect-timeout",
    "proxy-read-timeout",
    "proxy-send-timeout",
    "proxy-keepalive",
    "send-timeout",
    "underscore-in-headers",
    "x-forwarded-for-value",
    "x-forwarded-port-value",
    "x-forwarded-proto-value",
    "x-forwarded-ssl",
]


@command("nginx:set")
def nginx_set(ctx: Ctx) -> int:
    """``nginx:set <app>|--global <key> [<value>]`` (a shell subcommand, no flag parsing).

    Quirk kept: every valid key may be set globally, and Dokku only verifies the app for
    keys that may not, so the app argument is never checked.
    """
    app, key, value = ([*ctx.args, "", "", ""])[:3]
    if not key:
        ctx.fail("No key specified")
    if key not in NGINX_SET_KEYS:
        ctx.fail(f"Invalid key specified, valid keys include: {', '.join(NGINX_SET_KEYS)}")
    if "/" in app or app.startswith(".") or not app:
        ctx.fail(f"App {app} does not exist", 20)  # never a path outside the property store
    if key == "proxy-keepalive" and value and not value.isdigit():
        ctx.fail("Invalid value for proxy-keepalive: must be an integer")
    with routing.locked(ctx.state):
        ctx.write_property("nginx", app, key, value)
    return 0


# -- docker-options ------------------------------------------------------------------------------

PHASES = ("build", "deploy", "run")


def _options(ctx: Ctx, app: str, key: str) -> list[str]:
    """Options of a phase (``deploy``) or of a process type's deploy phase (``deploy.web``)."""
    return routing.read_list(ctx.state, "docker-options", app, key)


def _process_keys(ctx: Ctx, app: str) -> list[str]:
    directory = ctx.state.prop_dir("docker-options", app)
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("deploy."))


# Dokku's needsShellQuoting: a token with one of these is stored single-quoted
SHELL_SPECIAL = frozenset(" \t\n\"'$`\\*?[]<>|&;(){}!#~")


def _quote_token(token: str) -> str:
    """Dokku's ``quoteShellArg``: what its scheduler's ``eval`` reads back as ``token``."""
    if token and not SHELL_SPECIAL.intersection(token):
        return token
    return "'" + token.replace("'", "'\\''") + "'"


def split_options(text: str) -> list[str]:
    """Group a docker option string into options (``-v a:b --restart=always`` -> 2 items).

    Like Dokku's ``SplitOptionString``: shell words (quotes honoured, nothing
    expanded), grouped on flag boundaries, each re-quoted where the scheduler's
    ``eval`` would otherwise re-split or expand it.
    """
    options: list[str] = []
    for token in shlex.split(text):
        if (len(token) > 1 and token.startswith("-")) or not options:
            options.append(_quote_token(token))
        else:
            options[-1] += f" {_quote_token(token)}"
    return options


def _leading_processes(ctx: Ctx, name: str, args: list[str]) -> tuple[list[str], list[str]]:
    """``--process`` flags before the first positional (pflag ``SetInterspersed(false)``),
    so that ``-v /a:/b`` after the app and phase stays part of the option."""
    processes: list[str] = []
    while args and args[0].startswith("-"):
        arg = args.pop(0)
        if arg == "--":
            break
        if arg.startswith("--process="):
            processes += [p for p in arg.split("=", 1)[1].split(",") if p]
        elif arg == "--process" and args:
            processes += [p for p in args.pop(0).split(",") if p]
        else:
            parse_flags(ctx, name, [arg], [Flag("process", "string", "", "process types")])
    return processes, args


def _docker_options_args(
    ctx: Ctx, name: str, need_option: bool
) -> tuple[str, list[str], list[str], str]:
    processes, args = _leading_processes(ctx, name, list(ctx.args))
    app = ctx.verify_app(args[0] if args else "")
    phases = args[1].split(",") if len(args) > 1 and args[1] else []
    if any(phase not in PHASES for phase in phases):
        ctx.fail(f"Phase(s) must be one of [{' '.join(PHASES)}]")
    if processes and phases != ["deploy"]:
        ctx.fail("--process is only supported for the deploy phase")
    if "_default_" in processes:
        ctx.fail('"_default_" is reserved and cannot be used as a --process value')
    option = " ".join(args[2:])
    if need_option and not split_options(option):
        verb = "add to" if name.endswith("add") else "remove from"
        ctx.fail(f"Please specify docker options to {verb} the phase")
    keys = [f"deploy.{p}" for p in processes] or phases
    return app, phases, keys, option


@command("docker-options:add")
def docker_options_add(ctx: Ctx) -> int:
    app, _, keys, option = _docker_options_args(ctx, "docker-options:add", True)
    with routing.locked(ctx.state):
        for key in keys:
            current = _options(ctx, app, key)
            current += [o for o in split_options(option) if o not in current]
            routing.write_list(ctx.state, "docker-options", app, key, current)
    return 0


@command("docker-options:remove")
def docker_options_remove(ctx: Ctx) -> int:
    app, _, keys, option = _docker_options_args(ctx, "docker-options:remove", True)
    drop = set(split_options(option))
    with routing.locked(ctx.state):
        for key in keys:
            keep = [o for o in _options(ctx, app, key) if o not in drop]
            routing.write_list(ctx.state, "docker-options", app, key, keep)
    return 0


@command("docker-options:clear")
def docker_options_clear(ctx: Ctx) -> int:
    app, phases, keys, _ = _docker_options_args(ctx, "docker-options:clear", False)
    with routing.locked(ctx.state):
        if not phases:
            ctx.info1(f"Clearing docker-options for {app} on all phases")
            keys = [*PHASES, *_process_keys(ctx, app)]
        for key in keys:
            if phases:
                phase, _, process = key.partition(".")
                suffix = f" for process {process}" if process else ""
                ctx.info1(f"Clearing docker-options for {app} on phase {phase}{suffix}")
            ctx.state.prop_delete("docker-options", app, key)
    return 0


def _docker_options_collect(ctx: Ctx, app: str) -> dict[str, str]:
    keys = [*PHASES, *_process_keys(ctx, app)]
    return {f"--docker-options-{k}": " ".join(_options(ctx, app, k)) for k in keys}


@command("docker-options:report")
def docker_options_report(ctx: Ctx) -> int:
    """The one report whose JSON has non-string values (``build-list`` arrays)."""
    args = routing.parse_report_args(ctx, "docker-options", ctx.args)
    if args.format == "json" and args.info_flag:
        ctx.fail("--format flag cannot be specified when specifying an info flag")
    for app in [args.app] if args.app else ctx.state.apps():
        ctx.verify_app(app)
        keys = [*PHASES, *_process_keys(ctx, app)]
        routing.render_report(
            ctx,
            "docker-options",
            app,
            _docker_options_collect(ctx, app),
            args,
            json_extra={f"{k}-list": _options(ctx, app, k) for k in keys},
        )
    return 0


# -- help pages (texts from Dokku 0.38.27's plugins) --------------------------------------------

PROXY_HELP = [
    ("proxy:build-config [--parallel count] [--all|<app>]", "(Re)builds config for a given app"),
    ("proxy:clear-config [--all|<app>]", "Clears config for a given app"),
    ("proxy:disable <app>", "Disable proxy for app"),
    ("proxy:enable <app>", "Enable proxy for app"),
    ("proxy:report [<app>] [<flag>]", "Displays a proxy report for one or more apps"),
    ("proxy:set <app> <proxy-type>", "Set proxy type for app"),
]
DOCKER_OPTIONS_HELP = [
    (
        "docker-options:add <app> <phase(s)> OPTION",
        "Add Docker option to app for phase (comma separated phase list)",
    ),
    (
        "docker-options:clear <app> [phase(s)]",
        "Clear a docker options from application with an optional phase (comma separated phase list)",
    ),
    (
        "docker-options:remove <app> <phase(s)> OPTION",
        "Remove Docker option from app for phase (comma separated phase list)",
    ),
    (
        "docker-options:report [<app>] [<flag>]",
        "Displays a docker options report for one or more apps",
    ),
]
NGINX_HELP = [
    ("nginx:access-logs <app> [-t]", "Show the nginx access logs for an application (-t follows)"),
    ("nginx:error-logs <app> [-t]", "Show the nginx error logs for an application (-t follows)"),
    ("nginx:report [<app>] [<flag>]", "Displays an nginx report for one or more apps"),
    ("nginx:set <app> <property> (<value>)", "Set or clear an nginx property for an app"),
    ("nginx:show-config <app>", "Display app nginx config"),
    ("nginx:reload", "Reloads the nginx server config"),
    ("nginx:start", "Starts the nginx server"),
    ("nginx:stop", "Stops the nginx server"),
    (
        "nginx:validate-config [<app>] [--clean]",
        "Validates and optionally cleans up invalid nginx configurations",
    ),
]


routing.help_commands("proxy", "Manage the proxy integration for an app", PROXY_HELP)


routing.help_commands("docker-options", "Manage docker options for an app", DOCKER_OPTIONS_HELP)


routing.help_commands("nginx", "Manage the nginx proxy", NGINX_HELP, shell_plugin=True)


@command("nginx:show-config")
def nginx_show_config(ctx: Ctx) -> int:
    """Print the app's rendered ``nginx.conf`` (the simulator's reduced rendering)."""
    app = routing.verify_app_bash(ctx, ctx.args[0] if ctx.args else "")
    if routing.proxy_type(ctx.state, app) != "nginx":
        ctx.fail("This command is only available for apps with the nginx proxy type")
    conf = ctx.state.app_dir(app) / routing.NGINX_CONF
    if not conf.is_file():
        ctx.fail(f"No nginx.conf exists for {app}")
    ctx.stdout.write(conf.read_bytes())
    return 0


@command("nginx:reload")
def nginx_reload(ctx: Ctx) -> int:
    """Test the configuration (printing nginx's errors on failure), then reload."""
    return routing.validate_nginx(ctx)


@command("nginx:start", "nginx:stop")
def nginx_start_stop(ctx: Ctx) -> int:
    """Record the global ``proxy-status`` (a stopped nginx skips builds at app creation)."""
    status = "started" if ctx.command == "nginx:start" else "stopped"
    ctx.state.prop_set("nginx", GLOBAL, "proxy-status", status)
    return 0


@command("nginx:validate-config")
def nginx_validate_config(ctx: Ctx) -> int:
    """``validate_nginx [<app>] [--clean]``: with ``--clean``, drop the broken app confs."""
    args = [a for a in ctx.args if a != "--clean"]
    clean = "--clean" in ctx.args
    if args:
        routing.verify_app_bash(ctx, args[0])
    while clean:
        broken = routing.nginx_test(ctx.state).broken_app
        if broken is None or (args and broken != args[0]):
            break
        (ctx.state.app_dir(broken) / routing.NGINX_CONF).unlink(missing_ok=True)
    return routing.validate_nginx(ctx)


@command("proxy:clear-config")
def proxy_clear_config(ctx: Ctx) -> int:
    """Remove the generated proxy configuration of an app (or ``--all``)."""
    for app in _targets(ctx, "proxy:clear-config"):
        (ctx.state.app_dir(app) / routing.NGINX_CONF).unlink(missing_ok=True)
    return 0
