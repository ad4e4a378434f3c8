"""The page shell: navigation, dashboard, own account (TOTP) and error pages.

Navigation and dashboard are assembled from plugins (``pruvon_web_menu``,
``pruvon_dashboard_cards``) and filtered through ``permissions.check`` and the
user's ``routes:`` grants, so a plugin may return entries unconditionally.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, g, render_template, request
from markupsafe import Markup

from pruvon_core.plugins import flatten
from pruvon_web.context import web_state
from pruvon_web.errors import render_error
from pruvon_web.security import Identity, audit_event, client_ip, route_permitted

log = logging.getLogger("pruvon.web")
bp = Blueprint("views", __name__)

def allowed(identity: Identity | None, action: str | None, resource: Any = None) -> bool:
    """``permissions.check`` for the current identity (None action = always)."""
    if identity is None:
        return False
    if not action:
        return True
    from pruvon_core.permissions import check

    return check(identity.actor, action, resource, config=web_state().config())


def menu_for(identity: Identity) -> list[dict[str, Any]]:
    """Menu entries of every plugin that this identity may open, in order."""
    state = web_state()
    entries = flatten(state.plugins.hook.pruvon_web_menu(actor=identity.actor, pruvon=state.pruvon))
    visible = []
    for entry in entries:
        if not isinstance(entry, dict):
            log.warning("ignoring menu entry %r: not a dict", entry)
            continue
        href = str(entry.get("href", ""))
        if not href.startswith("/") or href.startswith("//"):
            continue  # a menu entry never points off-site
        if allowed(identity, entry.get("action")) and route_permitted(identity.record, href):
            visible.append(entry)
    return sorted(visible, key=lambda e: (e.get("order", 100), str(e.get("label", ""))))


def render_card(card: dict[str, Any]) -> Markup:
    """One dashboard card's body; a failing card shows its error, not a 500."""
    try:
        if "template" in card:
            return Markup(render_template(card["template"], **card.get("context", {})))  # noqa: S704 - our autoescaped template output
        return Markup(card.get("html", ""))  # noqa: S704 - trusted plugin markup, documented
    except Exception as exc:
        log.exception("dashboard card %r failed", card.get("title"))
        return Markup('<p class="error">This card failed: {}</p>').format(str(exc))


@bp.get("/")
def dashboard() -> Any:
    identity: Identity = g.identity
    if not allowed(identity, "dashboard.read"):
        return render_error(403, "Your account may not see the dashboard.")
    state = web_state()
    cards = flatten(state.plugins.hook.pruvon_dashboard_cards(actor=identity.actor, pruvon=state.pruvon))
    visible = [c for c in cards if isinstance(c, dict) and allowed(identity, c.get("action"))]
    visible.sort(key=lambda c: (c.get("order", 100), str(c.get("title", ""))))
    rendered = [
        {"title": c.get("title", ""), "body": render_card(c), "wide": c.get("wide", False)}
        for c in visible
    ]
    return render_template("dashboard.html", cards=rendered)


# --------------------------------------------------------------------------- own account
@bp.route("/account", methods=["GET", "POST"])
def account() -> Any:
    """The signed-in user's own account: TOTP enrolment and removal."""
    from pruvon_auth.public import TotpStore

    identity: Identity = g.identity
    if identity.via != "session":
        return render_error(403, "Account settings need a browser session.")
    user = identity.record.username
    store = TotpStore(web_state().state_dir)
    context: dict[str, Any] = {"enrolled": store.enrolled(user)}
    status = 200
    if request.method == "POST":
        step = request.form.get("step", "")
        code = request.form.get("code", "").strip().replace(" ", "")
        handler = _TOTP_STEPS.get(step)
        if handler is None:
            flash(f"Unknown account action {step!r}.", "error")
            status = 400
        else:
            status = handler(store, user, code, context)
        context["enrolled"] = store.enrolled(user)
    return render_template("account.html", **context), status


def _totp_begin(store: Any, user: str, code: str, context: dict[str, Any]) -> int:
    from pruvon_auth.public import TotpError

    try:
        secret, uri = store.begin(user)
    except TotpError as exc:
        flash(str(exc), "error")
        return 409
    context.update(pending_secret=secret, pending_uri=uri)
    return 200


def _totp_confirm(store: Any, user: str, code: str, context: dict[str, Any]) -> int:
    from pruvon_auth.public import TotpError

    if not (code.isascii() and code.isdigit()) or len(code) != 6:
        flash("Enter the 6-digit code your authenticator app shows.", "error")
        context["confirming"] = True
        return 400
    try:
        recovery = store.confirm(user, code)
    except TotpError as exc:
        flash(f"Code not accepted: {exc}", "error")
        context["confirming"] = True
        return 400
    audit_event(g.identity.actor, "auth.totp.enrol", f"user:{user}", "ok")
    context["recovery_codes"] = recovery
    flash("Two-factor authentication is on. Store the recovery codes now.", "success")
    return 200


def _totp_disable(store: Any, user: str, code: str, context: dict[str, Any]) -> int:
    """Turning 2FA off needs the password *and* a current code (a stolen session is not enough)."""
    from pruvon_auth.public import LoginThrottle, TotpError

    if not store.enrolled(user):
        flash("Two-factor authentication is not on.", "error")
        return 409
    throttle = LoginThrottle(web_state().state_dir)
    ip = client_ip()
    wait = throttle.attempt(ip, user)  # charged before bcrypt, as at sign-in
    if wait > 0:
        flash(f"Too many attempts. Try again in {int(wait + 0.999)} s.", "error")
        return 429
    password = request.form.get("password", "")
    try:
        proven = bool(code) and store.disable_with_proof(g.identity.record, password, code)
    except TotpError as exc:
        throttle.refund(ip, user)
        flash(str(exc), "error")
        return 503
    if not proven:
        audit_event(g.identity.actor, "auth.totp.disable", f"user:{user}", "failed")
        flash("Password or code not valid; two-factor authentication stays on.", "error")
        return 400
    throttle.refund(ip, user)
    audit_event(g.identity.actor, "auth.totp.disable", f"user:{user}", "ok")
    flash("Two-factor authentication is off.", "success")
    return 200


_TOTP_STEPS = {"begin": _totp_begin, "confirm": _totp_confirm, "disable": _totp_disable}


