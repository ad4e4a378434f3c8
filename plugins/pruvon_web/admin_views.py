"""Admin pages: users and their grants, API keys, and the audit log (``/logs``).

Each view checks its action through ``permissions.check`` (the menu hides what
is not allowed, but the check here is what counts), writes an audit entry for
every change, and re-renders its form with a specific message on bad input.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request

from pruvon_core.files import DiskFull
from pruvon_web import usersedit
from pruvon_web.context import web_state
from pruvon_web.security import Identity, audit_event
from pruvon_web.usersedit import Grants, UserEditError
from pruvon_web.views import allowed, render_error

bp = Blueprint("admin", __name__)

MAX_KEY_DAYS = 365
AUDIT_PAGE = 200


def _denied(action: str) -> Any:
    return render_error(403, f"Your account may not do this ({action}).")


def grants_from_form(form: Any) -> Grants:
    return Grants(
        apps=usersedit.split_list(form.get("apps", "")),
        services=usersedit.parse_services(form.get("services", "")),
        routes=usersedit.split_list(form.get("routes", "")),
        can_create_apps=form.get("can_create_apps") == "on",
        can_create_services=form.get("can_create_services") == "on",
    )


# --------------------------------------------------------------------------- users
@bp.route("/settings/users", methods=["GET", "POST"])
def users() -> Any:
    identity: Identity = g.identity
    if not allowed(identity, "users.read"):
        return _denied("users.read")
    status, form = 200, {}
    if request.method == "POST":
        if not allowed(identity, "users.write"):
            return _denied("users.write")
        form = request.form.to_dict()
        username = form.get("username", "").strip()
        try:
            usersedit.create_user(
                web_state().store, username, form.get("password", ""),
                form.get("role", "user"), grants_from_form(request.form),
            )
        except UserEditError as exc:
            flash(f"User not created: {exc}", "error")
            status = exc.status
        else:
            audit_event(identity.actor, "users.create", f"user:{username}", "ok",
                        role=form.get("role"))
            flash(f"User {username} created.", "success")
            return redirect("/settings/users")
    return _users_page(form, status)


def _users_page(form: dict[str, Any], status: int) -> Any:
    from pruvon_auth.public import TotpStore

    state = web_state()
    totp = TotpStore(state.state_dir)
    rows = [
        {**usersedit.user_summary(u), "totp": totp.enrolled(u.username)}
        for u in state.config().users
    ]
    form.pop("password", None)
    return render_template(
        "users.html", users=rows, form=form, can_write=allowed(g.identity, "users.write")
    ), status


@bp.route("/settings/users/<username>", methods=["GET", "POST"])
def user_edit(username: str) -> Any:
    identity: Identity = g.identity
    if not allowed(identity, "users.read"):
        return _denied("users.read")
    record = web_state().config().user(username)
    if record is None:
        return render_error(404, f"No user named {username!r}.")
    status = 200
    if request.method == "POST":
        if not allowed(identity, "users.write"):
            return _denied("users.write")
        status = _user_post(identity, username)
        if status == 303:
            return redirect(f"/settings/users/{username}", code=303)
        record = web_state().config().user(username) or record
    from pruvon_auth.public import TotpStore

    return render_template(
        "user_edit.html", user=usersedit.user_summary(record),
        totp=TotpStore(web_state().state_dir).enrolled(username),
        services_text=usersedit.format_services(record.services),
        can_write=allowed(identity, "users.write"), is_self=username == identity.record.username,
    ), status


def _form_original() -> dict[str, Any] | None:
    """The user as the edit form showed it (its hidden ``original``), if sent and sound."""
    try:
        original = json.loads(request.form.get("original", ""))
    except ValueError:
        return None
    return original if isinstance(original, dict) else None


def _user_post(identity: Identity, username: str) -> int:
    """Apply one edit form (save, disable, enable, delete); 303 on success."""
    op = request.form.get("op", "save")
    store = web_state().store
    try:
        if op == "save":
            usersedit.update_user(
                store, username, request.form.get("role", ""),
                request.form.get("disabled") == "on", grants_from_form(request.form),
                request.form.get("password", ""), original=_form_original(),
            )
        elif op in ("disable", "enable"):
            usersedit.set_disabled(store, username, op == "disable")
        elif op == "delete":
            usersedit.delete_user(store, username)
        elif op == "reset_totp":
            from pruvon_auth.public import TotpStore

            if not TotpStore(web_state().state_dir).disable(username):
                raise UserEditError(f"{username} does not use two-factor authentication")
        else:
            raise UserEditError(f"unknown operation {op!r}")
    except UserEditError as exc:
        flash(f"Not saved: {exc}", "error")
        return exc.status
    audit_event(identity.actor, f"users.{op}", f"user:{username}", "ok",
                password_changed=bool(request.form.get("password")))
    flash(f"User {username}: {op} done.", "success")
    return 303


# --------------------------------------------------------------------------- API keys
@bp.route("/settings/apikeys", methods=["GET", "POST"])
def apikeys() -> Any:
    identity: Identity = g.identity
    if not allowed(identity, "apikeys.write"):
        return _denied("apikeys.write")
    status, created = 200, None
    if request.method == "POST":
        op = request.form.get("op", "create")
        if op == "revoke":
            status = _revoke_key(identity, request.form.get("key_id", ""))
        elif op == "create":
            status, created = _create_key(identity)
        else:
            flash(f"Unknown operation {op!r}.", "error")
            status = 400
    return _apikeys_page(identity, created, status)


def _apikeys_page(identity: Identity, created: Any, status: int) -> Any:
    from pruvon_auth.public import ApiKeyStore

    from pruvon_core.permissions import grantable_actions

    owner = None if identity.record.role == "admin" else identity.record.username
    keys = [k.as_dict() for k in ApiKeyStore(web_state().state_dir).list(owner=owner)]
    scopes = sorted(grantable_actions(identity.record))
    return render_template(
        "apikeys.html", keys=keys, scopes=scopes, created=created, max_days=MAX_KEY_DAYS
    ), status


def key_expiry(days_text: str) -> datetime:
    """Parse the expiry field: whole days (ASCII digits: '²' passed ``isdigit``), 1 to
    :data:`MAX_KEY_DAYS`."""
    from pruvon_web.inputs import BadInput, parse_int

    try:
        days = parse_int(days_text.strip(), "expiry", 1, MAX_KEY_DAYS)
    except BadInput as exc:
        raise UserEditError(f"expiry: a whole number of days from 1 to {MAX_KEY_DAYS}") from exc
    return datetime.now(UTC) + timedelta(days=days)


def grantable_for(identity: Identity) -> set[str]:
    """What a new key made by ``identity`` may carry.

    The owner's current actions; when an API key is the one minting, only
    those of its own scopes too - else a narrow ``apikeys.write`` key could
    mint itself every right of its owner.
    """
    from pruvon_core.permissions import grantable_actions

    allowed = grantable_actions(identity.record)
    if identity.via == "apikey":
        allowed &= set(identity.key.scopes)
    return allowed


def check_scopes(identity: Identity, scopes: list[str]) -> None:
    """A key's scopes: at least one, each one its creator holds now (see grantable_for)."""
    if not scopes:
        raise UserEditError("scopes: choose at least one action the key may perform")
    extra = sorted(set(scopes) - grantable_for(identity))
    if extra:
        raise UserEditError(f"scopes: you cannot grant {', '.join(extra)}")


