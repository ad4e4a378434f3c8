"""The web UI's security layer: proxies, sessions, identity, CSRF, origins, headers.

Order of a request (wired in :func:`install`):

1. :class:`TrustedProxyMiddleware` rewrites the client address and scheme (and
   the host, only with ``security.trust_forwarded_host``) from
   ``X-Forwarded-*`` only when the TCP peer is in the configured
   ``security.trusted_proxies`` (none by default), so a client can never spoof
   its IP (throttling, audit) or claim HTTPS; then :func:`check_host` refuses,
   on every request, a Host outside the allowed names (DNS rebinding).
2. :func:`load_identity` finds the actor: a Bearer API key (API and WebSocket
   paths only) or the signed session cookie, and re-validates the user record
   against the config on *every* request (disabled, removed, demoted or a
   changed password → the session ends now).
3. :func:`enforce_access` sends anonymous visitors to ``/login`` (pages) or
   answers 401 (API), applies ``routes:`` grants, and checks the CSRF token of
   every state-changing request made with a session cookie.
4. :func:`add_security_headers` sets CSP, frame denial, nosniff, referrer
   policy, no-store caching and HSTS when served over HTTPS.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from pruvon_core import files
from pruvon_core.config import UserRecord
from pruvon_web.context import WebState, web_state

log = logging.getLogger("pruvon.web")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
API_PREFIX = "/api/v1"
WS_PREFIX = "/ws/"
# endpoints anyone may reach; everything else needs an identity
PUBLIC_ENDPOINTS = frozenset(
    {"auth.login", "auth.login_totp", "static", "auth.healthz", "auth.favicon"}
)
# responses that may be cached: fixed files, never anything about a user
CACHEABLE_ENDPOINTS = frozenset({"static", "auth.favicon"})
# reachable by any signed-in user whatever their routes: grants (own account, sign-out)
UNGATED_ENDPOINTS = frozenset(
    {"auth.logout", "api.me", "api.openapi", "views.account", "ws.ping"}
)

# names every server answers to: a browser on the host or through an SSH tunnel
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# --------------------------------------------------------------------------- proxies
class TrustedProxyMiddleware:
    """Honour X-Forwarded-For/-Proto/-Host only from ``security.trusted_proxies``.

    ``trusted()`` is empty unless the operator configured the proxies (saying
    a proxy is in front): a loopback peer is otherwise just a client, because a
    browser on the host, or through an SSH tunnel, is a loopback peer too and
    writes whatever headers its page's script asks for.
    The client address is the right-most X-Forwarded-For entry that is not
    itself a trusted proxy (entries to its left were written by the client and
    prove nothing) -- or that is the very address of the proxy that appended
    it: a proxy does not forward to itself, so that entry is a client on the
    proxy's host (a browser on the host going through nginx on 127.0.0.1),
    and what it wrote further left must not name its address.  Untrusted peers' headers are ignored entirely.
    X-Forwarded-Host is believed only when ``forwarded_host()`` says so
    (``security.trust_forwarded_host``): a proxy that does not set it passes
    the client's own header through unchanged.
    """

    def __init__(self, app: Callable[..., Any], trusted: Callable[[], Iterable[Any]],
                 forwarded_host: Callable[[], bool] = lambda: False) -> None:
        self.app = app
        self.trusted = trusted
        self.forwarded_host = forwarded_host

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        networks = tuple(self.trusted())
        peer = environ.get("REMOTE_ADDR", "")
        if _in_networks(peer, networks):
            forwarded = [_hop_address(hop) for hop in
                         _split_header(environ.get("HTTP_X_FORWARDED_FOR"))]
            client, appended_by = peer, peer
            for hop in reversed(forwarded):
                client = hop
                if not _in_networks(hop, networks) or _same_address(hop, appended_by):
                    break
                appended_by = hop
            if forwarded and _valid_ip(client):
                environ["REMOTE_ADDR"] = client
            proto = (_split_header(environ.get("HTTP_X_FORWARDED_PROTO")) or [""])[0].lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
            host = (_split_header(environ.get("HTTP_X_FORWARDED_HOST")) or [""])[0]
            if host and self.forwarded_host():
                environ["HTTP_HOST"] = host
        return self.app(environ, start_response)


def _same_address(first: str, second: str) -> bool:
    """Equal IP addresses, an IPv4-mapped IPv6 address equal to its IPv4 form."""
    def normal(value: str) -> Any:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return value
        mapped = getattr(ip, "ipv4_mapped", None)
        return mapped if mapped is not None else ip

    return normal(first) == normal(second)


def _split_header(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _hop_address(hop: str) -> str:
    """The address of one X-Forwarded-For entry: ``ip``, ``ip:port``, ``[v6]`` or ``[v6]:port``.

    Some load balancers append the client's port; unrecognised, such an entry
    made every client look like the proxy itself (one shared throttle bucket).
    Anything else is returned unchanged, to be rejected by :func:`_valid_ip`.
    """
    if hop.startswith("["):
        inside, bracket, rest = hop[1:].partition("]")
        if bracket and (not rest or _is_port_suffix(rest)):
            return inside
        return hop
    host, colon, port = hop.rpartition(":")
    if colon and host.count(".") == 3 and _is_port_suffix(":" + port):
        return host
    return hop


def _is_port_suffix(text: str) -> bool:
    digits = text[1:]
    return text.startswith(":") and digits.isascii() and digits.isdigit() and 0 < int(digits) < 65536


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _in_networks(address: str, networks: tuple[Any, ...]) -> bool:
    """Membership, with IPv4-mapped IPv6 (``::ffff:127.0.0.1``, a dual-stack
    listener's view of an IPv4 proxy) tested as the IPv4 address it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(c in net for c in candidates for net in networks if c.version == net.version)


# --------------------------------------------------------------------------- hosts
def split_host(value: str) -> tuple[str, str]:
    """``(host, port)`` of ``name``, ``name:port``, ``[v6]`` or ``[v6]:port`` (port may be '')."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value.partition("]")
        return host + "]", rest[1:] if rest.startswith(":") else rest
    host, colon, port = value.rpartition(":")
    if colon and port.isascii() and port.isdigit() and ":" not in host:
        return host, port
    return value, ""


def allowed_hosts(state: WebState) -> list[tuple[str, str]]:
    """The names this server answers to: built-in defaults plus ``security.allowed_hosts``.

    Defaults are the loopback names, the listen address (``pruvon.listen`` and
    ``pruvon serve --listen``) and the hosts of ``security.allowed_origins``;
    the configured list adds to them (a reverse proxy's public name goes
    there), so an SSH tunnel to ``localhost`` keeps working next to the proxy.
    """
    config = state.config()
    listens = (config.listen, current_app.config.get("PRUVON_LISTEN") or config.listen)
    hosts = [split_host(listen)[0] for listen in listens] + list(LOOPBACK_HOSTS)
    hosts += [split_host(urlsplit(origin).netloc)[0] for origin in state.extra_origins()]
    allowed = [(host, "") for host in hosts if host]
    return allowed + [split_host(str(entry)) for entry in config.get("security.allowed_hosts") or []]


def host_allowed(value: str, allowed: Iterable[tuple[str, str]]) -> bool:
    """An entry without a port allows every port of that host; one with a port only it."""
    host, port = split_host(value)
    return any(host == name and (not want or port == want) for name, want in allowed)


def check_host() -> Response | None:
    """Refuse a Host header this server does not answer to (DNS rebinding).

    Checked on every request, HTTP and WebSocket upgrade alike, whoever the
    peer is and whatever forwarding headers it sent: a page on an attacker's
    name that re-resolves to 127.0.0.1 is "same origin" with a loopback
    listener and can add any ``X-Forwarded-*`` header to its own ``fetch()``,
    but its browser always sends the attacker's name in Host.  (Host is the
    one a trusted proxy passed, or its ``X-Forwarded-Host`` when
    ``security.trust_forwarded_host`` is on.)
    """
    state = web_state()
    if host_allowed(request.host, allowed_hosts(state)):
        return None
    host = split_host(request.host)[0]
    message = (f"Host {request.host!r} is not served here. If this is the name operators use "
               f"(e.g. your reverse proxy's server_name), add {host!r} to security.allowed_hosts "
               "in the config file.")
    if request.headers.get("X-Forwarded-For") and not state.trusted_proxies():
        message += (" If a reverse proxy forwards to Pruvon, also list its address in "
                    "security.trusted_proxies.")
    log.warning("refused %s %s from %s: %s", request.method, request.path, client_ip(), message)
    if is_api_path(request.path) or is_ws_path(request.path):
        return json_error(message, 400)
    return Response(message + "\n", status=400, mimetype="text/plain")


UPGRADE_HINT = ("if a reverse proxy is in front, it must pass them (nginx: proxy_http_version 1.1; "
                'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; '
                "see docs/reverse-proxy.md)")


def missing_upgrade_headers(headers: Any) -> list[str]:
    """Which of the two hop-by-hop headers a WebSocket handshake needs did not arrive."""
    missing = []
    if headers.get("Upgrade", "").strip().lower() != "websocket":
        missing.append("Upgrade")
    if "upgrade" not in [part.strip().lower() for part in headers.get("Connection", "").split(",")]:
        missing.append("Connection")
    return missing


def check_ws_upgrade() -> Response | None:
    """A ``/ws/`` request that is not an upgrade: 426 naming the missing headers.

    Runs before identity and origin checks so that ``pruvon check --url`` (which
    sends both headers, without credentials) learns whether a proxy dropped
    them; the answer reveals nothing but which headers arrived.
    """
    if not is_ws_path(request.path):
        return None
    missing = missing_upgrade_headers(request.headers)
    if not missing:
        return None
    message = f"WebSocket upgrade headers missing ({', '.join(missing)}): {UPGRADE_HINT}"
    return json_error(message, 426, missing=missing)


# --------------------------------------------------------------------------- sessions
class PruvonSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose key and Secure flag are decided per request.

    The key is re-read from the state directory (``rotate_session_secret`` logs
    everyone out at once); the cookie is Secure exactly when the request came
    over HTTPS (directly or via a trusted proxy).
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        app.secret_key = app.extensions["pruvon"].session_secret()
        return super().get_signing_serializer(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token() -> str:
    """This session's CSRF token, created for anonymous sessions too (login form)."""
    token = session.get("csrf")
    if not token:
        token = new_csrf_token()
        session["csrf"] = token
    return token


