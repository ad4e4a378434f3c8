"""On-disk state of one simulated service, laid out like the real plugin's.

``<root>/services/<kind>/<name>/`` holds the same files the plugin keeps under
``/var/lib/dokku/services/<kind>/<name>/`` (``PASSWORD``, ``DATABASE_NAME``,
``IMAGE``, ``IMAGE_VERSION``, ``LINKS``, ``ID``, ``PORT``, ``CONFIG_OPTIONS``,
``ENV``, ``data/``, ``config/``, ``backup/`` ...), so a reader who knows Dokku
finds their way, plus ``.sim/`` with what Docker would know: the service
container (id, ip, status), the ambassador container and the container log.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pruvon_testing.sim import containers as docker
from pruvon_testing.sim.core import SimState, write_atomic
from pruvon_testing.sim.services_types import AMBASSADOR_IMAGE, TYPES, ServiceType

NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")  # is_valid_service_name


def now(env: dict[str, str] | None = None) -> float:
    """Current time; ``SOURCE_DATE_EPOCH`` pins it (reproducible dumps in tests)."""
    pinned = (env or os.environ).get("SOURCE_DATE_EPOCH", "")
    return float(pinned) if pinned.isdigit() else time.time()


@dataclass
class Service:
    """One service of one type; cheap to construct, reads files on demand."""

    state: SimState
    stype: ServiceType
    name: str

    # -- paths ---------------------------------------------------------------
    @property
    def dir(self) -> Path:
        return self.state.service_dir(self.stype.kind, self.name)

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def sim_dir(self) -> Path:
        return self.dir / ".sim"

    def exists(self) -> bool:
        """The plugin only tests for the directory; names that are not valid service
        names (``..``, ``a/b``) are never taken as paths here."""
        return bool(NAME_RE.match(self.name)) and self.dir.is_dir()

    # -- plain files -----------------------------------------------------------
    def read(self, filename: str, default: str = "") -> str:
        try:
            return (self.dir / filename).read_text()
        except (FileNotFoundError, NotADirectoryError):
            return default

    def write(self, filename: str, text: str, mode: int = 0o644) -> None:
        path = self.dir / filename
        write_atomic(path, text)
        path.chmod(mode)

    def remove(self, filename: str) -> None:
        with suppress(FileNotFoundError):
            (self.dir / filename).unlink()

    @property
    def password(self) -> str:
        return self.read("PASSWORD").strip()

    @property
    def database(self) -> str:
        return self.read("DATABASE_NAME").strip() or self.stype.database_name(self.name)

    @property
    def dsn(self) -> str:
        return self.stype.dsn(self.name, self.password, self.database)

    @property
    def image(self) -> str:
        image = self.read("IMAGE").strip() or self.stype.image
        version = self.read("IMAGE_VERSION").strip() or self.stype.image_version
        return f"{image}:{version}"

    def links(self) -> list[str]:
        return [line for line in self.read("LINKS").splitlines() if line]

    def set_links(self, apps: list[str]) -> None:
        self.write("LINKS", "".join(f"{app}\n" for app in sorted(set(apps))))

    def exposed_ports(self) -> list[str] | None:
        text = self.read("PORT")
        return text.split() if text.strip() else None

    # -- the service container -------------------------------------------------
    # Containers are SIM-B's docker records (``containers.py``), so ``docker ps``,
    # ``docker logs`` and ``docker inspect`` of the docker simulator see them with
    # the labels the plugins set (``dokku=service``, ``dokku.service=<kind>``; the
    # expose ambassador: ``dokku=ambassador``, ``dokku.ambassador=<kind>``).
    def _id_file(self, role: str) -> Path:
        return self.sim_dir / f"{role}.id"

    def docker_container(self, role: str = "service") -> docker.Container | None:
        try:
            container_id = self._id_file(role).read_text().strip()
        except FileNotFoundError:
            return None
        return docker.find(self.state, container_id) if container_id else None

    def container(self, role: str = "service") -> dict | None:
        """id, name, image, status and ip of the service (or ambassador) container."""
        found = self.docker_container(role)
        if found is None:
            return None
        return {
            "id": found.id,
            "name": found.name,
            "image": found.image,
            "status": found.status,
            "ip": found.ip,
        }

    def drop_container(self, role: str = "service") -> None:
        found = self.docker_container(role)
        if found is not None:
            with self.state.lock():
                docker.remove(self.state, found)
        with suppress(FileNotFoundError):
            self._id_file(role).unlink()

    def status(self) -> str:
        """``service_status``: the container's State.Status, ``missing`` without one."""
        record = self.container()
        return record["status"] if record else "missing"

    def container_id(self) -> str:
        return self.read("ID").strip()

    def internal_ip(self) -> str:
        record = self.container()
        return record["ip"] if record and record["status"] == "running" else ""

    def new_container(self, role: str = "service", host_port: int | None = None) -> dict:
        """``docker container create`` + ``start``: fresh id, lowest free bridge IP.

        The ambassador publishes ``host_port`` (``expose``) onto the datastore port.
        """
        kind = self.stype.kind
        if role == "service":
            name, image = self.stype.container_name(self.name), self.image
            labels = {"dokku": "service", "dokku.service": kind}
            command = list(self.stype.command)
        else:
            name, image = f"{self.stype.container_name(self.name)}.ambassador", AMBASSADOR_IMAGE
            labels = {"dokku": "ambassador", "dokku.ambassador": kind}
            command = ["/entrypoint.sh"]
        with self.state.lock():
            created = docker.create(
                self.state,
                app="",
                process_type="",
                dyno="",
                container_type=role,
                image=image,
                name=name,
                command=command,
                port=self.stype.port,
            )
            created.labels = labels
            created.host_port = host_port
            docker.save(self.state, created)
        self.sim_dir.mkdir(parents=True, exist_ok=True)
        self._id_file(role).write_text(created.id + "\n")
        if role == "service":
            self.write("ID", created.id + "\n")
        return self.container(role) or {}

    def set_status(self, status: str, role: str = "service") -> None:
        found = self.docker_container(role)
        if found is not None and found.status != status:
            with self.state.lock():
                if status == "running":
                    found.ip = docker.free_ip(self.state)
                docker.set_status(self.state, found, status)

    # -- container log -----------------------------------------------------------
    def log(self, text: str) -> None:
        """Append container output (docker's json-file log of the service container)."""
        found = self.docker_container()
        if found is None:
            return
        for line in text.splitlines():
            docker.append_log(self.state, found.id, line)

    def read_log(self) -> tuple[list[str], int]:
        """The container's log lines and the byte offset after them (to follow from)."""
        found = self.docker_container()
        if found is None:
            return [], 0
        lines, offset = docker.read_log(self.state, found.id)
        return [f"{line.text}\n" for line in lines], offset

    # -- lifecycle -----------------------------------------------------------------
    def destroy_files(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def all_services(state: SimState, kind: str) -> list[Service]:
    base = state.service_dir(kind)
    if not base.is_dir():
        return []
    stype = TYPES[kind]
    return [Service(state, stype, p.name) for p in sorted(base.iterdir()) if p.is_dir()]


def pg_timestamp(moment: float) -> str:
    """``2026-11-22 11:18:42.666 UTC`` as in postgres' log_line_prefix."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d} UTC"


def redis_timestamp(moment: float) -> str:
    """``22 Nov 2026 11:27:12.469`` as in redis' log lines."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%d %b %Y %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"
