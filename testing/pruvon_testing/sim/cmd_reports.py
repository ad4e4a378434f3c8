"""Reports and small property commands of the builder, builds, checks, resource,
scheduler, cron, network, registry, app-json and events plugins.

Each ``*_values`` function returns the report's info flags (``--<plugin>-<key>``)
with their values; :func:`reports.run_report` renders them as Dokku does
(text block, single flag, or JSON with and without the plugin prefix - checks
and git emit only the unprefixed keys).  Defaults are the values the captures
show for a fresh app on Dokku 0.38.27.
"""

from __future__ import annotations

from pruvon_testing.sim import containers, routing
from pruvon_testing.sim.core import Ctx, Flag, command, emit_report, go_json, parse_flags
from pruvon_testing.sim.reports import GLOBAL, property_commands


def _triplet(ctx: Ctx, plugin: str, app: str, key: str, default: str = "") -> dict[str, str]:
    """App value, global value and the computed one (app, else global, else default)."""
    value = ctx.state.prop_get(plugin, app, key)
    global_value = ctx.state.prop_get(plugin, GLOBAL, key)
    return {
        f"--{plugin}-{key}": value,
        f"--{plugin}-global-{key}": global_value,
        f"--{plugin}-computed-{key}": value or global_value or default,
    }


# -- builder ----------------------------------------------------------------------------

BUILDER_KEYS = ("build-dir", "selected", "skip-cleanup")


def builder_values(ctx: Ctx, app: str) -> dict[str, str]:
    values: dict[str, str] = {}
    values.update(_triplet(ctx, "builder", app, "build-dir"))
    values.update(_triplet(ctx, "builder", app, "selected"))
    values.update(_triplet(ctx, "builder", app, "skip-cleanup", "false"))
    built = ctx.state.prop_get("sim-image", app, "image")
    values["--builder-detected"] = "dockerfile" if built else ""
    return values


property_commands("builder", builder_values, BUILDER_KEYS)


# -- builds -----------------------------------------------------------------------------

BUILDS_HELP = [
    ("builds:cancel <app>", "Cancel a running build for an app"),
    ("builds:info <app> <build-id> [--format json|stdout]", "Show details for a single build"),
    (
        "builds:list [<app>] [--format json] [--kind build|deploy] [--status <status>]",
        "List builds",
    ),
    ("builds:output <app> [<build-id>|current]", "Show build output"),
    ("builds:prune <app> [--all-apps]", "Prune build records to retention"),
    ("builds:report [<app>] [<flag>]", "Display a build report for one or more apps"),
    ("builds:set [--global|<app>] <key> [<value>]", "Set or clear a builds property"),
]


routing.help_commands("builds", "Manage running and historical builds", BUILDS_HELP)


@command("builds:list")
def builds_list(ctx: Ctx) -> int:
    """Deploys in the simulator finish within the command: nothing is ever running."""
    flags = [
        Flag("format", "string", "stdout", "format: [ stdout | json ]"),
        Flag("kind", "string", "", "kind: build or deploy"),
        Flag("status", "string", "", "status: filter by status"),
    ]
    opts, positional = parse_flags(ctx, "builds:list", ctx.args, flags)
    if positional:
        ctx.require_app(positional[0])
    if opts["format"] == "json":
        ctx.out("[]")
        return 0
    ctx.out("No builds currently running")
    return 0


@command("builds:cancel")
def builds_cancel(ctx: Ctx) -> int:
    app = ctx.require_app(ctx.args[0] if ctx.args else None)
    ctx.info1(f"No build currently running for {app}")
    return 0


# -- checks -----------------------------------------------------------------------------


