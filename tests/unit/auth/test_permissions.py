"""The decision point: role matrix, Pruvon grants, plugin votes, API-key scopes, revocation."""

from __future__ import annotations

import pytest

from pruvon_core.config import Config, UserRecord, parse
from pruvon_core.permissions import (
    SYSTEM,
    Action,
    Actor,
    PermissionDenied,
    Resource,
    actions,
    actor_for_apikey,
    actor_for_user,
    check,
    grantable_actions,
    name_matches,
    require,
    route_allowed,
)
from tests.unit.auth.conftest import Voter

BLOG = Resource("app", "blog")
SHOP = Resource("app", "shop-eu")
OTHER = Resource("app", "other")
BLOG_DB = Resource("service", "blog-db", "postgres")
OTHER_DB = Resource("service", "crm-db", "postgres")
CACHE = Resource("service", "anything", "redis")


def actor(pruvon_config, name: str) -> Actor:
    return actor_for_user(pruvon_config.user(name))


# --------------------------------------------------------------------------- role matrix
MATRIX = [
    # user, action, resource, expected
    ("admin", "users.write", None, True),
    ("admin", "host.terminal", None, True),
    ("admin", "apps.destroy", OTHER, True),
    ("admin", "services.destroy", OTHER_DB, True),
    ("alice", "apps.read", BLOG, True),
    ("alice", "apps.config.write", BLOG, True),
    ("alice", "apps.config.read", SHOP, True),
    ("alice", "apps.terminal", SHOP, True),
    ("alice", "apps.read", OTHER, False),
    ("alice", "apps.destroy", OTHER, False),
    ("alice", "services.read", BLOG_DB, True),
    ("alice", "services.link", CACHE, True),
    ("alice", "services.read", OTHER_DB, False),
    ("alice", "services.read", Resource("service", "blog-db", "mysql"), False),
    ("alice", "apps.create", None, True),
    ("alice", "services.create", None, False),
    ("alice", "backups.read", None, True),
    ("alice", "backups.restore", BLOG_DB, True),
    ("alice", "backups.restore", OTHER_DB, False),
    ("alice", "audit.read", None, False),
    ("alice", "users.read", None, False),
    ("alice", "users.write", None, False),
    ("alice", "settings.write", None, False),
    ("alice", "host.terminal", None, False),
    ("alice", "terminals.admin", None, False),
    ("alice", "dashboard.read", None, True),
    ("alice", "apikeys.write", None, True),
    ("victor", "apps.read", BLOG, True),
    ("victor", "apps.logs", BLOG, True),
    ("victor", "apps.config.read", BLOG, False),
    ("victor", "apps.config.write", BLOG, False),
    ("victor", "apps.terminal", BLOG, False),
    ("victor", "apps.read", SHOP, False),
    ("victor", "services.read", BLOG_DB, True),
    ("victor", "services.console", BLOG_DB, False),
    ("victor", "apps.create", None, False),
    ("victor", "dashboard.read", None, True),
    ("victor", "apikeys.write", None, False),
    ("dave", "apps.read", BLOG, False),
    ("dave", "dashboard.read", None, False),
]


@pytest.mark.parametrize(("user", "action", "resource", "expected"), MATRIX)
def test_role_matrix(pruvon_config, user, action, resource, expected):
    assert check(actor(pruvon_config, user), action, resource) is expected


def test_viewer_never_passes_a_write_action(pruvon_config):
    viewer = actor(pruvon_config, "victor")
    writes = [a for a in actions().values() if not a.read_only]
    assert writes
    for declared in writes:
        for resource in (None, BLOG, BLOG_DB):
            assert not check(viewer, declared.name, resource), declared.name


def test_viewer_write_stays_denied_even_if_a_plugin_votes_true(pruvon_config, register_plugin):
    register_plugin(Voter(lambda actor, action, resource: True), "yes-to-all")
    assert not check(actor(pruvon_config, "victor"), "apps.config.write", BLOG)
    assert not check(actor(pruvon_config, "victor"), "apps.config.read", BLOG)


