"""The host's docker: reads and changes, every argv built and validated here.

Everything goes through the Dokku layer's docker access
(:meth:`DokkuClient.docker_read` / ``docker_change`` / ``docker_stream`` /
``docker_pty``), so calls are counted, bounded, timed out and cached like
Dokku's.  The ``/docker`` page costs a constant number of calls whatever the
number of containers: ONE ``docker ps -a``, ONE ``docker stats --no-stream``,
ONE ``docker system df -v`` (images and volumes with sizes and users) and ONE
``docker network ls``; whether a network is used comes from the ``ps`` read.
A container id or name is validated before any argv holds it, and nothing
that starts with ``-`` is ever placed where docker expects one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pruvon_core.dokku import validate
from pruvon_core.dokku.errors import ContainerNotFound, DokkuError
from pruvon_core.errors import InputError
from pruvon_docker import parsers
from pruvon_docker.models import (
    DiskUsage,
    HostContainer,
    ImageInfo,
    NetworkInfo,
    PrunePlan,
    Usage,
    VolumeInfo,
)

T = TypeVar("T")
JSON = ["--format", "{{json .}}"]
PS = ["ps", "-a", "--no-trunc", *JSON]
STATS = ["stats", "--no-stream", "--no-trunc", *JSON]
DF = ["system", "df", "-v", *JSON]
NETWORKS = ["network", "ls", "--no-trunc", *JSON]
ACTIONS = ("start", "stop", "restart", "kill")
SIGNALS = ("KILL", "TERM", "INT", "HUP", "QUIT", "USR1", "USR2")
SHELLS = ("/bin/sh", "/bin/bash")
MAX_LOG_LINES = 10000
PRUNE_TIMEOUT = 1800.0


class DockerInputError(InputError):
    """Bad input to a docker operation; the message says what is wrong and how to fix it."""


# --------------------------------------------------------------------------- reads
def containers(client: Any, usage: bool = True) -> list[HostContainer]:
    """Every container (``docker ps -a``), with CPU/memory from one ``docker stats`` read."""
    found = client.docker_read(PS, parsers.parse_ps)
    if not usage or not any(c.running for c in found):
        return found
    stats = client.docker_read(STATS, parsers.parse_stats)
    return [_with_usage(c, stats) for c in found]


def _with_usage(container: HostContainer, stats: dict[str, Usage]) -> HostContainer:
    hit = usage_of(container.id, stats)
    return replace(container, usage=hit) if hit else container


def disk_usage(client: Any) -> DiskUsage:
    return client.docker_read(DF, parsers.parse_system_df)


def attached_to(network: str, known: list[HostContainer]) -> tuple[str, ...]:
    """Names of the running containers on ``network`` (docker ps lists their networks)."""
    return tuple(sorted(c.name for c in known if c.running and network in c.networks))


def networks(client: Any, known: list[HostContainer]) -> list[NetworkInfo]:
    """``docker network ls``, each with the running containers attached (from ``ps``)."""
    return [replace(n, containers=attached_to(n.name, known))
            for n in client.docker_read(NETWORKS, parsers.parse_networks)]


@dataclass
class Overview:
    """The ``/docker`` page: every part read once; a part that failed says why."""

    containers: list[HostContainer]
    images: list[ImageInfo]
    volumes: list[VolumeInfo]
    networks: list[NetworkInfo]
    errors: list[str]

    def as_dict(self, parts: tuple[str, ...] = ("containers", "images", "volumes",
                                                "networks")) -> dict[str, Any]:
        data: dict[str, Any] = {"errors": self.errors}
        for part in parts:
            data[part] = [item.as_dict() for item in getattr(self, part)]
        return data


def _attempt(errors: list[str], read: Callable[[], T], empty: T) -> T:
    try:
        return read()
    except DokkuError as exc:
        errors.append(str(exc))
        return empty


def overview(client: Any, parts: tuple[str, ...] = ("containers", "images", "volumes",
                                                    "networks")) -> Overview:
    """The parts asked for, their reads run side by side (at most four, each once).

    One after another the page would cost the sum of four docker start-ups;
    a part whose read fails is empty and says why, the others still show.
    """
    errors: list[str] = []
    reads: dict[str, tuple[list[str], Callable[[str], Any], Any]] = {}
    if "containers" in parts or "networks" in parts:
        reads["ps"] = (PS, parsers.parse_ps, [])
    if "containers" in parts:
        reads["stats"] = (STATS, parsers.parse_stats, {})
    if "images" in parts or "volumes" in parts:
        reads["df"] = (DF, parsers.parse_system_df, DiskUsage())
    if "networks" in parts:
        reads["networks"] = (NETWORKS, parsers.parse_networks, [])
    with ThreadPoolExecutor(max_workers=max(1, len(reads))) as pool:
        futures = {name: pool.submit(_attempt, errors, functools.partial(
            client.docker_read, args, parse), empty) for name, (args, parse, empty) in
            reads.items()}
        got = {name: future.result() for name, future in futures.items()}
    found = got.get("ps", [])
    stats = got.get("stats", {})
    disk = got.get("df", DiskUsage())
    nets = [replace(n, containers=attached_to(n.name, found)) for n in got.get("networks", [])]
    shown = [_with_usage(c, stats) for c in found] if "containers" in parts else []
    return Overview(shown, disk.images, disk.volumes, nets, sorted(errors))


def find(client: Any, ref: str) -> HostContainer:
    """The container ``ref`` names, resolved as docker does: the full id or the name,
    else a unique id prefix; from the cached ``ps`` read."""
    ref = validate.container_ref(ref)
    known = client.docker_read(PS, parsers.parse_ps)
    exact = [c for c in known if ref in (c.id, c.name)]
    if exact:
        return exact[0]
    prefixed = [c for c in known if c.id.startswith(ref)]
    if len(prefixed) > 1:
        raise DockerInputError(f"{ref} matches {len(prefixed)} containers: give more of the id")
    if not prefixed:
        raise ContainerNotFound(f"No such container: {ref}")
    return prefixed[0]


def container_usage(client: Any) -> dict[str, Usage]:
    """CPU/memory of every running container by id (one ``docker stats``); ``{}`` without
    docker (an ssh transport, a refused socket): usage is extra, never an error."""
    if getattr(client, "docker", None) is None:
        return {}
    try:
        return client.docker_read(STATS, parsers.parse_stats)
    except DokkuError:
        return {}


def usage_of(container_id: str, stats: dict[str, Usage]) -> Usage | None:
    """The stats line of ``container_id`` (docker may print a short or a full id)."""
    return stats.get(container_id) or next(
        (u for key, u in stats.items() if container_id.startswith(key)), None)


@dataclass(frozen=True)
class AppUsage:
    """CPU and memory of one app's running containers, summed."""

    cpu_percent: float
    mem_used: int
    containers: int

    def as_dict(self) -> dict[str, Any]:
        return {"cpu_percent": round(self.cpu_percent, 2), "mem_used": self.mem_used,
                "containers": self.containers}


