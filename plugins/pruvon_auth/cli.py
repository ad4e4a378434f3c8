"""``pruvon user|apikey|audit|secret …`` and ``pruvon check``.

These commands run as root (or the ``pruvon`` user) on the host: they act as
the ``system`` actor, and every change is written to the audit log with the
operating-system user who ran it.  Passwords are never taken from the command
line (they would show in ``ps`` and shell history): ``--password-stdin`` reads
exactly one line from standard input, otherwise the password is prompted for
twice without echo.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

import click

from pruvon_core import audit
from pruvon_core.cli import (
    CliContext,
    CliError,
    echo_json,
    echo_table,
    format_config_error,
    format_option,
    pass_ctx,
)
from pruvon_core.config import ROLES, ConfigError, state_dir
from pruvon_core.permissions import SYSTEM, actions, grantable_actions


# --------------------------------------------------------------------------- helpers
def _os_user() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _state() -> Path:
    """The state directory, created 0700 if missing; a clean error when we may not."""
    try:
        return state_dir()
    except OSError as exc:
        raise CliError(
            f"cannot use the state directory: {exc} (run as root or the pruvon user, or set "
            "PRUVON_STATE_DIR)"
        ) from exc


def _audit(action: str, target: str | None, result: str = "ok", **details: Any) -> None:
    """Record a CLI change; a broken audit log is reported, never silently skipped."""
    try:
        audit.record(SYSTEM, action, target, result, os_user=_os_user(), via="cli", **details)
    except OSError as exc:
        click.echo(f"warning: could not write the audit log: {exc}", err=True)


def _edit(fn: Any, *args: Any, **kwargs: Any) -> None:
    """Run a ``users`` edit, turning its errors into clean CLI errors."""
    from pruvon_auth.users import UserError

    try:
        fn(*args, **kwargs)
    except UserError as exc:
        raise CliError(str(exc)) from exc
    except ConfigError as exc:
        raise CliError(format_config_error(exc)) from exc


def read_new_password(username: str, from_stdin: bool) -> str:
    """One line from stdin, or a prompt twice; checked against the policy."""
    from pruvon_auth.passwords import check_policy

    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            raise CliError("--password-stdin: no password on standard input")
    else:
        password = click.prompt(
            f"New password for {username}", hide_input=True, confirmation_prompt=True
        )
    try:
        check_policy(password, username)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    return password


def _hash(password: str) -> str:
    from pruvon_auth.passwords import WeakRoundsRefused, hash_password

    try:
        return hash_password(password)
    except WeakRoundsRefused as exc:
        raise CliError(str(exc)) from exc


def _parse_services(values: tuple[str, ...]) -> dict[str, list[str]]:
    """``--service postgres:blog-db`` (repeatable) → ``{"postgres": ["blog-db"]}``."""
    services: dict[str, list[str]] = {}
    for value in values:
        kind, sep, name = value.partition(":")
        if not sep or not kind or not name:
            raise CliError(f"--service {value!r}: use TYPE:NAME, e.g. postgres:blog-db or redis:*")
        services.setdefault(kind, []).append(name)
    return services


def grant_options(func: Any) -> Any:
    """The grant flags shared by ``add``, ``grant`` and ``revoke``."""
    options = [
        click.option("--app", "apps", multiple=True, help="App name, prefix* or *."),
        click.option("--service", "services", multiple=True, help="TYPE:NAME (NAME may be *)."),
        click.option("--route", "routes", multiple=True, help="Page path; trailing * = prefix."),
        click.option("--can-create-apps", is_flag=True, help="May create apps."),
        click.option("--can-create-services", is_flag=True, help="May create services."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _grants(
    apps: tuple[str, ...],
    services: tuple[str, ...],
    routes: tuple[str, ...],
    can_create_apps: bool,
    can_create_services: bool,
) -> dict[str, Any]:
    return {
        "apps": list(apps),
        "services": _parse_services(services),
        "routes": list(routes),
        "can_create_apps": can_create_apps,
        "can_create_services": can_create_services,
    }


def _has_grants(grants: dict[str, Any]) -> bool:
    return any(grants.values())


# --------------------------------------------------------------------------- user
@click.group("user")
def user_group() -> None:
    """Local users: roles, passwords, grants (edits keep the config's comments)."""


@user_group.command("list")
@format_option
@pass_ctx
def user_list(obj: CliContext, fmt: str) -> None:
    """List users with their role, state and grants (never their hashes)."""
    from pruvon_auth.totp import TotpStore

    totp = TotpStore(_state()).enrolled_users()
    rows = [
        {
            "username": u.username,
            "role": u.role,
            "disabled": u.disabled,
            "totp": u.username in totp,
            "apps": list(u.apps),
            "services": [f"{k}:{n}" for k, names in u.services.items() for n in names],
            "routes": list(u.routes),
            "can_create_apps": u.can_create_apps,
            "can_create_services": u.can_create_services,
            "hosts": None if u.hosts is None else list(u.hosts),
            "source": u.source,
        }
        for u in obj.config().users
    ]
    if fmt == "json":
        echo_json({"users": rows})
        return
    echo_table(rows, ["username", "role", "disabled", "totp", "apps", "services", "routes"])


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password (one line) from stdin.")
@grant_options
@pass_ctx
def user_add(
    obj: CliContext, username: str, role: str, password_stdin: bool, **grant_flags: Any
) -> None:
    """Add a user; the password is prompted for (twice) or read from stdin."""
    from pruvon_auth.users import add_user

    grants = _grants(**grant_flags)
    if role == "admin" and _has_grants(grants):
        raise CliError("admins hold every right; grants apply to the user and viewer roles")
    if role == "viewer" and (grants["can_create_apps"] or grants["can_create_services"]):
        raise CliError("viewers are read-only and cannot be allowed to create apps or services")
    # A missing config file is created by the first ``user add`` (installer bootstrap).
    if obj.store.path.exists() and obj.config().user(username) is not None:
        raise CliError(f"user {username!r} already exists")
    password = read_new_password(username, password_stdin)
    _edit(add_user, obj.store, username, _hash(password), role, **grants)
    _audit("users.add", f"user:{username}", role=role)
    click.echo(f"added {role} {username}")


@user_group.command("remove")
@click.argument("username")
@pass_ctx
def user_remove(obj: CliContext, username: str) -> None:
    """Remove a user, revoke their API keys and forget their TOTP secret."""
    from pruvon_auth.apikeys import ApiKeyStore
    from pruvon_auth.totp import TotpStore
    from pruvon_auth.users import remove_user

    _edit(remove_user, obj.store, username)
    revoked = ApiKeyStore(_state()).revoke_owner(username)
    TotpStore(_state()).disable(username)
    _audit("users.remove", f"user:{username}", revoked_key_ids=[k.id for k in revoked])
    click.echo(f"removed {username}" + (f"; revoked {len(revoked)} API key(s)" if revoked else ""))


@user_group.command("disable")
@click.argument("username")
@pass_ctx
def user_disable(obj: CliContext, username: str) -> None:
    """Disable a user: their sessions, keys, WebSockets and terminals stop at once."""
    _set_disabled(obj, username, True)


@user_group.command("enable")
@click.argument("username")
@pass_ctx
def user_enable(obj: CliContext, username: str) -> None:
    """Enable a disabled user again."""
    _set_disabled(obj, username, False)


def _set_disabled(obj: CliContext, username: str, disabled: bool) -> None:
    from pruvon_auth.users import set_disabled

    verb = "disable" if disabled else "enable"
    _edit(set_disabled, obj.store, username, disabled)
    _audit(f"users.{verb}", f"user:{username}")
    click.echo(f"{verb}d {username}")


@user_group.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password (one line) from stdin.")
@pass_ctx
def user_passwd(obj: CliContext, username: str, password_stdin: bool) -> None:
    """Set a new password; the user's existing sessions end."""
    from pruvon_auth.users import set_password

    if obj.config().user(username) is None:
        raise CliError(f"no user {username!r}")
    password = read_new_password(username, password_stdin)
    _edit(set_password, obj.store, username, _hash(password))
    _audit("users.passwd", f"user:{username}")
    click.echo(f"password of {username} changed")


@user_group.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@pass_ctx
def user_role(obj: CliContext, username: str, role: str) -> None:
    """Change a user's role (the last enabled admin cannot be demoted)."""
    from pruvon_auth.users import set_role

    _edit(set_role, obj.store, username, role)
    _audit("users.role", f"user:{username}", role=role)
    click.echo(f"{username} is now {role}")


@user_group.command("grant")
@click.argument("username")
@grant_options
@pass_ctx
def user_grant(obj: CliContext, username: str, **grant_flags: Any) -> None:
    """Grant apps, services, routes or creation rights."""
    from pruvon_auth.users import grant

    _change_grants(obj, username, grant_flags, grant, "grant", "granted to")


@user_group.command("revoke")
@click.argument("username")
@grant_options
@pass_ctx
def user_revoke(obj: CliContext, username: str, **grant_flags: Any) -> None:
    """Remove grants given exactly as they are in the config."""
    from pruvon_auth.users import revoke

    _change_grants(obj, username, grant_flags, revoke, "revoke", "revoked from")


def _change_grants(obj: CliContext, username: str, grant_flags: dict[str, Any], edit: Any,
                   verb: str, done: str) -> None:
    """``user grant`` / ``user revoke``: refuse an empty change, edit, audit, confirm."""
    grants = _grants(**grant_flags)
    if not _has_grants(grants):
        raise CliError(f"nothing to {verb}: give --app, --service, --route or --can-create-*")
    _edit(edit, obj.store, username, **grants)
    _audit(f"users.{verb}", f"user:{username}", grants=grants)
    click.echo(f"{done} {username}")


@user_group.command("hosts")
@click.argument("username")
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every host (the default): lift the limit.")
@pass_ctx
def user_hosts(obj: CliContext, username: str, names: tuple[str, ...], every: bool) -> None:
    """Limit a user's grants to the hosts NAMES (see pruvon hosts list), or --all."""
    from pruvon_auth.users import set_hosts

    if every == bool(names):
        raise click.UsageError("give the host names, or --all for every host")
    _edit(set_hosts, obj.store, username, None if every else list(names))
    _audit("users.hosts", f"user:{username}", hosts="*" if every else list(names))
    where = "every host" if every else ", ".join(dict.fromkeys(names)) + " only"
    click.echo(f"{username}: grants apply on {where}")


@user_group.command("totp-reset")
@click.argument("username")
@pass_ctx
def user_totp_reset(obj: CliContext, username: str) -> None:
    """Remove a user's TOTP (lost device); they can enrol again after signing in."""
    from pruvon_auth.totp import TotpStore

    if obj.config().user(username) is None:
        raise CliError(f"no user {username!r}")
    if not TotpStore(_state()).disable(username):
        raise CliError(f"{username} has no TOTP enrolled")
    _audit("users.totp_reset", f"user:{username}")
    click.echo(f"TOTP removed for {username}")


# --------------------------------------------------------------------------- apikey
@click.group("apikey")
def apikey_group() -> None:
    """API keys: scoped, expiring, shown once, stored hashed."""


def _owner(obj: CliContext, username: str | None) -> Any:
    config = obj.config()
    if username:
        record = config.user(username)
        if record is None:
            raise CliError(f"no user {username!r}")
        if record.disabled:
            raise CliError(f"{username} is disabled")
        return record
    admins = [u for u in config.users if u.role == "admin" and u.enabled]
    if len(admins) != 1:
        raise CliError("name the key's owner with --user USERNAME")
    return admins[0]


@apikey_group.command("create")
@click.option("--scope", "scopes", multiple=True, required=True, help="Action name; repeat.")
@click.option("--expires", default="90d", show_default=True, help="30d, 12h, 2w, 1y, a date, never.")
@click.option("--user", "username", default=None, help="Owner (default: the only admin).")
@click.option("--name", default="", help="A label to recognise the key by.")
@format_option
@pass_ctx
def apikey_create(
    obj: CliContext, scopes: tuple[str, ...], expires: str, username: str | None, name: str, fmt: str
) -> None:
    """Create a key and print it ONCE; only its hash is kept."""
    from pruvon_auth.apikeys import ApiKeyScopeError, ApiKeyStore, parse_expiry

    owner = _owner(obj, username)
    unknown = sorted(set(scopes) - set(actions()))
    if unknown:
        raise CliError(f"unknown action(s): {', '.join(unknown)} (see `pruvon apikey scopes`)")
    try:
        expires_at = parse_expiry(expires)
        token, key = ApiKeyStore(_state()).create(
            owner.username, scopes, expires_at, name=name, allowed=grantable_actions(owner)
        )
    except (ApiKeyScopeError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    _audit("apikeys.create", f"apikey:{key.id}", owner=owner.username, scopes=list(key.scopes))
    if fmt == "json":
        echo_json({"token": token, "apikey": key.as_dict()})
        return
    click.echo(token)
    click.echo(
        f"API key {key.prefix} for {key.owner} ({', '.join(key.scopes)}), expires "
        f"{key.as_dict()['expires_at'] or 'never'}. Store it now: it is not shown again.",
        err=True,
    )


@apikey_group.command("list")
@click.option("--user", "username", default=None, help="Only this owner's keys.")
@format_option
def apikey_list(username: str | None, fmt: str) -> None:
    """List keys (prefix, owner, scopes, dates); never the keys themselves."""
    from pruvon_auth.apikeys import ApiKeyStore

    rows = [k.as_dict() for k in ApiKeyStore(_state()).list(owner=username)]
    if fmt == "json":
        echo_json({"apikeys": rows})
        return
    echo_table(
        rows,
        ["id", "name", "owner", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"],
    )


@apikey_group.command("revoke")
@click.argument("key_id")
def apikey_revoke(key_id: str) -> None:
    """Revoke a key by id or prefix; it stops working on its next use."""
    from pruvon_auth.apikeys import ApiKeyNotFound, ApiKeyStore

    try:
        key = ApiKeyStore(_state()).revoke(key_id)
    except ApiKeyNotFound as exc:
        raise CliError(str(exc)) from exc
    _audit("apikeys.revoke", f"apikey:{key.id}", owner=key.owner)
    click.echo(f"revoked {key.prefix}")


@apikey_group.command("scopes")
@click.option("--user", "username", default=None, help="Only what this user may delegate.")
@format_option
@pass_ctx
def apikey_scopes(obj: CliContext, username: str | None, fmt: str) -> None:
    """List the actions a key can be scoped to."""
    allowed = grantable_actions(_owner(obj, username)) if username else set(actions())
    rows = [
        {"action": a.name, "read_only": a.read_only, "description": a.description}
        for a in sorted(actions().values(), key=lambda a: a.name)
        if a.name in allowed
    ]
    if fmt == "json":
        echo_json({"scopes": rows})
        return
    echo_table(rows, ["action", "read_only", "description"])


# --------------------------------------------------------------------------- audit
def audit_filters(func: Any) -> Any:
    """The filters shared by ``pruvon audit`` and ``pruvon audit list``."""
    options = [
        click.option("--user", default=None, help="Entries by this user or their API keys."),
        click.option("--actor", default=None, help="Exact actor, e.g. system or apikey:ID."),
        click.option("--action", default=None, help="Exact action or prefix*, e.g. users.*"),
        click.option("--result", type=click.Choice(audit.RESULTS), default=None),
        click.option("--since", default=None, help="30m, 2h, 7d, 1w or an ISO date."),
        click.option("--limit", type=click.IntRange(1), default=None, help="Only the newest N."),
        format_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _show_audit(fmt: str, since: str | None, **filters: Any) -> None:
    try:
        when = audit.parse_since(since) if since else None
    except ValueError as exc:
        raise CliError(str(exc), 2) from exc
    rows = [e.as_dict() for e in audit.read(since=when, **filters)]
    if fmt == "json":
        echo_json({"events": rows})
        return
    echo_table(rows, ["time", "actor", "action", "target", "result", "source_ip"])


@click.group("audit", invoke_without_command=True)
@audit_filters
@click.pass_context
def audit_group(ctx: click.Context, fmt: str, since: str | None, **filters: Any) -> None:
    """The audit log of logins and changes ('pruvon audit' = 'pruvon audit list')."""
    if ctx.invoked_subcommand is None:
        _show_audit(fmt, since, **filters)


@audit_group.command("list")
@audit_filters
def audit_list(fmt: str, since: str | None, **filters: Any) -> None:
    """Show audit entries, oldest first."""
    _show_audit(fmt, since, **filters)


# --------------------------------------------------------------------------- secret
@click.group("secret")
def secret_group() -> None:
    """The session signing secret."""


@secret_group.command("rotate")
def secret_rotate() -> None:
    """Replace the session signing secret: everybody is signed out."""
    from pruvon_auth.sessions import rotate_session_secret

    rotate_session_secret(_state())
    _audit("secret.rotate", "session-secret")
    click.echo("session secret rotated; every session has ended")


# --------------------------------------------------------------------------- check
@click.command("check")
@click.option("--strict", is_flag=True, help="Also exit 1 on warnings.")
@click.option("--url", "url", metavar="URL",
              help="Check the running service at URL instead (as operators reach it: through "
                   "the proxy, HTTPS, WebSocket upgrades).")
@click.option("--insecure", is_flag=True, help="With --url: accept a self-signed certificate.")
@format_option
@pass_ctx
def check_command(obj: CliContext, strict: bool, url: str | None, insecure: bool,
                  fmt: str) -> None:
    """Security self-audit. Exit 0 when nothing high (or, with --strict, warn) is found."""
    from pruvon_auth.check import exit_code, run_checks

    if insecure and url is None:
        raise click.UsageError("--insecure goes with --url")
    if url is not None:
        from pruvon_auth.urlcheck import BadUrl, check_url

        try:
            findings = check_url(url, insecure)
        except BadUrl as exc:
            raise click.UsageError(str(exc)) from None
    else:
        findings = run_checks(Path(obj.config_file), state_dir(create=False))
    code = exit_code(findings, strict)
    if fmt == "json":
        echo_json({"ok": code == 0, "findings": [f.as_dict() for f in findings]})
    elif not findings:
        click.echo("no findings")
    else:
        echo_table([f.as_dict() for f in findings], ["severity", "id", "message", "fix"])
    sys.exit(code)


def register(cli: click.Group) -> None:
    """Add this plugin's commands to the root group."""
    for command in (user_group, apikey_group, audit_group, secret_group, check_command):
        cli.add_command(command)