def test_unknown_action_is_denied_even_for_admin(pruvon_config):
    assert not check(actor(pruvon_config, "admin"), "apps.frobnicate", BLOG)
    assert not check(SYSTEM, "apps.frobnicate", BLOG)


def test_none_actor_and_unknown_kinds_are_denied(pruvon_config):
    assert not check(None, "apps.read", BLOG)
    stranger = Actor(id="x", kind="robot", role="admin", username="admin",
                     record=pruvon_config.user("admin"))
    assert not check(stranger, "apps.read", BLOG)


def test_system_actor_may_do_everything():
    for name in actions():
        assert check(SYSTEM, name, BLOG)


# --------------------------------------------------------------------------- plugin votes
def test_false_veto_wins_over_the_role_policy(pruvon_config, register_plugin):
    voter = register_plugin(
        Voter(lambda actor, action, resource: False if action == "apps.destroy" else None),
        "veto-destroy",
    )
    assert not check(actor(pruvon_config, "admin"), "apps.destroy", BLOG)
    assert check(actor(pruvon_config, "admin"), "apps.read", BLOG)
    assert ("apps.destroy", BLOG) in voter.calls


def test_false_veto_wins_over_a_true_vote(pruvon_config, register_plugin):
    register_plugin(Voter(lambda *args: True), "yes")
    register_plugin(Voter(lambda *args: False), "no")
    assert not check(actor(pruvon_config, "admin"), "apps.read", BLOG)


def test_a_plugin_true_vote_extends_a_user(pruvon_config, register_plugin):
    alice = actor(pruvon_config, "alice")
    assert not check(alice, "apps.read", OTHER)
    register_plugin(
        Voter(lambda actor, action, resource: True if resource == OTHER else None), "grant-other"
    )
    assert check(alice, "apps.read", OTHER)


def test_no_true_vote_means_deny(pruvon_config, register_plugin):
    register_plugin(Voter(lambda *args: None), "abstain")
    assert not check(actor(pruvon_config, "alice"), "users.read", None)


def test_a_raising_plugin_does_not_open_anything(pruvon_config, register_plugin):
    def explode(*args):
        raise RuntimeError("boom")

    register_plugin(Voter(explode), "broken")
    assert not check(actor(pruvon_config, "alice"), "apps.read", OTHER)
    assert check(actor(pruvon_config, "alice"), "apps.read", BLOG)


def test_plugin_declared_actions_join_the_registry(pruvon_config, register_plugin):
    from pruvon_core.hookspecs import hookimpl

    class Extra:
        @hookimpl
        def pruvon_register_actions(self):
            return [Action("certs.renew", "Renew certificates", False, "app"),
                    Action("apps.read", "redeclared as a write", False, "app"),
                    Action("apps.logs", "redeclared as read-only", True, "app")]

    register_plugin(Extra(), "certs")
    assert actions()["certs.renew"].resource_kind == "app"
    # a redeclaration can only make an action stricter, never looser
    assert actions()["apps.read"].read_only is False
    assert actions()["apps.logs"].read_only is True
    assert check(actor(pruvon_config, "alice"), "certs.renew", BLOG)
    assert not check(actor(pruvon_config, "victor"), "certs.renew", BLOG)


# --------------------------------------------------------------------------- api keys
def test_api_key_is_limited_to_its_scopes(pruvon_config):
    key = actor_for_apikey("k1", pruvon_config.user("alice"), {"apps.read"})
    assert check(key, "apps.read", BLOG)
    assert not check(key, "apps.config.write", BLOG)


def test_api_key_never_exceeds_its_owner(pruvon_config):
    key = actor_for_apikey("k1", pruvon_config.user("alice"), {"apps.read", "users.write"})
    assert not check(key, "apps.read", OTHER)
    assert not check(key, "users.write", None)