def app_usage(client: Any) -> dict[str, AppUsage]:
    """Per-app CPU/memory: Dokku's ``ps`` read (shared with the app list) + one ``stats``."""
    dokku = [c for c in client.containers() if c.running]
    stats = container_usage(client) if dokku else {}
    totals: dict[str, list[float]] = {}
    for container in dokku:
        hit = usage_of(container.id, stats)
        if hit is not None:
            cpu, mem, count = totals.get(container.app, [0.0, 0.0, 0.0])
            totals[container.app] = [cpu + hit.cpu_percent, mem + hit.mem_used, count + 1]
    return {app: AppUsage(cpu, int(mem), int(count)) for app, (cpu, mem, count) in totals.items()}


# --------------------------------------------------------------------------- changes
def check_action(action: Any) -> str:
    if action not in ACTIONS:
        raise DockerInputError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    return action


def check_signal(signal: Any) -> str:
    name = str(signal or "KILL").upper().removeprefix("SIG")
    if name not in SIGNALS:
        raise DockerInputError(f"signal must be one of {', '.join(SIGNALS)}, not {signal!r}")
    return name


def act(client: Any, action: str, ref: str, signal: str | None = None) -> str:
    """``docker start|stop|restart|kill REF``; returns docker's answer."""
    args = [check_action(action)]
    if action == "kill":
        args += ["--signal", check_signal(signal)]
    args.append(validate.container_ref(ref))
    return client.docker_change(args).stdout.strip()


