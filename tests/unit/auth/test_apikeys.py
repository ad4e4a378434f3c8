"""API keys: shown once, hashed at rest, scoped, expiring, revocable."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from pruvon_auth.apikeys import (
    ApiKeyExpired,
    ApiKeyInvalid,
    ApiKeyNotFound,
    ApiKeyScopeError,
    ApiKeyStore,
    parse_expiry,
)


@pytest.fixture
def store(tmp_path, clock):
    return ApiKeyStore(tmp_path, clock=clock)


def test_create_returns_the_token_once_and_stores_only_its_hash(store, tmp_path, clock):
    token, key = store.create("alice", ["apps.read"], clock() + 3600)
    assert token.startswith(key.prefix + "_")
    text = (tmp_path / "apikeys.json").read_text()
    assert token not in text
    assert token.removeprefix(key.prefix + "_") not in text  # the secret (may hold "_")
    assert stat.S_IMODE((tmp_path / "apikeys.json").stat().st_mode) == 0o600
    assert "token" not in key.as_dict()


def test_authenticate_and_last_used(store, clock):
    token, key = store.create("alice", ["apps.read", "apps.logs"], clock() + 3600)
    clock.advance(10)
    found = store.authenticate(token)
    assert found.id == key.id and found.owner == "alice"
    assert found.scopes == ("apps.logs", "apps.read")
    assert found.last_used_at == clock()


@pytest.mark.parametrize("bad", ["", "Bearer x", "pvk_zz_nothex", "pvk_0123456789ab_" + "A" * 43])
def test_malformed_or_unknown_tokens_are_invalid(store, bad):
    with pytest.raises(ApiKeyInvalid):
        store.authenticate(bad)


def test_a_wrong_secret_with_a_real_prefix_is_invalid(store, clock):
    token, _key = store.create("alice", ["apps.read"], None)
    forged = token[:-4] + ("BBBB" if token.endswith("AAAA") else "AAAA")
    with pytest.raises(ApiKeyInvalid, match="unknown"):
        store.authenticate(forged)


def test_expired_keys_are_refused(store, clock):
    token, _ = store.create("alice", ["apps.read"], clock() + 60)
    clock.advance(61)
    with pytest.raises(ApiKeyExpired):
        store.authenticate(token)


def test_revoked_keys_are_refused(store):
    token, key = store.create("alice", ["apps.read"], None)
    store.revoke(key.prefix)
    with pytest.raises(ApiKeyInvalid, match="revoked"):
        store.authenticate(token)
    assert store.get(key.id).revoked
    assert store.list(include_revoked=False) == []


def test_revoke_unknown_and_revoke_owner(store):
    with pytest.raises(ApiKeyNotFound):
        store.revoke("000000000000")
    store.create("alice", ["apps.read"], None)
    store.create("alice", ["apps.logs"], None)
    _, bob = store.create("bob", ["apps.read"], None)
    assert len(store.revoke_owner("alice")) == 2
    assert [k.id for k in store.list(include_revoked=False)] == [bob.id]


def test_scopes_must_be_real_and_within_the_owner(store):
    with pytest.raises(ApiKeyScopeError, match="at least one"):
        store.create("alice", [], None)
    with pytest.raises(ApiKeyScopeError, match="not action names"):
        store.create("alice", ["Apps Read"], None)
    with pytest.raises(ApiKeyScopeError, match=r"may not perform users\.write"):
        store.create("alice", ["apps.read", "users.write"], None, allowed={"apps.read"})
    assert store.list() == []


def test_expiry_in_the_past_is_refused_and_datetimes_are_accepted(store, clock):
    with pytest.raises(ApiKeyScopeError, match="future"):
        store.create("alice", ["apps.read"], clock() - 1)
    when = datetime.fromtimestamp(clock(), UTC) + timedelta(days=2)
    _, key = store.create("alice", ["apps.read"], when)
    assert key.expires_at == pytest.approx(clock() + 2 * 86400)


def test_parse_expiry():
    assert parse_expiry("30d", now=1000.0) == 1000.0 + 30 * 86400
    assert parse_expiry("12h", now=0.0) == 12 * 3600
    assert parse_expiry("never") is None
    assert parse_expiry("2999-01-01") > 0
    for bad, message in (("0d", "positive"), ("2001-01-01", "past"), ("soon", "use a duration")):
        with pytest.raises(ValueError, match=message):
            parse_expiry(bad)
