"""Service kinds: what Pruvon knows about each Dokku datastore plugin.

Dokku's official service plugins (``dokku-postgres``, ``dokku-redis`` …) share
one command set, so one generic driver serves them all; what differs is a
handful of facts, taken from each plugin's ``config``, ``Dockerfile``,
``functions`` and ``subcommands/create``: whether ``<type>:connect`` opens a
console, what ``<type>:export`` writes (and so which first bytes an import
must start with), which subcommands the plugin leaves unimplemented, and the
create flags.  A third-party plugin adds a kind through ``pruvon_service_types``
(:class:`pruvon_core.registry.ServiceType` with the same optional facts).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from pruvon_core.registry import ServiceType, service_types

# ``<type>:create`` / ``:clone`` flags of every official plugin (``subcommands/create``),
# in their help order.  Pruvon passes these on; it never invents others.
CREATE_FLAGS = ("--config-options", "--custom-env", "--image", "--image-version", "--memory",
                "--initial-network", "--password", "--post-create-network", "--root-password",
                "--post-start-network", "--shm-size")
# ``<type>:upgrade`` accepts a subset (no password, memory) plus ``--restart-apps``.
UPGRADE_FLAGS = ("--config-options", "--custom-env", "--image", "--image-version",
                 "--initial-network", "--post-create-network", "--post-start-network",
                 "--shm-size", "--restart-apps")
PLUGIN_CACHE_SECONDS = 300.0
SQL_MAGIC = (b"-- MySQL dump", b"-- MariaDB dump", b"/*M!", b"/*!", b"--", b"SET ",
             b"CREATE ", b"DROP ", b"INSERT ", b"USE ", b"LOCK ")


@dataclass(frozen=True)
class ServiceKind:
    """One kind of service and how Pruvon treats it.

    ``dump_magic`` lists accepted first bytes of an export (empty: not
    checked); ``exportable`` is False where the plugin answers ``export`` /
    ``import`` with "Not yet implemented", so no front end offers them.
    """

    name: str
    title: str
    console: bool = False
    export_ext: str = "export"
    dump_magic: tuple[bytes, ...] = ()
    create_flags: tuple[str, ...] = CREATE_FLAGS
    exportable: bool = False
    clonable: bool = False
    image: str = ""
    ports: tuple[int, ...] = ()
    official: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe facts (for the API and ``--format json``)."""
        return {"name": self.name, "title": self.title, "console": self.console,
                "export_ext": self.export_ext, "exportable": self.exportable,
                "clonable": self.clonable, "create_flags": list(self.create_flags),
                "image": self.image, "ports": list(self.ports), "official": self.official}


def _official(name: str, title: str, image: str, ports: tuple[int, ...], *, console: bool,
              ext: str = "export", magic: tuple[bytes, ...] = (), export: bool = False,
              clone: bool = False) -> ServiceKind:
    return ServiceKind(name, title, console, ext, magic, CREATE_FLAGS, export, clone, image, ports)


