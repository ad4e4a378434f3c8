"""A full disk: clear errors naming the path, sign-in and reads still work, no temp files.

The fault (issue 19, item 2): with config and state on a full filesystem the
CLI printed a traceback ending in ``OSError: [Errno 28]``, the web answered a
generic 500, sign-in was impossible (the throttle's SQLite write failed, then
its rollback failed) and a 0-byte ``operations/<id>.tmp…`` stayed behind.
Here config and state live on a real 4 MiB tmpfs that is filled to the last
byte after setup.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pruvon_testing.fixtures_config import CONFIG_TEMPLATE, PASSWORDS, _hashes
from pruvon_testing.fixtures_web import csrf_from, login
from pruvon_testing.sim.main import run

BIN = Path(sys.executable).parent


def _digests(root: Path) -> dict[str, str]:
    """Content of every data file; empty lock files and the append-only audit log aside
    (an entry may still fit in the log's last allocated page)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in ("filler", "audit.log") and not p.name.endswith(".lock")}


@pytest.fixture
def install(small_disk, tmp_path, monkeypatch):
    """Config and state on the small disk, a simulated host beside it; signed in once."""
    config, state = small_disk.root / "pruvon.yml", small_disk.root / "state"
    config.write_text(CONFIG_TEMPLATE.format(**_hashes()), encoding="utf-8")
    os.chmod(config, 0o600)
    state.mkdir(mode=0o700)
    sim = tmp_path / "sim"
    sim.mkdir()
    for argv in (["apps:create", "blog"], ["git:from-image", "blog", "example/web:1"]):
        assert run(argv, root=sim)[0] == 0
    env = {"PRUVON_CONFIG": str(config), "PRUVON_STATE_DIR": str(state),
           "PRUVON_BCRYPT_ROUNDS": "4", "PRUVON_SIM_ROOT": str(sim),
           "PRUVON_DOKKU_COMMAND": str(BIN / "pruvon-dokku-sim"),
           "PRUVON_DOCKER_COMMAND": str(BIN / "pruvon-docker-sim")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from pruvon_auth.apikeys import ApiKeyStore
    from pruvon_web.app import create_app

    from pruvon_core.operations import OperationStore

    app = create_app(config, state_dir=state)
    app.testing = False
    client = app.test_client()
    assert login(client, "admin", PASSWORDS["admin"]).status_code == 302  # throttle db, secret
    token, _ = ApiKeyStore(state).create("admin", ["users.write", "apps.ps.write", "apps.read"],
                                         datetime.now(UTC) + timedelta(hours=1))
    OperationStore(state)
    small_disk.fill()
    return {"disk": small_disk, "config": config, "state": state, "app": app,
            "token": token, "env": {**os.environ, **env}}


def _cli(install, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pruvon"), *args], env=install["env"], input=stdin,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("argv", "stdin", "path"), [
    (("user", "grant", "alice", "--app", "new-app"), None, "pruvon.yml"),
    (("user", "passwd", "alice", "--password-stdin"), "another-password-01\n", "pruvon.yml"),
    (("user", "add", "carol", "--password-stdin"), "carol-password-0001\n", "pruvon.yml"),
    (("apikey", "create", "--scope", "users.read", "--user", "admin"), None, "apikeys.json"),
    (("secret", "rotate"), None, "session-secret"),
])
def test_cli_says_disk_full_naming_the_path_without_traceback(install, argv, stdin, path):
    before = _digests(install["disk"].root)
    result = _cli(install, *argv, stdin=stdin)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr and "Errno" not in result.stderr, result.stderr
    assert f"Error: disk full: cannot write {install['disk'].root}" in result.stderr
    assert path in result.stderr
    assert _digests(install["disk"].root) == before  # every file intact
    assert install["disk"].temp_files() == []


def test_cli_reads_still_work(install):
    result = _cli(install, "user", "list", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert '"alice"' in result.stdout


def test_sign_in_works_and_guessing_is_still_throttled(install):
    client = install["app"].test_client()
    assert login(client, "victor", PASSWORDS["victor"]).status_code == 302
    assert client.get("/apps").status_code == 200  # reads work

    guesser = install["app"].test_client()
    statuses = [login(guesser, "alice", f"wrong-guess-{n:04d}").status_code for n in range(8)]
    assert statuses[:5] == [401] * 5  # the free failures
    assert 429 in statuses[5:], statuses  # the throttle could not write, yet still counts
    other = install["app"].test_client()  # nobody else is locked out
    assert login(other, "admin", PASSWORDS["admin"]).status_code == 302
    assert install["disk"].temp_files() == []


def test_web_answers_507_naming_the_path(install):
    headers = {"Authorization": f"Bearer {install['token']}"}
    client = install["app"].test_client()
    before = _digests(install["disk"].root)

    response = client.patch("/api/v1/users/alice", json={"role": "viewer"}, headers=headers)
    assert response.status_code == 507
    assert response.get_json()["error"].startswith(
        f"disk full: cannot write {install['config']}")

    response = client.post("/api/v1/apps/blog/ps", json={"action": "restart"}, headers=headers)
    assert response.status_code == 507, response.get_data(as_text=True)
    assert "disk full: cannot write" in response.get_json()["error"]

    page = install["app"].test_client()
    login(page, "admin", PASSWORDS["admin"])
    token = csrf_from(page.get("/settings/users/alice").get_data(as_text=True))
    response = page.post("/settings/users/alice", data={
        "csrf_token": token, "op": "save", "role": "viewer", "apps": "blog"})
    assert response.status_code == 507
    html = response.get_data(as_text=True)
    assert "disk full: cannot write" in html and 'id="edit-user"' in html  # the form again

    keys_page = page.get("/settings/apikeys").get_data(as_text=True)
    response = page.post("/settings/apikeys", data={
        "csrf_token": csrf_from(keys_page), "op": "create", "scopes": "users.read", "days": "30"})
    assert response.status_code == 507
    assert "API key not created: disk full: cannot write" in response.get_data(as_text=True)

    assert _digests(install["disk"].root) == before
    assert install["disk"].temp_files() == []
