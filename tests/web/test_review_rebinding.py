"""Issue 14 finding 4: DNS rebinding past the Host check.

A page on ``rebind.attacker.example`` that re-resolves to 127.0.0.1 is
same-origin with a loopback listener and can add any header to its own
``fetch()``.  It used to add ``X-Forwarded-For``: a loopback peer carrying it
counted as "forwarded by the trusted proxy", skipped the Host check, signed in,
read ``/api/v1/users``, wrote users, and picked its own address for the login
throttle.  Trust now comes from the TCP peer and the config only, and Host is
checked on every request.
"""

from __future__ import annotations

import sqlite3

import pytest
from pruvon_auth.throttle import DB_FILE

from pruvon_core import audit
from tests.web.conftest import csrf_from

EVIL = "rebind.attacker.example"
PROXY_CONFIG = ("security:\n  trusted_proxies: [10.0.0.0/8]\n"
                "  allowed_hosts: [pruvon.example.internal]\n")

FORWARDING = {
    "none": {},
    "x-forwarded-for": {"X-Forwarded-For": "203.0.113.10"},
    "x-forwarded-host": {"X-Forwarded-Host": "localhost"},
    "x-real-ip": {"X-Real-IP": "203.0.113.10"},
    "forwarded": {"Forwarded": "for=203.0.113.10;host=localhost;proto=https"},
    "all": {"X-Forwarded-For": "127.0.0.1, 203.0.113.10", "X-Forwarded-Host": "localhost",
            "X-Forwarded-Proto": "https", "X-Real-IP": "127.0.0.1",
            "Forwarded": "for=127.0.0.1;host=localhost"},
}
PEERS = {"loopback": "127.0.0.1", "configured-proxy": "10.0.0.2", "other": "198.51.100.7"}


@pytest.fixture(params=sorted(PEERS))
def peer(request, pruvon_config) -> str:
    """Every peer kind, with a configured proxy on 10.0.0.0/8 in place."""
    pruvon_config.write(pruvon_config.path.read_text() + PROXY_CONFIG)
    return PEERS[request.param]


def _rebound(peer: str, headers: dict[str, str], **extra: str) -> dict:
    return {"headers": {"Host": EVIL, "Origin": f"http://{EVIL}", **headers, **extra},
            "environ_base": {"REMOTE_ADDR": peer}}


def _signed_in(client, pruvon_config, peer: str) -> str:
    """Sign in under an allowed name from ``peer``; the CSRF token of that session."""
    good = {"headers": {"Host": "localhost"}, "environ_base": {"REMOTE_ADDR": peer}}
    token = csrf_from(client.get("/login", **good).get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "csrf_token": token,
                                           "password": pruvon_config.passwords["admin"]}, **good)
    assert response.status_code == 302
    return csrf_from(client.get("/account", **good).get_data(as_text=True))


def _refused(response) -> None:
    assert response.status_code == 400
    assert EVIL in response.get_data(as_text=True)
    assert "security.allowed_hosts" in response.get_data(as_text=True)


@pytest.mark.parametrize("forwarding", sorted(FORWARDING))
def test_sign_in_on_a_rebound_host_refused(client, pruvon_config, peer, forwarding):
    rebound = _rebound(peer, FORWARDING[forwarding])
    _refused(client.get("/login", **rebound))
    response = client.post("/login", data={"username": "admin", "csrf_token": "x",
                                           "password": pruvon_config.passwords["admin"]},
                           **rebound)
    _refused(response)
    assert "Set-Cookie" not in response.headers
    assert audit.read(action="auth.login", state_dir=pruvon_config.state_dir) == []


@pytest.mark.parametrize("forwarding", sorted(FORWARDING))
def test_users_api_on_a_rebound_host_refused(client, pruvon_config, peer, forwarding):
    _signed_in(client, pruvon_config, peer)
    response = client.get("/api/v1/users", **_rebound(peer, FORWARDING[forwarding]))
    _refused(response)
    assert "users" not in response.get_json()


@pytest.mark.parametrize("forwarding", sorted(FORWARDING))
def test_csrf_checked_write_on_a_rebound_host_refused(client, pruvon_config, peer, forwarding):
    token = _signed_in(client, pruvon_config, peer)
    before = pruvon_config.path.read_bytes()
    response = client.post(
        "/api/v1/users", json={"username": "mallory", "password": "rebound-pass-123456",
                               "role": "admin"},
        **_rebound(peer, FORWARDING[forwarding], **{"X-CSRF-Token": token}))
    _refused(response)
    assert pruvon_config.path.read_bytes() == before  # no user written