# Facts from the official plugins' sources (Dockerfile image, PLUGIN_DATASTORE_PORTS,
# PLUGIN_UNIMPLEMENTED_SUBCOMMANDS, service_connect / service_export in ``functions``).
OFFICIAL: dict[str, ServiceKind] = {k.name: k for k in (
    # pg_dump -Fc: a custom-format archive, magic "PGDMP"
    _official("postgres", "Postgres", "postgres:18.4", (5432,), console=True, ext="dump",
              magic=(b"PGDMP",), export=True, clone=True),
    # mysqldump / mariadb-dump: SQL text
    _official("mysql", "MySQL", "mysql:9.7.0", (3306,), console=True, ext="sql",
              magic=SQL_MAGIC, export=True, clone=True),
    _official("mariadb", "MariaDB", "mariadb:12.2.2", (3306,), console=True, ext="sql",
              magic=SQL_MAGIC, export=True, clone=True),
    # mongodump --gzip --archive: the whole archive stream gzipped (mongorestore --gzip
    # --archive reads nothing else)
    _official("mongo", "MongoDB", "mongo:8.2.9", (27017, 27018, 27019, 28017), console=True,
              ext="archive", magic=(b"\x1f\x8b",), export=True, clone=True),
    # cat /data/dump.rdb after BGSAVE: an RDB file, magic "REDIS"
    _official("redis", "Redis", "redis:8.8.0", (6379,), console=True, ext="rdb",
              magic=(b"REDIS",), export=True, clone=True),
    _official("rabbitmq", "RabbitMQ", "rabbitmq:4.3.1-management", (5672, 4369, 35197, 15672),
              console=False),
    _official("elasticsearch", "Elasticsearch", "elasticsearch:9.3.3", (9200, 9300),
              console=False),
    _official("memcached", "Memcached", "memcached:1.6.42", (11211,), console=True),
    # couchdb-backup: one JSON document
    _official("couchdb", "CouchDB", "couchdb:3.5.1", (5984,), console=False, ext="json",
              magic=(b"{",), export=True, clone=True),
    _official("clickhouse", "Clickhouse", "clickhouse/clickhouse-server:26.5.1.882",
              (9000, 8123), console=True),
    _official("nats", "Nats", "nats:2.14.0", (4222,), console=False),
    _official("rethinkdb", "RethinkDB", "rethinkdb:2.4.3", (28015, 29015, 8080), console=False),
    _official("solr", "Solr", "solr:9.10.1", (8983,), console=False),
    _official("meilisearch", "Meilisearch", "getmeili/meilisearch:v1.45.0", (7700,),
              console=False),
    _official("typesense", "Typesense", "typesense/typesense:30.2", (8108,), console=False,
              clone=True),
    _official("pushpin", "Pushpin", "", (), console=False),
    _official("omnisci", "OmniSci", "", (), console=False),
    _official("graphite", "Graphite", "", (), console=False),
)}


def _declared(kind: ServiceType) -> ServiceKind:
    """A plugin-declared kind: its own facts, export offered when it names a format."""
    exportable = kind.export_ext != "export" or bool(kind.dump_magic)
    return ServiceKind(kind.name, kind.title or kind.description or kind.name, kind.console,
                       kind.export_ext, tuple(kind.dump_magic), tuple(kind.create_flags),
                       exportable, False, "", (), official=False)


def kind_facts(name: str, pruvon: Any = None) -> ServiceKind:
    """The facts of kind ``name``: official, declared by a plugin, or sane defaults.

    An unknown kind gets the generic driver: no console, no export, the
    official create flags (every official plugin shares them).
    """
    if name in OFFICIAL:
        return OFFICIAL[name]
    if pruvon is not None:
        for declared in service_types(pruvon):
            if declared.name == name:
                return _declared(declared)
    return ServiceKind(name, name.capitalize(), official=False)


_installed: dict[int, tuple[float, tuple[str, ...]]] = {}
_installed_lock = threading.Lock()


def installed_official(client: Any, max_age: float = PLUGIN_CACHE_SECONDS) -> tuple[str, ...]:
    """The enabled official datastore plugins (``plugin:list``), in :data:`OFFICIAL` order.

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
    found = tuple(kind for kind in OFFICIAL if kind in enabled)
    with _installed_lock:
        _installed[id(client)] = (now, found)
    return found


def available_kinds(client: Any, pruvon: Any = None,
                    max_age: float = PLUGIN_CACHE_SECONDS) -> list[ServiceKind]:
    """Kinds usable on this host: enabled official plugins, then plugin-declared kinds."""
    kinds = [OFFICIAL[name] for name in installed_official(client, max_age)]
    if pruvon is not None:
        seen = {kind.name for kind in kinds}
        kinds += [_declared(k) for k in service_types(pruvon) if k.name not in seen]
    return kinds


