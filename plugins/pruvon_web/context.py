"""What a running web application holds: config store, state dir, plugins, Dokku client.

One :class:`WebState` lives in ``app.extensions["pruvon"]``.  Everything that
can change under a running server (the YAML config, the session signing key)
is re-read cheaply through a ``stat``, so revocations and key rotations apply on
the next request without a restart.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from pruvon_core.config import Config, ConfigStore
from pruvon_core.context import Pruvon
from pruvon_core.plugins import PluginManager
from pruvon_core.runtime import make_context

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class WebState:
    """Shared, thread-safe state of one web application instance."""

    store: ConfigStore
    state_dir: Path
    plugins: PluginManager
    #: The ``pruvon`` context hooks get: this app's store, state dir and Dokku client.
    pruvon: Pruvon = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pruvon = make_context(self.plugins, self.store, self.state_dir)

    def config(self) -> Config:
        """The current config (one ``stat`` when unchanged; last good one if broken)."""
        return self.store.current()

    # -- security settings ----------------------------------------------------
    def trusted_proxies(self) -> tuple[Network, ...]:
        """Networks whose X-Forwarded-* headers we believe: only those configured.

        No default, not even loopback: listing the proxy is how the operator
        says one is in front.  Without it a loopback peer (a browser on the
        host or through an SSH tunnel) could name any client address.
        """
        raw = self.config().get("security.trusted_proxies") or []
        return tuple(ipaddress.ip_network(str(net), strict=False) for net in raw)

    def extra_origins(self) -> set[str]:
        """Origins accepted for WebSockets and writes besides the served host."""
        raw = self.config().get("security.allowed_origins") or []
        if isinstance(raw, str):
            raw = [raw]
        return {str(origin).rstrip("/").lower() for origin in raw if isinstance(origin, str)}

    def idle_seconds(self) -> int:
        from pruvon_auth.public import session_limits

        return session_limits(self.config())[0]

    def max_seconds(self) -> int:
        from pruvon_auth.public import session_limits

        return session_limits(self.config())[1]

    # -- session signing key ---------------------------------------------------
    def session_secret(self) -> bytes:
        """The signing key, read on every use: rotating it logs everyone out at once.

        One small file read per request; cheaper than any cache invalidation
        scheme that would have to work across gunicorn workers.
        """
        from pruvon_auth.public import session_secret

        return session_secret(self.state_dir)

    # -- Dokku -----------------------------------------------------------------
    def client(self) -> Any:
        """A Dokku client for the current config, rebuilt when the config changes.

        Kept across requests (in the hook context) so the client's short read
        cache is shared by requests and hooks.
        """
        return self.pruvon.client()


def web_state() -> WebState:
    """The :class:`WebState` of the application serving this request."""
    return current_app.extensions["pruvon"]
