"""The ``pruvon`` object every hook may take: what a plugin may reach, in one place.

Like Datasette's ``datasette`` argument, it saves plugins from importing
process globals (``web_state()``, ``get_plugin_manager()``, a config path from
the environment): a hook implementation that needs the config, the Dokku
client, a permission check or the operations manager declares a ``pruvon``
parameter and gets them here.  Declaring it is optional; pluggy passes only
the arguments an implementation names.

This module is a holder and imports no other Pruvon module: the plugin manager
creates an *unbound* one (only ``plugins`` works) and the process's entry
point - the CLI root, the web app factory - binds the real parts through
:func:`pruvon_core.runtime.make_context`.  That keeps the import graph acyclic
although config validation itself calls hooks that receive this object.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from pruvon_core.config import Config, ConfigStore
    from pruvon_core.operations import OperationManager
    from pruvon_core.permissions import Actor, Resource


class ContextUnbound(RuntimeError):
    """A hook used ``pruvon.config`` (…) where no process entry point bound one."""


class Pruvon:
    """The context handed to hooks as ``pruvon``.

    ``client_from_config``, ``check`` and ``operation_manager`` are the core
    functions behind :meth:`client`, :meth:`allowed` and :meth:`operations`,
    passed in by :func:`pruvon_core.runtime.make_context`.
    """

    def __init__(
        self,
        plugins: Any,
        store: ConfigStore | None = None,
        state_dir: Path | None = None,
        *,
        client_from_config: Callable[[Config], Any] | None = None,
        check: Callable[..., bool] | None = None,
        operation_manager: Callable[[Path], OperationManager] | None = None,
        client_for: Callable[[Config, str | None, Path], Any] | None = None,
        current_host: Callable[[], str | None] | None = None,
    ) -> None:
        self.plugins = plugins
        self._store = store
        self._state_dir = state_dir
        self._client_from_config = client_from_config
        self._check = check
        self._operation_manager = operation_manager
        self._client_for = client_for
        self._current_host = current_host or (lambda: None)
        self._clients: dict[str | None, Any] = {}
        self._client_stamp: tuple[int, ...] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _bound(part: Any, name: str) -> Any:
        if part is None:
            raise ContextUnbound(
                f"pruvon.{name} is not available here: no config is bound to this "
                "plugin manager (pruvon_core.runtime.make_context)"
            )
        return part

    @property
    def store(self) -> ConfigStore:
        """The live config store (reloads when the file changes)."""
        return self._bound(self._store, "store")

    @property
    def config(self) -> Config:
        """The config as it is now (the last good one if the file became invalid)."""
        return self.store.current()

    @property
    def state_dir(self) -> Path:
        """Where Pruvon keeps state: audit log, operations, sessions."""
        return self._bound(self._state_dir, "state_dir")

    def client(self, host: str | None = None) -> Any:
        """A Dokku client of ``host`` (default: the host this request or command acts on,
        :func:`pruvon_core.hosts.current`), rebuilt when the config changes.

        Kept across calls, one per host, so its short read cache is shared (in
        the web UI, by every request and hook of the application).  An unknown
        host name raises :class:`pruvon_core.hosts.UnknownHost`.
        """
        return self.client_for(host if host is not None else self._current_host())

    def client_for(self, host: str | None) -> Any:
        """The client of host ``host`` by name (``None``: the default host)."""
        config = self.config
        with self._lock:
            if self._client_stamp != config.stamp:
                self._clients = {}
                self._client_stamp = config.stamp
            if host not in self._clients:
                self._clients[host] = self._build(config, host)
            return self._clients[host]

    def _build(self, config: Config, host: str | None) -> Any:
        if host is None or self._client_for is None:
            return self._bound(self._client_from_config, "client")(config)
        return self._client_for(config, host, self.state_dir)

    def operations(self) -> OperationManager:
        """The operations manager (queued, logged, cancellable Dokku work)."""
        return self._bound(self._operation_manager, "operations")(self.state_dir)

    def allowed(self, actor: Actor | None, action: str, resource: Resource | None = None) -> bool:
        """The one permission decision (:func:`pruvon_core.permissions.check`), against
        the config as it is now."""
        return self._bound(self._check, "allowed")(actor, action, resource, self.config)
