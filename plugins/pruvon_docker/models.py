"""Typed views of the host's docker objects, as every front end renders them.

The CLI, the pages and the JSON API show the same dataclasses (``as_dict``
for JSON); nothing above :mod:`pruvon_docker.parsers` sees docker's strings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

BUILTIN_NETWORKS = ("bridge", "host", "none")


@dataclass(frozen=True)
class Usage:
    """One container's line of ``docker stats --no-stream``."""

    cpu_percent: float
    mem_used: int  # bytes
    mem_limit: int
    mem_percent: float
    pids: int = 0


@dataclass(frozen=True)
class HostContainer:
    """Any container on the host; ``app`` is set when Dokku manages it."""

    id: str
    name: str
    image: str
    state: str  # running, exited, created, paused, restarting, dead
    status: str  # docker's text: "Up 3 hours", "Exited (0) 2 minutes ago"
    created_at: str
    ports: str = ""
    networks: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    app: str | None = None
    process_type: str = ""
    dyno: str = ""
    container_type: str = ""
    service: str | None = None  # "postgres blog-db": a Dokku datastore plugin's container
    usage: Usage | None = None

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def uptime(self) -> str:
        """How long it has run ("3 hours"), from docker's status; "" when not running."""
        if not self.running or not self.status.startswith("Up "):
            return ""
        return self.status[3:].split(" (", 1)[0]

    @property
    def managed_by(self) -> str:
        """Who in Dokku owns it: "Dokku app blog", "Dokku postgres service blog-db", or ""."""
        if self.app:
            return f"Dokku app {self.app}"
        if self.service:
            kind, _, name = self.service.partition(" ")
            return f"Dokku {kind} service {name}"
        return ""

    @property
    def owner_name(self) -> str | None:
        """The name a removal must be confirmed with: the app's, or the service's."""
        return self.app or (self.service.partition(" ")[2] if self.service else None)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(short_id=self.short_id, running=self.running, uptime=self.uptime,
                    managed_by=self.managed_by,
                    networks=list(self.networks), mounts=list(self.mounts))
        return data


@dataclass(frozen=True)
class ImageInfo:
    id: str
    repository: str
    tag: str
    size: int
    created_since: str
    containers: int  # containers (any state) using it; 0 = unused

    @property
    def ref(self) -> str:
        return self.id[:19] if self.dangling else f"{self.repository}:{self.tag}"

    @property
    def dangling(self) -> bool:
        return self.repository == "<none>"

    @property
    def unused(self) -> bool:
        return self.containers == 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ref": self.ref, "dangling": self.dangling, "unused": self.unused}


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    driver: str
    size: int | None  # None: docker did not say (N/A)
    links: int

    @property
    def anonymous(self) -> bool:
        return len(self.name) == 64 and all(c in "0123456789abcdef" for c in self.name)

    @property
    def unused(self) -> bool:
        return self.links == 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "anonymous": self.anonymous, "unused": self.unused}


@dataclass(frozen=True)
class NetworkInfo:
    id: str
    name: str
    driver: str
    scope: str
    containers: tuple[str, ...] = ()  # names of the containers attached (from docker ps)

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_NETWORKS

    @property
    def unused(self) -> bool:
        return not self.builtin and not self.containers

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "containers": list(self.containers), "builtin": self.builtin,
                "unused": self.unused}


@dataclass(frozen=True)
class DiskUsage:
    """``docker system df -v``: images and volumes with sizes and how many use them."""

    images: list[ImageInfo] = field(default_factory=list)
    volumes: list[VolumeInfo] = field(default_factory=list)


@dataclass(frozen=True)
class PrunePlan:
    """What ``docker system prune`` would remove, computed from the same reads as the page."""

    all_images: bool
    volumes: bool
    containers: list[HostContainer]
    networks: list[NetworkInfo]
    images: list[ImageInfo]
    volume_list: list[VolumeInfo]

    @property
    def dokku_containers(self) -> list[HostContainer]:
        return [c for c in self.containers if c.owner_name]

    @property
    def reclaimable(self) -> int:
        return sum(i.size for i in self.images) + sum(v.size or 0 for v in self.volume_list)

    @property
    def empty(self) -> bool:
        return not (self.containers or self.networks or self.images or self.volume_list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "all_images": self.all_images, "volumes": self.volumes,
            "containers": [c.as_dict() for c in self.containers],
            "networks": [n.as_dict() for n in self.networks],
            "images": [i.as_dict() for i in self.images],
            "volume_list": [v.as_dict() for v in self.volume_list],
            "dokku_apps": sorted({c.app for c in self.dokku_containers if c.app}),
            "dokku_owners": sorted({c.managed_by for c in self.dokku_containers}),
            "reclaimable": self.reclaimable,
        }
