"""Fixtures for the backups web tests: the simulated host of the engine tests, a web app.

Services: postgres ``blog-db`` (granted to alice and victor) and ``secret-db``
(granted to nobody but admin), redis ``cache`` (alice: every redis).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.fixtures_web import make_app
from tests.backups.conftest import sim, write_backup_section

VICTOR_WITH_BACKUPS = """  - username: victor
    password: {victor}
    role: viewer
    routes:
      - /backups
    apps:
      - blog
"""


def backups_server(root: Path, rows: int = 60) -> Any:
    """``pruvon serve`` (gunicorn) with a ``backup:`` section and postgres ``blog-db`` holding
    ``rows`` rows of 6 kB of random hex (a dump large enough for several progress frames)."""
    from tests.backups.conftest import POSTGRES_ROWS
    from tests.web.server import start_server

    running = start_server(root, extra_config=f"\nbackup:\n  backup_dir: {root / 'backups'}\n")
    sim(running.sim, "postgres:create", "blog-db")
    inserts = b"".join(b"INSERT INTO posts (title) VALUES ('%d %s');\n"
                       % (i, os.urandom(3000).hex().encode()) for i in range(rows))
    sim(running.sim, "postgres:connect", "blog-db", stdin=POSTGRES_ROWS + inserts)
    return running


@pytest.fixture
def secret_db(host: Path) -> Path:
    sim(host, "postgres:create", "secret-db")
    return host


@pytest.fixture
def pruvon_web_app(pruvon_config: Any, secret_db: Path, backup_dir: Path) -> Any:
    """The web app on the fixture config with a ``backup:`` section; victor opens /backups."""
    text = pruvon_config.path.read_text()
    victor = text.index("  - username: victor")
    dave = text.index("  - username: dave")
    victor_block = VICTOR_WITH_BACKUPS.format(victor=pruvon_config.hashes["victor"]) + \
        text[text.index("    services:", victor):dave]
    pruvon_config.write(text[:victor] + victor_block + text[dave:])
    write_backup_section(pruvon_config, backup_dir)
    return make_app(pruvon_config)


def wait_operation(client: Any, op_id: str, token: str, timeout: float = 30) -> dict[str, Any]:
    """The operation's JSON once it ended."""
    deadline = time.monotonic() + timeout
    while True:
        data = client.get(f"/api/v1/backups/operations/{op_id}",
                        headers={"X-CSRF-Token": token}).get_json()
        if data["status"] not in ("queued", "running"):
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.1)


def api(client: Any, token: str, method: str, path: str, **kwargs: Any) -> Any:
    return client.open(path, method=method, headers={"X-CSRF-Token": token}, **kwargs)
