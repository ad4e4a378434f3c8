"""WebSocket helpers for live features (terminals, log tails, progress streams).

The upgrade request has already passed :mod:`pruvon_web.security` before a
handler runs: Origin checked against the served host (cross-site WebSocket
hijacking), the same session or API-key authentication as HTTP, and the
``routes:`` grants.  A handler then asks :func:`authorize` for the permission on
its specific app or service, and keeps a :class:`Revalidator` that it polls
while the socket is open, so a user disabled, removed, demoted or whose
password changed is cut off mid-stream too, not only on the next page load.

Plugins declare sockets on their blueprint with the shared :data:`sock`::

    from pruvon_web.ws import sock, authorize, Revalidator

    @sock.route("/ws/apps/<app>/logs", bp=bp)
    def logs(ws, app):
        identity = authorize(ws, "apps.logs", Resource("app", app))
        if identity is None:
            return
        guard = Revalidator(identity)
        for line in stream:
            if not guard.ok():
                return guard.close(ws)
            ws.send(line)
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, g
from flask_sock import Sock

from pruvon_web.context import WebState, web_state
from pruvon_web.security import Identity

sock = Sock()
bp = Blueprint("ws", __name__)

CLOSE_POLICY = 1008  # RFC 6455: policy violation (not allowed / no longer allowed)


def close(ws: Any, message: str, code: int = CLOSE_POLICY) -> None:
    """Send a final JSON error frame, then close with ``code`` (best effort)."""
    try:
        ws.send(json.dumps({"type": "error", "error": message}))
        ws.close(reason=code, message=message[:120])
    except Exception:  # noqa: S110 - the peer may already be gone; nothing left to tell it
        pass


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
    """Whether the identity that opened a socket would still be accepted now."""
    from pruvon_auth import sessions

    config = state.config()
    fingerprint = sessions.user_fingerprint(identity.record)
    if not sessions.still_valid(config, identity.record.username, fingerprint):
        return False
    if identity.via == "apikey":
        from pruvon_auth.apikeys import ApiKeyNotFound, ApiKeyStore

        try:
            key = ApiKeyStore(state.state_dir).get(identity.key.id)
        except ApiKeyNotFound:
            return False
        return not key.revoked and not key.expired()
    return True


class Revalidator:
    """Re-checks an open socket's identity at most every ``interval`` seconds.

    The check costs one ``stat`` of the config when nothing changed, so
    ``interval`` only bounds work for chatty streams (one check per log line
    would still be cheap, but pointless).
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
        self._checked = time.monotonic()
        self._valid = True

    def ok(self) -> bool:
        """Still the same user in good standing, and still allowed this socket's action.

        Grants are not part of the session fingerprint, so a socket opened
        for ``action`` on ``resource`` re-checks that permission itself: a
        narrowed grant closes e.g. that app's log stream or terminal.
        """
        now = time.monotonic()
        if self._valid and now - self._checked >= self.interval:
            self._checked = now
            self._valid = still_valid(self.identity, self.state) and self._still_allowed()
        return self._valid

    def _still_allowed(self) -> bool:
        if self.action is None:
            return True
        from pruvon_core.permissions import check

        return check(self.identity.actor, self.action, self.resource, config=self.state.config())

    def close(self, ws: Any) -> None:
        close(ws, "your access was revoked")


@sock.route("/ws/ping", bp=bp)
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