def checks_values(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state
    values = _triplet(ctx, "checks", app, "wait-to-retire", "60")
    values["--checks-disabled-list"] = state.prop_get("checks", app, "disabled") or "none"
    values["--checks-skipped-list"] = state.prop_get("checks", app, "skipped") or "none"
    return values


property_commands("checks", checks_values, ("wait-to-retire",), legacy_prefix=False)


def _checks_toggle(ctx: Ctx, key: str, verb: str) -> int:
    app = ctx.require_app(ctx.args[0] if ctx.args else None)
    types = ctx.args[1] if len(ctx.args) > 1 else "_all_"
    ctx.info1(f"{verb} {types} checks for app {app}")
    if verb in ("Disabling", "Skipping"):
        ctx.state.prop_set("checks", app, key, types)
    else:
        ctx.state.prop_delete("checks", app, "disabled")
        ctx.state.prop_delete("checks", app, "skipped")
    return 0


@command("checks:disable")
def checks_disable(ctx: Ctx) -> int:
    return _checks_toggle(ctx, "disabled", "Disabling")


@command("checks:skip")
def checks_skip(ctx: Ctx) -> int:
    return _checks_toggle(ctx, "skipped", "Skipping")


@command("checks:enable")
def checks_enable(ctx: Ctx) -> int:
    return _checks_toggle(ctx, "disabled", "Enabling")


# -- resource ---------------------------------------------------------------------------

RESOURCES = ("cpu", "memory", "memory-swap", "network", "network-ingress", "network-egress",
             "nvidia-gpu")
RESOURCE_USAGE = {
    "cpu": "cpu: The amount of cpu to limit processes by",
    "memory": "memory: The amount of memory to limit processes by",
    "memory-swap": "memory-swap: The amount of swap memory to limit processes by",
    "network": "network: The amount of network bandwidth to limit processes by",
    "network-ingress": "network-ingress: The amount of ingress network bandwidth to limit "
    "processes by",
    "network-egress": "network-egress: The amount of egress network bandwidth to limit "
    "processes by",
    "nvidia-gpu": "nvidia-gpu: The number of Nvidia GPUs to limit a process to",
}
DEFAULT_TYPE = "_default_"


def _resource_flags(kind: str) -> list[Flag]:
    usage = {k: v if kind == "limit" else v.replace("limit", "reserve") for k, v in
             RESOURCE_USAGE.items()}
    flags = [Flag(name, "string", "", usage[name]) for name in RESOURCES]
    flags.append(Flag("process-type", "string", "", "process-type: A process type to manage"))
    return flags


def _resource_key(process_type: str, kind: str, name: str) -> str:
    return f"{process_type}.{kind}.{name}"


def _resource_command(ctx: Ctx, kind: str) -> int:
    """``resource:limit`` / ``resource:reserve``: show, or set the given values."""
    opts, positional = parse_flags(ctx, f"resource:{kind}", ctx.args, _resource_flags(kind))
    app = ctx.require_app(positional[0] if positional else None)
    process_type = str(opts["process-type"]) or DEFAULT_TYPE
    label = "defaults" if process_type == DEFAULT_TYPE else process_type
    noun = "limits" if kind == "limit" else "reservation"
    given = {name: str(opts[name]) for name in RESOURCES if opts[name]}
    if not given:
        ctx.info2(f"resource {noun} {app} information [{label}]")
        for name in RESOURCES:
            value = ctx.state.prop_get("resource", app, _resource_key(process_type, kind, name))
            ctx.verbose(f"{name}: {value}")
        return 0
    ctx.info2(f"Setting resource {noun} for {app}")
    for name in RESOURCES:
        if name in given:
            ctx.state.prop_set("resource", app, _resource_key(process_type, kind, name),
                               given[name])
            ctx.verbose(f"{name}: {given[name]}")
    return 0


def _resource_clear(ctx: Ctx, kind: str) -> int:
    flags = [Flag("process-type", "string", "", "process-type: A process type to manage")]
    opts, positional = parse_flags(ctx, f"resource:{kind}-clear", ctx.args, flags)
    app = ctx.require_app(positional[0] if positional else None)
    process_type = str(opts["process-type"])
    noun = "limits" if kind == "limit" else "reservation"
    ctx.info2(f"clearing {app} {noun}")
    directory = ctx.state.prop_dir("resource", app)
    if directory.is_dir():
        for item in directory.iterdir():
            ptype, _, rest = item.name.partition(".")
            if rest.startswith(f"{kind}.") and (not process_type or ptype == process_type):
                item.unlink()
    return 0


@command("resource:limit")
def resource_limit(ctx: Ctx) -> int:
    return _resource_command(ctx, "limit")


@command("resource:reserve")
def resource_reserve(ctx: Ctx) -> int:
    return _resource_command(ctx, "reserve")


@command("resource:limit-clear")
def resource_limit_clear(ctx: Ctx) -> int:
    return _resource_clear(ctx, "limit")


@command("resource:reserve-clear")
def resource_reserve_clear(ctx: Ctx) -> int:
    return _resource_clear(ctx, "reserve")


def resource_values(ctx: Ctx, app: str) -> dict[str, str]:
    directory = ctx.state.prop_dir("resource", app)
    if not directory.is_dir():
        return {}
    return {
        f"--resource-{item.name}": item.read_text()
        for item in sorted(directory.iterdir())
        if item.is_file() and not item.name.startswith(".")
    }


@command("resource:report")
def resource_report(ctx: Ctx) -> int:
    """Only the values that are set, labels in lower case (``resource _default_ limit memory``)."""
    args = [a for a in ctx.args if a not in ("--format", "json", "stdout")]
    fmt = "json" if "--format" in ctx.args and "json" in ctx.args else "stdout"
    info_flag = next((a for a in args if a.startswith("--")), "")
    positional = [a for a in args if not a.startswith("--")]
    apps = positional[:1] or ctx.state.apps()
    for app in apps:
        ctx.require_app(app)
        emit_report(ctx, "resource", app, resource_values(ctx, app), info_flag, fmt,
                    uppercase_first=False)
    return 0


# -- scheduler ----------------------------------------------------------------------------


def scheduler_values(ctx: Ctx, app: str) -> dict[str, str]:
    values = _triplet(ctx, "scheduler", app, "selected", "docker-local")
    values.update(_triplet(ctx, "scheduler", app, "shell"))
    return values


property_commands("scheduler", scheduler_values, ("selected", "shell"))


# -- cron ---------------------------------------------------------------------------------


def cron_values(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state
    values: dict[str, str] = {}
    for key in ("mailfrom", "mailto"):
        global_value = state.prop_get("cron", GLOBAL, key)
        values[f"--cron-global-{key}"] = global_value
        values[f"--cron-computed-{key}"] = global_value
    values.update(_triplet(ctx, "cron", app, "maintenance", "false"))
    values["--cron-task-count"] = "0"
    return values


def cron_global_values(ctx: Ctx) -> dict[str, str]:
    """``cron:report --global``: Go's report keeps only the computed and global keys."""
    values: dict[str, str] = {}
    for key, default in (("mailfrom", ""), ("mailto", ""), ("maintenance", "false")):
        global_value = ctx.state.prop_get("cron", GLOBAL, key)
        values[f"--cron-global-{key}"] = global_value
        values[f"--cron-computed-{key}"] = global_value or default
    return values


property_commands("cron", cron_values, ("mailfrom", "mailto", "maintenance"),
                  global_collect=cron_global_values)


@command("cron:list")
def cron_list(ctx: Ctx) -> int:
    """The simulated images carry no app.json cron tasks: header only, or ``[]``."""
    flags = [Flag("format", "string", "stdout", "format: [ stdout | json ]")]
    opts, positional = parse_flags(ctx, "cron:list", ctx.args, flags)
    ctx.require_app(positional[0] if positional else None)
    if opts["format"] == "json":
        ctx.out(go_json([]))
        return 0
    ctx.out("ID  Schedule  Concurrency  Maintenance  Command")
    return 0


# -- network ------------------------------------------------------------------------------


def network_values(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state
    values: dict[str, str] = {}
    for key in ("attach-post-create", "attach-post-deploy", "initial-network", "tld"):
        values.update(_triplet(ctx, "network", app, key))
    bind = state.prop_get("network", app, "bind-all-interfaces") or "true"
    global_bind = state.prop_get("network", GLOBAL, "bind-all-interfaces")
    values["--network-bind-all-interfaces"] = bind
    values["--network-global-bind-all-interfaces"] = global_bind
    values["--network-computed-bind-all-interfaces"] = bind or global_bind or "false"
    values["--network-static-web-listener"] = state.prop_get("network", app, "static-web-listener")
    listeners = routing.web_listeners(state, app) if containers.is_deployed(state, app) else []
    values["--network-web-listeners"] = " ".join(listeners)
    return values


property_commands("network", network_values, (
    "attach-post-create", "attach-post-deploy", "bind-all-interfaces", "initial-network",
    "static-web-listener", "tld",
))


# -- registry -----------------------------------------------------------------------------


def registry_values(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state
    values: dict[str, str] = {}
    image_repo = state.prop_get("registry", app, "image-repo")
    values["--registry-image-repo"] = image_repo
    values["--registry-computed-image-repo"] = image_repo or f"dokku/{app}"
    values.update(_triplet(ctx, "registry", app, "image-repo-template"))
    values.update(_triplet(ctx, "registry", app, "push-extra-tags"))
    values.update(_triplet(ctx, "registry", app, "push-on-release", "false"))
    values.update(_triplet(ctx, "registry", app, "server"))
    values["--registry-tag-version"] = state.prop_get("registry", app, "tag-version")
    return values


property_commands("registry", registry_values, (
    "image-repo", "image-repo-template", "push-extra-tags", "push-on-release", "server",
))


# -- app-json -----------------------------------------------------------------------------


def app_json_values(ctx: Ctx, app: str) -> dict[str, str]:
    return _triplet(ctx, "app-json", app, "appjson-path", "app.json")


property_commands("app-json", app_json_values, ("appjson-path",))


# -- events -------------------------------------------------------------------------------

LOGGED_EVENTS = ("post-create", "post-delete", "post-deploy", "post-release-builder")


def _events_enabled(ctx: Ctx) -> bool:
    return ctx.state.prop_get("events", GLOBAL, "enabled") == "true"


@command("events")
def events(ctx: Ctx) -> int:
    """The events log; the simulator records none, so it is empty either way."""
    return 0


@command("events:list")
def events_list(ctx: Ctx) -> int:
    if not _events_enabled(ctx):
        ctx.warn("Events logger disabled")
        return 0
    ctx.info2_quiet("Events currently logged")
    for name in LOGGED_EVENTS:
        ctx.out(name)
    return 0


@command("events:on")
def events_on(ctx: Ctx) -> int:
    ctx.info1("Enabling dokku events logger")
    ctx.state.prop_set("events", GLOBAL, "enabled", "true")
    return 0


@command("events:off")
def events_off(ctx: Ctx) -> int:
    ctx.info1("Disabling dokku events logger")
    ctx.state.prop_delete("events", GLOBAL, "enabled")
    return 0
