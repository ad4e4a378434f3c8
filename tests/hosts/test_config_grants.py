"""The ``hosts:`` config section and host grants: validation names the key, grants never leak."""

from __future__ import annotations

import pytest

from pruvon_core import hosts
from pruvon_core.config import Config, validate
from pruvon_core.permissions import Actor, Resource, actor_for_user, check

HASH = "$2b$12$" + "a" * 53
HOSTS = [{"name": "staging", "ssh": "dokku@staging.example.com"},
         {"name": "prod", "ssh": "dokku@10.0.0.5", "port": 2222, "key": "/etc/pruvon/id"}]


def _config(users: list[dict]) -> Config:
    return Config({"hosts": HOSTS, "users": users})


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"name": "Bad Name", "ssh": "dokku@h"}, "hosts[0].name"),
        ({"name": "all", "ssh": "dokku@h"}, "hosts[0].name"),
        ({"name": "x", "ssh": "-oProxyCommand=id"}, "hosts[0].ssh"),
        ({"name": "x", "ssh": "dokku@-oProxyCommand=id"}, "hosts[0].ssh"),
        ({"name": "x", "ssh": "dokku@h", "port": 0}, "hosts[0].port"),
        ({"name": "x", "ssh": "dokku@h", "key": "relative/key"}, "hosts[0].key"),
        ({"name": "x", "ssh": "dokku@h", "sshh": "typo"}, "hosts[0].sshh"),
        ({"name": "x", "ssh": "dokku@h", "docker": []}, "hosts[0].docker"),
    ],
)
def test_validation_names_the_bad_key(entry, path):
    problems = validate({"hosts": [entry]})
    assert any(p.startswith(f"{path}:") for p in problems), problems


def test_duplicate_host_and_unknown_granted_host_are_named():
    problems = validate({"hosts": [*HOSTS, HOSTS[0]]})
    assert any(p.startswith("hosts[2].name: duplicate") for p in problems)
    problems = validate({"hosts": HOSTS, "users": [
        {"username": "ann", "password": HASH, "hosts": ["stagng"]}]})
    assert problems == ["users[0].hosts[0]: no host named 'stagng' (known: local, prod, staging)"]


def test_single_host_settings_stay_the_default_host():
    assert list(hosts.hosts_from_config(Config({}))) == ["local"]
    legacy = Config({"dokku": {"ssh": "dokku@dokku1.example.com", "ssh_port": 2222}})
    found = hosts.hosts_from_config(legacy)
    assert list(found) == ["dokku1"] and found["dokku1"].default and found["dokku1"].port == 2222
    ip = Config({"dokku": {"ssh": "dokku@10.0.0.5"}})
    assert list(hosts.hosts_from_config(ip)) == ["10-0-0-5"]
    assert hosts.select(_config([]), "local") is None and hosts.select(_config([]), "prod") == "prod"
    with pytest.raises(hosts.UnknownHost, match="no host named 'nope'"):
        hosts.select(_config([]), "nope")


def test_a_grant_for_blog_means_blog_on_the_granted_hosts_only():
    config = _config([{"username": "ann", "password": HASH, "apps": ["blog"],
                       "hosts": ["staging"]}])
    ann = actor_for_user(config.user("ann"))
    assert check(ann, "apps.read", Resource("app", "blog", host="staging"), config)
    for other in ("prod", "local"):
        assert not check(ann, "apps.read", Resource("app", "blog", host=other), config)
    # the host the request acts on counts when the resource does not name one
    with hosts.using("prod"):
        assert not check(ann, "apps.read", Resource("app", "blog"), config)
        assert not check(ann, "apps.read", None, config)
    with hosts.using("staging"):
        assert check(ann, "apps.read", Resource("app", "blog"), config)
    assert not check(ann, "apps.read", Resource("app", "blog"), config)  # default host = local


def test_no_hosts_key_means_every_host_and_system_is_unrestricted():
    config = _config([{"username": "bob", "password": HASH, "apps": ["blog"]}])
    bob = actor_for_user(config.user("bob"))
    for host in ("staging", "prod", None):
        assert check(bob, "apps.read", Resource("app", "blog", host=host), config)
    assert check(Actor(id="system", kind="system", role="admin"), "apps.read",
                 Resource("app", "x", host="prod"), config)
