"""``apps`` / ``apps:*``: Dokku's Go apps plugin (0.38.27), output for output.

Side effects of creating, cloning, renaming and destroying an app that belong to other
Dokku plugins (the ``domains`` vhost default, the random proxy port, nginx rebuilds, the
copy of their properties) are those plugins' trigger handlers, registered by their own
``cmd_*`` modules (``cmd_domains``, ``cmd_ports``, ``cmd_proxy``, ``cmd_storage``, ...)
with :func:`core.on_trigger`; this module only fires the triggers.
"""

from __future__ import annotations

import shutil

from pruvon_testing.sim.core import (
    APP_NAME_ERROR,
    APP_NAME_RE,
    Ctx,
    Flag,
    SimExit,
    call,
    command,
    emit_report,
    fire_trigger,
    go_json,
    go_quote,
    parse_flags,
    split_report_args,
)
from pruvon_testing.sim.envfile import EnvParseError, read_env, write_env
from pruvon_testing.sim.knobs import version_at_least

NO_APPS = "You haven't deployed any applications yet"


# -- shared helpers -------------------------------------------------------------
def lock_path(ctx: Ctx, app: str):
    """``apps`` data dir ``.deploy.lock`` (removed again by a deploy)."""
    return ctx.state.root / "data" / "apps" / app / ".deploy.lock"


def is_locked(ctx: Ctx, app: str) -> bool:
    return lock_path(ctx, app).exists()


def _valid_new_name(ctx: Ctx, app: str) -> None:
    if not app:
        ctx.fail("Please specify an app to run the command on")
    if not APP_NAME_RE.match(app):
        ctx.fail(APP_NAME_ERROR)


def create_app(ctx: Ctx, app: str) -> None:
    """``createApp``: directory, ``created-at`` property, then ``post-create``."""
    _valid_new_name(ctx, app)
    if ctx.state.app_exists(app):
        ctx.fail("Name is already taken")
    ctx.state.home.mkdir(parents=True, exist_ok=True)
    try:  # atomic: of two concurrent creates exactly one wins
        ctx.state.app_dir(app).mkdir()
    except FileExistsError:
        ctx.fail("Name is already taken")
    ctx.info1_quiet(f"Creating {app}...")
    ctx.state.prop_set("apps", app, "created-at", str(int(ctx.state.now())))
    code = fire_trigger(ctx, "post-create", app)
    if code:
        raise SimExit(code)


def destroy_app(ctx: Ctx, app: str, force: bool) -> None:
    """``destroyApp``: confirmation, triggers, container retirement, cleanup."""
    if not force:
        ctx.confirm_destructive(app, "app")
    ctx.info1(f"Destroying {app} (including all add-ons)")
    for trigger in ("pre-delete", "post-delete"):
        code = fire_trigger(ctx, trigger, app, "")
        if code:
            raise SimExit(code)
    ctx.info1("Cleaning up...")
    ctx.info1("Retiring old containers and images")
    _retire(ctx, app)
    shutil.rmtree(ctx.state.app_dir(app), ignore_errors=True)
    shutil.rmtree(lock_path(ctx, app).parent, ignore_errors=True)
    ctx.state.props_destroy(app)
    from pruvon_testing.sim import extracted  # late, like containers above

    extracted.remove(ctx.state, app)


def _retire(ctx: Ctx, app: str) -> None:
    from pruvon_testing.sim import containers  # late: containers imports core helpers

    containers.retire_app_containers(ctx, app)


# -- commands ---------------------------------------------------------------------
@command("apps:create")
def apps_create(ctx: Ctx) -> None:
    _, rest = parse_flags(ctx, "apps:create", ctx.args, [])
    create_app(ctx, rest[0] if rest else "")


@command("apps:destroy")
def apps_destroy(ctx: Ctx) -> None:
    opts, rest = parse_flags(ctx, "apps:destroy", ctx.args, [
        Flag("force", usage="--force: force destroy without confirmation")])
    app = ctx.verify_app(rest[0] if rest else "")
    force = bool(opts["force"]) or ctx.env.get("DOKKU_APPS_FORCE_DELETE") == "1"
    destroy_app(ctx, app, force)


@command("apps:exists")
def apps_exists(ctx: Ctx) -> None:
    _, rest = parse_flags(ctx, "apps:exists", ctx.args, [])
    ctx.verify_app(rest[0] if rest else "")


