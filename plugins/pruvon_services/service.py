"""Services read and changed through Dokku: the one generic driver for every kind.

Pure Python over :class:`pruvon_core.dokku.DokkuClient` (no Flask), so the
CLI, the web pages, the API and other plugins (through
:mod:`pruvon_services.public`) treat services the same way.  Reads that a
page shows for many services are bulk reads: one ``<type>:list`` per kind,
one ``docker ps`` for every service container (status, image, exposed
ports) and one ``docker-options:report`` for every link, whatever the number
of services.  Changes go through :mod:`pruvon_services.operations`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from pruvon_core.dokku import validate
from pruvon_core.dokku.errors import DokkuError, ServiceLinked
from pruvon_core.dokku.transports import Stream
from pruvon_core.errors import InputError
from pruvon_services.kinds import (
    OFFICIAL,
    PLUGIN_CACHE_SECONDS,
    ServiceKind,
    installed_official,
)

# Dokku's official datastore plugins (``dokku-<type>``): the service types Pruvon lists.
DATASTORES = tuple(OFFICIAL)
Allowed = Callable[[str, str], bool]
AMBASSADOR_PORT_RE = re.compile(r"(?:([0-9.]+):)?(\d+)->(\d+)/tcp")
PARALLEL_READS = 4  # the client's own limit of reads in flight (MAX_CONCURRENT_CALLS)
DUMP_HEAD = 64  # bytes of an import looked at before Dokku sees any


class ServicesError(InputError):
    """Bad input to a service operation (unknown kind, bad name, not a dump …)."""


@dataclass
class ServiceRow:
    """One service as the list shows it; empty text where the host could not say."""

    type: str
    name: str
    status: str = ""
    version: str = ""
    image: str = ""
    exposed_ports: str = ""
    links: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ServiceDetail:
    """``<type>:info``: the row, every info field, and the DSN (a secret: mask for viewers)."""

    row: ServiceRow
    info: dict[str, str]
    dsn: str

    def as_dict(self, reveal: bool = False) -> dict[str, Any]:
        """The detail; the DSN's password masked unless ``reveal``."""
        dsn = self.dsn if reveal else mask_dsn(self.dsn)
        info = {k: (dsn if k == "dsn" else v) for k, v in self.info.items()}
        return {**self.row.as_dict(), "info": info, "dsn": dsn}


def mask_dsn(dsn: str) -> str:
    """``scheme://user:****@host…``: the DSN without its password."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^:/@]*:)[^@]*@", r"\1****@", dsn)


# --------------------------------------------------------------------------- reads
def installed_types(client: Any, max_age: float = PLUGIN_CACHE_SECONDS) -> tuple[str, ...]:
    """The enabled official datastore plugins, in :data:`DATASTORES` order (cached 5 min)."""
    return installed_official(client, max_age)


def require_kind(kinds: Iterable[ServiceKind], name: object) -> ServiceKind:
    """The kind called ``name`` among ``kinds``, or a ServicesError that lists them."""
    try:
        kind_name = validate.service_type(name)
    except validate.InvalidName as exc:
        raise ServicesError(str(exc)) from exc
    available = list(kinds)
    for kind in available:
        if kind.name == kind_name:
            return kind
    names = ", ".join(k.name for k in available) or "none"
    raise ServicesError(f"unknown service type {kind_name!r}: the {kind_name} plugin is not "
                        f"installed on this host (installed: {names})")


def check_name(name: object) -> str:
    """A service name by Dokku's rule (``[A-Za-z0-9_-]+``), never starting with '-'."""
    try:
        return validate.service_name(name)
    except (validate.InvalidName, validate.InvalidValue) as exc:
        raise ServicesError(str(exc)) from exc


def _container_facts(client: Any) -> dict[tuple[str, str, str], dict[str, str]]:
    """``{(type, name, role): container}``; empty when docker cannot be asked (ssh)."""
    if client.docker is None:
        return {}
    try:
        found = client.service_containers()
    except DokkuError:
        return {}
    return {(c["kind"], c["name"], c["role"]): c for c in found}


