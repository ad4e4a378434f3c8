"""Shared helpers for the auth unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import reset_actions
from pruvon_core.plugins import get_plugin_manager


class FakeClock:
    """A controllable ``time.time`` for throttle, TOTP and API-key tests."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class Voter:
    """A plugin voting through ``pruvon_permission_allowed`` as the test says."""

    def __init__(self, decide) -> None:
        self.decide = decide
        self.calls: list[tuple[str, object]] = []

    @hookimpl
    def pruvon_permission_allowed(self, actor, action, resource):
        self.calls.append((action, resource))
        return self.decide(actor, action, resource)


@pytest.fixture
def register_plugin() -> Iterator:
    """Register in-process plugins for one test, unregistered afterwards."""
    manager = get_plugin_manager()
    names: list[str] = []

    def register(plugin: object, name: str) -> object:
        manager.register(plugin, name=name)
        names.append(name)
        reset_actions()
        return plugin

    yield register
    for name in names:
        manager.unregister(name)
    reset_actions()
