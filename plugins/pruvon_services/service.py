"""Service facts read from Dokku: which datastore plugins exist, which services an app uses.

Pure Python over :class:`pruvon_core.dokku.DokkuClient` (no Flask), so the
CLI, the web pages and other plugins (through :mod:`pruvon_services.public`)
read services the same way.  Writes to services are the services feature's
operations; nothing here changes the host.
"""

from __future__ import annotations

import threading
import time
from typing import Any

# Dokku's official datastore plugins (``dokku-<type>``): the service types Pruvon lists.
DATASTORES = ("postgres", "redis", "mysql", "mariadb", "mongo", "rabbitmq", "memcached",
              "elasticsearch", "clickhouse", "couchdb", "meilisearch", "nats", "rethinkdb",
              "solr", "typesense", "pushpin", "omnisci", "graphite")
PLUGIN_CACHE_SECONDS = 300.0

_installed: dict[int, tuple[float, tuple[str, ...]]] = {}
_installed_lock = threading.Lock()


def installed_types(client: Any, max_age: float = PLUGIN_CACHE_SECONDS) -> tuple[str, ...]:
    """The enabled datastore plugins, in :data:`DATASTORES` order.

    ``plugin:list`` costs about 0.65 s on a real host and plugins are installed
    rarely, so a read up to ``max_age`` seconds old (per client) is reused;
    ``max_age=0`` reads now (what a destructive operation wants).  A Dokku
    error propagates and is not remembered.
    """
    now = time.monotonic()
    with _installed_lock:
        cached = _installed.get(id(client))
    if cached is not None and now - cached[0] < max_age:
        return cached[1]
    enabled = {p.name for p in client.plugins() if p.enabled}
    found = tuple(kind for kind in DATASTORES if kind in enabled)
    with _installed_lock:
        _installed[id(client)] = (now, found)
    return found


def linked_services(client: Any, app: str) -> list[tuple[str, str, list[str]]]:
    """``(type, name, every app linked)`` for each service linked to ``app`` (read now)."""
    found = []
    for kind in installed_types(client, max_age=0):
        for service in client.services(kind):
            links = client.service_links(kind, service.name)
            if app in links:
                found.append((kind, service.name, links))
    return found