def removal_refusal(container: HostContainer, confirm: str | None) -> str | None:
    """Why removing ``container`` needs a confirmation, or None when it may go.

    Dokku recreates an app's container only on the next deploy, and a
    datastore's only on ``<type>:start``: removing one takes that process or
    database away, so the operator confirms by typing the owner's name.
    """
    owner = container.owner_name
    if owner is None or confirm == owner:
        return None
    if container.app:
        again = f"until Dokku deploys {container.app} again (dokku ps:rebuild {container.app})"
    else:
        kind, _, name = (container.service or "").partition(" ")
        again = f"until the service is started again (dokku {kind}:start {name})"
    return (f"container {container.name} belongs to {container.managed_by}: removing it takes "
            f"it away {again}; confirm by typing {owner!r}")


def remove(client: Any, ref: str, force: bool = False, confirm: str | None = None) -> str:
    """``docker rm [-f] REF``; a Dokku-managed container only when its app is named."""
    container = find(client, ref)
    refusal = removal_refusal(container, confirm)
    if refusal:
        raise DockerInputError(refusal)
    return client.docker_change(["rm", *(["-f"] if force else []), container.id]).stdout.strip()


def prune_plan(client: Any, all_images: bool = False, volumes: bool = False) -> PrunePlan:
    """What ``docker system prune`` would remove, from the page's own reads (no dry run exists).

    Stopped containers (Dokku's named: ``ps:start`` cannot restart a pruned
    one), networks no running container uses, dangling images (with
    ``all_images``: every image no running container uses) and, with
    ``volumes``, anonymous volumes no running container mounts.
    """
    found = containers(client, usage=False)
    running = [c for c in found if c.running]
    used_images = {c.image for c in running}
    mounted = {m for c in running for m in c.mounts}
    disk = disk_usage(client)
    images = [i for i in disk.images
              if (all_images or i.dangling) and not _image_in(i, used_images)]
    return PrunePlan(
        all_images=all_images, volumes=volumes,
        containers=[c for c in found if not c.running],
        networks=[n for n in networks(client, found) if n.unused],
        images=images,
        volume_list=[v for v in disk.volumes
                     if volumes and v.anonymous and v.name not in mounted],
    )


def _image_in(image: ImageInfo, refs: set[str]) -> bool:
    names = {image.ref, image.id, image.id[:12], f"sha256:{image.id}"}
    if image.tag == "latest":
        names.add(image.repository)
    return bool(names & refs)


def prune_args(all_images: bool, volumes: bool) -> list[str]:
    return ["system", "prune", "-f", *(["-a"] if all_images else []),
            *(["--volumes"] if volumes else [])]


def prune(client: Any, all_images: bool = False, volumes: bool = False) -> str:
    """``docker system prune -f [-a] [--volumes]``; docker's report (reclaimed space)."""
    return client.docker_change(prune_args(all_images, volumes), timeout=PRUNE_TIMEOUT).stdout


# --------------------------------------------------------------------------- streams
def check_lines(lines: Any) -> int:
    if isinstance(lines, bool) or not isinstance(lines, int) or not 0 <= lines <= MAX_LOG_LINES:
        raise DockerInputError(f"lines must be a whole number from 0 to {MAX_LOG_LINES}")
    return lines


def logs_args(ref: str, lines: int = 100, follow: bool = False, timestamps: bool = False) -> list[str]:
    """``docker logs --tail N [-f] [-t] REF``."""
    return ["logs", "--tail", str(check_lines(lines)), *(["-f"] if follow else []),
            *(["-t"] if timestamps else []), validate.container_ref(ref)]


def check_shell(shell: Any) -> str:
    if shell not in SHELLS:
        raise DockerInputError(f"shell must be one of {', '.join(SHELLS)}, not {shell!r}")
    return shell


def exec_args(ref: str, shell: str = "/bin/sh") -> list[str]:
    """``docker exec -it REF SHELL``: an allowlisted shell only, never a free command."""
    return ["exec", "-it", validate.container_ref(ref), check_shell(shell)]
