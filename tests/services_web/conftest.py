"""Fixtures for the services web tests: the apps tests' simulated host and web clients,
plus a few services (``blog-db`` linked to ``blog``, ``crm-db`` outside alice's grant)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.apps.conftest import (  # noqa: F401 - fixtures re-used by name
    dokku_calls,
    http,
    login_as,
    sim,
    sim_root,
    web_app,
)


@pytest.fixture
def services(sim_root: Path) -> Path:  # noqa: F811 - the fixture
    """postgres ``blog-db`` (linked to blog) and ``crm-db``; redis ``cache``."""
    for name in ("blog-db", "crm-db"):
        sim(sim_root, "postgres:create", name)
    sim(sim_root, "redis:create", "cache")
    sim(sim_root, "postgres:link", "blog-db", "blog")
    return sim_root


def calls(log: Path) -> list[str]:
    """The dokku argv lines the recording wrapper saw, in order."""
    return log.read_text().splitlines()


def audit_events(state_dir: Path) -> list[Any]:
    from pruvon_core import audit

    return list(audit.read(state_dir=state_dir))


def post(client: Any, path: str, token: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": token, **data})
