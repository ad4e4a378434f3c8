"""Review: an API key that may manage keys must not mint a key stronger than itself.

``apikeys.write`` in a key's scopes let it create a new key with *any* action
its owner holds (``users.write`` for an admin's key) and with a longer life
than its own: a leaked, narrow, short-lived key became a broad, long-lived one
that survives revoking the original.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.usefixtures("sim_root")


def _key(pruvon_config, owner: str, scopes: list[str], days: float = 1) -> str:
    from pruvon_auth.apikeys import ApiKeyStore

    token, _ = ApiKeyStore(pruvon_config.state_dir).create(
        owner, scopes, datetime.now(UTC) + timedelta(days=days)
    )
    return token


def _mint(client, token: str, scopes: list[str], days: int):
    return client.post("/api/v1/apikeys", headers={"Authorization": f"Bearer {token}"},
                       json={"scopes": scopes, "expires_in_days": days})


def test_key_cannot_mint_scopes_it_does_not_hold(client, pruvon_config):
    token = _key(pruvon_config, "admin", ["apikeys.write", "apps.read"], days=2)
    refused = _mint(client, token, ["users.write"], 1)
    assert refused.status_code == 400
    assert "users.write" in refused.get_json()["error"]
    assert _mint(client, token, ["apps.read"], 1).status_code == 201


def test_key_cannot_mint_a_key_that_outlives_it(client, pruvon_config):
    token = _key(pruvon_config, "admin", ["apikeys.write", "apps.read"], days=2)
    refused = _mint(client, token, ["apps.read"], 365)
    assert refused.status_code == 400
    assert "expire" in refused.get_json()["error"]
    assert _mint(client, token, ["apps.read"], 1).status_code == 201


def test_session_users_still_grant_what_they_hold(client, login_as):
    csrf = login_as("admin")
    created = client.post("/api/v1/apikeys", headers={"X-CSRF-Token": csrf},
                          json={"scopes": ["users.write"], "expires_in_days": 365})
    assert created.status_code == 201
