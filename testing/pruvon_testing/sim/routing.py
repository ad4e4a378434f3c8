"""Routing state shared by the simulator's domains, ports, proxy, nginx and urls commands.

This module is the simulated counterpart of Dokku's domains/ports/proxy/nginx-vhosts
plugin functions.  State lives where the rest of the simulator can read it:

* ``NO_VHOST`` in the app's ENV file (as Dokku keeps it; ``config:show`` shows it),
* properties ``domains/<app>/vhosts`` and ``domains/--global/vhosts`` (one domain a line,
  the content of Dokku's ``VHOST`` files),
* properties ``ports/<app>/map`` and ``ports/<app>/map-detected`` (one ``scheme:host:container``
  a line, sorted as Dokku writes them),
* properties ``proxy/<app>/{proxy-port,proxy-ssl-port,type,disabled}``,
* ``home/dokku/<app>/nginx.conf`` rendered by :func:`nginx_build_config`, read back by
  :func:`validate_nginx` to reproduce ``nginx -t`` (conflicting / invalid server names).

The ``cmd_*`` modules register the plugins' trigger handlers (``post-create``,
``post-domains-update``, clone/rename/delete, ...) with ``core.on_trigger``; deploys use
:func:`set_detected_ports`, :func:`web_listeners`, :func:`nginx_build_config` and
:func:`app_urls` directly.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pruvon_testing.sim.core import (
    Ctx,
    Flag,
    SimExit,
    SimState,
    command,
    emit_report,
    fire_trigger,
    go_json,
    go_quote,
    on_trigger,
    parse_flags,
    split_report_args,
    write_atomic,
)

GLOBAL = "--global"
DEFAULT_HOSTNAME = "vm"
NGINX_CONF = "nginx.conf"

# -- small shared helpers ----------------------------------------------------------------------


_HELD = threading.local()


@contextmanager
def locked(state: SimState) -> Iterator[None]:
    """``SimState.lock()`` made re-entrant within one thread (in-process nested commands).

    Commands hold it only around their read-modify-write of the state, never while
    triggers run: an installed plugin script may call back into the simulator.
    """
    held: set[str] = _HELD.__dict__.setdefault("roots", set())
    key = str(state.root)
    if key in held:
        yield
        return
    with state.lock():
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)


def read_list(state: SimState, plugin: str, app: str, key: str) -> list[str]:
    """A list property (one item a line), like ``fn-plugin-property-list-get``."""
    return [line for line in state.prop_get(plugin, app, key).split("\n") if line]


def write_list(state: SimState, plugin: str, app: str, key: str, values: Iterable[str]) -> None:
    items = list(values)
    if items:
        state.prop_set(plugin, app, key, "".join(f"{v}\n" for v in items))
    else:
        state.prop_delete(plugin, app, key)


def verify_app_bash(ctx: Ctx, app: str) -> str:
    """The shell plugins' ``verify_app_name``: ANY failure (empty, invalid name, missing)
    reads `` !     App <app> does not exist`` with exit 20."""
    if not app or not ctx.state.app_exists(app) or app.startswith("."):
        ctx.fail(f"App {app} does not exist", 20)
    return app


def hostname(state: SimState) -> str:
    """``hostname -f`` of the simulated host (knob ``hostname``; the captures' host is ``vm``)."""
    return str(state.knobs().get("hostname") or DEFAULT_HOSTNAME)


def positional(ctx: Ctx, flagset: str, args: list[str]) -> list[str]:
    """Positional arguments of a Go subcommand without flags (pflag: exit 2 on any flag)."""
    return parse_flags(ctx, flagset, args, [])[1]


def print_help(
    ctx: Ctx,
    plugin: str,
    description: str,
    entries: list[tuple[str, str]],
    *,
    shell_plugin: bool = False,
) -> None:
    """A plugin's ``<plugin>:help`` page.

    Go plugins (``common.CommandUsage``) columnize the entries in source order with two
    spaces; shell plugins run ``fn-help-content | sort | column -t -s,``, which sorts and
    keeps the space after each comma (three spaces before the description).
    """
    ctx.out(f"Usage: dokku {plugin}[:COMMAND]")
    ctx.out()
    ctx.out(description)
    ctx.out()
    ctx.out("Additional commands:")
    rows = sorted(entries, key=lambda e: f"{e[0]}, {e[1]}") if shell_plugin else list(entries)
    width = max(len(usage) for usage, _ in rows)
    gap = "   " if shell_plugin else "  "
    for usage, text in rows:
        ctx.out(f"    {usage:<{width}}{gap}{text}")


def help_commands(
    plugin: str,
    description: str,
    entries: list[tuple[str, str]],
    *,
    shell_plugin: bool = False,
) -> None:
    """Register ``<plugin>`` and ``<plugin>:help``: both print :func:`print_help`'s page."""

    def show_help(ctx: Ctx) -> int:
        print_help(ctx, plugin, description, entries, shell_plugin=shell_plugin)
        return 0

    command(plugin, f"{plugin}:help")(show_help)


# -- reports (Dokku's common.ReportSingleApp) -------------------------------------------------


FORMAT_FLAG = Flag("format", "string", "stdout", "format: [ stdout | json ]")


@dataclass
class ReportArgs:
    app: str
    format: str
    info_flag: str
    is_global: bool


def parse_report_args(ctx: Ctx, plugin: str, args: list[str]) -> ReportArgs:
    """``<plugin>:report [<app>|--global] [--format json] [<--info-flag>]``, as Go's
    ``common.ParseReportArgs`` + pflag: ``--format=json`` counts as an info flag, and two
    info flags make the command exit 0 silently (Dokku drops that error)."""
    tokens = split_report_args(args)
    if tokens.dangling_format:  # Go indexes past the end of the arguments
        ctx.err(f"panic: runtime error: index out of range [{len(args)}] with length {len(args)}")
        raise SimExit(2)
    if len(tokens.info_flags) > 1:
        raise SimExit(0)
    os_args = [*tokens.positional, *(() if tokens.format is None else ("--format", tokens.format))]
    values, positional = parse_flags(ctx, f"{plugin}:report", os_args, [FORMAT_FLAG])
    app = GLOBAL if tokens.is_global else (positional[0] if positional else "")
    info_flag = tokens.info_flags[0] if tokens.info_flags else ""
    return ReportArgs(app, str(values["format"]), info_flag, tokens.is_global)


def validate_report(ctx: Ctx, args: ReportArgs) -> None:
    """``ReportSingleAppInput.Validate`` (runs after the app was verified)."""
    if args.format not in ("stdout", "json"):
        ctx.fail(f'Format must be "stdout" or "json": {go_quote(args.format)}')
    if args.format != "stdout" and args.info_flag:
        ctx.fail("--format flag cannot be specified when specifying an info flag")


def render_report(
    ctx: Ctx,
    report_type: str,
    app: str,
    flags: dict[str, str],
    args: ReportArgs,
    *,
    legacy_prefix: bool = True,
    json_extra: dict[str, object] | None = None,
) -> None:
    """Print one app's report (text, JSON or one flag) with Dokku's ``ReportSingleApp``.

    ``json_extra`` adds non-string JSON values (docker-options' ``*-list`` arrays).
    """
    validate_report(ctx, args)
    if args.format == "json" and json_extra:
        prefix = f"--{report_type}-"
        data: dict[str, object] = dict(json_extra)
        for key, value in flags.items():
            data[key[2:]] = value
            if key.startswith(prefix):
                data[key[len(prefix) :]] = value
        ctx.out(go_json(data))
        return
    emit_report(
        ctx, report_type, app, flags, args.info_flag, args.format, legacy_prefix=legacy_prefix
    )


def report_command(
    ctx: Ctx,
    report_type: str,
    collect: Callable[[str], dict[str, str]],
    **render: object,
) -> int:
    """Run ``<type>:report`` for one app, ``--global`` or every app (one block/line each)."""
    args = parse_report_args(ctx, report_type, ctx.args)
    apps = [args.app] if args.app else ctx.state.apps()
    if not apps:
        ctx.warn("You haven't deployed any applications yet")
        return 0
    for app in apps:
        if app != GLOBAL:
            ctx.verify_app(app)
        render_report(ctx, report_type, app, collect(app), args, **render)  # type: ignore[arg-type]
    return 0


# -- domains -----------------------------------------------------------------------------------

_HOSTNAME_RE = re.compile(r"^[a-z0-9.*-]*[a-z0-9*-]$")


def is_valid_hostname(name: str) -> bool:
    """Dokku's ``is_valid_hostname``: lower-cased, loose - accepts ``-x.com`` and ``a..b``."""
    return name.lower() == "_" or bool(_HOSTNAME_RE.match(name.lower()))


def vhost_enabled(state: SimState, app: str) -> bool:
    """``is_app_vhost_enabled``: false only when the app's ENV has ``NO_VHOST=1``.

    An unparsable ENV file (config quirk 6) reads as "not set", as ``config_get`` failing
    silently does in Dokku.
    """
    from pruvon_testing.sim import envfile

    try:
        return envfile.read_env(state, app).get("NO_VHOST") != "1"
    except envfile.EnvParseError:
        return True


def set_no_vhost(ctx: Ctx, app: str, value: str) -> None:
    """``DOKKU_QUIET_OUTPUT=1 config_set --no-restart APP NO_VHOST=value`` (silent unless the
    ENV file cannot be parsed, which stops the command like ``config_set`` does)."""
    from pruvon_testing.sim import envfile

    with envfile.env_lock(ctx.state):
        try:
            env = envfile.read_env(ctx.state, app)
        except envfile.EnvParseError as exc:
            ctx.fail(str(exc))
        env["NO_VHOST"] = value
        envfile.write_env(ctx.state, app, env)


def vhosts_file_exists(state: SimState, app: str) -> bool:
    return (state.prop_dir("domains", app) / "vhosts").exists()


def app_vhosts(state: SimState, app: str) -> list[str]:
    return read_list(state, "domains", app, "vhosts")


def write_app_vhosts(state: SimState, app: str, domains: list[str]) -> None:
    """Write the VHOST file; an empty list keeps an empty file (Dokku ``touch``es it)."""
    state.prop_set("domains", app, "vhosts", "".join(f"{d}\n" for d in domains))


def global_vhosts(state: SimState) -> list[str]:
    return read_list(state, "domains", GLOBAL, "vhosts")


def global_vhost_enabled(state: SimState) -> bool:
    return any(is_valid_hostname(v) for v in global_vhosts(state))


def domains_list(state: SimState, app: str) -> list[str]:
    """``domains-list`` trigger: the app's domains when its vhost support is enabled."""
    return app_vhosts(state, app) if vhost_enabled(state, app) else []


def default_vhosts(state: SimState, app: str) -> list[str]:
    """``get_default_vhosts``: ``<app>.<global vhost>`` for each non-IP global vhost."""
    if not global_vhost_enabled(state):
        return []
    ip = re.compile(r"^[0-9.]+$|:")
    return [
        app if "." in app else f"{app}.{vhost}"
        for vhost in global_vhosts(state)
        if not ip.search(vhost)
    ]


def post_domains_update(ctx: Ctx, app: str, action: str, *domains: str) -> int:
    """Fire ``post-domains-update`` (nginx-vhosts rebuilds, then installed plugins run)."""
    return fire_trigger(ctx, "post-domains-update", app, action, *domains)


def disable_app_vhost(ctx: Ctx, app: str) -> int:
    """``disable_app_vhost APP --no-restart``."""
    pre_disable_vhost(ctx.state, app)
    if vhosts_file_exists(ctx.state, app):
        ctx.info1("App virtual host support disabled")
        ctx.state.prop_delete("domains", app, "vhosts")
    set_no_vhost(ctx, app, "1")
    return post_domains_update(ctx, app, "disable")


def enable_app_vhost(ctx: Ctx, app: str) -> int:
    """``domains_enable APP --no-restart`` (the caller checked that it is disabled)."""
    defaults = default_vhosts(ctx.state, app)
    if defaults:
        write_app_vhosts(ctx.state, app, defaults)
    pre_enable_vhost(ctx.state, app)
    set_no_vhost(ctx, app, "0")
    return post_domains_update(ctx, app, "enable")


def domains_setup(ctx: Ctx, app: str) -> int:
    """``domains_setup``: default vhosts from the global ones, else disable vhost support."""
    if vhosts_file_exists(ctx.state, app):
        return 0
    defaults = default_vhosts(ctx.state, app)
    if defaults:
        ctx.info1_quiet("Creating new app virtual host file...")
        write_app_vhosts(ctx.state, app, defaults)
        return 0
    ctx.info1_quiet("Global server virtual host not set, disabling app vhost...")
    return disable_app_vhost(ctx, app)


# -- proxy / ports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PortMap:
    """``scheme:host-port:container-port``; scheme ``__internal__`` is a bare host port."""

    scheme: str
    host_port: int
    container_port: int = 0

    def __str__(self) -> str:
        return f"{self.scheme}:{self.host_port}:{self.container_port}"

    @property
    def internal(self) -> bool:
        return self.scheme == "__internal__"

    def as_json(self) -> dict[str, object]:
        return {
            "container_port": self.container_port,
            "host_port": self.host_port,
            "scheme": self.scheme,
        }


class PortMapError(ValueError):
    """A port map string Dokku refuses, with Dokku's exact message."""


def _go_atoi(text: str, whole: str) -> int:
    """``strconv.Atoi`` with Dokku's error wording (``Invalid port map X [err=...]``)."""
    if re.fullmatch(r"[+-]?[0-9]+", text):
        value = int(text)
        if -(2**63) <= value < 2**63:
            return value
        raise PortMapError(
            f'Invalid port map {whole} [err=strconv.Atoi: parsing "{text}": value out of range]'
        )
    raise PortMapError(
        f'Invalid port map {whole} [err=strconv.Atoi: parsing "{text}": invalid syntax]'
    )


def parse_port_maps(text: str) -> list[PortMap]:
    """Dokku's ``parsePortMapString`` (note: any scheme is accepted, ``8080`` is internal)."""
    maps: list[PortMap] = []
    for item in text.strip().split(" "):
        parts = item.split(":", 2)
        if len(parts) == 1:
            host = _go_atoi(item, item)
            if not 0 < host < 65536:
                raise PortMapError(f"Invalid port map {item} [hostPort={host}]")
            maps.append(PortMap("__internal__", host))
            continue
        if len(parts) != 3:
            raise PortMapError(f"Invalid port map {item} [len={len(parts)}]")
        host = _go_atoi(parts[1], item)
        container = _go_atoi(parts[2], item)
        if not 0 < host < 65536:
            raise PortMapError(f"Invalid port map {item} [hostPort={host}]")
        if not 0 < container < 65536:
            raise PortMapError(f"Invalid port map {item} [containerPort={container}]")
        maps.append(PortMap(parts[0], host, container))
    return maps


def _parse_quietly(lines: list[str]) -> list[PortMap] | None:
    """Parse stored maps; ``None`` mirrors Go's nil slice (JSON ``null``) on failure/empty."""
    try:
        return parse_port_maps(" ".join(lines))
    except PortMapError:
        return None


def port_maps(state: SimState, app: str) -> list[PortMap] | None:
    """The explicit ``ports/<app>/map`` list (``None`` when there is none, like Go's nil)."""
    return _parse_quietly(read_list(state, "ports", app, "map"))


def set_port_maps(state: SimState, app: str, maps: Iterable[PortMap]) -> None:
    reused = check_reuse(maps)
    if reused:
        raise PortMapError(f"Error validating port mappings: {reused}")
    write_list(state, "ports", app, "map", sorted(str(m) for m in maps if not m.internal))


def check_reuse(maps: Iterable[PortMap]) -> str:
    """Dokku refuses two mappings with the same ``scheme:host-port``."""
    seen: set[str] = set()
    for port_map in maps:
        key = f"{port_map.scheme}:{port_map.host_port}"
        if key in seen:
            return f"The same scheme:host-port is being reused: {key}"
        seen.add(key)
    return ""


def _int_prop(state: SimState, plugin: str, app: str, key: str) -> int:
    value = state.prop_get(plugin, app, key).strip()
    return int(value) if value.isdigit() else 0


def computed_proxy_port(state: SimState, app: str) -> int:
    return _int_prop(state, "proxy", app, "proxy-port") or _int_prop(
        state, "proxy", GLOBAL, "proxy-port"
    )


def certs_exist(state: SimState, app: str) -> bool:
    """``certs-exists``: the app has ``tls/server.crt`` and ``tls/server.key`` (certs:add)."""
    tls = state.app_dir(app) / "tls"
    return (tls / "server.crt").is_file() and (tls / "server.key").is_file()


def computed_proxy_ssl_port(state: SimState, app: str) -> int:
    return _int_prop(state, "proxy", app, "proxy-ssl-port") or _int_prop(
        state, "proxy", GLOBAL, "proxy-ssl-port"
    )


def detected_port_maps(state: SimState, app: str) -> list[PortMap]:
    """``getDetectedPortMaps``: the build's detection, else ``http:<proxy port or 80>:5000``;
    with a certificate, ``http:80`` gains an ``https:<ssl port or 443>`` twin (or, without
    an ``http:80`` map, every http map becomes https)."""
    maps = _parse_quietly(read_list(state, "ports", app, "map-detected")) or []
    if not maps:
        maps = [PortMap("http", computed_proxy_port(state, app) or 80, 5000)]
    if not certs_exist(state, app):
        return maps
    ssl_port = computed_proxy_ssl_port(state, app) or 443
    twins = [
        PortMap("https", ssl_port, m.container_port)
        for m in maps
        if m.scheme == "http" and m.host_port == 80
    ]
    if twins:
        return maps + twins
    return [
        PortMap("https", m.host_port, m.container_port) if m.scheme == "http" else m for m in maps
    ]


def ports_get(state: SimState, app: str) -> list[PortMap]:
    """``ports-get`` trigger: explicit maps, else detected ones; unique by scheme:host."""
    return unique_maps(port_maps(state, app) or detected_port_maps(state, app))


def unique_maps(maps: Iterable[PortMap]) -> list[PortMap]:
    """Dokku keeps the first map per ``scheme:host-port`` and drops internal ones."""
    seen: set[str] = set()
    result = []
    for port_map in maps:
        key = f"{port_map.scheme}:{port_map.host_port}"
        if port_map.internal or key in seen:
            continue
        seen.add(key)
        result.append(port_map)
    return result


def random_port(state: SimState) -> int:
    """A free high port (Dokku binds ``localhost:0``); avoids ports other apps were given."""
    used = {_int_prop(state, "proxy", a, "proxy-port") for a in state.apps()}
    rng = random.SystemRandom()
    while True:
        port = rng.randint(32768, 60999)
        if port not in used:
            return port


def ports_configure(ctx: Ctx, app: str) -> None:
    """``ports-configure``: make sure the app has a proxy port (random when vhost is off)."""
    state = ctx.state
    if _int_prop(state, "proxy", app, "proxy-port"):
        return
    if vhost_enabled(state, app):
        port = _int_prop(state, "proxy", GLOBAL, "proxy-port")
    else:
        ctx.info1("No port set, setting to random open high port")
        port = random_port(state)
        ctx.info1(f"Random port {port}")
    state.prop_set("proxy", app, "proxy-port", str(port or 80))


def ports_configure_ssl(ctx: Ctx, app: str) -> None:
    """``initializeProxySSLPort``: with a certificate, 443 (random when vhost is off)."""
    state = ctx.state
    if _int_prop(state, "proxy", app, "proxy-ssl-port") or not certs_exist(state, app):
        return
    port = _int_prop(state, "proxy", GLOBAL, "proxy-ssl-port") or 443
    if not vhost_enabled(state, app):
        ctx.info1("No ssl port set, setting to random open high port")
        port = random_port(state)
    state.prop_set("proxy", app, "proxy-ssl-port", str(port))


def pre_enable_vhost(state: SimState, app: str) -> None:
    """nginx-vhosts ``pre-enable-vhost``: forget ports chosen for the no-vhost setup."""
    if proxy_type(state, app) != "nginx":
        return
    state.prop_delete("proxy", app, "proxy-port")
    state.prop_delete("proxy", app, "proxy-ssl-port")
    state.prop_delete("ports", app, "map-detected")
    _clear_if_default_ports(state, app)


def pre_disable_vhost(state: SimState, app: str) -> None:
    """nginx-vhosts ``pre-disable-vhost``: drop the 80/443 defaults."""
    if proxy_type(state, app) != "nginx":
        return
    if state.prop_get("proxy", app, "proxy-port") == "80":
        state.prop_delete("proxy", app, "proxy-port")
    if state.prop_get("proxy", app, "proxy-ssl-port") == "443":
        state.prop_delete("proxy", app, "proxy-ssl-port")
    _clear_if_default_ports(state, app)


def _clear_if_default_ports(state: SimState, app: str) -> None:
    for port_map in ports_get(state, app):
        if str(port_map).startswith(("http:80:", "https:443:")):
            clear_ports(state, app)
            return


def clear_ports(state: SimState, app: str) -> None:
    state.prop_delete("ports", app, "map")
    state.prop_delete("ports", app, "map-detected")


def proxy_type(state: SimState, app: str) -> str:
    return (
        state.prop_get("proxy", app, "type") or state.prop_get("proxy", GLOBAL, "type") or "nginx"
    )


def proxy_enabled(state: SimState, app: str) -> bool:
    return state.prop_get("proxy", app, "disabled") != "true"


# -- nginx -------------------------------------------------------------------------------------


def web_listeners(state: SimState, app: str) -> list[str]:
    """``network-get-listeners APP web``: ``ip:port`` of the running web containers."""
    from pruvon_testing.sim import containers

    port = next((m.container_port for m in ports_get(state, app)), 5000) or 5000
    return [
        f"{c.ip}:{port}"
        for c in containers.app_containers(state, app)
        if c.process_type == "web" and c.status == "running" and c.ip
    ]


def is_deployed(state: SimState, app: str) -> bool:
    from pruvon_testing.sim import containers

    return containers.is_deployed(state, app)


def nginx_build_config(ctx: Ctx, app: str) -> int:
    """``nginx_build_config``: render ``nginx.conf``, print Dokku's lines, run ``nginx -t``."""
    state = ctx.state
    if proxy_type(state, app) != "nginx":
        return 0
    if not proxy_enabled(state, app):
        return _nginx_disabled(ctx, app)
    listeners = web_listeners(state, app)
    ports_configure(ctx, app)
    ports_configure_ssl(ctx, app)
    ssl = certs_exist(state, app)
    maps = []
    for port_map in ports_get(state, app):
        if port_map.scheme == "https" and not ssl:
            ctx.warn(
                f"Ignoring detected https port mapping without an accompanying ssl certificate ({port_map})"
            )
            continue
        maps.append(port_map)
    vhosts = domains_list(state, app)
    if not listeners:
        ctx.warn_quiet(f"No web listeners specified for {app}")
    deployed_with_listeners = bool(listeners) and is_deployed(state, app)
    if not (deployed_with_listeners or (not listeners and maps)):
        return 0
    configured = set(vhosts)
    if ssl and not vhost_enabled(state, app):
        configured.update(global_vhosts(state))  # SSL_VHOSTS=$(<"$DOKKU_ROOT/VHOST")
    for vhost in sorted(configured):
        ctx.info1(f"Configuring {vhost}...(using built-in template)")
    write_atomic(state.app_dir(app) / NGINX_CONF, render_nginx_conf(app, maps, vhosts, listeners))
    ctx.info1(f"Creating {'https' if ssl else 'http'} nginx.conf")
    ctx.verbose("Reloading nginx")
    return validate_nginx(ctx)


def _nginx_disabled(ctx: Ctx, app: str) -> int:
    ctx.info1(f"Nginx support is disabled for app ({app})")
    conf = ctx.state.app_dir(app) / NGINX_CONF
    if conf.is_file():
        ctx.info1("Deleting nginx.conf")
        conf.unlink()
        if is_deployed(ctx.state, app):
            ctx.info1("Reloading nginx after nginx.conf deletion")
            return validate_nginx(ctx)
    return 0


def render_nginx_conf(
    app: str, maps: list[PortMap], vhosts: list[str], listeners: list[str]
) -> str:
    """A reduced rendering of Dokku's ``nginx.conf.sigil``: one server block per http map."""
    names = " ".join(vhosts)
    blocks = []
    for port_map in maps:
        if port_map.scheme not in ("http", "https"):
            continue
        upstream = f"{app}-{port_map.container_port}"
        ssl = " ssl" if port_map.scheme == "https" else ""
        blocks.append(
            "server {\n"
            f"  listen      [::]:{port_map.host_port}{ssl};\n"
            f"  listen      0.0.0.0:{port_map.host_port}{ssl};\n"
            f"  server_name {names};\n"
            f"  access_log  /var/log/nginx/{app}-access.log;\n"
            f"  error_log   /var/log/nginx/{app}-error.log;\n"
            f"  location    / {{ proxy_pass http://{upstream}; }}\n"
            "}\n"
        )
        servers = "".join(f"  server {listener};\n" for listener in listeners)
        blocks.append(f"upstream {upstream} {{\n{servers}}}\n")
    return "\n".join(blocks)


def _server_blocks(text: str) -> list[tuple[list[str], list[str]]]:
    """``(listen addresses, server names)`` of every server block in a rendered conf."""
    blocks = []
    for block in re.findall(r"server \{\n(.*?)\n\}", text, flags=re.S):
        listens = re.findall(r"^\s*listen\s+(\S+)(?: ssl)?;", block, flags=re.M)
        match = re.search(r"^\s*server_name\s*(.*?);", block, flags=re.M)
        names = (match.group(1).split() if match else []) or [""]
        blocks.append((listens, names))
    return blocks


def _invalid_server_name(name: str) -> bool:
    """What nginx's hash refuses: empty labels and misplaced wildcards."""
    if ".." in name:
        return True
    core = name
    if core.startswith("*."):
        core = core[2:]
    elif core.startswith("."):
        core = core[1:]
    elif core.endswith(".*"):
        core = core[:-2]
    return "*" in core


@dataclass
class NginxTest:
    """Outcome of the simulated ``nginx -t``: messages, and the app whose conf broke it."""

    messages: list[tuple[str, str]]
    broken_app: str | None = None


def nginx_test(state: SimState) -> NginxTest:
    """``nginx -t`` over every app's conf: duplicate names warn, an invalid one is fatal."""
    addresses: dict[str, list[tuple[str, list[str]]]] = {}
    for app in state.apps():
        conf = state.app_dir(app) / NGINX_CONF
        if not conf.is_file():
            continue
        for listens, names in _server_blocks(conf.read_text()):
            for address in listens:
                addresses.setdefault(address, []).append((app, names))
    messages: list[tuple[str, str]] = []
    for address, servers in addresses.items():
        seen: set[str] = set()
        for app, names in servers:
            for name in names:
                if _invalid_server_name(name):
                    text = f'invalid server name or wildcard "{name}" on {address}'
                    return NginxTest([*messages, ("emerg", text)], app)
                if name.lower() in seen:
                    messages.append(
                        ("warn", f'conflicting server name "{name}" on {address}, ignored')
                    )
                seen.add(name.lower())
    return NginxTest(messages)


def validate_nginx(ctx: Ctx) -> int:
    """``validate_nginx``: run the test; its output is shown only when it fails."""
    result = nginx_test(ctx.state)
    if result.broken_app is None:
        return 0
    return _nginx_test_failed(ctx, result.messages)


def _nginx_test_failed(ctx: Ctx, messages: list[tuple[str, str]]) -> int:
    stamp = time.strftime("%Y/%m/%d %H:%M:%S")
    pid = os.getpid()
    for level, text in messages:
        ctx.err(f"{stamp} [{level}] {pid}#{pid}: {text}")
    ctx.err("nginx: configuration file /etc/nginx/nginx.conf test failed")
    return 1


def post_proxy_ports_update(ctx: Ctx, app: str, action: str) -> int:
    """Fire ``post-proxy-ports-update`` (nginx-vhosts rebuilds, then installed plugins)."""
    return fire_trigger(ctx, "post-proxy-ports-update", app, action)


# -- urls --------------------------------------------------------------------------------------


def _url(scheme: str, vhost: str, port: int) -> str:
    if port == 80 or (port == 443 and scheme == "https"):
        return f"{'http' if port == 80 else 'https'}://{vhost}"
    return f"{scheme}://{vhost}:{port}"


def _urls_for_vhost(state: SimState, app: str, scheme: str, vhost: str, port: int) -> list[str]:
    if not proxy_enabled(state, app):
        return [
            _url(scheme, vhost, int(lst.rsplit(":", 1)[1])) for lst in web_listeners(state, app)
        ]
    maps = ports_get(state, app)
    if not maps:
        return [_url(scheme, vhost, port)]
    has_certs = certs_exist(state, app)
    return [_url(m.scheme, vhost, m.host_port) for m in maps if has_certs or m.scheme != "https"]


def app_urls(state: SimState, app: str) -> list[str]:
    """``dokku urls APP``: every URL, sorted and unique (``sort -u``)."""
    scheme, port = ("https", 443) if certs_exist(state, app) else ("http", 80)
    vhosts = domains_list(state, app) or global_vhosts(state) or [hostname(state)]
    urls: set[str] = set()
    for vhost in vhosts:
        urls.update(_urls_for_vhost(state, app, scheme, vhost, port))
    return sorted(urls)


def app_url(state: SimState, app: str) -> str | None:
    """``dokku url APP``: the first URL of the default scheme, in generation order."""
    scheme, port = ("https", 443) if certs_exist(state, app) else ("http", 80)
    vhosts = domains_list(state, app) or global_vhosts(state) or [hostname(state)]
    for vhost in vhosts:
        for url in _urls_for_vhost(state, app, scheme, vhost, port):
            if url.startswith(f"{scheme}://"):
                return url
    return None


# -- trigger handlers (registered by the cmd_* modules with core.on_trigger) ----------------


def domains_post_create(ctx: Ctx, app: str) -> int:
    """domains ``post-create``: default vhosts, or disable vhost support (random port)."""
    if not vhost_enabled(ctx.state, app):
        ctx.info1("App virtual host support disabled, skipping domain setup")
        return 0
    return domains_setup(ctx, app)


def nginx_post_create(ctx: Ctx, app: str) -> int:
    """nginx-vhosts ``post-create``: build the config unless the proxy is stopped globally."""
    if ctx.state.prop_get("nginx", GLOBAL, "proxy-status") == "stopped":
        return 0
    return nginx_build_config(ctx, app)


def with_quiet(ctx: Ctx) -> Ctx:
    """The same invocation with ``DOKKU_QUIET_OUTPUT=1`` exported (plugin-to-plugin calls)."""
    return Ctx(
        state=ctx.state,
        args=list(ctx.args),
        command=ctx.command,
        stdout=ctx.stdout,
        stderr=ctx.stderr,
        stdin=ctx.stdin,
        env={**ctx.env, "DOKKU_QUIET_OUTPUT": "1"},
    )


def domains_clone_setup(ctx: Ctx, old: str, new: str) -> int:
    """domains ``post-app-clone-setup``: drop copied domains, quietly re-run the setup."""
    ctx.state.prop_delete("domains", new, "vhosts")
    return domains_setup(with_quiet(ctx), new)


def nginx_clone_setup(ctx: Ctx, old: str, new: str) -> int:
    """nginx-vhosts ``post-app-clone-setup``: copy nginx properties, drop the copied conf."""
    clone_props(ctx.state, "nginx", old, new)
    (ctx.state.app_dir(new) / NGINX_CONF).unlink(missing_ok=True)
    return 0


def rename_props(ctx: Ctx, plugin: str, old: str, new: str) -> int:
    """``post-app-rename-setup`` of a property-backed plugin: move its properties."""
    import shutil

    clone_props(ctx.state, plugin, old, new)
    shutil.rmtree(ctx.state.prop_dir(plugin, old), ignore_errors=True)
    return 0


def domains_rename_setup(ctx: Ctx, old: str, new: str) -> int:
    """domains ``post-app-rename-setup``: copy the domains, renaming ``<old>.<global>``."""
    state = ctx.state
    if not vhosts_file_exists(state, old):
        return 0
    domains = app_vhosts(state, old)
    for vhost in global_vhosts(state):
        domains = [d.replace(f"{old}.{vhost}", f"{new}.{vhost}") for d in domains]
    write_app_vhosts(state, new, domains)
    return 0


def nginx_rename_setup(ctx: Ctx, old: str, new: str) -> int:
    """nginx-vhosts ``post-app-rename-setup``: move properties, ``proxy-clear-config`` new."""
    rename_props(ctx, "nginx", old, new)
    (ctx.state.app_dir(new) / NGINX_CONF).unlink(missing_ok=True)
    return 0


def destroy_props(ctx: Ctx, plugin: str, app: str) -> int:
    """``post-delete``: forget the plugin's properties of the app."""
    import shutil

    shutil.rmtree(ctx.state.prop_dir(plugin, app), ignore_errors=True)
    return 0


def set_detected_ports(state: SimState, app: str, port_map_string: str) -> None:
    """``ports-set-detected`` (a build passes the image's EXPOSE, e.g. ``http:5000:5000``)."""
    maps = unique_maps(_parse_quietly([port_map_string]) or [])
    write_list(state, "ports", app, "map-detected", sorted(str(m) for m in maps))


def clone_props(state: SimState, plugin: str, old: str, new: str) -> None:
    source = state.prop_dir(plugin, old)
    if not source.is_dir():
        return
    for item in source.iterdir():
        if item.is_file() and not item.name.startswith("."):
            state.prop_set(plugin, new, item.name, item.read_text())


def register_property_plugin(plugin: str) -> None:
    """Register the clone/rename/delete handlers of a plugin whose per-app state is only its
    properties (``fn-plugin-property-clone``/``-rename``/``-destroy`` in Dokku)."""

    def clone(ctx: Ctx, old: str, new: str) -> int:
        clone_props(ctx.state, plugin, old, new)
        return 0

    def rename(ctx: Ctx, old: str, new: str) -> int:
        return rename_props(ctx, plugin, old, new)

    def delete(ctx: Ctx, app: str, *_args: str) -> int:
        return destroy_props(ctx, plugin, app)

    on_trigger("post-app-clone-setup", plugin)(clone)
    on_trigger("post-app-rename-setup", plugin)(rename)
    on_trigger("post-delete", plugin)(delete)