def test_api_key_of_a_viewer_cannot_write_even_in_scope(pruvon_config):
    key = actor_for_apikey("k1", pruvon_config.user("victor"), {"apps.ps.write"})
    assert not check(key, "apps.ps.write", BLOG)


def test_api_key_follows_its_owner_out(pruvon_config):
    from pruvon_auth.users import set_disabled

    key = actor_for_apikey("k1", pruvon_config.user("alice"), {"apps.read"})
    store = pruvon_config.store
    assert check(key, "apps.read", BLOG, store.current())
    set_disabled(store, "alice", True)
    assert not check(key, "apps.read", BLOG, store.current())


# --------------------------------------------------------------------------- revocation
def test_check_with_config_uses_the_record_as_it_is_now(pruvon_config):
    from pruvon_auth.users import add_user, set_role

    store = pruvon_config.store
    add_user(store, "root2", pruvon_config.hashes["admin"], "admin")
    admin = actor_for_user(store.current().user("admin"))
    assert check(admin, "users.write", None, store.current())
    set_role(store, "admin", "viewer")
    assert not check(admin, "users.write", None, store.current())
    assert check(admin, "dashboard.read", None, store.current())


def test_removed_user_is_denied_with_config(pruvon_config):
    from pruvon_auth.users import remove_user

    store = pruvon_config.store
    alice = actor(pruvon_config, "alice")
    remove_user(store, "alice")
    assert not check(alice, "apps.read", BLOG, store.current())


def test_require_raises_permission_denied(pruvon_config):
    require(actor(pruvon_config, "alice"), "apps.read", BLOG)
    with pytest.raises(PermissionDenied, match=r"user:alice may not apps\.destroy on app other"):
        require(actor(pruvon_config, "alice"), "apps.destroy", OTHER)
    with pytest.raises(PermissionDenied):
        require(None, "apps.read", BLOG)


def test_grantable_actions(pruvon_config):
    alice = grantable_actions(pruvon_config.user("alice"))
    assert {"apps.read", "apps.create", "services.read", "backups.read"} <= alice
    assert not alice & {"users.write", "users.read", "audit.read", "services.create"}
    victor = grantable_actions(pruvon_config.user("victor"))
    assert all(actions()[name].read_only for name in victor)
    assert "apps.config.read" not in victor
    assert grantable_actions(pruvon_config.user("dave")) == set()
    assert grantable_actions(pruvon_config.user("admin")) == set(actions())


# --------------------------------------------------------------------------- routes
ROUTES = [
    ("alice", "/", True),
    ("alice", "/apps", True),
    ("alice", "/apps/blog", True),
    ("alice", "/apps/blog/config", True),
    ("alice", "/apps/shop-eu/domains", True),
    ("alice", "/apps/other", False),
    ("alice", "/apps/create", True),
    ("alice", "/ws/apps/blog/terminal", True),
    ("alice", "/ws/apps/other/terminal", False),
    ("alice", "/api/v1/apps/blog", True),
    ("alice", "/api/v1/apps/other/config", False),
    ("alice", "/services", True),
    ("alice", "/services/postgres/blog-db", True),
    ("alice", "/services/postgres/crm-db", False),
    ("alice", "/services/postgres", False),
    ("alice", "/services/redis", True),
    ("alice", "/services/redis/anything", True),
    ("alice", "/ws/services/postgres/blog-db/console", True),
    ("alice", "/services/create", False),
    ("alice", "/backups", True),
    ("alice", "/settings", False),
    ("alice", "/settings/users", False),
    ("alice", "/logs", False),
    ("victor", "/apps/blog", True),
    ("victor", "/apps/create", False),
    ("victor", "/apps/shop-eu", False),
    ("dave", "/", False),
    ("dave", "/apps/blog", False),
    ("admin", "/settings/users", True),
]


@pytest.mark.parametrize(("user", "path", "expected"), ROUTES)
def test_route_allowed(pruvon_config, user, path, expected):
    assert route_allowed(pruvon_config.user(user), path) is expected