def _exposed(ports: str) -> str:
    """docker's ``0.0.0.0:15432->5432/tcp`` as ``<type>:info`` prints it: ``5432->15432``."""
    seen: dict[str, str] = {}
    for host_ip, host_port, container_port in AMBASSADOR_PORT_RE.findall(ports):
        bound = host_port if host_ip in ("", "0.0.0.0") else f"{host_ip}:{host_port}"  # noqa: S104
        seen.setdefault(container_port, bound)
    return " ".join(f"{c}->{h}" for c, h in seen.items())


def _tag(image: str) -> str:
    """``postgres:18.4`` → ``18.4`` (no tag: empty)."""
    return image.rpartition(":")[2] if ":" in image else ""


def _row(kind: str, listed: dict[str, str], containers: dict[tuple[str, str, str], Any],
         links: dict[tuple[str, str], list[str]] | None) -> ServiceRow:
    name, image = listed["name"], listed.get("version", "")  # an old table's "postgres:11.6"
    row = ServiceRow(kind, name, listed.get("status", ""), _tag(image), image,
                     listed.get("exposed_ports", ""), listed.get("links", "").split())
    service = containers.get((kind, name, "service"))
    if service is not None:
        row.status, row.image = service["state"], service["image"]
        row.version = _tag(service["image"])
    elif containers and not row.status:
        row.status = "missing"  # ``stop`` removes the container: what ``--status`` says
    ambassador = containers.get((kind, name, "ambassador"))
    if ambassador is not None and ambassador["state"] == "running":
        row.exposed_ports = _exposed(ambassador["ports"])
    if links is not None and "links" not in listed:
        row.links = sorted(links.get((kind, name), []))
    return row


def _parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run independent Dokku reads at once (the client allows a few in flight); results in
    order, the first failure raised."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(len(calls), PARALLEL_READS)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def list_services(client: Any, kinds: Iterable[ServiceKind],
                  allowed: Allowed | None = None) -> list[ServiceRow]:
    """Every service of ``kinds`` that ``allowed(type, name)`` lets through, sorted.

    Costs one ``<type>:list`` per kind, plus (only when some service is
    listed) one ``docker ps`` and one ``docker-options:report``, whatever the
    number of services: never an ``:info`` per service.  The lists run at
    once, then the two bulk reads at once, so the wait is about two calls
    whatever the number of kinds.  A Dokku error propagates (the caller shows it).
    """
    chosen = list(kinds)
    tables = _parallel([functools.partial(client.service_table, k.name) for k in chosen])
    listed = [(kind.name, entry) for kind, table in zip(chosen, tables, strict=True)
              for entry in table if allowed is None or allowed(kind.name, entry["name"])]
    if not listed:
        return []
    need_links = any("links" not in entry for _, entry in listed)
    containers, links = _parallel([
        functools.partial(_container_facts, client),
        client.service_link_map if need_links else dict])
    rows = [_row(kind, entry, containers, links if need_links else None)
            for kind, entry in listed]
    return sorted(rows, key=lambda r: (r.type, r.name))


def service_detail(client: Any, kind: ServiceKind, name: str) -> ServiceDetail:
    """One service in full (``<type>:info``, one call); ServiceNotFound when missing."""
    info = client.service_info(kind.name, check_name(name))
    fields = {"status": info.status, "version": info.version, "dsn": info.dsn,
              "links": " ".join(info.links), "exposed_ports": info.exposed_ports,
              "internal_ip": info.internal_ip, "id": info.id, "config_dir": info.config_dir,
              "data_dir": info.data_dir, "service_root": info.service_root,
              **{k.replace("-", "_"): v for k, v in info.extra.items()}}
    image = info.version
    row = ServiceRow(kind.name, info.name, info.status, _tag(image) or image, image,
                     info.exposed_ports, list(info.links))
    return ServiceDetail(row, fields, info.dsn)


