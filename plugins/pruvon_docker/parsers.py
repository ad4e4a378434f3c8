"""docker CLI output → :mod:`pruvon_docker.models`.

Each function takes the stdout of one ``--format '{{json .}}'`` command and
raises :class:`~pruvon_core.dokku.parsers.ParseError` when it is not the
shape docker prints (the client turns that into ``DokkuBadOutput``: garbage
never becomes data).  Sizes are docker's go-units strings (``146MB``,
``4.186MiB``); both decimal and binary units are read.
"""

from __future__ import annotations

import re
from typing import Any

from pruvon_core.dokku.parsers import (
    SERVICE_CONTAINER_RE,
    ParseError,
    docker_ps_items,
    docker_state,
    parse_json_object,
    parse_ndjson,
)
from pruvon_docker.models import (
    DiskUsage,
    HostContainer,
    ImageInfo,
    NetworkInfo,
    Usage,
    VolumeInfo,
)

SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([KMGTPEZY]?i?B)\s*$",
                     re.IGNORECASE)
DECIMAL = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15}
BINARY = {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "PIB": 2**50}


def size(text: str) -> int | None:
    """``"4.186MiB"`` → bytes; ``None`` for ``N/A`` and other non-sizes."""
    match = SIZE_RE.match(text or "")
    if not match:
        return None
    unit = match.group(2).upper()
    factor = BINARY.get(unit) or DECIMAL.get(unit)
    return None if factor is None else int(float(match.group(1)) * factor)


def percent(text: str) -> float:
    try:
        return float((text or "0").rstrip("%") or 0)
    except ValueError:
        return 0.0


def _count(text: Any) -> int:
    text = str(text or "")
    return int(text) if text.isdigit() else 0


def _words(text: Any) -> tuple[str, ...]:
    return tuple(part for part in str(text or "").split(",") if part)


def parse_ps(text: str) -> list[HostContainer]:
    """``docker ps -a --no-trunc --format '{{json .}}'``: every container, Dokku's named."""
    found = []
    for item, labels in docker_ps_items(text):
        found.append(HostContainer(
            id=item["ID"], name=str(item.get("Names", "")).split(",")[0],
            image=str(item.get("Image", "")), state=docker_state(item),
            status=str(item.get("Status", "")), created_at=str(item.get("CreatedAt", "")),
            ports=str(item.get("Ports", "")), networks=_words(item.get("Networks")),
            mounts=_words(item.get("Mounts")), app=labels.get("com.dokku.app-name") or None,
            process_type=labels.get("com.dokku.process-type", ""),
            dyno=labels.get("com.dokku.dyno", ""),
            container_type=labels.get("com.dokku.container-type", ""),
            service=_service(labels, str(item.get("Names", ""))),
        ))
    return found


def _service(labels: dict[str, str], names: str) -> str | None:
    """``"postgres blog-db"`` for a datastore plugin's container or its ``expose``
    ambassador (``dokku=service|ambassador``, named ``dokku.<type>.<name>[.ambassador]``)."""
    match = SERVICE_CONTAINER_RE.match(names.split(",")[0].lstrip("/"))
    if labels.get("dokku") not in ("service", "ambassador") or not match:
        return None
    return f"{match.group(1)} {match.group(2)}"


def _mem(text: str) -> tuple[int, int]:
    used, _, limit = (text or "").partition("/")
    return size(used) or 0, size(limit) or 0


def parse_stats(text: str) -> dict[str, Usage]:
    """``docker stats --no-stream --no-trunc --format '{{json .}}'``: usage by container id."""
    usage = {}
    for item in parse_ndjson(text, "docker stats json"):
        key = str(item.get("ID") or item.get("Container") or "")
        if not key:
            raise ParseError("docker stats json", text, "a line without ID")
        used, limit = _mem(str(item.get("MemUsage", "")))
        usage[key] = Usage(percent(str(item.get("CPUPerc", ""))), used, limit,
                           percent(str(item.get("MemPerc", ""))), _count(item.get("PIDs")))
    return usage


def parse_system_df(text: str) -> DiskUsage:
    """``docker system df -v --format '{{json .}}'``: one object with Images and Volumes."""
    data = parse_json_object(text, "docker system df json")
    images_raw, volumes_raw = data.get("Images") or [], data.get("Volumes") or []
    if not isinstance(images_raw, list) or not isinstance(volumes_raw, list):
        raise ParseError("docker system df json", text, "Images/Volumes are not lists")
    images = [ImageInfo(
        id=str(i.get("ID", "")).removeprefix("sha256:"), repository=str(i.get("Repository", "")),
        tag=str(i.get("Tag", "")), size=size(str(i.get("Size", ""))) or 0,
        created_since=str(i.get("CreatedSince", "")), containers=_count(i.get("Containers")),
    ) for i in images_raw]
    volumes = [VolumeInfo(
        name=str(v.get("Name", "")), driver=str(v.get("Driver", "")),
        size=size(str(v.get("Size", ""))), links=_count(v.get("Links")),
    ) for v in volumes_raw]
    return DiskUsage(images, volumes)


def parse_networks(text: str) -> list[NetworkInfo]:
    """``docker network ls --no-trunc --format '{{json .}}'``."""
    return [NetworkInfo(id=str(n.get("ID", "")), name=str(n.get("Name", "")),
                        driver=str(n.get("Driver", "")), scope=str(n.get("Scope", "")))
            for n in parse_ndjson(text, "docker network ls json")]
