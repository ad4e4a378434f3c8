"""Where a ``git:sync`` source points, and whether that is the Dokku host itself.

``git:sync`` clones as the ``dokku`` user on the Dokku host.  A source on that
same host (``dokku@localhost:shop-web``, ``ssh://dokku@127.0.0.1/shop-web``,
``git://[::1]/…``) reads whatever the host serves to itself: with the dokku
user's own key authorised, another app's repository.  So such a source is host
access, like ``file://``, and only an admin may deploy from it.

"This machine" is decided on Pruvon's machine, which is the Dokku host for the
local transport.  Over the ssh transport the Dokku host is elsewhere and this
check only sees loopback names (docs/security.md says so).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
from urllib.parse import urlsplit

from pruvon_core.dokku.validate import SCP_LIKE_RE, git_repo

RESOLVE_TIMEOUT = 2.0  # a name that does not resolve in time is treated as remote
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_resolver = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="git-host")


def source_host(repo: str) -> str | None:
    """The host a validated git source connects to; None for ``file://`` (no host)."""
    text = git_repo(repo)
    if SCP_LIKE_RE.match(text):
        return text.split("@", 1)[1].split(":", 1)[0].lower()
    if text.lower().startswith("file:"):
        return None
    return (urlsplit(text).hostname or "").lower() or None


def is_this_machine(host: str) -> bool:
    """True when ``host`` names or resolves to an address of this machine."""
    name = host.strip("[]").rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    if name in {socket.gethostname().lower(), socket.getfqdn().lower()}:
        return True
    return any(_is_local_address(address) for address in _addresses(name))


def _addresses(name: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(name))]
    except ValueError:
        pass
    future = _resolver.submit(socket.getaddrinfo, name, None, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=RESOLVE_TIMEOUT)
    except (OSError, UnicodeError, concurrent.futures.TimeoutError):
        return []
    return sorted({str(info[4][0]).split("%", 1)[0] for info in infos})


def _is_local_address(text: str) -> bool:
    """Loopback, unspecified, or an address a socket can bind here (so it is ours)."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True
