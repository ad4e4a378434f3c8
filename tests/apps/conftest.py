"""Fixtures for the apps plugin tests: a simulated host with a few apps, web clients."""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.fixtures_client import client_for_sim
from pruvon_testing.sim.main import run

SIM = Path(sys.executable).parent / "pruvon-dokku-sim"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def sim(root: Path, *argv: str) -> bytes:
    code, out, err = run(list(argv), root=root)
    assert code == 0, (argv, out, err)
    return out


@pytest.fixture
def sim_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulated host used through the console scripts, as in production.

    Apps: ``blog`` (deployed, running), ``shop-api`` (deployed), ``secret``
    (deployed; not granted to alice), ``empty`` (never deployed).
    """
    root = tmp_path / "sim"
    root.mkdir()
    bindir = Path(sys.executable).parent
    monkeypatch.setenv("PRUVON_SIM_ROOT", str(root))
    monkeypatch.setenv("DOKKU_LIB_ROOT", str(root))  # the simulator's data root, as Dokku's
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(bindir / "pruvon-dokku-sim"))
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(bindir / "pruvon-docker-sim"))
    for app in ("blog", "shop-api", "secret"):
        sim(root, "apps:create", app)
        sim(root, "git:from-image", app, "example/web:1")
    sim(root, "apps:create", "empty")
    return root


@pytest.fixture
def dokku_calls(tmp_path: Path, sim_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``PRUVON_DOKKU_COMMAND`` = the simulator behind a script that logs each argv."""
    log = tmp_path / "dokku-calls.log"
    log.touch()
    wrapper = tmp_path / "recording-dokku"
    sim_command = Path(sys.executable).parent / "pruvon-dokku-sim"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{sim_command}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(wrapper))
    return log


@pytest.fixture
def apps_client(sim_root: Path) -> Any:
    return client_for_sim(sim_root)


@pytest.fixture
def web_app(pruvon_config: Any, sim_root: Path) -> Any:
    from pruvon_web.app import create_app

    flask_app = create_app(pruvon_config.path, state_dir=pruvon_config.state_dir)
    flask_app.testing = False
    return flask_app


@pytest.fixture
def http(web_app: Any) -> Any:
    return web_app.test_client()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


@pytest.fixture
def login_as(http: Any, pruvon_config: Any) -> Any:
    """``login_as("alice")`` signs in and returns a CSRF token for writes."""

    def sign_in(username: str) -> str:
        token = csrf_from(http.get("/login").get_data(as_text=True))
        response = http.post("/login", data={"username": username, "csrf_token": token,
                                             "password": pruvon_config.passwords[username]})
        assert response.status_code == 302, response.get_data(as_text=True)
        return csrf_from(http.get("/account").get_data(as_text=True))

    return sign_in


def wait_operation(state_dir: Path, op_id: str, timeout: float = 60.0) -> Any:
    """Block until an operation finishes (tests only; the UI never blocks)."""
    import time

    from pruvon_core.operations import OperationStore

    store = OperationStore(state_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op = store.get(op_id)
        if not op.active:
            return op
        time.sleep(0.05)
    raise AssertionError(f"operation {op_id} still running after {timeout} s")


def seed_logs(root: Path, app: str, lines: list[str]) -> None:
    """Write lines into the app's simulated container logs (as the app would)."""
    from pruvon_testing.sim import containers
    from pruvon_testing.sim.core import SimState

    state = SimState(root)
    for container in containers.current_containers(state, app):
        for line in lines:
            containers.append_log(state, container.id, line)


def register_image(root: Path, ref: str) -> None:
    """Make another image pullable on the simulated host (a copy of example/web:1)."""
    from pruvon_testing.sim import images
    from pruvon_testing.sim.core import SimState

    state = SimState(root)
    base = images.lookup(state, "example/web:1")
    assert base is not None
    images.register_image(state, ref, cmd=base.cmd, ports=base.ports)
