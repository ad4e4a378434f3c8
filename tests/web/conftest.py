"""Fixtures for the web UI tests, built from ``pruvon_web.testing`` (shared with plugins).

``pruvon_config`` (the pruvon pytest plugin) provides the config with admin,
alice (user), victor (viewer) and dave (disabled) and sets the state dir.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pruvon_web.testing import csrf_from, login, make_app, signer, use_simulator

__all__ = ["csrf_from", "login"]


@pytest.fixture
def sim_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_simulator(tmp_path / "sim", monkeypatch)


@pytest.fixture
def app(pruvon_config: Any, sim_root: Path) -> Any:
    return make_app(pruvon_config)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def login_as(client: Any, pruvon_config: Any) -> Any:
    return signer(client, pruvon_config)
