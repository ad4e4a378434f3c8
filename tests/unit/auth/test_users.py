"""Config edits: comments survive, last-admin guard, legacy admin, grants."""

from __future__ import annotations

import pytest
from pruvon_auth.users import (
    LastAdminError,
    UserError,
    add_user,
    enabled_admins,
    grant,
    grant_app,
    grant_service,
    remove_user,
    revoke,
    set_disabled,
    set_password,
    set_role,
)

from pruvon_core.config import ConfigError, parse

LEGACY = """\
# legacy Pruvon file
admin:
  username: boss
  password: {hash}
pruvon:
  listen: 127.0.0.1:8080
"""


def test_add_user_keeps_comments_and_order(pruvon_config):
    store = pruvon_config.store
    add_user(store, "carol", pruvon_config.hashes["alice"], "viewer", apps=["blog"],
             services={"redis": ["cache"]})
    text = pruvon_config.path.read_text()
    assert "# Test configuration written by the pruvon_config fixture." in text
    assert "# the one admin" in text
    carol = store.current().user("carol")
    assert carol.role == "viewer" and carol.apps == ("blog",)
    assert carol.services == {"redis": ("cache",)}
    assert text.index("username: carol") > text.index("username: dave")


def test_add_user_refuses_duplicates_and_bad_names(pruvon_config):
    store = pruvon_config.store
    with pytest.raises(UserError, match="already exists"):
        add_user(store, "alice", pruvon_config.hashes["alice"])
    with pytest.raises(UserError, match="invalid username"):
        add_user(store, "-rf", pruvon_config.hashes["alice"])
    with pytest.raises(UserError, match="role must be one of"):
        add_user(store, "zed", pruvon_config.hashes["alice"], "root")


def test_invalid_grants_are_rejected_by_validation(pruvon_config):
    with pytest.raises(ConfigError, match="routes"):
        grant(pruvon_config.store, "alice", routes=["no-leading-slash"])


@pytest.mark.parametrize(
    "edit",
    [
        lambda store: remove_user(store, "admin"),
        lambda store: set_disabled(store, "admin", True),
        lambda store: set_role(store, "admin", "user"),
    ],
)
def test_the_last_enabled_admin_is_protected(pruvon_config, edit):
    before = pruvon_config.path.read_text()
    with pytest.raises(LastAdminError, match="no enabled admin"):
        edit(pruvon_config.store)
    assert pruvon_config.path.read_text() == before


def test_an_admin_can_go_when_another_remains(pruvon_config):
    store = pruvon_config.store
    add_user(store, "root2", pruvon_config.hashes["admin"], "admin")
    set_disabled(store, "admin", True)
    with pytest.raises(LastAdminError):
        set_role(store, "root2", "viewer")
    set_disabled(store, "admin", False)
    set_role(store, "root2", "viewer")
    assert enabled_admins(parse(pruvon_config.path.read_text())) == ["admin"]


def test_unknown_user_edits_fail_clearly(pruvon_config):
    for edit in (
        lambda s: remove_user(s, "ghost"),
        lambda s: set_disabled(s, "ghost", True),
        lambda s: set_password(s, "ghost", pruvon_config.hashes["alice"]),
        lambda s: grant(s, "ghost", apps=["x"]),
    ):
        with pytest.raises(UserError, match="no user 'ghost'"):
            edit(pruvon_config.store)


def test_grant_and_revoke(pruvon_config):
    store = pruvon_config.store
    grant(store, "victor", apps=["blog", "wiki"], services={"redis": ["cache"]},
          routes=["/logs"])
    victor = store.current().user("victor")
    assert victor.apps == ("blog", "wiki")
    assert victor.services["redis"] == ("cache",)
    revoke(store, "victor", apps=["wiki"], services={"redis": ["cache"]}, routes=["/logs"])
    victor = store.current().user("victor")
    assert victor.apps == ("blog",) and "redis" not in victor.services and victor.routes == ()
    with pytest.raises(UserError, match="has no apps grant 'wiki'"):
        revoke(store, "victor", apps=["wiki"])
    grant(store, "alice", can_create_services=True)
    assert store.current().user("alice").can_create_services
    revoke(store, "alice", can_create_apps=True, can_create_services=True)
    alice = store.current().user("alice")
    assert not alice.can_create_apps and not alice.can_create_services


def test_grant_app_to_its_creator(pruvon_config):
    store = pruvon_config.store
    assert grant_app(store, "alice", "newapp") is True
    assert "newapp" in store.current().user("alice").apps
    assert grant_app(store, "alice", "newapp") is False
    assert grant_app(store, "alice", "shop-new") is False  # covered by shop-*
    assert grant_app(store, "admin", "anything") is False
    assert grant_service(store, "alice", "postgres", "new-db") is True
    assert grant_service(store, "alice", "redis", "any") is False
    with pytest.raises(UserError):
        grant_app(store, "ghost", "x")


def test_legacy_admin_block(pruvon_config):
    pruvon_config.write(LEGACY.format(hash=pruvon_config.hashes["admin"]))
    store = pruvon_config.store
    assert store.current().user("boss").role == "admin"
    set_password(store, "boss", pruvon_config.hashes["alice"])
    assert "admin:" in pruvon_config.path.read_text()  # edited in place
    with pytest.raises(LastAdminError):
        remove_user(store, "boss")
    add_user(store, "second", pruvon_config.hashes["admin"], "admin")
    set_disabled(store, "boss", True)  # moves it into users:
    text = pruvon_config.path.read_text()
    assert "admin:\n" not in text.split("users:")[0]
    boss = store.current().user("boss")
    assert boss.disabled and boss.role == "admin" and boss.source.startswith("users[")
    assert "# legacy Pruvon file" in text


def test_removing_the_legacy_admin_when_another_admin_exists(pruvon_config):
    pruvon_config.write(LEGACY.format(hash=pruvon_config.hashes["admin"]))
    store = pruvon_config.store
    add_user(store, "second", pruvon_config.hashes["admin"], "admin")
    remove_user(store, "boss")
    assert store.current().user("boss") is None
