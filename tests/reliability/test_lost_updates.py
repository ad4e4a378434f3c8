"""Lost updates: concurrent CLI and API edits of one user never drop each other's changes.

The fault (issue 19, item 1): ``PATCH /api/v1/users/bob {"role": …}`` read the
user from the cached config, merged the request into that copy and wrote the
whole user back, so grants the CLI made in between vanished (21 of 30 lost).
Here real ``pruvon user grant`` processes run while a real gunicorn answers
PATCHes of the same user's role, for several seconds; every grant must be on
disk at the end.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.web.server import BIN, server_env, start_server

pytestmark = pytest.mark.e2e

GRANTS = 24


@pytest.fixture
def server(tmp_path):
    running = start_server(tmp_path / "srv")
    yield running
    running.stop()


def _cli(server, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = server_env(server.root, server.sim, server.state, server.config)
    env["PRUVON_BCRYPT_ROUNDS"] = "4"
    return subprocess.run([str(BIN / "pruvon"), *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def _patch(server, token: str, username: str, body: dict) -> int:
    request = urllib.request.Request(
        f"{server.url}/api/v1/users/{username}", data=json.dumps(body).encode(), method="PATCH",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status


def test_cli_grants_survive_concurrent_api_role_patches(server):
    from pruvon_auth.apikeys import ApiKeyStore

    from pruvon_core.config import load_config

    created = _cli(server, "user", "add", "bob", "--role", "user", "--password-stdin",
                   stdin="bob-password-000001\n")
    assert created.returncode == 0, created.stderr
    token, _ = ApiKeyStore(server.state).create(
        "admin", ["users.write", "users.read"], datetime.now(UTC) + timedelta(hours=1))

    stop = threading.Event()
    patches: list[int] = []

    def patch_loop() -> None:
        roles = ("viewer", "user")
        while not stop.is_set():
            patches.append(_patch(server, token, "bob", {"role": roles[len(patches) % 2]}))

    patcher = threading.Thread(target=patch_loop, daemon=True)
    patcher.start()
    started = time.monotonic()
    try:
        for n in range(GRANTS):
            result = _cli(server, "user", "grant", "bob", "--app", f"c{n}")
            assert result.returncode == 0, result.stderr
    finally:
        stop.set()
        patcher.join(timeout=30)
    elapsed = time.monotonic() - started

    assert elapsed > 3 and len(patches) >= 10, (elapsed, len(patches))  # they really overlapped
    assert set(patches) == {200}
    apps = load_config(server.config).user("bob").apps
    lost = [f"c{n}" for n in range(GRANTS) if f"c{n}" not in apps]
    assert lost == [], f"{len(lost)} of {GRANTS} CLI grants lost to {len(patches)} PATCHes"


def test_patch_changes_only_the_fields_it_sends(server):
    from pruvon_auth.apikeys import ApiKeyStore

    from pruvon_core.config import load_config

    token, _ = ApiKeyStore(server.state).create(
        "admin", ["users.write"], datetime.now(UTC) + timedelta(hours=1))
    before = load_config(server.config).user("alice")
    assert _patch(server, token, "alice", {"disabled": True}) == 200
    after = load_config(server.config).user("alice")
    assert after.disabled and after.role == before.role
    assert (after.apps, after.routes, after.services, after.can_create_apps) == (
        before.apps, before.routes, before.services, before.can_create_apps)


def test_edit_page_save_keeps_a_grant_made_while_the_form_was_open(pruvon_config, tmp_path,
                                                                     monkeypatch):
    from pruvon_testing.fixtures_web import csrf_from, login, make_app, use_simulator

    use_simulator(tmp_path / "sim", monkeypatch)
    client = make_app(pruvon_config).test_client()
    assert login(client, "admin", pruvon_config.passwords["admin"]).status_code == 302
    page = client.get("/settings/users/alice").get_data(as_text=True)
    original = re.search(r"name=\"original\" value='([^']*)'", page)
    assert original, "the edit form carries the user as shown"

    granted = subprocess.run([str(BIN / "pruvon"), "user", "grant", "alice", "--app", "extra"],
                             capture_output=True, text=True, timeout=60)
    assert granted.returncode == 0, granted.stderr

    response = client.post("/settings/users/alice", data={
        "csrf_token": csrf_from(page), "op": "save", "original": html.unescape(original[1]),
        "role": "user", "apps": "shop-*", "routes": "/backups",  # the admin removed blog
        "services": "postgres: blog-db\nredis: *", "can_create_apps": "on"})
    assert response.status_code == 303, response.get_data(as_text=True)
    alice = pruvon_config.user("alice")
    assert alice.apps == ("shop-*", "extra")  # blog removed by the form, extra kept
    assert alice.services == {"postgres": ("blog-db",), "redis": ("*",)}
