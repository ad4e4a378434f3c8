"""Sign-in, the TOTP step, sign-out.

Unknown user, disabled user and wrong password produce the same response
(status, body, and a bcrypt verification either way, so similar timing).
Throttling is per IP *and* per user name with backoff (``LoginThrottle``), so
one attacker cannot lock everyone out, and a throttled attempt is answered the
same way whether or not the user exists.  Every outcome is audited.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
)

from pruvon_core.config import UserRecord
from pruvon_web.context import web_state
from pruvon_web.security import audit_event, client_ip, end_session, start_session

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "Invalid username or password."
TOTP_STEP_SECONDS = 300  # how long a password-verified login may wait for its code
MAX_FIELD = 256


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: ``next`` must never redirect off-site.

    Control characters are refused outright: ``urlsplit`` (and browsers)
    silently drop CR/LF/TAB, so what is checked must be what is returned.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def typical_cost(config: Any) -> int | None:
    """The bcrypt cost of the configured hashes, so a dummy check takes as long as a real one."""
    from pruvon_auth.public import hash_cost

    costs = [hash_cost(u.password_hash) for u in config.users]
    known = [c for c in costs if c]
    return max(set(known), key=known.count) if known else None


def _throttle() -> Any:
    from pruvon_auth.public import LoginThrottle

    return LoginThrottle(web_state().state_dir)


def _csrf_message(expired: str) -> str:
    """A refused sign-in form: a cross-origin refusal says why (e.g. a proxy to configure)."""
    problem = str(g.get("csrf_problem"))
    if problem.startswith("cross-origin"):
        return f"Sign-in refused: {problem}."
    return f"{expired} Please try again."


def _form_error(template: str, message: str, status: int, **context: Any) -> tuple[str, int]:
    return render_template(template, error=message, **context), status


def _throttled(wait: float, template: str, **context: Any) -> tuple[str, int, dict[str, str]]:
    seconds = max(1, int(wait + 0.999))
    body = render_template(
        template, error=f"Too many attempts. Try again in {seconds} s.", **context
    )
    return body, 429, {"Retry-After": str(seconds)}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if g.get("identity") is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("login.html", next=safe_next(request.args.get("next")))
    next_url = safe_next(request.form.get("next"))
    username = request.form.get("username", "").strip()[:MAX_FIELD]
    password = request.form.get("password", "")[:MAX_FIELD * 4]
    context = {"next": next_url, "username": username}
    if g.get("csrf_problem"):
        return _form_error("login.html", _csrf_message("Your sign-in form expired."), 400,
                           **context)
    if not username or not password:
        return _form_error("login.html", "Enter your username and password.", 400, **context)
    return _check_password(username, password, context)


def _check_password(username: str, password: str, context: dict[str, Any]) -> Any:
    from pruvon_auth.public import verify_dummy, verify_password

    ip = client_ip()
    throttle = _throttle()
    # check and charge in one transaction before bcrypt: parallel guesses cannot
    # all pass the check before the first is charged
    wait = throttle.attempt(ip, username)
    if wait > 0:
        audit_event(None, "auth.login", username, "locked", username=username)
        return _throttled(wait, "login.html", **context)
    config = web_state().config()
    record = config.user(username)
    if record is None or record.disabled:
        verify_dummy(password, rounds=typical_cost(config))
        ok = False
    else:
        ok = verify_password(password, record.password_hash)
    if not ok:
        audit_event(None, "auth.login", username, "failed", username=username)
        return _form_error("login.html", GENERIC_FAILURE, 401, **context)
    assert record is not None
    throttle.refund(ip, username)
    from pruvon_auth.public import TotpStore

    if TotpStore(web_state().state_dir).enrolled(record.username):
        return _begin_totp_step(record, context["next"])
    return _complete_login(record, context["next"], "password")


def _begin_totp_step(record: UserRecord, next_url: str) -> Any:
    """Password accepted; hold the login until the second factor arrives."""
    from pruvon_auth.public import user_fingerprint

    session.clear()
    session.update(
        pending_uid=record.username,
        pending_fp=user_fingerprint(record),
        pending_at=int(time.time()),
        pending_next=next_url,
    )
    return redirect("/login/totp")


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp() -> Any:
    from pruvon_auth.public import TotpError, TotpStore, user_fingerprint

    username = str(session.get("pending_uid", ""))
    started = int(session.get("pending_at", 0))
    record = web_state().config().user(username) if username else None
    if (
        record is None
        or record.disabled
        or time.time() - started > TOTP_STEP_SECONDS
        or session.get("pending_fp") != user_fingerprint(record)
    ):
        session.clear()
        return _form_error("login.html", "Your sign-in expired. Please start again.", 400, next="/")
    if request.method == "GET":
        return render_template("login_totp.html")
    if g.get("csrf_problem"):
        return _form_error("login_totp.html", _csrf_message("The form expired."), 400)
    code = request.form.get("code", "").strip().replace(" ", "")[:64]
    if not code:
        return _form_error("login_totp.html", "Enter the code from your authenticator app.", 400)
    ip = client_ip()
    throttle = _throttle()
    wait = throttle.attempt(ip, username)  # charged before the check, as for passwords
    if wait > 0:
        return _throttled(wait, "login_totp.html")
    try:
        verified = TotpStore(web_state().state_dir).verify(username, code)
    except TotpError as exc:  # e.g. pyotp not installed: fail closed, say why
        throttle.refund(ip, username)
        return _form_error("login_totp.html", str(exc), 503)
    if not verified:
        audit_event(None, "auth.login.totp", username, "failed", username=username)
        return _form_error("login_totp.html", "That code is not valid (or was already used).", 401)
    throttle.refund(ip, username)
    return _complete_login(record, safe_next(session.get("pending_next")), "password+totp")


def _complete_login(record: UserRecord, next_url: str, method: str) -> Any:
    from pruvon_core.permissions import actor_for_user

    ip = client_ip()
    _throttle().success(ip, record.username)
    start_session(record)
    audit_event(actor_for_user(record), "auth.login", record.username, "ok", method=method)
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Any:

    identity = g.get("identity")
    if identity is not None:
        audit_event(identity.actor, "auth.logout", identity.record.username, "ok")
    end_session()
    return redirect("/login")


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness for systemd/nginx checks; says nothing about users or Dokku."""
    return {"status": "ok"}


@bp.get("/favicon.ico")
def favicon() -> Any:
    """The icon browsers request on every page, signed in or not (public, cacheable).

    Without this route ``/favicon.ico`` fell through to the ``routes:`` grants
    and answered 403 to every non-admin.  Exactly this path is public; the
    file is our own SVG from the static folder.
    """
    return send_from_directory(current_app.static_folder or "static", "favicon.svg",
                               mimetype="image/svg+xml", max_age=86400)
