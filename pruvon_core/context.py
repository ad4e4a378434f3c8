"""The ``pruvon`` object every hook may take: what a plugin may reach, in one place.

Like Datasette's ``datasette`` argument, it saves plugins from importing
process globals (``web_state()``, ``get_plugin_manager()``, a config path from
the environment): a hook implementation that needs the config, the Dokku
client, a permission check or the operations manager declares a ``pruvon``
parameter and gets them here.  Declaring it is optional; pluggy passes only
the arguments an implementation names.

Everything is resolved lazily, so building one costs nothing and a hook that
never touches the Dokku client never builds one.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from pruvon_core.config import Config, ConfigStore
    from pruvon_core.operations import OperationManager
    from pruvon_core.permissions import Actor, Resource
    from pruvon_core.plugins import PluginManager


class Pruvon:
    """The context handed to hooks as ``pruvon``.

    ``store`` and ``state_dir`` default to the process's config file
    (``$PRUVON_CONFIG`` or ``/etc/pruvon.yml``) and state directory; the web
    application passes its own and uses this object's Dokku client for its
    requests too, so hooks and requests share the client's read cache.
    """

    def __init__(
        self,
        plugins: PluginManager,
        store: ConfigStore | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.plugins = plugins
        self._store = store
        self._state_dir = state_dir
        self._client: Any = None
        self._client_stamp: tuple[int, ...] | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> ConfigStore:
        """The live config store (reloads when the file changes)."""
        if self._store is None:
            from pruvon_core.config import ConfigStore

            self._store = ConfigStore()
        return self._store

    @property
    def config(self) -> Config:
        """The config as it is now (the last good one if the file became invalid)."""
        return self.store.current()

    @property
    def state_dir(self) -> Path:
        """Where Pruvon keeps state: audit log, operations, sessions."""
        if self._state_dir is None:
            from pruvon_core.config import state_dir

            self._state_dir = state_dir()
        return self._state_dir

    def client(self) -> Any:
        """A Dokku client for the current config, rebuilt when the config changes."""
        from pruvon_core.dokku import client_from_config

        config = self.config
        with self._lock:
            if self._client is None or self._client_stamp != config.stamp:
                self._client = client_from_config(config)
                self._client_stamp = config.stamp
            return self._client

    def operations(self) -> OperationManager:
        """The operations manager (queued, logged, cancellable Dokku work)."""
        from pruvon_core.operations import OperationManager

        return OperationManager(self.state_dir)

    def allowed(self, actor: Actor | None, action: str, resource: Resource | None = None) -> bool:
        """The one permission decision (:func:`pruvon_core.permissions.check`), against
        the config as it is now."""
        from pruvon_core.permissions import check

        return check(actor, action, resource, self.config)
