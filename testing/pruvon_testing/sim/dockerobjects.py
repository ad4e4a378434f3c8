"""Docker's images, volumes and networks on the simulated host, and their sizes.

Containers live in :mod:`containers`; this module keeps what else ``docker``
shows: named and anonymous volumes, user-defined networks (``bridge``,
``host`` and ``none`` always exist) and dangling images left by rebuilds, in
``<root>/docker/objects.json``; images a prune removes are forgotten by
:mod:`images` (a deploy from one then fails as on an offline host).  Sizes are derived from ids so repeated calls
agree, and printed with go-units' ``HumanSize`` as the docker CLI does.

Tests and the demo add objects with :func:`add_volume`, :func:`add_network`,
:func:`add_dangling_image` and :func:`add_container` (a container Dokku did not
create, as ``docker run -d`` would leave one).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pruvon_testing.sim import containers, images
from pruvon_testing.sim.containers import Container
from pruvon_testing.sim.core import SimState, write_atomic
from pruvon_testing.sim.routing import locked

BUILTIN_NETWORKS = {"bridge": "bridge", "host": "host", "none": "null"}
UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
ANONYMOUS_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def human_size(size: float, precision: int = 4) -> str:
    """go-units ``HumanSizeWithPrecision``: decimal units, ``%.<p>g``."""
    index = 0
    while size >= 1000 and index < len(UNITS) - 1:
        size /= 1000
        index += 1
    return f"{size:.{precision}g}{UNITS[index]}"


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _path(state: SimState) -> Path:
    return state.root / "docker" / "objects.json"


def load(state: SimState) -> dict[str, Any]:
    try:
        data = json.loads(_path(state).read_text())
    except (FileNotFoundError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    for key, empty in (("volumes", {}), ("networks", {}), ("dangling", [])):
        data.setdefault(key, empty)
    return data


def save(state: SimState, data: dict[str, Any]) -> None:
    """Write the objects (callers hold ``locked(state)`` for read-modify-write)."""
    _path(state).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(_path(state), json.dumps(data, indent=2, sort_keys=True))


def _stamp(state: SimState) -> str:
    return containers.docker_time(containers.now(state))


# -- images ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRow:
    """One local image as ``docker images`` and ``system df -v`` see it."""

    repository: str
    tag: str
    id: str  # full sha256 hex
    created: str
    size: int

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


def _image_size(image_id: str) -> int:
    return 1_200_000 + _seed(f"size:{image_id}") % 180_000_000


def _split_ref(ref: str) -> tuple[str, str]:
    repo, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "latest"
    return repo, tag


def local_images(state: SimState) -> list[ImageRow]:
    """Every image on the host: built-in, registered, the apps' builds, dangling ones."""
    data = load(state)
    removed = images.removed(state)
    found: dict[str, images.Image] = dict(images.BUILTIN)
    found.update({ref: images.Image(**raw) for ref, raw in images._registered(state).items()})
    for app in state.apps():
        built = images.app_image(state, app)
        if built is not None:
            found.setdefault(f"dokku/{app}:latest", built)
    created = "2026-01-01T00:00:00Z"
    rows = []
    for ref, image in sorted(found.items()):
        if ref in removed:
            continue
        repo, tag = _split_ref(ref)
        rows.append(ImageRow(repo, tag, image.id, created, _image_size(image.id)))
    for image_id in data["dangling"]:
        rows.append(ImageRow("<none>", "<none>", image_id, created, _image_size(image_id)))
    return rows


def image_users(state: SimState, row: ImageRow) -> list[Container]:
    """Containers (any state) created from ``row``."""
    return [c for c in containers.all_containers(state)
            if c.image == row.ref or (c.image_id and c.image_id == row.id)]


def remove_image(state: SimState, row: ImageRow) -> None:
    if row.repository != "<none>":
        images.forget(state, row.ref)
        return
    with locked(state):
        data = load(state)
        data["dangling"] = [i for i in data["dangling"] if i != row.id]
        save(state, data)


def add_dangling_image(state: SimState, seed: str) -> str:
    """An untagged image (what a rebuild leaves behind); returns its id."""
    image_id = hashlib.sha256(f"dangling:{seed}".encode()).hexdigest()
    with locked(state):
        data = load(state)
        if image_id not in data["dangling"]:
            data["dangling"].append(image_id)
        save(state, data)
    return image_id


# -- volumes -----------------------------------------------------------------------------


def add_volume(state: SimState, name: str | None = None, labels: dict[str, str] | None = None,
               size: int | None = None) -> str:
    """``docker volume create [NAME]``; no name makes an anonymous (64-hex) volume."""
    name = name or containers.new_id()
    if not NAME_RE.match(name):
        raise ValueError(f"invalid volume name {name!r}")
    with locked(state):
        data = load(state)
        data["volumes"][name] = {
            "labels": dict(labels or {}),
            "created": _stamp(state),
            "size": size if size is not None else _seed(f"volume:{name}") % 90_000_000,
        }
        save(state, data)
    return name