def start_session(record: UserRecord) -> None:
    """Begin a signed-in session: a brand-new id and CSRF token (no fixation)."""
    from pruvon_auth.public import user_fingerprint

    now = int(time.time())
    session.clear()
    session.update(
        uid=record.username,
        fp=user_fingerprint(record),
        sid=secrets.token_urlsafe(18),
        csrf=new_csrf_token(),
        created=now,
        seen=now,
    )
    session.permanent = False


def end_session() -> None:
    """Forget the session and revoke its id so a copied cookie stops working too."""
    sid = session.get("sid")
    created = session.get("created")
    if sid and isinstance(created, int):
        state = web_state()
        revoked_sessions(state).revoke(sid, created + state.max_seconds())
    session.clear()


class RevokedSessions:
    """Session ids ended by logout, kept until they would have expired anyway.

    Cookie sessions are stateless, so a stolen copy of a cookie would outlive a
    logout; this small file (0600, in the state dir) closes that.  Shared
    between gunicorn workers, so a worker re-reads it whenever its inode, size
    or mtime changed: size alone missed a prune-and-append that kept the size,
    and the other workers went on accepting the logged-out cookie.  Appends are
    single ``O_APPEND`` lines; a prune replaces the file atomically, so a full
    disk can fail a logout but never drop earlier revocations.
    """

    def __init__(self, path: Any) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int, int] | None = None
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def _current_stamp(self) -> tuple[int, int, int]:
        try:
            st = self.path.stat()
        except OSError:
            return (0, 0, 0)
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _load(self) -> None:
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return
        ids: dict[str, int] = {}
        if stamp[1]:
            for line in self.path.read_text(encoding="ascii").splitlines():
                sid, _, expiry = line.partition(" ")
                if expiry.isdigit():
                    ids[sid] = int(expiry)
        self._ids, self._stamp = ids, stamp

    def is_revoked(self, sid: str) -> bool:
        with self._lock:
            self._load()
            return sid in self._ids

    def revoke(self, sid: str, expires: int) -> None:
        """Record ``sid``; pruning expired ids rewrites the file atomically."""
        now = int(time.time())
        with self._lock, files.locked(self.path):
            self._stamp = None
            self._load()
            keep = {k: v for k, v in self._ids.items() if v > now}
            if len(keep) < len(self._ids):  # prune expired ids while we are here
                keep[sid] = expires
                files.atomic_write(self.path, "".join(f"{k} {v}\n" for k, v in keep.items()))
            else:
                files.append_private(self.path, f"{sid} {expires}\n".encode("ascii"))
            self._stamp = None


