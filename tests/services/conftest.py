"""Fixtures for the services tests: the apps tests' simulated host, a client, a guard.

``host`` is the apps tests' ``sim_root`` (apps ``blog``, ``shop-api``,
``secret`` deployed, ``empty`` not), with no services yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pruvon_core.guard import Guard
from pruvon_core.permissions import SYSTEM
from pruvon_testing.fixtures_client import client_for_sim
from tests.apps.conftest import (  # noqa: F401  (fixtures re-used)
    dokku_calls,
    http,
    login_as,
    sim,
    sim_root,
    wait_operation,
    web_app,
)


@pytest.fixture
def host(sim_root: Path) -> Path:  # noqa: F811
    return sim_root


@pytest.fixture
def client(host: Path) -> Any:
    return client_for_sim(host)


@pytest.fixture
def system_guard(tmp_path: Path) -> Guard:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return Guard(SYSTEM, None, state, extra={"via": "test"})
