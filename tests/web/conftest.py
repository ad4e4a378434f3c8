"""Fixtures for the web UI tests: short names for those of ``pruvon_testing.fixtures_web``.

Plugins test their pages with the same fixtures (``pruvon_web_client`` …), so
the web layer's own tests exercise exactly what plugin authors get.
``pruvon_config`` (the pruvon pytest plugin) provides the config with admin,
alice (user), victor (viewer) and dave (disabled) and sets the state dir.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pruvon_testing import fixtures_web as web_testing
from pruvon_testing.fixtures_web import csrf_from, login

__all__ = ["csrf_from", "login"]

# pytest finds fixtures by their name in this module
pruvon_web_sim = web_testing.pruvon_web_sim
pruvon_web_app = web_testing.pruvon_web_app
pruvon_web_client = web_testing.pruvon_web_client
pruvon_web_login = web_testing.pruvon_web_login


@pytest.fixture
def sim_root(pruvon_web_sim: Path) -> Path:
    return pruvon_web_sim


@pytest.fixture
def app(pruvon_web_app: Any) -> Any:
    return pruvon_web_app


@pytest.fixture
def client(pruvon_web_client: Any) -> Any:
    return pruvon_web_client


@pytest.fixture
def login_as(pruvon_web_login: Any) -> Any:
    return pruvon_web_login
