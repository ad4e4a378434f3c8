"""Pytest fixtures: a fresh Dokku simulator (see pytest_plugin.py).

``dokku_sim`` gives every test its own simulated Dokku host (a state
directory under ``tmp_path``).  Commands run in-process through
:meth:`DokkuSim.run` (fast, for arranging state and asserting on output), and
``DokkuSim.env`` is the environment for subprocesses - Pruvon's own CLI, a
web server under test, a plugin script - that must talk to the same host
through the ``pruvon-dokku-sim`` / ``pruvon-docker-sim`` executables.

``dokku_sim_demo`` is the same with the believable demo host already seeded
(about a dozen apps in various states, domains, linked postgres/redis).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run


def console_script(name: str) -> str:
    """Absolute path of console script ``name`` next to the running interpreter."""
    return str(Path(sys.executable).parent / name)


@dataclass
class DokkuSim:
    """Handle on one simulated Dokku host."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.env:
            self.env = {
                **os.environ,
                "PRUVON_SIM_ROOT": str(self.root),
                "PRUVON_DOKKU_COMMAND": console_script("pruvon-dokku-sim"),
                "PRUVON_DOCKER_COMMAND": console_script("pruvon-docker-sim"),
            }

    @property
    def state(self) -> SimState:
        return SimState(self.root)

    def run(
        self, *argv: str, stdin: bytes = b"", env: dict[str, str] | None = None
    ) -> tuple[int, bytes, bytes]:
        """Run ``dokku ARGV`` in-process; returns (exit code, stdout, stderr).

        ``env`` adds variables for this call (e.g. ``PRUVON_SIM_VERSION``).
        """
        return run(list(argv), root=self.root, stdin=stdin, env=env)

    def check(self, *argv: str, stdin: bytes = b"") -> bytes:
        """Like :meth:`run` but raise with Dokku's output when the exit code is not 0."""
        code, out, err = self.run(*argv, stdin=stdin)
        if code:
            raise AssertionError(
                f"dokku {' '.join(argv)} exited {code}:\n{out.decode(errors='replace')}"
                f"{err.decode(errors='replace')}"
            )
        return out

    def set_knobs(self, **values: object) -> None:
        """Latency, faults, hangs, emulated version (see ``sim/knobs.py``)."""
        self.state.set_knobs(**values)

    def install_plugin(self, source: str | os.PathLike[str], name: str | None = None) -> Path:
        """Copy a Dokku plugin directory into the host; Dokku dispatch then reaches it."""
        src = Path(source)
        target = self.state.plugins_dir / (name or src.name)
        shutil.copytree(src, target, symlinks=True, dirs_exist_ok=True)
        return target

    def seed_demo(self) -> None:
        """Populate the believable demo host (about a dozen apps, services, domains)."""
        from pruvon_testing.sim.demo import seed_demo

        seed_demo(self.root)


@pytest.fixture
def dokku_sim(tmp_path: Path) -> Iterator[DokkuSim]:
    """A fresh, empty simulated Dokku host."""
    yield DokkuSim(tmp_path / "dokku-sim")


@pytest.fixture
def dokku_sim_demo(dokku_sim: DokkuSim) -> Iterator[DokkuSim]:
    """A simulated Dokku host seeded with the demo apps and services."""
    dokku_sim.seed_demo()
    yield dokku_sim