def check_expiry(identity: Identity, expires: datetime) -> None:
    """A key minted by a key expires no later than it: revoking or expiring the
    parent must not leave a longer-lived child behind."""
    parent = identity.key.expires_at if identity.via == "apikey" else None
    if parent is not None and expires.timestamp() > parent:
        limit = datetime.fromtimestamp(parent, UTC).isoformat(timespec="seconds")
        raise UserEditError(f"expires_in_days: a key cannot expire after the key "
                            f"creating it ({limit})")


def _create_key(identity: Identity) -> tuple[int, Any]:
    from pruvon_auth.public import ApiKeyStore

    scopes = request.form.getlist("scopes")
    try:
        check_scopes(identity, scopes)
        expires = key_expiry(request.form.get("days", ""))
        token, key = ApiKeyStore(web_state().state_dir).create(
            identity.record.username, scopes, expires,
            name=request.form.get("name", "").strip()[:64],
            allowed=grantable_for(identity),
        )
    except (UserEditError, ValueError) as exc:
        flash(f"API key not created: {exc}", "error")
        return 400, None
    except DiskFull as exc:
        flash(f"API key not created: {exc}; free some space and try again.", "error")
        return 507, None
    audit_event(identity.actor, "apikeys.create", f"apikey:{key.id}", "ok",
                owner=identity.record.username, scopes=scopes)
    flash(f"API key {key.id} created.", "success")
    return 201, {"token": token, "key": key}


def _revoke_key(identity: Identity, key_id: str) -> int:
    from pruvon_auth.public import ApiKeyStore

    store = ApiKeyStore(web_state().state_dir)
    owner = None if identity.record.role == "admin" else identity.record.username
    key = next((k for k in store.list(owner=owner) if k.id == key_id), None)
    if key is None:
        flash(f"No API key {key_id!r}.", "error")
        return 404
    store.revoke(key_id)
    audit_event(identity.actor, "apikeys.revoke", f"apikey:{key_id}", "ok", owner=key.owner)
    flash(f"API key {key_id} revoked.", "success")
    return 200


# --------------------------------------------------------------------------- audit
@bp.get("/logs")
def audit_log() -> Any:
    """The audit log, newest first, filtered by user, action, result and age."""
    from pruvon_core import audit

    identity: Identity = g.identity
    if not allowed(identity, "audit.read"):
        return _denied("audit.read")
    filters = {k: request.args.get(k, "").strip() for k in ("user", "action", "result", "since")}
    error, status, events = None, 200, []
    try:
        since = audit.parse_since(filters["since"], name="since") if filters["since"] else None
        if filters["result"] and filters["result"] not in audit.RESULTS:
            raise ValueError(f"result must be one of {', '.join(audit.RESULTS)}")
        events = audit.read(
            user=filters["user"] or None, action=filters["action"] or None,
            result=filters["result"] or None, since=since, limit=AUDIT_PAGE,
            state_dir=web_state().state_dir,
        )
    except ValueError as exc:
        error, status = str(exc), 400
    return render_template(
        "audit.html", events=list(reversed(events)), filters=filters, error=error,
        results=audit.RESULTS, limit=AUDIT_PAGE,
    ), status
