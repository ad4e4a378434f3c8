"""``config`` / ``config:*``: Dokku's Go config plugin, output for output.

Environments are stored through :mod:`envfile` (godotenv semantics, bugs
included).  Formats follow ``plugins/config/environment.go``: the default
export is ``exports``; ``shell`` ends with a space and no newline; ``pretty``
and ``config:show`` align on the longest ``KEY:`` with columnize.
"""

from __future__ import annotations

import base64
import binascii
import re

from pruvon_testing.sim.core import (
    Ctx,
    Flag,
    SimExit,
    columnize,
    command,
    fire_trigger,
    go_json,
    parse_flags,
)
from pruvon_testing.sim.envfile import EnvParseError, env_lock, read_env, write_env

_KEY_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*\Z")
_GLOBAL = Flag("global", usage="--global: use the global environment")
_MERGED = Flag("merged", usage="--merged: merge app environment and global environment")
_NO_RESTART = Flag("no-restart", usage="--no-restart: no restart")
_FORMATS = ("docker-args", "docker-args-keys", "envfile", "exports", "json", "json-list",
            "pack-keys", "pretty", "shell")


# -- helpers ------------------------------------------------------------------
def _target(ctx: Ctx, positional: list[str], is_global: bool) -> tuple[str | None, list[str]]:
    """Return (app or None for global, remaining args), verifying the app like Dokku."""
    if is_global:
        return None, positional
    app = positional[0] if positional else ""
    ctx.verify_app(app)
    return app, positional[1:]


def load(ctx: Ctx, app: str | None, merged: bool = False) -> dict[str, str]:
    """``getEnvironment``: a parse error fails the command with godotenv's message."""
    try:
        env = read_env(ctx.state, app)
        if merged and app is not None:
            env = {**read_env(ctx.state, None), **env}
    except EnvParseError as exc:
        ctx.fail(str(exc))
    return env


def _squote(value: str) -> str:
    return value.replace("'", "'\\''")


def _prefixed(env: dict[str, str], prefix: str, separator: str) -> str:
    return separator.join(f"{prefix}{k}='{_squote(env[k])}'" for k in sorted(env))


def pretty(env: dict[str, str], prefix: str = "") -> str:
    """``prettyPrintEnvEntries``: columnized ``KEY:`` / value pairs."""
    return columnize([f"{k}:\x00{env[k]}" for k in sorted(env)], "\x00", prefix=prefix)


def export_text(env: dict[str, str], fmt: str) -> str:
    """``Env.Export`` for one format (without the trailing suffix)."""
    from pruvon_testing.sim.envfile import marshal

    keys = sorted(env)
    if fmt == "exports":
        return _prefixed(env, "export ", "\n")
    if fmt == "envfile":
        return marshal(env)
    if fmt == "docker-args":
        return _prefixed(env, "--env=", " ")
    if fmt == "docker-args-keys":
        return " ".join(f"--env={k}" for k in keys)
    if fmt == "pack-keys":
        return " ".join(f"--env {k}" for k in keys)
    if fmt == "shell":
        return _prefixed(env, "", " ")
    if fmt == "pretty":
        return pretty(env)
    if fmt == "json":
        return go_json(env)
    # json-list: a nil Go slice marshals as null
    return go_json([{"name": k, "value": env[k]} for k in keys], sort_keys=False) if keys else "null"


def set_many(
    ctx: Ctx, app: str | None, entries: dict[str, str], restart: bool, replace: bool = False
) -> None:
    """``config.SetMany``: validate, echo the pairs, write, fire triggers, maybe restart."""
    with env_lock(ctx.state):
        env = load(ctx, app)
        for key in entries:
            if not _KEY_RE.match(key):
                ctx.fail(f"Invalid key name: '{key}'")
        env = {**({} if replace else env), **entries}
        if entries:
            ctx.info1_quiet("Setting config vars")
            if not ctx.quiet:
                ctx.out(pretty(entries, prefix="       "))
            write_env(ctx.state, app, env)
    if entries:
        fire_trigger(ctx, "post-config-update", app or "", "set", *entries)
    if app is not None and restart:
        _restart(ctx, app)


def unset_many(ctx: Ctx, app: str | None, keys: list[str], restart: bool) -> None:
    """``config.UnsetMany``: skipping keys that are not set is not an error."""
    with env_lock(ctx.state):
        env = load(ctx, app)
        for key in keys:
            if not _KEY_RE.match(key):
                ctx.fail(f"Invalid key name: '{key}'")
        changed = False
        for key in keys:
            if key in env:
                ctx.info1_quiet(f"Unsetting {key}")
                del env[key]
                changed = True
            else:
                ctx.info1_quiet(f"Skipping {key}, it is not set in the environment")
        if changed:
            write_env(ctx.state, app, env)
    if changed:
        fire_trigger(ctx, "post-config-update", app or "", "unset", *keys)
    if app is not None and restart:
        _restart(ctx, app)