def revoked_sessions(state: WebState) -> RevokedSessions:
    cached = getattr(state, "_revoked", None)
    if cached is None:
        cached = RevokedSessions(state.state_dir / "web-revoked-sessions")
        state._revoked = cached  # type: ignore[attr-defined]
    return cached


# --------------------------------------------------------------------------- identity
@dataclass(frozen=True)
class Identity:
    """Who made this request and how they proved it."""

    actor: Any
    record: UserRecord
    via: str  # "session" | "apikey"
    key: Any = None


class AuthFailure(Exception):
    """Authentication was attempted and failed: ``status`` 401 or 403."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def is_ws_path(path: str) -> bool:
    return path.startswith(WS_PREFIX)


def client_ip() -> str:
    return request.remote_addr or "unknown"


def audit_event(actor: Any, action: str, target: Any, result: str, **details: Any) -> None:
    """Append to the audit log with this request's client address and state dir."""
    from pruvon_core import audit

    audit.record(actor, action, target, result, source_ip=client_ip(),
                 state_dir=web_state().state_dir, **details)


def load_identity() -> None:
    """Set ``g.identity`` (or None) and ``g.session_ended`` for this request."""
    g.identity = None
    g.session_ended = None
    g.auth_error = None
    header = request.headers.get("Authorization")
    if header is not None and (is_api_path(request.path) or is_ws_path(request.path)):
        try:
            g.identity = identity_from_bearer(header)
        except AuthFailure as exc:
            g.auth_error = exc
        return
    if "uid" in session:
        g.identity = identity_from_session()