def test_name_matches():
    assert name_matches("*", "anything")
    assert name_matches("shop-*", "shop-eu")
    assert not name_matches("shop-*", "shopx")
    assert name_matches("blog", "blog")
    assert not name_matches("blog", "blog2")


# --------------------------------------------------------------------------- Pruvon examples
PRUVON_EXAMPLE = """
admin:
  username: admin
  password: $2b$04$abcdefghijklmnopqrstuu5Wn9T1S0sF2oG2WwT4oYjC6m0T0tq1a
users:
  - username: operator
    password: $2b$04$abcdefghijklmnopqrstuu5Wn9T1S0sF2oG2WwT4oYjC6m0T0tq1a
    role: user
    routes:
      - "/apps/*"
    apps:
      - "example-app"
    services:
      postgres:
        - "example-db"
  - username: alice
    password: $2b$04$abcdefghijklmnopqrstuu5Wn9T1S0sF2oG2WwT4oYjC6m0T0tq1a
    role: user
    routes:
      - "/*"
    apps:
      - "*"
    services:
      postgres:
        - "*"
      redis:
        - "*"
  - username: ecylmz
    password: $2b$04$abcdefghijklmnopqrstuu5Wn9T1S0sF2oG2WwT4oYjC6m0T0tq1a
    role: user
    routes:
      - "/foo"
      - "/a*"
    apps:
      - "metabase"
    services:
      postgres:
        - "metabase"
"""


def _example_user(name: str) -> UserRecord:
    record = Config(parse(PRUVON_EXAMPLE)).user(name)
    assert record is not None
    return record


def test_pruvon_legacy_admin_is_admin():
    admin = actor_for_user(_example_user("admin"))
    assert check(admin, "users.write", None)
    assert route_allowed(_example_user("admin"), "/settings")


def test_pruvon_apps_route_grants_every_app():
    operator = _example_user("operator")
    assert check(actor_for_user(operator), "apps.config.write", Resource("app", "anything"))
    assert route_allowed(operator, "/apps/anything/logs")
    assert check(actor_for_user(operator), "services.read", Resource("service", "example-db", "postgres"))
    assert not check(actor_for_user(operator), "services.read", Resource("service", "x", "postgres"))
    assert not route_allowed(operator, "/services/postgres/x")
    assert not check(actor_for_user(operator), "users.read", None)


def test_pruvon_full_access_user_is_still_not_admin():
    alice = _example_user("alice")
    assert check(actor_for_user(alice), "services.destroy", Resource("service", "x", "mysql"))
    assert route_allowed(alice, "/anything/at/all")
    assert not check(actor_for_user(alice), "users.write", None)
    assert not check(actor_for_user(alice), "host.terminal", None)


def test_pruvon_explicit_routes_and_the_apps_prefix_rule():
    ecylmz = _example_user("ecylmz")
    assert route_allowed(ecylmz, "/foo")
    assert not route_allowed(ecylmz, "/foo/bar")
    assert route_allowed(ecylmz, "/about")
    # a non-/apps/ prefix route never opens app pages (Pruvon's rule)
    assert not route_allowed(ecylmz, "/apps/other")
    assert route_allowed(ecylmz, "/apps/metabase")
    assert check(actor_for_user(ecylmz), "apps.read", Resource("app", "metabase"))
    assert not check(actor_for_user(ecylmz), "apps.read", Resource("app", "other"))


@pytest.mark.parametrize(
    ("route", "app", "expected"),
    [
        ("/apps/blog", "blog", True),
        ("/apps/blog/*", "blog", True),
        ("/apps/bl*", "blog", True),
        ("/apps/blog", "blog2", False),
        ("/apps/create", "create", False),
        ("/apps/*", "whatever", True),
    ],
)
def test_app_grants_through_routes(route, app, expected):
    record = UserRecord(username="u", password_hash="x", role="user", routes=(route,))
    assert check(actor_for_user(record), "apps.read", Resource("app", app)) is expected
