"""WebSocket helpers for live features (terminals, log tails, progress streams).

The upgrade request has already passed :mod:`pruvon_web.security` before a
handler runs: Origin checked against the served host (cross-site WebSocket
hijacking), the same session or API-key authentication as HTTP, and the
``routes:`` grants.  A handler then asks :func:`authorize` for the permission on
its specific app or service, and keeps a :class:`Revalidator` that it polls
while the socket is open, so a user disabled, removed, demoted or whose
password changed is cut off mid-stream too, not only on the next page load.

Plugins declare sockets on their blueprint with :func:`route` (the shared
:data:`sock` plus :func:`release`, so a finished socket never stalls the worker)::

    from pruvon_web.ws import route, authorize, Revalidator

    @route("/ws/apps/<app>/logs", bp=bp)
    def logs(ws, app):
        identity = authorize(ws, "apps.logs", Resource("app", app))
        if identity is None:
            return
        guard = Revalidator(identity, action="apps.logs", resource=Resource("app", app))
        for line in stream:
            if not guard.ok():
                return guard.close(ws)
            ws.send(line)
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, request, session
from flask_sock import Sock
from itsdangerous import BadSignature

from pruvon_web.context import WebState, web_state
from pruvon_web.security import Identity, revoked_sessions

sock = Sock()
bp = Blueprint("ws", __name__)

CLOSE_POLICY = 1008  # RFC 6455: policy violation (not allowed / no longer allowed)
RELEASE_WAIT = 1.0  # seconds a client gets to answer our close frame
REVOKED = "your access was revoked"


def close(ws: Any, message: str, code: int = CLOSE_POLICY) -> None:
    """Send a final JSON error frame, then close with ``code`` (best effort)."""
    try:
        ws.send(json.dumps({"type": "error", "error": message}))
        ws.close(reason=code, message=message[:120])
    except Exception:  # noqa: S110 - the peer may already be gone; nothing left to tell it
        pass


def release(ws: Any, wait: float = RELEASE_WAIT) -> None:
    """Finish the socket here, in the handler's own thread.

    gunicorn's gthread worker closes a finished connection "gracefully" on its
    main thread, lingering up to 2 s for the client's FIN: a client that keeps
    a finished socket open would stall every other request of the worker
    meanwhile.  So the socket is closed (if the handler did not), the client
    gets ``wait`` seconds to answer, then it is shut down both ways, which
    ends the WebSocket reader thread and leaves the worker nothing to wait for.
    Idempotent: calling it on a released socket costs nothing.
    """
    if getattr(ws, "connected", False):
        with contextlib.suppress(Exception):  # the peer may be gone already
            ws.close()
    thread = getattr(ws, "thread", None)
    if thread is not None:
        thread.join(timeout=wait)
    raw = getattr(ws, "sock", None)
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)
    if thread is not None:
        thread.join(timeout=wait)


def route(path: str, bp: Blueprint, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``sock.route`` whose handler always ends with :func:`release`."""

    def decorator(handler: Callable[..., Any]) -> Any:
        @functools.wraps(handler)
        def released(ws: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return handler(ws, *args, **kwargs)
            finally:
                release(ws)

        return sock.route(path, bp=bp, **options)(released)

    return decorator


def authorize(ws: Any, action: str, resource: Any = None) -> Identity | None:
    """The request's identity if it may perform ``action`` on ``resource``.

    Otherwise the socket gets an error frame and is closed, and None is
    returned: the handler simply returns.
    """
    from pruvon_core.permissions import check

    identity: Identity | None = g.get("identity")
    if identity is None:
        close(ws, "authentication required")
        return None
    if not check(identity.actor, action, resource, config=web_state().config()):
        close(ws, f"not allowed: {action}")
        return None
    return identity


def still_valid(identity: Identity, state: WebState) -> bool:
    """Whether the user (or API key) that opened a socket would still be accepted now."""
    from pruvon_auth.public import session_still_valid, user_fingerprint

    config = state.config()
    fingerprint = user_fingerprint(identity.record)
    if not session_still_valid(config, identity.record.username, fingerprint):
        return False
    if identity.via == "apikey":
        from pruvon_auth.public import ApiKeyNotFound, ApiKeyStore

        try:
            key = ApiKeyStore(state.state_dir).get(identity.key.id)
        except ApiKeyNotFound:
            return False
        return not key.revoked and not key.expired()
    return True


class Revalidator:
    """Re-checks an open socket at most every ``interval`` seconds.

    Covers everything that ends a web session - the user disabled, removed,
    demoted or re-passworded, the API key revoked or expired, and for a
    session cookie: logout of that session, a rotated signing key, the
    session's maximum age - plus, when ``action`` is given, the socket's own
    permission on ``resource`` (grants are not in the session fingerprint, so
    a narrowed grant closes e.g. that app's log stream or terminal).  Build it
    in the handler (it reads the upgrade request's session).  A check costs a
    few ``stat``s when nothing changed.
    """

    def __init__(
        self,
        identity: Identity,
        interval: float = 2.0,
        action: str | None = None,
        resource: Any = None,
    ) -> None:
        self.identity = identity
        self.interval = interval
        self.action = action
        self.resource = resource
        self.state = web_state()
        self._session = identity.via == "session"
        self._sid = str(session.get("sid", "")) if self._session else ""
        self._created = int(session.get("created", 0) or 0) if self._session else 0
        self._app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._cookie = request.cookies.get(self._app.config["SESSION_COOKIE_NAME"], "")
        self._checked = time.monotonic()
        self._reason: str | None = None

    def reason(self) -> str | None:
        """None while the socket may stay open, else why it must close (final)."""
        now = time.monotonic()
        if self._reason is None and now - self._checked >= self.interval:
            self._checked = now
            self._reason = self._check()
        return self._reason

    def ok(self) -> bool:
        """Whether the socket may stay open (see :meth:`reason`)."""
        return self.reason() is None

    def _check(self) -> str | None:
        if not still_valid(self.identity, self.state):
            return REVOKED
        if self._session:
            problem = self._session_problem()
            if problem is not None:
                return problem
        if self.action is not None:
            from pruvon_core.permissions import check

            if not check(self.identity.actor, self.action, self.resource,
                         config=self.state.config()):
                return f"you may no longer use {self.action}"
        return None

    def _session_problem(self) -> str | None:
        if not self._cookie_still_signed():
            return "the session signing key was rotated; please sign in again"
        if revoked_sessions(self.state).is_revoked(self._sid):
            return "this session was signed out"
        if time.time() - self._created > self.state.max_seconds():
            return "your session reached its maximum age"
        return None

    def _cookie_still_signed(self) -> bool:
        """Whether the upgrade's cookie verifies under the current key (the key is re-read).

        Verifying the cookie itself, rather than comparing keys, leaves no
        window between the upgrade and this object's creation.
        """
        serializer = self._app.session_interface.get_signing_serializer(self._app)
        if serializer is None:
            return False
        try:
            serializer.loads(self._cookie)
        except BadSignature:
            return False
        return True

    def close(self, ws: Any) -> None:
        """Tell the client why, and close."""
        close(ws, self._reason or REVOKED)


def pump_lines(ws: Any, stream: Any, revalidator: Revalidator, name: str = "ws-lines") -> None:
    """Send one text frame per line of ``stream`` until it ends, the peer goes, or access does.

    What every live log socket does (an app's ``dokku logs -t``, a container's
    ``docker logs -f``): the stream's own typed error ends it with an error
    frame; the process behind it is cancelled (process group killed) as soon
    as the socket closes or the revalidator says the user lost access.
    """
    from pruvon_web.statuses import error_message

    finished = threading.Event()

    def reader() -> None:
        try:
            for line in stream:
                ws.send(line)
        except Exception as exc:  # the stream's typed error or a closed socket
            with contextlib.suppress(Exception):  # peer gone: nothing left to tell
                ws.send(json.dumps({"type": "error", "error": error_message(exc)}))
        finally:
            finished.set()

    thread = threading.Thread(target=reader, daemon=True, name=name)
    thread.start()
    try:
        while not finished.is_set():
            ws.receive(timeout=1)
            if not revalidator.ok():
                revalidator.close(ws)
                break
    except Exception:  # noqa: S110 - ConnectionClosed: the browser went away
        pass
    finally:
        stream.cancel()
        thread.join(timeout=5)


@route("/ws/ping", bp=bp)
def ping(ws: Any) -> None:
    """A liveness channel: answers each frame, closes once access is revoked.

    Pages can hold it open to learn at once that their session ended; tests
    use it to prove the Origin and authentication rules of every upgrade.
    """
    identity = authorize(ws, "dashboard.read")
    if identity is None:
        return
    guard = Revalidator(identity, interval=0)
    while True:
        message = ws.receive(timeout=30)
        if not guard.ok():
            guard.close(ws)
            return
        if message is not None:
            ws.send(json.dumps({"type": "pong", "user": identity.record.username}))