def volume_users(state: SimState, name: str) -> list[Container]:
    return [c for c in containers.all_containers(state) if name in c.volumes]


def volume_rows(state: SimState) -> list[dict[str, Any]]:
    """``{"Name", "Labels", "Created", "Size", "Links"}`` per volume, by name."""
    data = load(state)
    rows = []
    for name, raw in sorted(data["volumes"].items()):
        rows.append({"Name": name, "Labels": raw.get("labels", {}), "Created": raw["created"],
                     "Size": int(raw.get("size", 0)), "Links": len(volume_users(state, name))})
    return rows


def remove_volume(state: SimState, name: str) -> None:
    with locked(state):
        data = load(state)
        data["volumes"].pop(name, None)
        save(state, data)


def is_anonymous(name: str, labels: dict[str, str]) -> bool:
    return bool(ANONYMOUS_RE.match(name)) or "com.docker.volume.anonymous" in labels


# -- networks ----------------------------------------------------------------------------


def add_network(state: SimState, name: str, driver: str = "bridge", internal: bool = False) -> str:
    """``docker network create NAME``; returns its full id."""
    if not NAME_RE.match(name) or name in BUILTIN_NETWORKS:
        raise ValueError(f"invalid network name {name!r}")
    network_id = hashlib.sha256(f"network:{name}".encode()).hexdigest()
    with locked(state):
        data = load(state)
        data["networks"][name] = {"id": network_id, "driver": driver, "internal": internal,
                                  "created": _stamp(state)}
        save(state, data)
    return network_id


def network_rows(state: SimState) -> list[dict[str, Any]]:
    """Every network: the three built-in ones, then user-defined, by name."""
    rows = [{"Name": name, "ID": hashlib.sha256(name.encode()).hexdigest(), "Driver": driver,
             "Scope": "local", "Internal": False, "Created": "2026-01-01T00:00:00.000000000Z",
             "Builtin": True}
            for name, driver in BUILTIN_NETWORKS.items()]
    for name, raw in sorted(load(state)["networks"].items()):
        rows.append({"Name": name, "ID": raw["id"], "Driver": raw["driver"], "Scope": "local",
                     "Internal": raw.get("internal", False), "Created": raw["created"],
                     "Builtin": False})
    return sorted(rows, key=lambda r: r["Name"])


def network_users(state: SimState, name: str) -> list[Container]:
    return [c for c in containers.all_containers(state) if c.running and name in c.networks]


def remove_network(state: SimState, name: str) -> None:
    with locked(state):
        data = load(state)
        data["networks"].pop(name, None)
        save(state, data)


# -- containers Dokku did not create -----------------------------------------------------


def add_container(state: SimState, name: str, image: str, *, command: list[str] | None = None,
                  volumes: list[str] | None = None, networks: list[str] | None = None,
                  labels: dict[str, str] | None = None, running: bool = True) -> Container:
    """A container as ``docker run -d --name NAME IMAGE`` leaves it (no Dokku labels)."""
    moment = containers.now(state)
    with locked(state):
        container = Container(
            id=containers.new_id(), name=name, app="", process_type="", dyno="",
            container_type="", image=image, status="running",
            created_at=containers.docker_time(moment), started_at=containers.docker_time(moment),
            ip=containers.free_ip(state), command=list(command or []),
            labels=dict(labels or {}), volumes=list(volumes or []),
            networks=list(networks or ["bridge"]), seq=containers.next_seq(state),
        )
        if not running:
            container.status = "exited"
            container.finished_at = containers.docker_time(moment)
        containers.save(state, container)
    return container


def created_since(created: str, moment: datetime) -> str:
    from pruvon_testing.sim.dockerview import human_duration

    seconds = (moment - containers.parse_time(created)).total_seconds()
    return f"{human_duration(max(0.0, seconds))} ago"


def seed_examples(state: SimState) -> None:
    """What a lived-in host has besides Dokku's containers (tests, ``make demo``).

    ``redis-cache`` (running ``redis:7`` on network ``backend``, volume
    ``cache-data``), ``worker`` (an exited ``localbusybox`` container), an unused
    network ``spare``, an anonymous volume and a dangling image.
    """
    add_volume(state, "cache-data")
    add_volume(state)
    add_network(state, "backend")
    add_network(state, "spare")
    add_dangling_image(state, "old-build")
    add_container(state, "redis-cache", "redis:7", volumes=["cache-data"],
                  networks=["backend"])
    add_container(state, "worker", "localbusybox:latest", running=False)
