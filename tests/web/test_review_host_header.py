"""Review: the Host header is checked, and X-Forwarded-Host is opt-in.

Without a Host check a page on an attacker's name that re-resolves to
127.0.0.1 (DNS rebinding) reached the loopback listener as a same-origin
client; and a trusted proxy that does not set X-Forwarded-Host passed a
client-written one through, which then became the "served origin".
"""

from __future__ import annotations

import ipaddress

import pytest
from pruvon_web.security import TrustedProxyMiddleware

from pruvon_core.config import validate


def _host_after(environ: dict, forwarded_host: bool) -> str | None:
    seen: dict = {}

    def app(env, start_response):
        seen.update(env)
        return []

    nets = (ipaddress.ip_network("127.0.0.0/8"),)
    TrustedProxyMiddleware(app, lambda: nets, lambda: forwarded_host)(environ, lambda *a: None)
    return seen.get("HTTP_HOST")


def test_forwarded_host_ignored_unless_switched_on():
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "pruvon.example",
               "HTTP_X_FORWARDED_HOST": "evil.example"}
    assert _host_after(dict(environ), forwarded_host=False) == "pruvon.example"
    assert _host_after(dict(environ), forwarded_host=True) == "evil.example"


def _add_security(pruvon_config, text: str) -> None:
    pruvon_config.write(pruvon_config.path.read_text() + "security:\n" + text)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8080", "127.0.0.1:41234", "[::1]:80"])
def test_default_hosts_are_served(client, host):
    assert client.get("/login", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["rebind.attacker.example", "rebind.attacker.example:8080",
                                  "127.0.0.1.attacker.example"])
def test_foreign_host_refused_with_a_clear_message(client, host):
    page = client.get("/login", headers={"Host": host})
    assert page.status_code == 400
    assert "security.allowed_hosts" in page.get_data(as_text=True)
    api = client.get("/api/v1/me", headers={"Host": host})
    assert api.status_code == 400 and "security.allowed_hosts" in api.get_json()["error"]


def test_the_served_listen_address_is_a_default_host(app, client):
    assert client.get("/login", headers={"Host": "10.1.2.3:9000"}).status_code == 400
    app.config["PRUVON_LISTEN"] = "10.1.2.3:9000"  # pruvon serve --listen 10.1.2.3:9000
    assert client.get("/login", headers={"Host": "10.1.2.3:9000"}).status_code == 200


def test_hosts_of_allowed_origins_are_served(client, pruvon_config):
    _add_security(pruvon_config, "  allowed_origins: ['https://ops.example']\n")
    assert client.get("/login", headers={"Host": "ops.example"}).status_code == 200
    assert client.get("/login", headers={"Host": "other.example"}).status_code == 400


def test_configured_hosts_add_to_the_defaults(client, pruvon_config):
    """Issue 14: the proxy's name is added; localhost (an SSH tunnel) keeps working."""
    _add_security(pruvon_config, "  allowed_hosts: ['pruvon.example', 'alt.example:8443']\n")
    assert client.get("/login", headers={"Host": "pruvon.example"}).status_code == 200
    assert client.get("/login", headers={"Host": "pruvon.example:9000"}).status_code == 200
    assert client.get("/login", headers={"Host": "alt.example:8443"}).status_code == 200
    assert client.get("/login", headers={"Host": "alt.example"}).status_code == 400
    assert client.get("/login", headers={"Host": "localhost"}).status_code == 200


def test_forwarded_host_checked_after_the_proxy(client, pruvon_config):
    spoof = {"Host": "localhost", "X-Forwarded-Host": "evil.example"}
    assert client.get("/login", headers=spoof).status_code == 200  # ignored by default
    _add_security(pruvon_config, "  trust_forwarded_host: true\n"
                  "  trusted_proxies: [127.0.0.1]\n"
                  "  allowed_hosts: ['pruvon.example']\n")
    assert client.get("/login", headers=spoof).status_code == 400
    ok = {"Host": "127.0.0.1:8080", "X-Forwarded-Host": "pruvon.example"}
    assert client.get("/login", headers=ok).status_code == 200


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("allowed_hosts: pruvon.example", "security.allowed_hosts: must be a list of strings"),
        ("allowed_hosts: ['https://x.example']",
         "security.allowed_hosts[0]: 'https://x.example' must be host or host:port"),
        ("allowed_hosts: ['x.example:99999']",
         "security.allowed_hosts[0]: 'x.example:99999' must be host or host:port"),
        ("trust_forwarded_host: 'yes'", "security.trust_forwarded_host: must be true or false"),
    ],
)
def test_new_keys_validated(text, error):
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(f"security:\n  {text}\n")
    assert error in validate(data)


def test_seed_nginx_setup_works_with_the_documented_config(client, pruvon_config):
    """nginx on loopback forwards its server_name; docs/reverse-proxy.md's two lines serve it.

    (Issue 14: it used to be served with no config at all, because any loopback
    peer sending X-Forwarded-For skipped the Host check: the rebinding bypass.)
    """
    proxied = {"Host": "pruvon.example.internal", "X-Forwarded-For": "203.0.113.10",
               "X-Forwarded-Proto": "https"}
    assert client.get("/login", headers=proxied).status_code == 400
    _add_security(pruvon_config, "  trusted_proxies: [127.0.0.1, '::1']\n"
                  "  allowed_hosts: [pruvon.example.internal]\n")
    response = client.get("/login", headers=proxied)
    assert response.status_code == 200 and "Secure" in response.headers["Set-Cookie"]


def test_proxied_hosts_checked_once_allowed_hosts_is_set(client, pruvon_config):
    _add_security(pruvon_config, "  allowed_hosts: [pruvon.example.internal]\n")
    proxied = {"X-Forwarded-For": "203.0.113.10"}
    assert client.get("/login", headers={**proxied, "Host": "pruvon.example.internal"}).status_code == 200
    assert client.get("/login", headers={**proxied, "Host": "other.example"}).status_code == 400


def test_forwarded_for_from_an_untrusted_peer_does_not_skip_the_check(client):
    headers = {"Host": "rebind.attacker.example", "X-Forwarded-For": "203.0.113.10"}
    page = client.get("/login", headers=headers, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert page.status_code == 400