@command("apps", "apps:list")
def apps_list(ctx: Ctx) -> None:
    """Text list (header on stdout, "no apps" warning on stderr) or a JSON array.

    Dokku < 0.38.21 had no ``--format`` flag: pflag rejects it (exit 2).
    """
    flags = [Flag("format", "string", "stdout", "format: [ stdout | json ]")]
    if not version_at_least(ctx.state, "0.38.21"):
        flags = []
    opts, _ = parse_flags(ctx, "apps:list", ctx.args, flags)
    apps = ctx.state.apps()
    if opts.get("format") == "json":
        ctx.out(go_json(apps))
        return
    ctx.info2_quiet("My Apps")
    if not apps:
        ctx.warn(NO_APPS)
        return
    for app in apps:
        ctx.out(app)


@command("apps:lock")
def apps_lock(ctx: Ctx) -> None:
    _, rest = parse_flags(ctx, "apps:lock", ctx.args, [])
    app = ctx.verify_app(rest[0] if rest else "")
    path = lock_path(ctx, app)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    ctx.info1("Deploy lock created")


@command("apps:locked")
def apps_locked(ctx: Ctx) -> None:
    _, rest = parse_flags(ctx, "apps:locked", ctx.args, [])
    app = ctx.verify_app(rest[0] if rest else "")
    if not is_locked(ctx, app):
        ctx.fail("Deploy lock does not exist")
    ctx.out_quiet("Deploy lock exists")


@command("apps:unlock")
def apps_unlock(ctx: Ctx) -> None:
    _, rest = parse_flags(ctx, "apps:unlock", ctx.args, [])
    app = ctx.verify_app(rest[0] if rest else "")
    path = lock_path(ctx, app)
    if not path.exists():
        ctx.fail("Unable to remove deploy lock")
    ctx.warn("A deploy may be in progress.")
    ctx.warn("Removing the app lock will not stop in progress deploys.")
    path.unlink()
    ctx.info1("Deploy lock removed")


def _rename_args(ctx: Ctx, flagset: str, extra: list[Flag]) -> tuple[dict, str, str]:
    opts, rest = parse_flags(ctx, flagset, ctx.args, [
        Flag("skip-deploy", usage="--skip-deploy: skip deploy of the new app"), *extra])
    old, new = [*rest, "", ""][:2]
    if not old:
        ctx.fail("Please specify an app to run the command on")
    if not new:
        ctx.fail("Please specify an new app name")
    ctx.verify_app(old)
    _valid_new_name(ctx, new)
    return opts, old, new


@command("apps:clone")
def apps_clone(ctx: Ctx) -> None:
    """Create, copy the environment and properties, then rebuild the clone."""
    opts, old, new = _rename_args(ctx, "apps:clone", [
        Flag("ignore-existing", usage="--ignore-existing: exit 0 if the app exists")])
    if ctx.state.app_exists(new):
        if opts["ignore-existing"]:
            ctx.warn("Name is already taken")
            return
        ctx.fail("Name is already taken")
    ctx.info1_quiet(f"Cloning {old} to {new}")
    create_app(ctx, new)
    _copy_app_data(ctx, old, new)
    fire_trigger(ctx, "post-app-clone-setup", old, new)
    _maybe_rebuild(ctx, new, bool(opts["skip-deploy"]))
    fire_trigger(ctx, "post-app-clone", old, new)


@command("apps:rename")
def apps_rename(ctx: Ctx) -> None:
    """Create the new app, move data over, destroy the old one, rebuild."""
    opts, old, new = _rename_args(ctx, "apps:rename", [])
    if ctx.state.app_exists(new):
        ctx.fail("Name is already taken")
    ctx.info1_quiet(f"Renaming {old} to {new}")
    create_app(ctx, new)
    _copy_app_data(ctx, old, new)
    fire_trigger(ctx, "post-app-rename-setup", old, new)
    destroy_app(ctx, old, force=True)
    _maybe_rebuild(ctx, new, bool(opts["skip-deploy"]))
    fire_trigger(ctx, "post-app-rename", old, new)


# Properties copied by their own plugin's ``post-app-clone-setup``/``-rename-setup`` handler
# (registered by the ``cmd_*`` routing modules): copying them up front would change what the
# handlers that run earlier in Dokku's plugin order see (``domains`` would find a copied
# proxy port 80, drop it in ``pre-disable-vhost`` and pick a second random port).
_COPIED_BY_TRIGGERS = frozenset(
    {"apps", "domains", "ports", "proxy", "nginx", "docker-options", "storage"}
)


