"""Review: client addresses from a trusted proxy in the forms proxies really send.

A hop written as ``ip:port`` or ``[v6]:port`` (several load balancers do), or a
proxy reaching a dual-stack listener as ``::ffff:127.0.0.1``, was not
recognised: every client then got the *proxy's* address, so one attacker's
ten wrong passwords throttled everybody behind the proxy, and the audit log
showed only the proxy.
"""

from __future__ import annotations

import ipaddress

import pytest
from pruvon_web.security import TrustedProxyMiddleware

LOOPBACK = ("127.0.0.0/8", "::1/128")


def _client(peer: str, forwarded: str, trusted: tuple[str, ...] = LOOPBACK) -> str:
    seen: dict = {}

    def app(env, start_response):
        seen.update(env)
        return []

    nets = tuple(ipaddress.ip_network(n) for n in trusted)
    environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}
    TrustedProxyMiddleware(app, lambda: nets)(environ, lambda *a: None)
    return seen["REMOTE_ADDR"]


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("198.51.100.7:51234", "198.51.100.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("[2001:db8::7]", "2001:db8::7"),
        ("1.2.3.4, 198.51.100.7:80", "198.51.100.7"),
    ],
)
def test_hops_with_ports_and_brackets(forwarded, client):
    assert _client("127.0.0.1", forwarded) == client


def test_ipv4_mapped_peer_is_the_trusted_proxy():
    assert _client("::ffff:127.0.0.1", "198.51.100.7") == "198.51.100.7"
    assert _client("::ffff:10.0.0.2", "198.51.100.7, ::ffff:10.0.0.3",
                   ("10.0.0.0/8",)) == "198.51.100.7"


def test_untrusted_and_garbage_stay_as_they_were():
    assert _client("192.0.2.1", "198.51.100.7") == "192.0.2.1"  # peer not trusted
    assert _client("::ffff:192.0.2.1", "198.51.100.7") == "::ffff:192.0.2.1"
    assert _client("127.0.0.1", "not-an-ip") == "127.0.0.1"
    assert _client("127.0.0.1", "1.2.3.4:99999") == "127.0.0.1"  # not a port
    assert _client("127.0.0.1", "1.2.3.4:\u00b2, 198.51.100.7") == "198.51.100.7"  # '²'.isdigit()
    assert _client("127.0.0.1", "1.2.3.4:\u00b2") == "127.0.0.1"


def test_a_client_on_the_proxys_own_address_cannot_name_another():
    """nginx on 127.0.0.1 with ``trusted_proxies: [127.0.0.1]`` and a browser on the host
    (or an SSH tunnel) going through it: nginx appends 127.0.0.1, which is trusted, so the
    old walk skipped it and believed what the client wrote further left -- a fresh login
    throttle bucket per forged header and a made-up address in the audit log."""
    assert _client("127.0.0.1", "198.51.100.7, 127.0.0.1") == "127.0.0.1"
    assert _client("::ffff:127.0.0.1", "198.51.100.7, 127.0.0.1") == "127.0.0.1"
    assert _client("127.0.0.1", "198.51.100.7, 127.0.0.1", ("127.0.0.1/32",)) == "127.0.0.1"
    # a chain of two different trusted proxies is still walked through
    assert _client("127.0.0.1", "198.51.100.7, 10.0.0.3",
                   ("127.0.0.1/32", "10.0.0.3/32")) == "198.51.100.7"
