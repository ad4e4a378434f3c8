"""The dokku service-plugin commands, shared by every simulated service plugin.

Each function mirrors one ``subcommands/<name>`` script of the plugins plus the
``common-functions`` it calls, in the same order of checks, so that errors and
output come out exactly as on a real host.  ``register(stype)`` binds them to
``<kind>:<name>`` for one :class:`ServiceType`; the engines (SQL / Redis data,
dumps) live in ``services_engines``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from functools import partial

from pruvon_testing.sim import routing
from pruvon_testing.sim import services_engines as engines
from pruvon_testing.sim import services_help as helppages
from pruvon_testing.sim.core import Ctx, SimExit, call, command
from pruvon_testing.sim.services_store import NAME_RE, Service, all_services, now
from pruvon_testing.sim.services_types import ServiceType

INFO_FLAGS = (
    "--config-dir",
    "--config-options",
    "--data-dir",
    "--dsn",
    "--exposed-ports",
    "--id",
    "--internal-ip",
    "--initial-network",
    "--links",
    "--post-create-network",
    "--post-start-network",
    "--service-root",
    "--status",
    "--version",
)
NETWORK_KEYS = ("initial-network", "post-create-network", "post-start-network")
ALT_COLORS = [
    "AQUA",
    "BLACK",
    "BLUE",
    "FUCHSIA",
    "GRAY",
    "GREEN",
    "LIME",
    "MAROON",
    "NAVY",
    "OLIVE",
    "PURPLE",
    "RED",
    "SILVER",
    "TEAL",
    "WHITE",
    "YELLOW",
]
DOKKU_BIN = "/usr/local/bin/dokku"

Handler = Callable[[Ctx, ServiceType], int | None]


# -- argument helpers -----------------------------------------------------------
def arg(ctx: Ctx, index: int) -> str:
    return ctx.args[index] if len(ctx.args) > index else ""


NAME_MISSING = "Please specify a valid name for the service"
BUCKET_MISSING = "Please specify an aws bucket for the backup"


def required_args(ctx: Ctx, *messages: str) -> list[str]:
    """The first ``len(messages)`` arguments; the first empty one fails with its message
    (the plugin's ``[[ -z $X ]] && dokku_log_fail`` lines, in order)."""
    values = []
    for index, message in enumerate(messages):
        value = arg(ctx, index)
        if not value:
            ctx.fail(message)
        values.append(value)
    return values


def require_service(ctx: Ctx, stype: ServiceType, name: str) -> Service:
    """``[[ -z $SERVICE ]]`` check + ``verify_service_name``."""
    if not name:
        ctx.fail(NAME_MISSING)
    service = Service(ctx.state, stype, name)
    if not service.exists():
        ctx.fail(f"{stype.label} service {name} does not exist")
    return service


def require_link_app(ctx: Ctx, position: int = 1) -> str:
    app = arg(ctx, position) or ctx.env.get("DOKKU_APP_NAME", "")
    if not app:
        ctx.fail("Please specify an app to run the command on")
    return app


def app_env(ctx: Ctx, app: str) -> dict[str, str]:
    from pruvon_testing.sim import envfile

    return envfile.read_env(ctx.state, app)


def require_running(ctx: Ctx, service: Service) -> None:
    """``docker container inspect`` + ``is_container_status Running`` checks."""
    if service.container() is None:
        ctx.fail("Service container does not exist")
    if service.status() != "running":
        ctx.fail("Service container is not running")


# -- create / start / stop --------------------------------------------------------
def parse_create_flags(ctx: Ctx, flags: list[str]) -> dict[str, str]:
    """``service_parse_args`` for the create/clone flags the simulator honours."""
    names = {
        "-c": "config-options",
        "--config-options": "config-options",
        "-C": "custom-env",
        "--custom-env": "custom-env",
        "-i": "image",
        "--image": "image",
        "-I": "image-version",
        "--image-version": "image-version",
        "-m": "memory",
        "--memory": "memory",
        "-N": "initial-network",
        "--initial-network": "initial-network",
        "-p": "password",
        "--password": "password",
        "-P": "post-create-network",
        "--post-create-network": "post-create-network",
        "-r": "root-password",
        "--root-password": "root-password",
        "-S": "post-start-network",
        "--post-start-network": "post-start-network",
        "-s": "shm-size",
        "--shm-size": "shm-size",
    }
    values: dict[str, str] = {}
    index = 0
    while index < len(flags):
        key = names.get(flags[index])
        if key and index + 1 < len(flags):
            values[key] = flags[index + 1]
            index += 2
        else:
            index += 1
    return values


def create_service(ctx: Ctx, stype: ServiceType, name: str, flags: list[str]) -> Service:
    """``service_create``: validate, write the service files, start the container."""
    if not name or not NAME_RE.match(name):
        ctx.fail("Please specify a valid name for the service. Valid characters are: [A-Za-z0-9_]+")
    service = Service(ctx.state, stype, name)
    if service.dir.is_dir():
        ctx.fail(f"{stype.label} service {name} already exists")
    options = parse_create_flags(ctx, flags)
    service.data_dir.mkdir(parents=True)
    service.data_dir.chmod(0o755)
    (service.dir / stype.config_suffix).mkdir(exist_ok=True)
    service.write("LINKS", "")
    for filename, text in stype.config_files:
        service.write(f"{stype.config_suffix}/{filename}", text)
    write_passwords(ctx, service, options)
    commit_config(ctx, service, options)
    if stype.writes_database_name:
        service.write("DATABASE_NAME", stype.database_name(name) + "\n")
    engines.engine(stype).init_service(service, ctx.env)
    create_container(ctx, service, fresh=True)
    return service


def write_passwords(ctx: Ctx, service: Service, options: dict[str, str]) -> None:
    """PASSWORD (and ROOTPASSWORD where the plugin has one), mode 0640; a password
    given with ``-p``/``-r`` replaces the generated one with the plugin's warning."""
    stype = service.stype
    password = secrets.token_hex(stype.password_bytes)
    if options.get("password"):
        password = options["password"]
        ctx.warn("Specified password may not be as secure as the auto-generated password")
    if stype.root_password_bytes:
        root_password = secrets.token_hex(stype.root_password_bytes)
        if options.get("root-password"):
            root_password = options["root-password"]
            ctx.warn(
                "Specified root password may not be as secure as the auto-generated root password"
            )
        service.write("ROOTPASSWORD", root_password + "\n", 0o640)
    service.write("PASSWORD", password + "\n", 0o640)


def commit_config(ctx: Ctx, service: Service, options: dict[str, str]) -> None:
    """``service_commit_config``: image, env, config options, network properties."""
    stype = service.stype
    env_image = ctx.env.get(f"{stype.variable}_IMAGE", "")
    env_version = ctx.env.get(f"{stype.variable}_IMAGE_VERSION", "")
    service.write("IMAGE", (options.get("image") or env_image or stype.image) + "\n")
    version = options.get("image-version") or env_version or stype.image_version
    service.write("IMAGE_VERSION", version + "\n")
    custom_env = options.get("custom-env") or ctx.env.get(f"{stype.variable}_CUSTOM_ENV", "")
    service.write("ENV", "".join(f"{pair}\n" for pair in custom_env.split(";") if pair))
    config_options = options.get("config-options") or ctx.env.get(
        f"{stype.variable}_CONFIG_OPTIONS", stype.default_config_options
    )
    service.write("CONFIG_OPTIONS", config_options + "\n")  # ``echo`` into the file
    for key in ("memory", "shm-size"):
        if options.get(key):
            service.write("SERVICE_MEMORY" if key == "memory" else "SHM_SIZE", options[key])
    for key in NETWORK_KEYS:
        if options.get(key):
            ctx.state.prop_set(stype.kind, service.name, key, options[key])


def create_container(ctx: Ctx, service: Service, fresh: bool) -> None:
    """``service_create_container``: new container, readiness, the info block."""
    stype = service.stype
    service.new_container()
    engine = engines.engine(stype)
    engine.log_container_start(service, ctx.env, fresh=fresh)
    for step in stype.create_steps:
        ctx.verbose(step)
        if step == "Creating container database" and not engine.create_database(service):
            ctx.verbose("Already exists")
        if step == "Securing connection to database":
            engine.log_container_stop(service, ctx.env)
            engine.log_container_start(service, ctx.env, fresh=False)
    ctx.info2(f"{stype.label} container created: {service.name}")
    print_info(ctx, service, "")


def pause_service(ctx: Ctx, service: Service) -> bool:
    """``service_pause``: stop the container (kept); False when there is none."""
    record = service.container()
    if record is None:
        ctx.warn("Service is already paused")
        return False
    ctx.info2("Pausing container")
    if record["status"] == "running":
        engines.engine(service.stype).log_container_stop(service, ctx.env)
    service.set_status("exited")
    service.set_status("exited", role="ambassador")
    ctx.verbose("Container paused")
    return True


def remove_container(ctx: Ctx, service: Service) -> None:
    """``service_container_rm``: pause, then remove the container and its log."""
    pause_service(ctx, service)
    if service.container() is None:
        return
    ctx.verbose("Removing container")
    service.drop_container()


def start_service(ctx: Ctx, service: Service, quiet: bool = False) -> None:
    """``service_start``: restart an exited container or create a new one."""
    record = service.container()
    if record and record["status"] == "running":
        if not quiet:
            ctx.warn("Service is already started")
        return
    ctx.info2("Starting container")
    if record:
        service.set_status("running")
        engines.engine(service.stype).log_container_start(service, ctx.env, fresh=False)
        reconcile_ambassador(ctx, service)
        ctx.info2("Container started")
    else:
        create_container(ctx, service, fresh=False)
        reconcile_ambassador(ctx, service)


def reconcile_ambassador(ctx: Ctx, service: Service) -> None:
    """``service_port_reconcile_status``: the ambassador follows the service and PORT."""
    ports = service.exposed_ports()
    running = service.status() == "running"
    if ports and running:
        ambassador = service.container("ambassador")
        if ambassador is None or ambassador["status"] != "running":
            service.drop_container("ambassador")
            spec = ports[0].rpartition(":")[2]
            service.new_container("ambassador", int(spec) if spec.isdigit() else None)
    else:
        service.drop_container("ambassador")


# -- info ---------------------------------------------------------------------------------
def exposed_text(stype: ServiceType, ports: list[str]) -> str:
    """``service_exposed_ports``: ``<container>-><host> `` per datastore port, in order."""
    return "".join(f"{inner}->{outer} " for inner, outer in zip(stype.ports, ports, strict=False))


def info_values(ctx: Ctx, service: Service) -> list[tuple[str, str]]:
    stype = service.stype
    ports = service.exposed_ports()
    exposed = exposed_text(stype, ports) if ports else "-"
    links = service.links()
    prop = partial(ctx.state.prop_get, stype.kind, service.name)
    record = service.container()
    return [
        ("--config-dir", f"{stype.host_root(service.name)}/{stype.config_suffix}"),
        # ``$(cat CONFIG_OPTIONS)``: the trailing newline goes, mongo's spaces stay
        ("--config-options", service.read("CONFIG_OPTIONS").rstrip("\n")),
        ("--data-dir", f"{stype.host_root(service.name)}/data"),
        ("--dsn", service.dsn),
        ("--exposed-ports", exposed),
        ("--id", service.container_id()),
        ("--internal-ip", service.internal_ip()),
        ("--initial-network", prop("initial-network")),
        ("--links", "".join(f"{app} " for app in links) if links else "-"),
        ("--post-create-network", prop("post-create-network")),
        ("--post-start-network", prop("post-start-network")),
        ("--service-root", stype.host_root(service.name)),
        ("--status", service.status()),
        ("--version", record["image"] if record else service.image),
    ]


def print_info(ctx: Ctx, service: Service, flag: str) -> None:
    """``service_info``: the padded block, or one bare value for a flag."""
    values = info_values(ctx, service)
    if not flag:
        ctx.info2(f"{service.name} {service.stype.kind} service information")
        for key, value in values:
            label = key[2:].replace("-", " ").capitalize() + ":"
            ctx.verbose(f"{label:<20} {value:<25}")
        return
    for key, value in values:
        if key == flag:
            ctx.out(value)
            return
    ctx.fail("Invalid flag passed, valid flags: " + " ".join(INFO_FLAGS))


# -- subcommands ------------------------------------------------------------------------------
def cmd_create(ctx: Ctx, stype: ServiceType) -> None:
    create_service(ctx, stype, arg(ctx, 0), ctx.args[1:])


def cmd_list(ctx: Ctx, stype: ServiceType) -> None:
    services = all_services(ctx.state, stype.kind)
    if not services:
        ctx.warn(f"There are no {stype.label} services")
        return
    ctx.info2(f"{stype.label} services")
    for service in services:
        ctx.out(service.name)


def cmd_info(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    print_info(ctx, service, arg(ctx, 1))


def cmd_exists(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    ctx.info1(f"Service {service.name} exists")


def cmd_links(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    for app in service.links():
        ctx.out(app)


def cmd_app_links(ctx: Ctx, stype: ServiceType) -> None:
    app = ctx.require_app(arg(ctx, 0) or ctx.env.get("DOKKU_APP_NAME", ""))
    for service in all_services(ctx.state, stype.kind):
        if app in service.links():
            ctx.out(service.name)


def app_service_url(ctx: Ctx, service: Service, app: str) -> str:
    """``update_plugin_scheme_for_app`` + ``service_url``: an app may ask for another
    scheme (``POSTGRES_DATABASE_SCHEME=postgis``), which changes the URL it links to."""
    scheme = app_env(ctx, app).get(f"{service.stype.variable}_DATABASE_SCHEME", "")
    url = service.dsn
    if scheme:
        url = scheme + url[len(service.stype.scheme) :]
    return url


def links_to(ctx: Ctx, service: Service, app: str) -> list[str]:
    """Config keys of ``app`` whose value contains the service URL (the plugin greps)."""
    url = app_service_url(ctx, service, app)
    return [key for key, value in sorted(app_env(ctx, app).items()) if url in value]


def service_and_app(ctx: Ctx, stype: ServiceType, *, app_first: bool) -> tuple[Service, str]:
    """``<service> <app>`` of link/linked (app checked first) and unlink/promote (service
    first): the plugin's scripts check them in different orders, which decides the error."""
    (name,) = required_args(ctx, NAME_MISSING)
    app = require_link_app(ctx)
    if app_first:
        ctx.require_app(app)
    service = require_service(ctx, stype, name)
    if not app_first:
        ctx.require_app(app)
    return service, app


def cmd_linked(ctx: Ctx, stype: ServiceType) -> None:
    service, app = service_and_app(ctx, stype, app_first=True)
    if not links_to(ctx, service, app):
        ctx.fail(f"Service {service.name} is not linked to {app}")
    ctx.info1(f"Service {service.name} is linked to {app}")


def parse_link_flags(flags: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    names = {"-a": "alias", "--alias": "alias", "-q": "querystring", "--querystring": "querystring"}
    names |= {"-n": "no-restart", "--no-restart": "no-restart"}
    for index, flag in enumerate(flags):
        if flag in names and index + 1 < len(flags):
            values[names[flag]] = flags[index + 1]
    return values


def choose_alias(ctx: Ctx, stype: ServiceType, env: dict[str, str], alias: str) -> str:
    """The alias part of ``service_link``: default, requested, or the first free colour."""
    config = "\n".join(f"{key}:  {value}" for key, value in env.items())
    if alias:
        if f"{alias}_URL" in config:
            ctx.fail(f"Specified alias {alias} already in use")
        return alias
    if f"{stype.default_alias}_URL" not in config:
        return stype.default_alias
    for color in ALT_COLORS:
        candidate = f"{stype.alt_alias}_{color}"
        if f"{candidate}_URL" not in config:
            return candidate
    ctx.fail("Unable to use default or generated URL alias")
    raise AssertionError("unreachable")


def docker_link_option(service: Service) -> str:
    stype = service.stype
    return f"--link {stype.container_name(service.name)}:{stype.dns_hostname(service.name)}"


def set_docker_link(ctx: Ctx, service: Service, app: str, present: bool) -> None:
    """``dokku docker-options:add|remove APP build,deploy,run "--link …"``: Dokku >= 0.38.25
    has no ``add_passed_docker_option`` and keeps docker options as properties, so the
    link shows in ``docker-options:report`` like any option added by hand."""
    option = docker_link_option(service)
    for phase in ("build", "deploy", "run"):
        lines = [line for line in routing.read_list(ctx.state, "docker-options", app, phase)
                 if line != option]
        if present:
            lines.append(option)
        routing.write_list(ctx.state, "docker-options", app, phase, lines)


def no_restart(ctx: Ctx, flags: dict[str, str]) -> bool:
    return (
        flags.get("no-restart", "") == "true"
        or "--no-restart" in ctx.env.get("DOKKU_GLOBAL_FLAGS", "")
        or ctx.env.get("SERVICE_RESTART_APPS") == "false"
    )


def cmd_link(ctx: Ctx, stype: ServiceType) -> int:
    service, app = service_and_app(ctx, stype, app_first=True)
    flags = parse_link_flags(ctx.args[2:])
    env = app_env(ctx, app)
    alias = choose_alias(ctx, stype, env, flags.get("alias", ""))
    existing = links_to(ctx, service, app)
    if existing:
        ctx.fail(f"Already linked as {existing[0]}")
    service.set_links([*service.links(), app])
    set_docker_link(ctx, service, app, present=True)
    url = app_service_url(ctx, service, app)
    if flags.get("querystring"):
        url = f"{url}?{flags['querystring']}"
    if no_restart(ctx, flags):
        code = call(ctx, "config:set", ["--no-restart", app, f"{alias}_URL={url}"])
        ctx.verbose("Skipping restart of linked app")
        return code
    return call(ctx, "config:set", [app, f"{alias}_URL={url}"])


def cmd_unlink(ctx: Ctx, stype: ServiceType) -> int:
    service, app = service_and_app(ctx, stype, app_first=False)
    keys = links_to(ctx, service, app)
    service.set_links([linked for linked in service.links() if linked != app])
    set_docker_link(ctx, service, app, present=False)
    if not keys:
        ctx.fail(f"Not linked to app {app}")
    if no_restart(ctx, {}):
        code = call(ctx, "config:unset", ["--no-restart", app, *keys])
        ctx.verbose("Skipping restart of linked app")
        return code
    return call(ctx, "config:unset", [app, *keys])


def cmd_promote(ctx: Ctx, stype: ServiceType) -> int:
    service, app = service_and_app(ctx, stype, app_first=False)
    env = app_env(ctx, app)
    keys = links_to(ctx, service, app)
    default_key = f"{stype.default_alias}_URL"
    if not keys:
        ctx.fail(f"Not linked to app {app}")
    if default_key in keys:
        ctx.fail(f"Service {service.name} already promoted as {default_key}")
    pairs = []
    previous = env.get(default_key, "")
    if previous and not [k for k, v in env.items() if previous in v and k != default_key]:
        pairs.append(f"{choose_alias(ctx, stype, env, '')}_URL={previous}")
    pairs.append(f"{default_key}={env[keys[0]]}")
    return call(ctx, "config:set", [app, *pairs])


def cmd_destroy(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    if service.links():
        ctx.fail("Cannot delete linked service")
    forced = arg(ctx, 1) in ("force", "-f", "--force") or ctx.env.get("DOKKU_APPS_FORCE_DELETE")
    if not forced:
        confirm_destroy(ctx, service)
    ctx.info2(f"Deleting {service.name}")
    unschedule(ctx, service)
    remove_container(ctx, service)
    service.drop_container("ambassador")
    ctx.verbose("Removing data")
    service.destroy_files()
    for key in NETWORK_KEYS:
        ctx.state.prop_delete(stype.kind, service.name, key)
    ctx.info2(f"{stype.label} container deleted: {service.name}")


def confirm_destroy(ctx: Ctx, service: Service) -> None:
    """The plugin's ``read -rp`` confirmation; EOF on stdin ends the command (``set -e``)."""
    ctx.warn("WARNING: Potentially Destructive Action")
    ctx.warn(f"This command will destroy {service.name} {service.stype.label} service.")
    ctx.warn(f'To proceed, type "{service.name}"')
    ctx.out("")
    line = ctx.stdin.readline()
    if not line:
        raise SimExit(1)
    if line.decode(errors="replace").rstrip("\n") != service.name:
        ctx.fail(f"Confirmation did not match {service.name}. Aborted.")


def cmd_start(ctx: Ctx, stype: ServiceType) -> None:
    start_service(ctx, require_service(ctx, stype, arg(ctx, 0)))


def cmd_stop(ctx: Ctx, stype: ServiceType) -> None:
    remove_container(ctx, require_service(ctx, stype, arg(ctx, 0)))


def cmd_pause(ctx: Ctx, stype: ServiceType) -> None:
    pause_service(ctx, require_service(ctx, stype, arg(ctx, 0)))


def cmd_restart(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    pause_service(ctx, service)
    start_service(ctx, service)
    ctx.info1("Please call dokku ps:restart on all linked apps")


PORT_RE = re.compile(r"^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5})$")


def valid_host_port(spec: str) -> bool:
    """``[ip:]port`` as ``docker run -p`` accepts it for the ambassador."""
    match = PORT_RE.match(spec)
    if not match:
        return False
    address, port = match.groups()
    if address and any(int(part) > 255 for part in address.split(".")):
        return False
    return 0 < int(port) < 65536


def cmd_expose(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    wanted = len(stype.ports)
    ports = ctx.args[1:] or [str(1024 + secrets.randbelow(64511)) for _ in range(wanted)]
    if len(ports) != wanted:
        ctx.fail(
            f"{wanted} ports to be exposed need to be provided in the following order: "
            + " ".join(str(port) for port in stype.ports)
        )
    current = service.exposed_ports()
    if current:
        ctx.fail(f"Service {service.name} already exposed on port(s) {' '.join(current)}")
    service.write("PORT", " ".join(ports) + "\n")
    start_service(ctx, service, quiet=True)
    if not valid_host_port(ports[0]):
        # the plugin wrote PORT already; ``docker container run -p`` of the ambassador
        # then refuses the spec and ``set -e`` ends the command with docker's status
        ctx.err(f"docker: invalid hostPort: {ports[0]}.")
        ctx.err("See 'docker run --help'.")
        raise SimExit(125)
    reconcile_ambassador(ctx, service)
    ctx.info1(
        f"Service {service.name} exposed on port(s) [container->host]: {exposed_text(stype, ports)}"
    )


def cmd_unexpose(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    service.remove("PORT")
    reconcile_ambassador(ctx, service)
    ctx.info1(f"Service {service.name} unexposed")


def cmd_set(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    key, value = arg(ctx, 1), arg(ctx, 2)
    if not key:
        ctx.fail("No key specified")
    if key not in NETWORK_KEYS:
        ctx.fail(
            "Invalid key specified, valid keys include: "
            "initial-network, post-create-network, post-start-network"
        )
    if value:
        ctx.info2(f"Setting {key} to {value}")
        ctx.state.prop_set(stype.kind, service.name, key, value)
    else:
        ctx.info2(f"Unsetting {key}")
        ctx.state.prop_delete(stype.kind, service.name, key)


def cmd_logs(ctx: Ctx, stype: ServiceType) -> None:
    """``service_logs``: the count is the 3rd positional; ``-t``/``--tail`` follows the
    log like ``docker logs --follow`` until the container stops."""
    service = require_service(ctx, stype, arg(ctx, 0))
    follow = arg(ctx, 1) in ("-t", "--tail")
    count = arg(ctx, 2) or "all"
    if service.container() is None:
        ctx.fail("Service container does not exist")
    if service.status() != "running":
        ctx.warn("Service logs may not be output as service is not running")
    lines, offset = service.read_log()
    if count != "all":
        if not count.isdigit():
            ctx.err(f'invalid value "{count}" for flag --tail')
            raise SimExit(1)
        lines = lines[len(lines) - int(count) :] if int(count) else []
    ctx.stdout.write("".join(lines).encode())
    ctx.stdout.flush()
    if follow:
        follow_log(ctx, service, offset)


def follow_log(ctx: Ctx, service: Service, offset: int, interval: float = 0.2) -> None:
    """Print lines as the container writes them from byte ``offset`` (the end of what was
    already printed, so a line written in between is not lost); stop once the container
    is no longer running.

    The log file is held open, so the lines written while the container stops are
    still read after ``stop`` has removed it (as a docker log stream would deliver).
    """
    import json
    import time

    from pruvon_testing.sim import containers as docker

    found = service.docker_container()
    if found is None:
        return
    try:
        handle = docker.log_path(ctx.state, found.id).open("rb")
    except FileNotFoundError:
        return
    with handle:
        handle.seek(offset)  # what came before was printed from the same file
        running, pending = True, b""
        while running:
            time.sleep(interval)
            running = service.status() == "running"
            complete, _, pending = (pending + handle.read()).rpartition(b"\n")
            for raw in complete.splitlines():
                try:
                    text = json.loads(raw)["log"]
                except (ValueError, KeyError):
                    continue
                ctx.stdout.write(text.encode())
            ctx.stdout.flush()


def cmd_connect(ctx: Ctx, stype: ServiceType) -> int:
    service = require_service(ctx, stype, arg(ctx, 0))
    docker_exec_check(ctx, service)
    return engines.engine(stype).connect(ctx, service)


def cmd_connect_admin(ctx: Ctx, stype: ServiceType) -> int:
    """mongo's ``connect-admin``: the same console as the ``admin`` user (a plain
    ``docker exec``, so no ``verify_service_name`` message differences)."""
    service = require_service(ctx, stype, arg(ctx, 0))
    docker_exec_check(ctx, service)
    return engines.engine(stype).connect(ctx, service, admin=True)


def docker_exec_check(ctx: Ctx, service: Service) -> None:
    """What ``docker container exec`` says when the container is not up."""
    name = service.stype.container_name(service.name)
    record = service.container()
    if record is None:
        ctx.err(f"Error response from daemon: No such container: {name}")
        raise SimExit(1)
    if record["status"] != "running":
        ctx.err(f"Error response from daemon: container {record['id']} is not running")
        raise SimExit(1)


def cmd_export(ctx: Ctx, stype: ServiceType) -> int:
    service = require_service(ctx, stype, arg(ctx, 0))
    docker_exec_check(ctx, service)
    return engines.engine(stype).export(ctx, service)


def stdin_is_tty(ctx: Ctx) -> bool:
    try:
        return bool(ctx.stdin.isatty())
    except (AttributeError, ValueError):
        return False


def cmd_import(ctx: Ctx, stype: ServiceType) -> int:
    service = require_service(ctx, stype, arg(ctx, 0))
    if stdin_is_tty(ctx):
        ctx.fail("No data provided on stdin.")
    return engines.engine(stype).import_(ctx, service)


def cmd_enter(ctx: Ctx, stype: ServiceType) -> int:
    service = require_service(ctx, stype, arg(ctx, 0))
    ctx.info1("Filesystem changes may not persist after container restarts")
    require_running(ctx, service)
    return engines.run_in_container(ctx, service, ctx.args[1:])


def cmd_clone(ctx: Ctx, stype: ServiceType) -> None:
    name, new_name = required_args(ctx, NAME_MISSING, "Please specify a name for the new service")
    source = require_service(ctx, stype, name)
    if Service(ctx.state, stype, new_name).exists():
        ctx.fail(f"Invalid service name {new_name}. Verify the service name is not already in use.")
    if source.status() != "running":
        ctx.fail(f"Service {name} container is not running")
    flags = ctx.args[2:]
    image, _, version = (source.container() or {}).get("image", source.image).partition(":")
    ctx.info2(f"Cloning {name} to {new_name} @ {image}:{version}")
    target = create_service(ctx, stype, new_name, ["-i", image, "-I", version, *flags])
    ctx.info1(f"Copying data from {name} to {new_name}")
    engines.engine(stype).copy_data(source, target, ctx.env)
    ctx.info2("Done")


# -- backups ----------------------------------------------------------------------------------
def cron_file(ctx: Ctx, service: Service):
    return ctx.state.root / "etc" / "cron.d" / f"dokku-{service.stype.kind}-{service.name}"


def unschedule(ctx: Ctx, service: Service) -> None:
    path = cron_file(ctx, service)
    if path.exists():
        path.unlink()


def cmd_backup_schedule(ctx: Ctx, stype: ServiceType) -> None:
    name, schedule, bucket = required_args(
        ctx, NAME_MISSING, "Please specify a schedule for the backup", BUCKET_MISSING)
    iam = arg(ctx, 3)
    service = require_service(ctx, stype, name)
    if iam and iam not in ("--use-iam", "-u"):
        ctx.fail("Invalid flag provided, only '--use-iam' allowed")
    path = cron_file(ctx, service)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{schedule} dokku {DOKKU_BIN} {stype.kind}:backup {name} {bucket} {iam}\n")
    path.chmod(0o644)


def cmd_backup_schedule_cat(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    path = cron_file(ctx, service)
    if not path.exists():
        ctx.fail(f"There is no scheduled backup for {service.name}.")
    ctx.stdout.write(path.read_bytes())


def cmd_backup_unschedule(ctx: Ctx, stype: ServiceType) -> None:
    unschedule(ctx, require_service(ctx, stype, arg(ctx, 0)))


def cmd_backup_auth(ctx: Ctx, stype: ServiceType) -> None:
    name = required_args(
        ctx, NAME_MISSING, "Please specify an aws access key id",
        "Please specify an aws secret access key")[0]
    service = require_service(ctx, stype, name)
    backup = service.dir / "backup"
    if backup.exists():
        # the plugin uses a bare ``mkdir`` under ``set -e``: coreutils' message, exit 1
        ctx.err(
            f"mkdir: cannot create directory \u2018{stype.host_root(name)}/backup\u2019: File exists"
        )
        raise SimExit(1)
    backup.mkdir()
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    names += ("AWS_SIGNATURE_VERSION", "ENDPOINT_URL")
    for index, filename in enumerate(names, start=1):
        if arg(ctx, index):
            (backup / filename).write_text(arg(ctx, index) + "\n")


def cmd_backup_deauth(ctx: Ctx, stype: ServiceType) -> None:
    import shutil

    service = require_service(ctx, stype, arg(ctx, 0))
    shutil.rmtree(service.dir / "backup", ignore_errors=True)


def encryption_file(service: Service, filename: str):
    return service.dir / "backup-encryption" / filename


def _write_encryption_setting(ctx: Ctx, stype: ServiceType, filename: str, missing: str) -> None:
    """``<name> <value>``: both required (``missing`` names the value), one line in the file."""
    name, value = required_args(ctx, NAME_MISSING, missing)
    path = encryption_file(require_service(ctx, stype, name), filename)
    path.parent.mkdir(exist_ok=True)
    path.write_text(value + "\n")


def cmd_backup_set_encryption(ctx: Ctx, stype: ServiceType) -> None:
    _write_encryption_setting(
        ctx, stype, "ENCRYPTION_KEY", "Please specify a GPG backup passphrase")


def cmd_backup_unset_encryption(ctx: Ctx, stype: ServiceType) -> None:
    import shutil

    service = require_service(ctx, stype, arg(ctx, 0))
    shutil.rmtree(service.dir / "backup-encryption", ignore_errors=True)


def cmd_backup_set_public_key_encryption(ctx: Ctx, stype: ServiceType) -> None:
    _write_encryption_setting(
        ctx, stype, "ENCRYPT_WITH_PUBLIC_KEY_ID",
        "Please specify a valid GPG Public Key ID (or fingerprint)")


def cmd_backup_unset_public_key_encryption(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    path = encryption_file(service, "ENCRYPT_WITH_PUBLIC_KEY_ID")
    if path.exists():
        path.unlink()


def cmd_backup(ctx: Ctx, stype: ServiceType) -> int:
    """``service_backup``: checks, an export, then the s3backup container.

    The simulated host has no S3 (as the reference host had none): the upload
    step fails like the reference capture's s3backup stand-in, listing the
    export it was handed, exit 1.
    """
    name, bucket = required_args(ctx, NAME_MISSING, BUCKET_MISSING)
    iam = arg(ctx, 2)
    service = require_service(ctx, stype, name)
    if not iam:
        if not (service.dir / "backup" / "AWS_ACCESS_KEY_ID").exists():
            ctx.fail("Missing AWS_ACCESS_KEY_ID file")
        if not (service.dir / "backup" / "AWS_SECRET_ACCESS_KEY").exists():
            ctx.fail("Missing AWS_SECRET_ACCESS_KEY file")
    elif iam not in ("--use-iam", "-u"):
        ctx.fail("Provide AWS credentials or use the --use-iam flag")
    require_running(ctx, service)
    size = engines.engine(stype).export_size(service, ctx.env)
    stamp = engines.ls_time(now(ctx.env))
    ctx.err(
        f"s3backup stand-in: would upload {stype.kind}-{name} to s3://{bucket} "
        "(no network in this environment)"
    )
    ctx.err("total 12")
    ctx.err(f"drwx------ 2 1001 1001 4096 {stamp} .")
    ctx.err(f"drwxr-xr-x 1 root root 4096 {stamp} ..")
    ctx.err(f"-rw-r--r-- 1 1001 1001 {size} {stamp} export")
    return 1


def cmd_upgrade(ctx: Ctx, stype: ServiceType) -> None:
    service = require_service(ctx, stype, arg(ctx, 0))
    options = parse_create_flags(ctx, ctx.args[1:])
    image = options.get("image") or stype.image
    version = options.get("image-version") or stype.image_version
    target = f"{image}:{version}"
    current = (service.container() or {}).get("image", service.image)
    if current == target:
        ctx.info1(f"Service {service.name} already running {target}")
        return
    service.write("IMAGE", image + "\n")
    service.write("IMAGE_VERSION", version + "\n")
    ctx.info2(f"Upgrading {service.name} to {target}")
    ctx.info2(f"Stopping {service.name}")
    remove_container(ctx, service)
    start_service(ctx, service)


# -- help and registration ----------------------------------------------------------------------
def cmd_help(ctx: Ctx, stype: ServiceType) -> int:
    sub = arg(ctx, 0)
    if sub and sub != "--all":
        page = helppages.help_subcommand(stype, sub)
        if page is None:
            ctx.err(
                f"cat: /var/lib/dokku/plugins/enabled/{stype.kind}/subcommands/{sub}: "
                "No such file or directory"
            )
            return 1
        ctx.stdout.write(page.encode())
        return 0
    ctx.stdout.write(helppages.help_all(stype).encode())
    return 0


SUBCOMMANDS: dict[str, Handler] = {
    "app-links": cmd_app_links,
    "backup": cmd_backup,
    "backup-auth": cmd_backup_auth,
    "backup-deauth": cmd_backup_deauth,
    "backup-schedule": cmd_backup_schedule,
    "backup-schedule-cat": cmd_backup_schedule_cat,
    "backup-set-encryption": cmd_backup_set_encryption,
    "backup-set-public-key-encryption": cmd_backup_set_public_key_encryption,
    "backup-unschedule": cmd_backup_unschedule,
    "backup-unset-encryption": cmd_backup_unset_encryption,
    "backup-unset-public-key-encryption": cmd_backup_unset_public_key_encryption,
    "clone": cmd_clone,
    "connect": cmd_connect,
    "create": cmd_create,
    "destroy": cmd_destroy,
    "enter": cmd_enter,
    "exists": cmd_exists,
    "export": cmd_export,
    "expose": cmd_expose,
    "import": cmd_import,
    "info": cmd_info,
    "link": cmd_link,
    "linked": cmd_linked,
    "links": cmd_links,
    "list": cmd_list,
    "logs": cmd_logs,
    "pause": cmd_pause,
    "promote": cmd_promote,
    "restart": cmd_restart,
    "set": cmd_set,
    "start": cmd_start,
    "stop": cmd_stop,
    "unexpose": cmd_unexpose,
    "unlink": cmd_unlink,
    "upgrade": cmd_upgrade,
}


EXTRA_SUBCOMMANDS: dict[str, Handler] = {"connect-admin": cmd_connect_admin}


def _bind(handler: Handler, stype: ServiceType) -> Callable[[Ctx], int | None]:
    """A command function for the registry, bound to one service type.

    No global state lock is taken here: link/unlink call ``config:set`` in the
    same process, whose own locking would deadlock on a lock we held.
    """

    def run(ctx: Ctx) -> int | None:
        return handler(ctx, stype)

    run.__name__ = f"{stype.kind}_{handler.__name__}"
    run.__doc__ = handler.__doc__
    return run


def register(stype: ServiceType) -> None:
    """Register ``<kind>``, ``<kind>:help``, every ``<kind>:<subcommand>`` and the
    plugin's triggers."""
    from pruvon_testing.sim.services_triggers import register_triggers

    register_triggers(stype)
    command(stype.kind, f"{stype.kind}:help", f"{stype.kind}:default")(_bind(cmd_help, stype))
    for name, handler in SUBCOMMANDS.items():
        command(f"{stype.kind}:{name}")(_bind(handler, stype))
    for name in helppages.extra_subcommands(stype):
        command(f"{stype.kind}:{name}")(_bind(EXTRA_SUBCOMMANDS[name], stype))