@pytest.mark.parametrize("forwarding", sorted(FORWARDING))
def test_websocket_upgrade_on_a_rebound_host_refused(client, pruvon_config, peer, forwarding):
    _signed_in(client, pruvon_config, peer)
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    _refused(client.get("/ws/ping", **_rebound(peer, {**FORWARDING[forwarding], **upgrade})))


def test_the_proxy_public_name_is_served_only_once_listed(client, pruvon_config):
    """The seed's nginx (Host $host) gets 400 naming the key, then works once it is set."""
    proxied = {"headers": {"Host": "pruvon.example.internal", "X-Forwarded-For": "203.0.113.10"}}
    refused = client.get("/login", **proxied)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "'pruvon.example.internal'" in text and "security.allowed_hosts" in text
    assert "security.trusted_proxies" in text  # forwarded, but no proxy configured
    pruvon_config.write(pruvon_config.path.read_text() + "security:\n"
                        "  trusted_proxies: [127.0.0.1, '::1']\n"
                        "  allowed_hosts: [pruvon.example.internal]\n")
    assert client.get("/login", **proxied).status_code == 200
    assert client.get("/login", headers={"Host": "localhost"}).status_code == 200  # SSH tunnel


def _throttle_keys(state_dir) -> set[str]:
    with sqlite3.connect(state_dir / DB_FILE) as db:
        return {row[0] for row in db.execute("SELECT key FROM counters")}


def test_loopback_client_cannot_choose_its_address_without_a_configured_proxy(
        client, pruvon_config):
    """Default config: X-Forwarded-For from a loopback peer is the client's own claim."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "password": "wrong-password-1",
                                           "csrf_token": token},
                           headers={"X-Forwarded-For": "203.0.113.99", "X-Real-IP": "203.0.113.99"})
    assert response.status_code == 401
    events = audit.read(action="auth.login", state_dir=pruvon_config.state_dir)
    assert [e.source_ip for e in events] == ["127.0.0.1"]
    keys = _throttle_keys(pruvon_config.state_dir)
    assert "ip|127.0.0.1" in keys and not any("203.0.113.99" in key for key in keys)


def test_forwarded_proto_from_a_loopback_peer_ignored_without_a_configured_proxy(client):
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


def test_configured_proxy_supplies_the_client_address(client, pruvon_config):
    pruvon_config.write(pruvon_config.path.read_text() + PROXY_CONFIG)
    proxied = {"Host": "pruvon.example.internal", "X-Forwarded-For": "1.2.3.4, 203.0.113.99"}
    peer = {"REMOTE_ADDR": "10.0.0.2"}
    token = csrf_from(client.get("/login", headers=proxied, environ_base=peer)
                      .get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "password": "wrong-password-1",
                                           "csrf_token": token},
                           headers=proxied, environ_base=peer)
    assert response.status_code == 401
    events = audit.read(action="auth.login", state_dir=pruvon_config.state_dir)
    assert [e.source_ip for e in events] == ["203.0.113.99"]
    assert "ip|203.0.113.99" in _throttle_keys(pruvon_config.state_dir)


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "198.51.100.7"])
def test_forwarded_host_from_a_peer_that_is_not_the_proxy_never_counts(client, pruvon_config,
                                                                        peer):
    """Even with trust_forwarded_host on, only the configured proxy's X-Forwarded-Host counts."""
    pruvon_config.write(pruvon_config.path.read_text() + PROXY_CONFIG
                        + "  trust_forwarded_host: true\n")
    rebound = {"Host": EVIL, "X-Forwarded-Host": "pruvon.example.internal",
               "X-Forwarded-For": "10.0.0.2"}
    _refused(client.get("/login", headers=rebound, environ_base={"REMOTE_ADDR": peer}))
    proxied = client.get("/login", headers=rebound, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert proxied.status_code == 200  # the operator's proxy said so, and it is configured


def test_tls_proxy_without_trusted_proxies_is_named_on_sign_in(client, pruvon_config):
    """allowed_hosts set but trusted_proxies forgotten: the refusal says what to set."""
    pruvon_config.write(pruvon_config.path.read_text()
                        + "security:\n  allowed_hosts: [pruvon.example.internal]\n")
    nginx = {"Host": "pruvon.example.internal", "X-Forwarded-Proto": "https",
             "X-Forwarded-For": "203.0.113.10", "Origin": "https://pruvon.example.internal"}
    token = csrf_from(client.get("/login", headers=nginx).get_data(as_text=True))
    page = client.post("/login", headers=nginx, data={
        "username": "admin", "password": pruvon_config.passwords["admin"], "csrf_token": token})
    text = page.get_data(as_text=True)
    assert page.status_code != 302
    assert "cross-origin request refused" in text and "security.trusted_proxies" in text
