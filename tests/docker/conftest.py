"""Fixtures for the docker plugin: a simulated host with Dokku apps and plain containers.

Users beyond the shared fixture config: ``alice`` (user) gets ``/docker`` and
``/docker/restart*`` (look and restart, nothing else); ``victor`` (viewer)
gets ``/docker*``, of which a viewer keeps only the reads.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.fixtures_client import client_for_sim
from pruvon_testing.sim import dockerobjects
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run
from tests.apps.conftest import csrf_from, http, login_as  # noqa: F401 - fixtures, shared

BIN = Path(sys.executable).parent


def sim(root: Path, *argv: str) -> bytes:
    code, out, err = run(list(argv), root=root)
    assert code == 0, (argv, out, err)
    return out


def seed(root: Path) -> None:
    """App ``blog`` (running), app ``old`` (stopped by ps:stop), and the plain
    containers, volumes, networks and images of :func:`dockerobjects.seed_examples`."""
    for app in ("blog", "old"):
        sim(root, "apps:create", app)
        sim(root, "git:from-image", app, "example/web:1")
    sim(root, "ps:stop", "old")
    dockerobjects.seed_examples(SimState(root))

@pytest.fixture
def docker_calls(tmp_path: Path) -> Path:
    return tmp_path / "docker-calls.log"


@pytest.fixture
def sim_root(tmp_path: Path, docker_calls: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seeded host through the console scripts; every docker argv logged to a file."""
    root = tmp_path / "sim"
    root.mkdir()
    docker_calls.touch()
    wrapper = tmp_path / "recording-docker"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{docker_calls}"\n'
                       f'exec "{BIN / "pruvon-docker-sim"}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PRUVON_SIM_ROOT", str(root))
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(BIN / "pruvon-dokku-sim"))
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(wrapper))
    seed(root)
    return root


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines()


@pytest.fixture
def docker_client(sim_root: Path) -> Any:
    return client_for_sim(sim_root)


def grant_docker(pruvon_config: Any) -> None:
    text = pruvon_config.path.read_text()
    text = text.replace("    routes:\n      - /backups\n",
                        "    routes:\n      - /backups\n      - /docker\n      - /docker/restart*\n")
    text = text.replace("    role: viewer\n", "    role: viewer\n    routes:\n      - /docker*\n")
    pruvon_config.write(text)


@pytest.fixture
def web_app(pruvon_config: Any, sim_root: Path) -> Any:
    from pruvon_web.app import create_app

    grant_docker(pruvon_config)
    flask_app = create_app(pruvon_config.path, state_dir=pruvon_config.state_dir)
    flask_app.testing = False
    return flask_app