def _restart(ctx: Ctx, app: str) -> None:
    """``triggerRestart``: only deployed apps whose ps ``restore`` is not false."""
    if ctx.state.prop_get("ps", app, "restore") == "false":
        return
    from pruvon_testing.sim import containers

    if not containers.is_deployed(ctx.state, app):
        return
    ctx.info1(f"Restarting app {app}")
    code = fire_trigger(ctx, "release-and-deploy", app, "", "config-redeploy")
    if code:
        ctx.warn(f"Failure while restarting app: exit status {code}")


# -- commands -------------------------------------------------------------------
@command("config:show")
def config_show(ctx: Ctx) -> None:
    opts, rest = parse_flags(ctx, "config:show", ctx.args, [_GLOBAL, _MERGED])
    _show(ctx, opts, rest)


@command("config")
def config_bare(ctx: Ctx) -> None:
    """Bare ``config``: show, plus the deprecated ``--shell`` / ``--export`` switches."""
    opts, rest = parse_flags(ctx, "config", ctx.args, [
        _GLOBAL, _MERGED,
        Flag("shell", usage="--shell: in a single-line for usage in command-line utilities "
             "[deprecated]"),
        Flag("export", usage="--export: print the env as eval-compatible exports [deprecated]"),
    ])
    _show(ctx, opts, rest)


def _show(ctx: Ctx, opts: dict, rest: list[str]) -> None:
    app, _ = _target(ctx, rest, bool(opts["global"]))
    env = load(ctx, app, bool(opts["merged"]))
    if opts.get("shell") and opts.get("export"):
        ctx.fail("Only one of --shell and --export can be given")
    if opts.get("shell"):
        ctx.warn("Deprecated: Use 'config:export --format shell' instead")
        ctx.out(export_text(env, "shell"), end="")
    elif opts.get("export"):
        ctx.warn("Deprecated: Use 'config:export --format exports' instead")
        ctx.out(export_text(env, "exports"))
    else:
        ctx.info2_quiet(f"{app or 'global'} env vars")
        ctx.out(pretty(env))


@command("config:get")
def config_get(ctx: Ctx) -> None:
    opts, rest = parse_flags(ctx, "config:get", ctx.args, [
        _GLOBAL, Flag("quoted", usage="--quoted: get the value quoted")])
    app, keys = _target(ctx, rest, bool(opts["global"]))
    if not keys:
        ctx.fail("Expected: key")
    if len(keys) != 1:
        ctx.fail(f"Unexpected argument(s): [{' '.join(keys[1:])}]")
    try:
        env = read_env(ctx.state, app)
    except EnvParseError:
        raise SimExit(1) from None  # config.Get swallows the error: silent exit 1
    if not _KEY_RE.match(keys[0]) or keys[0] not in env:
        raise SimExit(1)
    value = env[keys[0]]
    ctx.out(f"'{_squote(value)}'" if opts["quoted"] else value)


@command("config:set")
def config_set(ctx: Ctx) -> None:
    opts, rest = parse_flags(ctx, "config:set", ctx.args, [
        _GLOBAL, Flag("encoded", usage="--encoded: interpret VALUEs as base64"), _NO_RESTART])
    app, pairs = _target(ctx, rest, bool(opts["global"]))
    if not pairs:
        ctx.fail("At least one env pair must be given")
    updated: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            ctx.fail(f"Invalid env pair: {pair}")
        if opts["encoded"]:
            value = _b64decode(ctx, key, value)
        updated[key] = value
    set_many(ctx, app, updated, restart=not opts["no-restart"])


def _b64decode(ctx: Ctx, key: str, value: str) -> str:
    try:
        return base64.b64decode(value.encode(), validate=True).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        bad = next((i for i, c in enumerate(value) if not (c.isalnum() or c in "+/=")),
                   len(value) - len(value) % 4 if len(value) % 4 else 0)
        ctx.fail(f"illegal base64 data at input byte {bad} for key '{key}'")
    return ""


@command("config:unset")
def config_unset(ctx: Ctx) -> None:
    opts, rest = parse_flags(ctx, "config:unset", ctx.args, [_GLOBAL, _NO_RESTART])
    app, keys = _target(ctx, rest, bool(opts["global"]))
    if not keys:
        ctx.fail("At least one key must be given")
    unset_many(ctx, app, keys, restart=not opts["no-restart"])


