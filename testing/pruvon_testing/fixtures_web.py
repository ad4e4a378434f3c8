"""Test helpers for web pages of any plugin: an app, a client, signing in.

Built on the ``pruvon_config`` fixture (users admin, alice, victor, dave) of
the pruvon pytest plugin.  Use in a plugin's tests::

    from pruvon_testing.fixtures_web import csrf_from, pruvon_web_app, pruvon_web_client, pruvon_web_login

    def test_my_page(pruvon_web_client, pruvon_web_login):
        token = pruvon_web_login("alice")        # signed in; token for POSTs
        assert pruvon_web_client.get("/apps").status_code == 200
        pruvon_web_client.post("/apps/blog/restart", data={"csrf_token": token})

Flask is imported only when a fixture runs, so importing this module does not
require the ``web`` extra.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of a rendered page (every page with a form carries one)."""
    match = CSRF_RE.search(html)
    if match is None:
        raise AssertionError("no csrf_token field in the page")
    return match.group(1)


def login(client: Any, username: str, password: str, **extra: Any) -> Any:
    """Post the real sign-in form (GET for its token first); returns the response."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": password, "csrf_token": token, **extra}
    return client.post("/login", data=data)


def use_simulator(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point Pruvon at a simulated Dokku in ``root``, through the console scripts."""
    root.mkdir(parents=True, exist_ok=True)
    bindir = Path(sys.executable).parent
    monkeypatch.setenv("PRUVON_SIM_ROOT", str(root))
    monkeypatch.setenv("DOKKU_LIB_ROOT", str(root))  # where Pruvon reads Procfile/app.json
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(bindir / "pruvon-dokku-sim"))
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(bindir / "pruvon-docker-sim"))
    return root


def make_app(pruvon_config: Any) -> Any:
    """The web application on the fixture config, with the real error handlers."""
    from pruvon_web.app import create_app

    app = create_app(pruvon_config.path, state_dir=pruvon_config.state_dir)
    app.testing = False
    return app


def signer(client: Any, pruvon_config: Any) -> Callable[[str], str]:
    """A function that signs ``client`` in as a fixture user and returns a CSRF token."""

    def sign_in(username: str) -> str:
        response = login(client, username, pruvon_config.passwords[username])
        if response.status_code != 302:
            raise AssertionError(f"sign-in as {username} failed: {response.status_code}")
        return csrf_from(client.get("/account").get_data(as_text=True))

    return sign_in


@pytest.fixture
def pruvon_web_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty simulated Dokku host (``PRUVON_SIM_ROOT``)."""
    return use_simulator(tmp_path / "web-sim", monkeypatch)


@pytest.fixture
def pruvon_web_app(pruvon_config: Any, pruvon_web_sim: Path) -> Any:
    """The web application on the fixture config and the simulator."""
    return make_app(pruvon_config)


@pytest.fixture
def pruvon_web_client(pruvon_web_app: Any) -> Any:
    return pruvon_web_app.test_client()


@pytest.fixture
def pruvon_web_login(pruvon_web_client: Any, pruvon_config: Any) -> Callable[[str], str]:
    """``pruvon_web_login("victor")`` signs the client in and returns a CSRF token."""
    return signer(pruvon_web_client, pruvon_config)
