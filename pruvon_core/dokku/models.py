"""Typed results of Dokku reads: dataclasses, never dicts of strings.

Every front end (CLI, web, API) renders these, so the shapes are stable and
independent of Dokku's text/JSON formats and of its version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

APP_STATES = ("running", "stopped", "mixed", "not deployed")


@dataclass(frozen=True)
class Call:
    """One process Pruvon started: ``kind`` is ``dokku`` or ``docker``."""

    argv: tuple[str, ...]
    kind: str
    duration: float
    exit: int | None  # None: killed (timeout, cancelled) before it exited
    started: float = 0.0  # time.monotonic() when it started (overlap of calls, in tests)


@dataclass(frozen=True)
class Result:
    """A finished command: exit status and both streams, decoded as UTF-8."""

    argv: tuple[str, ...]
    exit: int
    stdout: str
    stderr: str
    duration: float = 0.0


@dataclass(frozen=True)
class Container:
    """A Dokku-managed docker container, from its ``com.dokku.*`` labels."""

    id: str
    name: str
    app: str
    process_type: str
    dyno: str  # "web.1"
    container_type: str  # "deploy" for app processes, "run" for one-off containers
    image: str
    state: str  # docker's: running, exited, created, paused, restarting, dead
    status: str = ""  # docker's human text, e.g. "Up 3 hours"
    created_at: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class ProcessCount:
    """How many containers of one process type run, out of how many exist."""

    running: int
    total: int


@dataclass(frozen=True)
class LiveState:
    """Whether the app list's states are live, and if not, why.

    ``available`` is False when the answer is incomplete: docker could not be
    read (missing, refused, failed, unreadable output), so states come from
    Dokku's ``ps:report`` and containers/last deploy are unknown; or the
    background refresh of that report failed.  ``source`` is ``docker`` or
    ``report``; ``age`` the age of the data in seconds (stale-while-revalidate);
    ``error`` says why the live view is unavailable.
    """

    available: bool
    source: str
    age: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"available": self.available, "source": self.source,
                "age": round(self.age, 1), "error": self.error}


@dataclass(frozen=True)
class AppOverview:
    """One row of the app list: the live state of an app, cheaply fetched.

    ``source`` says where the state came from: ``docker`` (live, one
    ``docker ps`` for all apps) or ``report`` (Dokku's ``ps:report``, refreshed in
    the background over ssh); ``age`` is how old that data is, in seconds.
    """

    name: str
    state: str
    processes: dict[str, ProcessCount] = field(default_factory=dict)
    containers: list[Container] = field(default_factory=list)
    source: str = "docker"
    age: float = 0.0

    @property
    def deployed(self) -> bool:
        return self.state != "not deployed"


@dataclass(frozen=True)
class ProcessStatus:
    """One ``Status web 1: running (CID: 91afa3365eb)`` line of ``ps:report``."""

    process_type: str
    index: int
    state: str
    container_id: str = ""


@dataclass(frozen=True)
class PsReport:
    """``ps:report`` of one app."""

    app: str
    deployed: bool
    running: bool
    processes: int
    restore: bool
    restart_policy: str
    statuses: list[ProcessStatus] = field(default_factory=list)


@dataclass(frozen=True)
class AppReport:
    """``apps:report`` of one app."""

    name: str
    dir: str
    deploy_source: str
    deploy_source_metadata: str
    created_at: int | None
    locked: bool


@dataclass(frozen=True)
class DomainsReport:
    """``domains:report`` of one app (or ``--global``)."""

    app_enabled: bool
    app_vhosts: list[str]
    global_enabled: bool
    global_vhosts: list[str]


@dataclass(frozen=True)
class PortMapping:
    """``http:8081:5000``: scheme, host port, container port."""

    scheme: str
    host_port: int
    container_port: int

    def __str__(self) -> str:
        return f"{self.scheme}:{self.host_port}:{self.container_port}"


@dataclass(frozen=True)
class PortsReport:
    """Configured mappings (``map``) and those Dokku detected from the image."""

    configured: list[PortMapping]
    detected: list[PortMapping]


@dataclass(frozen=True)
class StorageMount:
    """A bind mount ``host_path:container_path`` (``entry_name`` on Dokku ≥0.38)."""

    host_path: str
    container_path: str
    entry_name: str = ""


@dataclass(frozen=True)
class Plugin:
    """One line of ``plugin:list``."""

    name: str
    version: str
    enabled: bool
    description: str
    core: bool | None = None  # unknown in the text format
    source_url: str = ""


@dataclass(frozen=True)
class ServiceInfo:
    """``<type>:info <name>``: the service's state and connection details."""

    kind: str
    name: str
    status: str
    version: str
    dsn: str
    links: list[str]
    exposed_ports: str
    internal_ip: str
    id: str
    config_dir: str
    data_dir: str
    service_root: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Service:
    """A service as listed: its type and name."""

    kind: str
    name: str


@dataclass(frozen=True)
class K3sNode:
    """One node of a host's k3s cluster (``scheduler-k3s:cluster-list``)."""

    name: str
    ready: bool
    roles: tuple[str, ...]
    version: str
    remote_host: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ready": self.ready, "roles": list(self.roles),
                "version": self.version, "remote_host": self.remote_host}