def identity_from_bearer(header: str) -> Identity:
    """An API key given as ``Authorization: Bearer <token>``; never in a URL."""
    from pruvon_auth.public import ApiKeyExpired, ApiKeyInvalid, ApiKeyStore

    from pruvon_core.permissions import actor_for_apikey

    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthFailure("Authorization must be 'Bearer <api key>'")
    state = web_state()
    try:
        key = ApiKeyStore(state.state_dir).authenticate(token.strip())
    except ApiKeyExpired as exc:
        raise AuthFailure("API key expired") from exc
    except ApiKeyInvalid as exc:
        raise AuthFailure("API key invalid or revoked") from exc
    record = state.config().user(key.owner)
    if record is None or record.disabled:
        raise AuthFailure("API key owner is disabled or no longer exists")
    actor = actor_for_apikey(key.id, record, frozenset(key.scopes))
    return Identity(actor=actor, record=record, via="apikey", key=key)


def identity_from_session() -> Identity | None:
    """The session's user, re-validated against the config and the timeouts."""
    from pruvon_auth.public import user_fingerprint

    from pruvon_core.permissions import actor_for_user

    state = web_state()
    now = int(time.time())
    record = state.config().user(str(session.get("uid")))
    reason = None
    if record is None or record.disabled:
        reason = "Your account is no longer active."
    elif not hmac.compare_digest(str(session.get("fp", "")), user_fingerprint(record)):
        reason = "Your account was changed; please sign in again."
    elif now - int(session.get("created", 0)) > state.max_seconds():
        reason = "Your session reached its maximum age; please sign in again."
    elif now - int(session.get("seen", 0)) > state.idle_seconds():
        reason = "You were signed out after a period of inactivity."
    elif revoked_sessions(state).is_revoked(str(session.get("sid", ""))):
        reason = "This session was signed out."
    if reason is not None:
        g.session_ended = reason
        session.clear()
        return None
    if now - int(session.get("seen", 0)) >= 30:  # refresh the idle clock, not every hit
        session["seen"] = now
    return Identity(actor=actor_for_user(record), record=record, via="session")