def _copy_app_data(ctx: Ctx, old: str, new: str) -> None:
    """Environment and the properties of plugins without their own clone/rename handler."""
    try:
        env = read_env(ctx.state, old)
    except EnvParseError as exc:
        ctx.fail(str(exc))
    write_env(ctx.state, new, {**read_env(ctx.state, new), **env})
    base = ctx.state.root / "config"
    for plugin_dir in sorted(base.iterdir()) if base.is_dir() else []:
        source = plugin_dir / old
        if not source.is_dir() or plugin_dir.name in _COPIED_BY_TRIGGERS:
            continue
        for prop in source.iterdir():
            if prop.is_file():
                ctx.state.prop_set(plugin_dir.name, new, prop.name, prop.read_text())
    for key in ("deploy-source", "deploy-source-metadata"):
        value = ctx.state.prop_get("apps", old, key)
        if value:
            ctx.state.prop_set("apps", new, key, value)
    from pruvon_testing.sim import extracted  # the ps / app-json post-app-clone-setup

    extracted.clone(ctx.state, old, new)


def _maybe_rebuild(ctx: Ctx, app: str, skip: bool) -> None:
    """Deploy the copy when the source had code (``git-has-code``) - via ``ps:rebuild``."""
    if skip or not ctx.state.prop_get("apps", app, "deploy-source"):
        return
    from pruvon_testing.sim.core import COMMANDS

    if "ps:rebuild" in COMMANDS:
        call(ctx, "ps:rebuild", [app])


@command("apps:report")
def apps_report(ctx: Ctx) -> None:
    """Human block per app, one value, JSON, or NDJSON (no app name) for all apps."""
    app, info_flag, fmt = report_args(ctx, "apps", ctx.args)
    if not app:
        apps = ctx.state.apps()
        if not apps:
            ctx.warn(NO_APPS)
            return
        for name in apps:
            _report_one(ctx, name, info_flag, fmt)
        return
    _report_one(ctx, app, info_flag, fmt)


def report_args(ctx: Ctx, plugin: str, args: list[str]) -> tuple[str, str, str]:
    """``common.ParseReportArgs`` + pflag: ``(app or "--global", info flag, format)``.

    ``--format F`` takes the next argument, ``--global`` selects the global
    report, any other ``--x`` (even ``--format=json``) is the single info flag.
    """
    tokens = split_report_args(args)
    if len(tokens.info_flags) > 1:
        ctx.fail(f"{plugin}:report command allows only a single flag")
    app = "--global" if tokens.is_global else (tokens.positional[0] if tokens.positional else "")
    fmt = "stdout" if tokens.format is None else tokens.format
    return app, (tokens.info_flags[0] if tokens.info_flags else ""), fmt


def _report_one(ctx: Ctx, app: str, info_flag: str, fmt: str) -> None:
    state = ctx.state
    autocreation = state.prop_get("apps", "--global", "disable-autocreation")
    if app == "--global":
        values = {"--app-global-disable-autocreation": autocreation}
    else:
        ctx.verify_app(app)
        values = {
            "--app-created-at": state.prop_get("apps", app, "created-at").strip(),
            "--app-deploy-source": state.prop_get("apps", app, "deploy-source"),
            "--app-deploy-source-metadata": state.prop_get("apps", app, "deploy-source-metadata"),
            "--app-dir": f"/home/dokku/{app}",
            "--app-global-disable-autocreation": autocreation,
            "--app-locked": "true" if is_locked(ctx, app) else "false",
        }
    if fmt not in ("stdout", "json"):
        ctx.fail(f'Format must be "stdout" or "json": {go_quote(fmt)}')
    if fmt == "json" and info_flag:
        ctx.fail("--format flag cannot be specified when specifying an info flag")
    emit_report(ctx, "app", app, values, info_flag, "" if fmt == "stdout" else fmt)


@command("apps:set")
def apps_set(ctx: Ctx) -> None:
    """``apps:set <app>|--global <key> <value>``: only ``disable-autocreation`` exists,
    and only globally (``CommandSet`` + ``common.CommandPropertySet``)."""
    opts, rest = parse_flags(ctx, "apps:set", ctx.args, [
        Flag("global", usage="--global: set a global property")])
    if opts["global"]:
        app, prop, value = "--global", *[*rest, "", ""][:2]
    else:
        app, prop, value = [*rest, "", "", ""][:3]
    if app != "--global":
        if prop == "disable-autocreation":
            ctx.fail("Property can only be specified globally")
        ctx.verify_app(app)
    elif prop != "disable-autocreation":
        ctx.fail("Property cannot be specified globally")
    if not prop:
        ctx.fail("No property specified")
    if prop != "disable-autocreation":
        ctx.fail("Invalid property specified, valid properties include: disable-autocreation")
    ctx.write_property("apps", app, prop, value)


@command("apps:help")
def apps_help(ctx: Ctx) -> None:
    from pruvon_testing.sim.cmd_help import plugin_usage

    plugin_usage(ctx, "apps")
