"""Issue 14 finding 8: every file in the state directory is 0600, every directory 0700.

``operations/`` was created 0755 (a parent made by ``mkdir(parents=True)``)
and lock files 0644.  A representative run - sign-in, an operation from the
web and one from the CLI, an API key, a TOTP enrolment, a terminal registry
- under a permissive umask, then the whole tree is walked.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp

from pruvon_testing.fixtures_web import login
from pruvon_testing.sim.main import run

BIN = Path(sys.executable).parent


def test_state_files_0600_and_directories_0700_whatever_the_umask(pruvon_config, tmp_path,
                                                                   monkeypatch):
    from pruvon_auth.apikeys import ApiKeyStore
    from pruvon_auth.totp import TotpStore
    from pruvon_web.app import create_app

    sim = tmp_path / "sim"
    sim.mkdir()
    for argv in (["apps:create", "blog"], ["git:from-image", "blog", "example/web:1"]):
        assert run(argv, root=sim)[0] == 0
    monkeypatch.setenv("PRUVON_SIM_ROOT", str(sim))
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(BIN / "pruvon-dokku-sim"))
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(BIN / "pruvon-docker-sim"))
    state = pruvon_config.state_dir
    old_umask = os.umask(0o022)
    try:
        app = create_app(pruvon_config.path, state_dir=state)
        client = app.test_client()
        assert login(client, "admin", pruvon_config.passwords["admin"]).status_code == 302
        assert login(app.test_client(), "alice", "wrong-password-000").status_code == 401
        token, _ = ApiKeyStore(state).create("admin", ["apps.ps.write", "apps.read"],
                                             datetime.now(UTC) + timedelta(hours=1))
        totp = TotpStore(state)
        secret, _ = totp.begin("alice")
        totp.confirm("alice", pyotp.TOTP(secret).now())
        response = client.post("/api/v1/apps/blog/ps", json={"action": "restart"},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 202, response.get_data(as_text=True)
        op_id = response.get_json()["id"]
        _wait_finished(client, token, op_id)
        cli = subprocess.run([str(BIN / "pruvon"), "apps", "restart", "blog"],
                             capture_output=True, text=True, timeout=120)
        assert cli.returncode == 0, cli.stderr
    finally:
        os.umask(old_umask)

    wrong = []
    for path in [state, *state.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            wrong.append(f"{path.relative_to(state)}: {mode:o} (wanted {wanted:o})")
    names = {p.name for p in state.rglob("*")}
    assert {"operations", "locks", "throttle.db", "apikeys.json", "totp.json",
            "app__blog.lock", "app__blog.active"} <= names, names
    assert wrong == []


def _wait_finished(client, token: str, op_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data = client.get(f"/api/v1/apps/blog/operations/{op_id}",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
        if data["status"] not in ("queued", "running"):
            assert data["status"] == "succeeded", data
            return
        time.sleep(0.1)
    raise AssertionError("operation did not finish")