def require_unlinked(client: Any, kind: ServiceKind, name: str) -> None:
    """ServiceLinked (Dokku's own refusal, said earlier and with the apps) while linked."""
    links = client.service_links(kind.name, check_name(name))
    if links:
        apps = ", ".join(links)
        raise ServiceLinked(f"{kind.name}/{name} is linked to {apps}: unlink {apps} first "
                            f"(pruvon services unlink {kind.name} {name} APP)")


def linked_services(client: Any, app: str) -> list[tuple[str, str, list[str]]]:
    """``(type, name, every app linked)`` for each service linked to ``app`` (read now).

    One ``<type>:app-links`` per type, then ``<type>:links`` only for the
    services found: the calls grow with the app's links, not the host's services.
    """
    found = []
    for kind in installed_types(client, max_age=0):
        for name in client.service_app_links(kind, app, fresh=True):
            found.append((kind, name, client.service_links(kind, name)))
    return found


# --------------------------------------------------------------------------- data
def check_dump(kind: ServiceKind, head: bytes) -> None:
    """Refuse ``head`` (an import's first bytes) unless it starts like ``kind``'s export."""
    if not kind.exportable:
        raise ServicesError(f"the {kind.name} plugin has no import (Dokku: 'Not yet "
                            "implemented')")
    if not head:
        raise ServicesError("the file is empty: nothing to import")
    if not kind.dump_magic:
        return
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if any(head.startswith(m) or stripped.startswith(m) for m in kind.dump_magic):
        return
    raise ServicesError(f"this is not a {kind.title} export ({kind.name}:export writes a "
                        f".{kind.export_ext} file starting with "
                        f"{kind.dump_magic[0]!r}); refusing to import it")


def export_stream(client: Any, kind: ServiceKind, name: str) -> Stream:
    """``<type>:export NAME`` as the client's Stream: iterate ``.chunks()``, never whole."""
    if not kind.exportable:
        raise ServicesError(f"the {kind.name} plugin has no export (Dokku: 'Not yet "
                            "implemented')")
    return client.service_export(kind.name, check_name(name))


class _Prefixed:
    """A reader that gives back the bytes already peeked at, then the rest of ``source``."""

    def __init__(self, head: bytes, source: IO[bytes]) -> None:
        self._head = head
        self._source = source

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._source.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._source.read(size)


def _peek(source: IO[bytes], size: int) -> bytes:
    head = b""
    while len(head) < size:
        chunk = source.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head


def open_dump(kind: ServiceKind, source: IO[bytes]) -> IO[bytes]:
    """``source`` checked by its first bytes (:func:`check_dump`), as a reader from byte 0.

    Only :data:`DUMP_HEAD` bytes are read ahead, so a pipe or an upload works
    as well as a file, and nothing is buffered beyond them.  A seekable file
    is rewound and returned as is; a pipe comes back wrapped (check it once).
    """
    seekable = getattr(source, "seekable", None)
    if seekable is not None and seekable():
        start = source.tell()
        head = _peek(source, DUMP_HEAD)
        source.seek(start)
        check_dump(kind, head)
        return source  # checking it again (validate, then start) reads the same bytes
    head = _peek(source, DUMP_HEAD)
    check_dump(kind, head)
    return _Prefixed(head, source)  # type: ignore[return-value]


def import_stream(client: Any, kind: ServiceKind, name: str, source: IO[bytes],
                  size: int | None, progress: Callable[[int], None]) -> None:
    """Feed ``source`` to ``<type>:import NAME`` over stdin, in chunks.

    The first bytes are checked with :func:`check_dump` before Dokku is
    called, so a wrong file never reaches the service; ``progress`` gets the
    bytes sent so far (``size``, when known, is only for the caller's
    percentage).  A failure raises the DokkuError carrying Dokku's own text.
    """
    service = check_name(name)
    client.service_import(kind.name, service, open_dump(kind, source), progress)
