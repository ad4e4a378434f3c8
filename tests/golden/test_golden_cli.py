"""Golden tests: Dokku's main script - help, version, unknown commands, global
flags - and ``plugin:list`` / ``plugin:installed``, against the real captures.

Host state is rebuilt with simulated commands (``tests/golden/simhost.py``);
the ``testplug`` community plugin of the capture host is installed as a real
script plugin (``commands`` + ``plugin.toml`` + git checkout), so ``help``
merges its ``commands help`` output exactly as Dokku does.  The early ``help``
captures predate the service plugins: there the simulator's built-in
postgres/redis plugins are switched off with the ``uninstalled`` knob.

Normalisations: the testplug checkout's commit SHA (40 hex, new per test run);
in ``global-*`` cases the GIT_REV SHA of the deploy.  TTY cases run under a
real pty and compare CRLF output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pruvon_testing.sim.core import SimState
from tests.golden.harness import (
    SHA40,
    Builder,
    check_capture,
    check_capture_tty,
    nothing,
)
from tests.golden.simhost import current_env, install_testplug, ref_apps, svc_plugins


def early_plugins(root: Path) -> None:
    """The start of the session: testplug installed, the service plugins not yet."""
    install_testplug(root)
    SimState(root).set_knobs(uninstalled=["postgres", "redis"])


def all_plugins(root: Path) -> None:
    install_testplug(root)


def session(root: Path) -> None:
    """Late in the session (the ``global-*`` captures)."""
    ref_apps(root)
    svc_plugins(root)
    current_env(root)


SCENARIOS: dict[str, tuple[Builder, tuple]] = {
    "help": (early_plugins, ()),
    "help-all": (early_plugins, ()),
    "no-args": (all_plugins, ()),
    "nope-cmd": (nothing, ()),
    "version": (nothing, ()),
    "version-flag": (nothing, ()),
    "plugin-list": (all_plugins, ()),
    "plugin-list-json": (all_plugins, (SHA40,)),
    "plugin-installed-yes": (all_plugins, ()),
    "plugin-installed-no": (all_plugins, ()),
    "plugin-installed-noarg": (all_plugins, ()),
    "global-app-flag-config-show": (session, (SHA40,)),
    "global-app-flag-ps-scale": (session, ()),
    "global-quiet-apps-create-taken": (session, ()),
    "global-quiet-apps-list": (session, ()),
    "global-quiet-config-show": (session, (SHA40,)),
    "global-quiet-ps-restart-never-deployed": (session, ()),
}

TTY_SCENARIOS: dict[str, tuple[Builder, tuple]] = {
    "help-tty": (all_plugins, ()),
    "help-all-tty": (all_plugins, ()),
    "nope-cmd-tty": (nothing, ()),
}

CLAIMED = sorted([*SCENARIOS, *TTY_SCENARIOS])


@pytest.mark.parametrize("name", sorted(SCENARIOS), ids=sorted(SCENARIOS))
def test_capture(name: str, tmp_path: Path) -> None:
    build, normalisers = SCENARIOS[name]
    check_capture(name, tmp_path, build, normalisers, stdin=b"")


@pytest.mark.parametrize("name", sorted(TTY_SCENARIOS), ids=sorted(TTY_SCENARIOS))
def test_capture_tty(name: str, tmp_path: Path) -> None:
    """With a TTY the main script prints its own headers; the pty merges streams (CRLF)."""
    check_capture_tty(name, tmp_path, *TTY_SCENARIOS[name])
