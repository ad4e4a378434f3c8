"""The plugin manager: loads every ``pruvon`` entry point, built-in or not.

Built-in features are registered through the same entry-point group as
third-party plugins, so there is exactly one way in.  Hooks are called the
pluggy way, ``manager.hook.<name>(pruvon=manager.pruvon, ...)``, so wrappers
(``wrapper=True``, old-style ``hookwrapper``), ``firstresult``, ``historic``
and tracing all behave as pluggy documents, and a misspelt hook name is an
``AttributeError`` instead of a silent no-op.

Loading and calling are forgiving: a plugin that fails to import is recorded
(name, error) and skipped, and every hook implementation is registered behind
an isolating wrapper (:mod:`pruvon_core.isolation`) that records an exception
and answers None, which pluggy drops: one broken plugin cannot take the CLI or
the web server down, and ``pruvon plugins`` names it.
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
from pruvon_core.context import Pruvon
from pruvon_core.isolation import isolate, unknown_hooks

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
        #: The ``pruvon`` context core's own hook calls pass; unbound (only
        #: ``plugins``) until the process entry point binds one
        #: (:func:`pruvon_core.runtime.bind`: the CLI root, the web app factory).
        self.pruvon = Pruvon(self)

    @property
    def hook(self) -> Any:
        """pluggy's hook relay: ``manager.hook.pruvon_event(event=…, pruvon=…)``."""
        return self.pm.hook

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
                self._register(ep.load(), ep.name)
            except Exception as exc:  # a broken plugin is reported, never fatal
                info.error = f"{type(exc).__name__}: {exc}"
                log.warning("plugin %s failed to load: %s", ep.name, info.error)
                continue
            info.hooks = self._hook_names(ep.name)

    def register(self, plugin: object, name: str) -> None:
        """Register an in-process plugin object (tests, embedding applications).

        Unlike an entry point, a plugin registered here that does not fit the
        hook specifications raises: the caller is code, not an operator.
        """
        info = PluginInfo(name=name, module=getattr(plugin, "__name__", type(plugin).__name__))
        self._register(plugin, name)
        info.hooks = self._hook_names(name)
        self.infos[name] = info

    def _register(self, plugin: object, name: str) -> None:
        """Register ``plugin`` behind its isolating stand-in; refuse unknown hook names.

        A hook name no hookspec declares is a typo or a stale hook: it would
        never be called, so the plugin is refused and the reason reported.
        """
        self.pm.register(isolate(self.pm, plugin, name, self._record_error), name=name)
        unknown = unknown_hooks(self.pm, self.pm.get_plugin(name))
        if unknown:
            self.pm.unregister(name=name)
            raise pluggy.PluginValidationError(
                plugin, f"unknown hook(s) {', '.join(unknown)} (not in pruvon_core.hookspecs)"
            )

    def _hook_names(self, name: str) -> list[str]:
        callers = self.pm.get_hookcallers(self.pm.get_plugin(name)) or []
        return sorted(caller.name for caller in callers)

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.infos.pop(name, None)

    def _record_error(self, plugin_name: str, hook_name: str, exc: BaseException) -> None:
        """Keep a hook failure for ``pruvon plugins`` and the log; the call goes on."""
        message = f"{type(exc).__name__}: {exc}"
        self.hook_errors.append((plugin_name, hook_name, message))
        log.error(
            "plugin %s failed in %s: %s\n%s",
            plugin_name,
            hook_name,
            message,
            "".join(traceback.format_exception(exc)),
        )

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


def flatten(results: list[Any]) -> list[Any]:
    """Concatenate the lists returned by a list-returning hook (menus, cards …)."""
    flat: list[Any] = []
    for result in results:
        flat.extend(result)
    return flat


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