# --------------------------------------------------------------------------- access
def json_error(message: str, status: int, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def enforce_access() -> Response | None:
    """Refuse what this identity may not reach; None lets the request through."""
    endpoint = request.endpoint or ""
    if is_ws_path(request.path) and not ws_origin_ok():
        log.warning("refused WebSocket %s from %s: origin %r", request.path, client_ip(),
                    request.headers.get("Origin"))
        return json_error("WebSocket origin not allowed" + origin_hint(request.headers.get("Origin")),
                          403)
    if endpoint in PUBLIC_ENDPOINTS:
        return check_csrf()
    identity: Identity | None = g.identity
    if g.auth_error is not None:
        return json_error(g.auth_error.message, g.auth_error.status)
    if identity is None:
        return _unauthenticated()
    if not (endpoint in UNGATED_ENDPOINTS or route_permitted(identity.record, request.path)):
        return forbidden("Your account is not granted this page.")
    if identity.via == "apikey":
        return None  # no ambient credential: a Bearer request cannot be forged cross-site
    return check_csrf()


def _unauthenticated() -> Response:
    message = g.session_ended or "Please sign in."
    if g.session_ended:
        # Flashed even on an API/WebSocket 401: a page's background request
        # often finds the ended session first, and the next page must say why.
        flash(message, "warning")
    if is_api_path(request.path) or is_ws_path(request.path):
        return json_error(message if g.session_ended else "authentication required", 401)
    target = request.full_path if request.method == "GET" else "/"
    return redirect(url_for("auth.login", next=target.rstrip("?")))


def route_permitted(record: UserRecord, path: str) -> bool:
    """``routes:`` grants apply to pages; API and WebSocket paths map onto them."""
    from pruvon_core.permissions import route_allowed

    return route_allowed(record, path)


def forbidden(message: str) -> Response:
    """403 as JSON for the API, as a page otherwise; refused writes are audited."""
    identity = g.get("identity")
    if request.method not in SAFE_METHODS:
        audit_event(identity.actor if identity else None, "web.request", request.path, "denied",
                    method=request.method, reason=message)
    if is_api_path(request.path) or is_ws_path(request.path):
        return json_error(message, 403)
    from pruvon_web.errors import render_error

    return render_error(403, message)


def check_csrf() -> Response | None:
    """Every state-changing request carries this session's token and a same origin."""
    if request.method in SAFE_METHODS:
        return None
    expected = session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    problem = None
    if not origin_allowed(request.headers.get("Origin"), allow_missing=True):
        problem = "cross-origin request refused" + origin_hint(request.headers.get("Origin"))
    elif not expected or not given:
        problem = "CSRF token missing: reload the page and try again"
    elif not hmac.compare_digest(str(expected), str(given)):
        problem = "CSRF token invalid: reload the page and try again"
    if problem is None:
        return None
    log.warning("refused %s %s from %s: %s", request.method, request.path, client_ip(), problem)
    if request.endpoint in ("auth.login", "auth.login_totp"):
        g.csrf_problem = problem  # the login view re-renders its form with this message
        return None
    return forbidden(problem)


def ws_origin_ok() -> bool:
    """WebSocket upgrades: the Origin must be ours; only Bearer clients may omit it.

    Browsers always send Origin on upgrades and attach cookies to cross-site
    ones, so a foreign or missing Origin with a cookie is refused before the
    handshake (cross-site WebSocket hijacking).  A non-browser client using an
    API key carries no ambient credential and needs no Origin.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return g.identity is not None and g.identity.via == "apikey"
    return origin_allowed(origin)


def origin_hint(origin: str | None) -> str:
    """Why an origin on this very host differs from what Pruvon was told by a proxy.

    Two proxy mistakes look like a cross-origin request: HTTPS ended at a proxy
    Pruvon does not trust (the scheme differs), and a proxy on a port other than
    443 that passed ``Host`` without the port (nginx's ``$host``).
    """
    parts = urlsplit(origin or "")
    got_host, got_port = split_host(parts.netloc)
    host, port = split_host(request.host)
    if not got_host or got_host != host:
        return ""
    if got_port != port:
        return (f" (the page is {parts.scheme}://{parts.netloc} but Pruvon received Host "
                f"{request.host!r} without that port: a reverse proxy on a port other than 443 "
                "must pass it, nginx: proxy_set_header Host $http_host; or list the origin in "
                "security.allowed_origins; see docs/reverse-proxy.md)")
    if parts.scheme == request.scheme:
        return ""
    return (f" (the page is {parts.scheme}://{parts.netloc} but Pruvon received "
            f"{request.scheme}: behind a TLS proxy, list its address in "
            "security.trusted_proxies)")


def served_origin() -> str:
    """``scheme://host`` as the client sees us (after trusted proxy rewriting)."""
    return f"{request.scheme}://{request.host}".lower()


def origin_allowed(origin: str | None, allow_missing: bool = False) -> bool:
    """Whether ``Origin`` is this server (or a configured extra origin).

    Browsers always send Origin on WebSocket upgrades and cross-site POSTs;
    ``allow_missing`` is for same-origin form posts from older browsers, which
    the CSRF token still protects.
    """
    if not origin or origin == "null":
        return allow_missing and not origin
    parts = urlsplit(origin)
    normalised = f"{parts.scheme}://{parts.netloc}".lower()
    return normalised == served_origin() or normalised in web_state().extra_origins()


# --------------------------------------------------------------------------- headers
def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def install(app: Flask, state: WebState) -> None:
    """Wire the layer into ``app`` (called once by the app factory)."""
    app.wsgi_app = TrustedProxyMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, state.trusted_proxies,
        lambda: state.config().get("security.trust_forwarded_host") is True)
    app.session_interface = PruvonSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="pruvon_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.before_request(check_host)
    app.before_request(check_ws_upgrade)
    app.before_request(load_identity)
    app.before_request(enforce_access)
    app.after_request(add_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
