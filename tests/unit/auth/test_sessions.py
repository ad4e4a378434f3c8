"""Session secret (0600, rotation) and the revocation fingerprint."""

from __future__ import annotations

import dataclasses
import stat

import pytest
from pruvon_auth.sessions import (
    SessionSecretError,
    current_fingerprint,
    rotate_session_secret,
    secret_age_days,
    session_limits,
    session_secret,
    still_valid,
    user_fingerprint,
)


def test_secret_is_created_once_private_and_stable(tmp_path):
    secret = session_secret(tmp_path)
    assert len(secret) == 64
    assert session_secret(tmp_path) == secret
    assert stat.S_IMODE((tmp_path / "session-secret").stat().st_mode) == 0o600


def test_rotation_replaces_the_secret(tmp_path):
    before = session_secret(tmp_path)
    rotate_session_secret(tmp_path)
    after = session_secret(tmp_path)
    assert after != before and len(after) == 64
    assert stat.S_IMODE((tmp_path / "session-secret").stat().st_mode) == 0o600


def test_unusable_secret_files_are_reported(tmp_path):
    (tmp_path / "session-secret").write_text("not hex at all\n")
    with pytest.raises(SessionSecretError, match="not hex"):
        session_secret(tmp_path)
    (tmp_path / "session-secret").write_text("abcd\n")
    with pytest.raises(SessionSecretError, match="fewer than 32"):
        session_secret(tmp_path)


def test_secret_age(tmp_path):
    assert secret_age_days(tmp_path) is None
    session_secret(tmp_path)
    mtime = (tmp_path / "session-secret").stat().st_mtime
    assert secret_age_days(tmp_path, now=mtime + 2 * 86400) == pytest.approx(2.0)


@pytest.mark.parametrize(
    "change",
    [
        {"password_hash": "$2b$04$" + "b" * 53},
        {"role": "viewer"},
        {"disabled": True},
    ],
)
def test_fingerprint_changes_with_credentials_and_standing(pruvon_config, change):
    record = pruvon_config.user("alice")
    assert user_fingerprint(dataclasses.replace(record, **change)) != user_fingerprint(record)


@pytest.mark.parametrize(
    "change",
    [
        {"apps": ("blog", "shop-*", "new")},
        {"routes": ()},
        {"services": {"postgres": ("blog-db",)}},
        {"can_create_apps": False},
        {"can_create_services": True},
    ],
)
def test_grant_changes_keep_the_session(pruvon_config, change):
    """Grants are enforced per request/socket; an added grant must not sign the user out."""
    record = pruvon_config.user("alice")
    assert user_fingerprint(dataclasses.replace(record, **change)) == user_fingerprint(record)


def test_fingerprint_is_stable_and_hides_the_hash(pruvon_config):
    record = pruvon_config.user("alice")
    assert user_fingerprint(record) == user_fingerprint(pruvon_config.user("alice"))
    assert record.password_hash not in user_fingerprint(record)


def test_still_valid_follows_config_edits(pruvon_config):
    from pruvon_auth.users import grant, remove_user, set_disabled, set_password

    store = pruvon_config.store
    fingerprint = current_fingerprint(store.current(), "alice")
    assert still_valid(store.current(), "alice", fingerprint)
    grant(store, "alice", apps=["extra"])
    assert still_valid(store.current(), "alice", fingerprint)  # a widened grant keeps it
    set_password(store, "alice", pruvon_config.hashes["victor"])
    assert not still_valid(store.current(), "alice", fingerprint)
    fingerprint = current_fingerprint(store.current(), "alice")
    set_disabled(store, "alice", True)
    assert current_fingerprint(store.current(), "alice") is None
    assert not still_valid(store.current(), "alice", fingerprint)
    remove_user(store, "alice")
    assert not still_valid(store.current(), "alice", fingerprint)


def test_session_limits(pruvon_config):
    assert session_limits(pruvon_config.config()) == (30 * 60, 12 * 3600)
    text = pruvon_config.path.read_text() + "security:\n  session_idle_minutes: 5\n  session_max_hours: 2\n"
    pruvon_config.write(text)
    assert session_limits(pruvon_config.config()) == (300, 7200)
