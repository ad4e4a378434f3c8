"""The plugin manager: loads every ``pruvon`` entry point, built-in or not.

Built-in features are registered through the same entry-point group as
third-party plugins, so there is exactly one way in.  Loading is forgiving: a
plugin that fails to import is recorded (name, error) and skipped, and hooks
are called through :func:`call_hook`, which isolates a raising implementation
so one broken plugin cannot take the CLI or the web server down.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from collections import deque
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from pruvon_core import hookspecs

ENTRY_POINT_GROUP = "pruvon"
log = logging.getLogger("pruvon.plugins")


@dataclass
class PluginInfo:
    """What ``pruvon plugins`` reports for one plugin."""

    name: str
    module: str
    version: str | None = None
    distribution: str | None = None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "version": self.version,
            "distribution": self.distribution,
            "hooks": self.hooks,
            "error": self.error,
        }


class PluginManager:
    """A pluggy manager plus the bookkeeping of what loaded and what failed."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("pruvon")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        # bounded: a plugin failing on every request must not grow memory forever
        self.hook_errors: deque[tuple[str, str, str]] = deque(maxlen=200)

    # -- loading -------------------------------------------------------------
    def load_entry_points(self, only: set[str] | None = None) -> None:
        """Load every entry point of the group, honouring the ``only`` filter."""
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if only is not None and ep.name not in only:
                continue
            if ep.name in self.infos:
                continue
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                name=ep.name,
                module=ep.value,
                version=dist.version if dist else None,
                distribution=dist.metadata["Name"] if dist else None,
            )
            self.infos[ep.name] = info
            try:
                module = ep.load()
                self.pm.register(module, name=ep.name)
            except Exception as exc:  # a broken plugin is reported, never fatal
                info.error = f"{type(exc).__name__}: {exc}"
                log.warning("plugin %s failed to load: %s", ep.name, info.error)
                continue
            info.hooks = sorted(h.name for h in self.pm.get_hookcallers(module) or [])

    def register(self, plugin: object, name: str) -> None:
        """Register an in-process plugin object (tests, embedding applications)."""
        self.pm.register(plugin, name=name)
        self.infos[name] = PluginInfo(
            name=name,
            module=getattr(plugin, "__name__", type(plugin).__name__),
            hooks=sorted(h.name for h in self.pm.get_hookcallers(plugin) or []),
        )

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.infos.pop(name, None)

    # -- calling -------------------------------------------------------------
    def call_hook(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of ``hook_name``; return non-None results.

        Each implementation runs on its own: an exception is logged with the
        plugin's name, kept in ``hook_errors`` (shown by ``pruvon plugins`` and
        the web UI) and the remaining plugins still run.
        """
        caller = getattr(self.pm.hook, hook_name)
        results: list[Any] = []
        for impl in reversed(caller.get_hookimpls()):
            args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
            try:
                result = impl.function(**args)
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
                self.hook_errors.append((impl.plugin_name, hook_name, message))
                log.error(
                    "plugin %s failed in %s: %s\n%s",
                    impl.plugin_name,
                    hook_name,
                    message,
                    traceback.format_exc(),
                )
                continue
            if result is not None:
                results.append(result)
        return results

    def call_hook_flat(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Like :meth:`call_hook` for hooks returning lists: concatenates them."""
        flat: list[Any] = []
        for result in self.call_hook(hook_name, **kwargs):
            flat.extend(result)
        return flat

    def report(self) -> list[dict[str, Any]]:
        """Every plugin with its hooks and load or runtime errors."""
        rows = []
        for info in sorted(self.infos.values(), key=lambda i: i.name):
            row = info.as_dict()
            row["hook_errors"] = [
                {"hook": hook, "error": err}
                for plugin, hook, err in self.hook_errors
                if plugin == info.name
            ]
            rows.append(row)
        return rows


def plugin_filter() -> set[str] | None:
    """``PRUVON_PLUGINS=a,b`` restricts loading to those entry-point names."""
    raw = os.environ.get("PRUVON_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


_manager: PluginManager | None = None
_lock = threading.Lock()


def get_plugin_manager() -> PluginManager:
    """The process-wide manager, loaded on first use."""
    global _manager
    with _lock:
        if _manager is None:
            manager = PluginManager()
            manager.load_entry_points(plugin_filter())
            _manager = manager
        return _manager


def reset_plugin_manager() -> None:
    """Forget the loaded manager (tests that change ``PRUVON_PLUGINS``)."""
    global _manager
    with _lock:
        _manager = None
