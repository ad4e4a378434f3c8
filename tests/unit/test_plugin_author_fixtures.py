"""The fixtures docs/plugins.md promises to plugin authors, used as documented.

These fixtures reach this suite only through the ``pytest11`` entry point, so
the test also proves the pytest plugin is installed and wired up.
"""

from __future__ import annotations


def test_listing_is_cached(dokku_client):
    dokku_client.apps_create("blog")
    assert dokku_client.list_apps() == ["blog"]
    before = len(dokku_client.calls)
    assert dokku_client.list_apps() == ["blog"]  # served from the read cache
    assert len(dokku_client.calls) == before
    dokku_client.apps_create("shop")  # a mutation invalidates the cache
    assert dokku_client.list_apps() == ["blog", "shop"]


def test_config_fixture_has_every_role(pruvon_config):
    roles = {user.username: user.role for user in pruvon_config.store.current().users}
    assert roles == {"admin": "admin", "alice": "user", "victor": "viewer", "dave": "user"}
    assert pruvon_config.store.current().user("dave").disabled
