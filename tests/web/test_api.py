"""The JSON API: Bearer keys (401/403), permissions, JSON errors, OpenAPI."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from pruvon_testing.sim.main import run as sim_run

pytestmark = pytest.mark.usefixtures("sim_root")


def _key(pruvon_config, owner: str, scopes: list[str], days: float = 1) -> tuple[str, str]:
    from pruvon_auth.apikeys import ApiKeyStore

    token, key = ApiKeyStore(pruvon_config.state_dir).create(
        owner, scopes, datetime.now(UTC) + timedelta(days=days)
    )
    return token, key.id


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_key_in_scope_works(client, pruvon_config):
    token, _ = _key(pruvon_config, "admin", ["users.read"])
    response = client.get("/api/v1/users", headers=_bearer(token))
    assert response.status_code == 200
    users = {u["username"] for u in response.get_json()["users"]}
    assert {"admin", "alice", "victor", "dave"} <= users
    assert "password" not in str(response.get_json())


def test_api_key_out_of_scope_is_403_json(client, pruvon_config):
    token, _ = _key(pruvon_config, "admin", ["users.read"])
    response = client.post("/api/v1/users", headers=_bearer(token), json={"username": "x"})
    assert response.status_code == 403
    assert response.get_json() == {"error": "not allowed: users.write"}


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Bearer ", "Basic YWRtaW46eA==", "Bearer pvk_000000000000_x"]
)
def test_bad_credentials_are_401_json(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert set(response.get_json()) == {"error"}


def test_revoked_and_expired_keys_are_401(client, pruvon_config):
    from pruvon_auth.apikeys import ApiKeyStore

    token, key_id = _key(pruvon_config, "admin", ["users.read"])
    ApiKeyStore(pruvon_config.state_dir).revoke(key_id)
    revoked = client.get("/api/v1/me", headers=_bearer(token))
    assert revoked.status_code == 401 and "revoked" in revoked.get_json()["error"]
    past = ApiKeyStore(pruvon_config.state_dir, clock=lambda: time.time() - 2 * 86400)
    token, _ = past.create("admin", ["users.read"], time.time() - 86400)  # expired yesterday
    expired = client.get("/api/v1/me", headers=_bearer(token))
    assert expired.status_code == 401 and "expired" in expired.get_json()["error"]


def test_key_of_a_disabled_owner_stops_working(client, pruvon_config):
    token, _ = _key(pruvon_config, "alice", ["apps.read"])
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    text = pruvon_config.path.read_text()
    pruvon_config.write(text.replace("    role: user\n    routes:", "    role: user\n    disabled: true\n    routes:", 1))
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_api_keys_are_not_accepted_on_pages_or_in_urls(client, pruvon_config):
    token, _ = _key(pruvon_config, "admin", ["dashboard.read"])
    assert client.get("/", headers=_bearer(token)).status_code == 302  # pages: sessions only
    assert client.get(f"/api/v1/me?api_key={token}").status_code == 401


def test_bearer_writes_need_no_csrf_but_sessions_do(client, pruvon_config, login_as):
    token, _ = _key(pruvon_config, "admin", ["users.write", "users.read"])
    created = client.post("/api/v1/users", headers=_bearer(token), json={
        "username": "erin", "password": "erin-password-123", "role": "viewer", "apps": ["blog"]})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["apps"] == ["blog"]
    assert pruvon_config.user("erin").role == "viewer"


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"username": "erin", "password": "short", "role": "user"}, 400, "password"),
        ({"username": "bad name", "password": "long-enough-pass", "role": "user"}, 400, "username"),
        ({"username": "erin", "password": "long-enough-pass", "role": "root"}, 400, "role"),
        ({"username": "alice", "password": "long-enough-pass"}, 409, "already exists"),
        ({"username": "erin", "password": "long-enough-pass", "apps": "blog"}, 400, "apps"),
        ([1, 2], 400, "JSON object"),
        ({"username": "erin", "password": "long-enough-pass", "disable": True}, 400,
         "unknown field(s): disable"),
    ],
)
def test_user_create_bad_input(client, pruvon_config, payload, status, fragment):
    token, _ = _key(pruvon_config, "admin", ["users.write"])
    response = client.post("/api/v1/users", headers=_bearer(token), json=payload)
    assert response.status_code == status
    assert fragment in response.get_json()["error"]


def test_user_patch_and_delete(client, pruvon_config):
    token, _ = _key(pruvon_config, "admin", ["users.write", "users.read"])
    patched = client.patch("/api/v1/users/alice", headers=_bearer(token), json={"disabled": True})
    assert patched.status_code == 200 and patched.get_json()["disabled"] is True
    typo = client.patch("/api/v1/users/alice", headers=_bearer(token), json={"role ": "admin"})
    assert typo.status_code == 400 and "unknown field" in typo.get_json()["error"]
    assert pruvon_config.user("alice").apps == ("blog", "shop-*")  # untouched fields kept
    assert client.delete("/api/v1/users/alice", headers=_bearer(token)).status_code == 204
    assert client.get("/api/v1/users/alice", headers=_bearer(token)).status_code == 404
    last = client.delete("/api/v1/users/admin", headers=_bearer(token))
    assert last.status_code == 400 and "admin" in last.get_json()["error"]


def test_apikeys_endpoints_show_token_once(client, pruvon_config):
    # a key may mint only its own scopes, expiring no later than itself
    token, _ = _key(pruvon_config, "admin", ["apikeys.write", "apps.read"], days=8)
    created = client.post("/api/v1/apikeys", headers=_bearer(token),
                          json={"scopes": ["apps.read"], "expires_in_days": 7})
    assert created.status_code == 201
    new_token = created.get_json()["token"]
    listing = client.get("/api/v1/apikeys", headers=_bearer(token)).get_data(as_text=True)
    assert new_token not in listing
    key_id = created.get_json()["apikey"]["id"]
    assert client.delete(f"/api/v1/apikeys/{key_id}", headers=_bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=_bearer(new_token)).status_code == 401
    bad = client.post("/api/v1/apikeys", headers=_bearer(token),
                      json={"scopes": ["no.such"], "expires_in_days": 7})
    assert bad.status_code == 400


def test_me_reports_identity_and_allowed_actions(client, login_as):
    login_as("victor")
    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "victor" and me["role"] == "viewer" and me["auth"] == "session"
    assert "apps.read" in me["actions"] and "users.write" not in me["actions"]


def test_apps_are_filtered_by_permission(client, login_as, sim_root):
    for name in ("blog", "shop-1", "secret"):
        assert sim_run(["apps:create", name], root=sim_root)[0] == 0
    login_as("alice")
    response = client.get("/api/v1/apps")
    assert response.status_code == 200, response.get_json()
    apps = response.get_json()["apps"]
    assert [a["name"] for a in apps] == ["blog", "shop-1"]
    assert all(a["state"] == "not deployed" for a in apps)


def test_viewer_forged_write_is_403(client, login_as, pruvon_config):
    token = login_as("victor")
    response = client.post("/api/v1/users", json={"username": "x"},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 403 and set(response.get_json()) == {"error"}
    assert pruvon_config.user("x") is None


def test_openapi_documents_every_api_route(app, client, login_as):
    login_as("admin")
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    users_post = document["paths"]["/api/v1/users"]["post"]
    assert users_post["x-pruvon-action"] == "users.write"
    assert "403" in users_post["responses"] and "requestBody" in users_post
