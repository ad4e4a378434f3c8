"""Fixtures for the web UI tests: an app on the fixture config, a simulated Dokku.

``pruvon_config`` (the pruvon pytest plugin) provides the config with admin,
alice (user), victor (viewer) and dave (disabled) and sets the state dir.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def sim_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty simulated Dokku host, used through the console scripts like in production."""
    root = tmp_path / "sim"
    root.mkdir()
    bindir = Path(sys.executable).parent
    monkeypatch.setenv("PRUVON_SIM_ROOT", str(root))
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(bindir / "pruvon-dokku-sim"))
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(bindir / "pruvon-docker-sim"))
    return root


@pytest.fixture
def app(pruvon_config: Any, sim_root: Path) -> Any:
    from pruvon_web.app import create_app

    flask_app = create_app(pruvon_config.path, state_dir=pruvon_config.state_dir)
    flask_app.testing = False  # exercise the real error handlers
    return flask_app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def login(client: Any, username: str, password: str, **extra: Any) -> Any:
    """Sign in through the real form (GET for the token, then POST)."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": password, "csrf_token": token, **extra}
    return client.post("/login", data=data)


@pytest.fixture
def login_as(client: Any, pruvon_config: Any) -> Any:
    """``login_as("alice")`` signs the test client in; returns the page's CSRF token."""

    def sign_in(username: str) -> str:
        response = login(client, username, pruvon_config.passwords[username])
        assert response.status_code == 302, response.get_data(as_text=True)
        return csrf_from(client.get("/account").get_data(as_text=True))

    return sign_in