@command("config:clear")
def config_clear(ctx: Ctx) -> None:
    opts, rest = parse_flags(ctx, "config:clear", ctx.args, [_GLOBAL, _NO_RESTART])
    app, _ = _target(ctx, rest, bool(opts["global"]))
    with env_lock(ctx.state):
        env = load(ctx, app)
        for key in env:
            ctx.info1_quiet(f"Unsetting {key}")
        if env:
            write_env(ctx.state, app, {})
    if env:
        fire_trigger(ctx, "post-config-update", app or "", "clear")
    if app is not None and not opts["no-restart"]:
        _restart(ctx, app)


@command("config:keys")
def config_keys(ctx: Ctx) -> None:
    opts, rest = parse_flags(ctx, "config:keys", ctx.args, [_GLOBAL, _MERGED])
    app, _ = _target(ctx, rest, bool(opts["global"]))
    for key in sorted(load(ctx, app, bool(opts["merged"]))):
        ctx.out(key)


@command("config:export")
def config_export(ctx: Ctx) -> None:
    opts, rest = parse_flags(ctx, "config:export", ctx.args, [
        _GLOBAL, _MERGED,
        Flag("format", "string", "exports", "--format: [ docker-args | docker-args-keys | "
             "exports | envfile | json | json-list | pack-keys | pretty | shell ] which format "
             "to export as)"),
    ])
    app, _ = _target(ctx, rest, bool(opts["global"]))
    env = load(ctx, app, bool(opts["merged"]))
    fmt = str(opts["format"])
    if fmt not in _FORMATS:
        ctx.fail(f"Unknown export format: {fmt}")
    ctx.out(export_text(env, fmt), end=" " if fmt == "shell" else "\n")


@command("config:help")
def config_help(ctx: Ctx) -> None:
    from pruvon_testing.sim.cmd_help import plugin_usage

    plugin_usage(ctx, "config")


@command("config:import")
def config_import(ctx: Ctx) -> None:
    """Set variables from an envfile or JSON object read from FILE or stdin (``-``)."""
    opts, rest = parse_flags(ctx, "config:import", ctx.args, [
        _GLOBAL, _NO_RESTART,
        Flag("replace", usage="--replace: replace existing config vars"),
        Flag("format", "string", "envfile", "--format: [ envfile | json ] which format to "
             "export as)"),
    ])
    app, rest = _target(ctx, rest, bool(opts["global"]))
    filename = rest[0] if rest else ""
    if filename == "-":
        ctx.info1_quiet("Reading config vars from stdin")
    values = _import_source(ctx, filename, str(opts["format"]))
    if not values:
        ctx.fail("No config vars to set")
    for key in sorted(values):
        ctx.info1_quiet(f"Setting config var {key}={values[key]}")
    set_many(ctx, app, values, restart=not opts["no-restart"], replace=bool(opts["replace"]))


def _import_source(ctx: Ctx, filename: str, fmt: str) -> dict[str, str]:
    """``loadFromFile`` / ``loadFromFileJSON``: stdin for ``-``, a missing file is empty."""
    import json
    from pathlib import Path

    from pruvon_testing.sim.envfile import parse

    if fmt not in ("envfile", "json"):
        ctx.fail(f"Unknown format: {fmt}")
    if filename == "-":
        data = ctx.stdin.read().decode("utf-8", "surrogateescape")
    elif filename and Path(filename).is_file():
        data = Path(filename).read_text("utf-8", "surrogateescape")
    elif fmt == "json":
        ctx.fail(f"open {filename}: no such file or directory")
    else:
        return {}
    try:
        values = json.loads(data) if fmt == "json" else parse(data)
    except (ValueError, EnvParseError) as exc:
        ctx.fail(str(exc))
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        ctx.fail("json: cannot unmarshal into Go value of type map[string]string")
    for key in [k for k in values if not _KEY_RE.match(k)]:
        ctx.info1(f"Deleting invalid key {key} from config for {filename}")
        del values[key]
    return values


@command("config:bundle")
def config_bundle(ctx: Ctx) -> None:
    """A tar stream with one file per variable (mode 0600), as ``ExportBundle`` writes."""
    import io
    import tarfile

    opts, rest = parse_flags(ctx, "config:bundle", ctx.args, [_GLOBAL, _MERGED])
    app, _ = _target(ctx, rest, bool(opts["global"]))
    env = load(ctx, app, bool(opts["merged"]))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for key in sorted(env):
            data = env[key].encode("utf-8", "surrogateescape")
            info = tarfile.TarInfo(key)
            info.size, info.mode = len(data), 0o600
            archive.addfile(info, io.BytesIO(data))
    ctx.stdout.write(buffer.getvalue())
    ctx.stdout.flush()
