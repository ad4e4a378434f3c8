"""Simulated docker containers of the simulated Dokku host.

Each container is one JSON file ``<root>/containers/<id>.json`` carrying what
docker and Dokku know about it: Dokku's labels (``com.dokku.app-name``,
``com.dokku.process-type``, ``com.dokku.dyno``, ``com.dokku.container-type``),
a 64-hex id, Dokku's names (``app.web.1``), status, timestamps and an IP.
Its log lines live next to it in ``<id>.log`` in docker's ``json-file`` format.

Three kinds of records exist, mirroring what real Dokku leaves on a host:

* **current** deploy containers - the ones ``ps:report`` lists (Dokku's
  ``CONTAINER.<proc>.<n>`` files); running or exited after ``ps:stop``;
* **retired** deploy containers - replaced by a later deploy or orphaned by a
  scale-down.  Dokku stops and removes them after 60 s but keeps them in its
  retire list; the simulator hides them from ``docker ps`` and keeps the record
  so ``apps:destroy`` can print "Attempting to retire ..." like Dokku does;
* **run** containers (``dokku run``) - backed by a real process: their status
  follows that process, and like ``docker run --rm`` they vanish when it ends.

Every mutation happens under ``routing.locked(state)`` (the re-entrant ``state.lock()``) so several simulator processes
(the web UI, a terminal, a test) can share one state directory.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pruvon_testing.sim.core import Ctx, SimState, write_atomic
from pruvon_testing.sim.routing import locked

LABEL_APP = "com.dokku.app-name"
LABEL_PROCESS = "com.dokku.process-type"
LABEL_DYNO = "com.dokku.dyno"
LABEL_TYPE = "com.dokku.container-type"
# Labels every Dokku-built image carries (seen in the captured ``ps:inspect``).
IMAGE_LABELS = {
    "com.dokku.builder-type": "dockerfile",
    "com.dokku.image-stage": "release",
    "dokku": "",
    "org.label-schema.schema-version": "1.0",
    "org.label-schema.vendor": "dokku",
}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def now(state: SimState | None = None) -> datetime:
    """The simulated host's clock (``SimState.now``: real time plus the ``time_offset`` knob)."""
    if state is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(state.now(), UTC)


def docker_time(moment: datetime) -> str:
    """RFC 3339 with nanoseconds, as docker prints ``Created``/``StartedAt``."""
    nanos = moment.microsecond * 1000 + secrets.randbelow(1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def parse_time(text: str) -> datetime:
    """Parse a docker timestamp (nanoseconds are truncated to microseconds)."""
    if not text or text.startswith("0001-"):
        return datetime(1, 1, 1, tzinfo=UTC)
    base, _, frac = text.rstrip("Z").partition(".")
    micro = int((frac + "000000")[:6]) if frac else 0
    parsed = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return parsed + timedelta(microseconds=micro)


def new_id() -> str:
    """A docker-like container id: 64 lowercase hex digits."""
    return secrets.token_hex(32)


@dataclass
class Container:
    """One simulated docker container (the JSON record, typed)."""

    id: str
    name: str
    app: str
    process_type: str
    dyno: str
    container_type: str  # "deploy" | "run"
    image: str
    status: str = "running"  # "running" | "exited"
    created_at: str = ""
    started_at: str = ""
    finished_at: str = "0001-01-01T00:00:00Z"
    exit_code: int = 0
    ip: str = ""
    port: int | None = None  # container port (web), e.g. 5000
    host_port: int | None = None  # published ephemeral host port
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    image_id: str = ""
    restart_policy: str = "no"  # docker's --restart, fixed when the container is created
    retired: bool = False
    retired_seq: int = 0
    pid: int | None = None
    pid_start: str | None = None
    seq: int = 0  # creation order, for stable listings
    volumes: list[str] = field(default_factory=list)  # docker volumes mounted (dockerobjects)
    networks: list[str] = field(default_factory=lambda: ["bridge"])

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def dyno_number(self) -> int:
        _, _, number = self.dyno.partition(".")
        return int(number) if number.isdigit() else 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> Container:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


# -- storage -------------------------------------------------------------------


def _path(state: SimState, container_id: str) -> Path:
    return state.containers_dir / f"{container_id}.json"


def log_path(state: SimState, container_id: str) -> Path:
    return state.containers_dir / f"{container_id}.log"


def save(state: SimState, container: Container) -> None:
    """Write a record (callers hold ``state.lock()`` when they read-modify-write)."""
    write_atomic(_path(state, container.id), container.to_json())


def remove(state: SimState, container: Container) -> None:
    for path in (_path(state, container.id), log_path(state, container.id)):
        with suppress(FileNotFoundError):
            path.unlink()


def _pid_alive(pid: int | None, start: str | None) -> bool:
    """True when ``pid`` still runs and is the same process (start time matches)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()
    if fields and fields[0] == "Z":  # zombie: finished, only not reaped yet
        return False
    return start is None or (len(fields) > 19 and fields[19] == start)


def pid_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (guards against pid reuse)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _load_file(path: Path) -> Container | None:
    try:
        return Container.from_dict(json.loads(path.read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def all_containers(state: SimState, *, include_retired: bool = False) -> list[Container]:
    """Every container record, oldest first; finished ``run`` containers are gone (``--rm``)."""
    directory = state.containers_dir
    if not directory.is_dir():
        return []
    found: list[Container] = []
    for path in directory.glob("*.json"):
        container = _load_file(path)
        if container is None:
            continue
        if container.container_type == "run" and not _pid_alive(
            container.pid, container.pid_start
        ):
            continue
        if container.retired and not include_retired:
            continue
        found.append(container)
    return sorted(found, key=lambda c: (c.seq, c.created_at, c.id))


def app_containers(state: SimState, app: str, *, include_retired: bool = False) -> list[Container]:
    """The app's containers: current deploy containers first (by process type and
    dyno number), then live ``run`` containers."""
    mine = [c for c in all_containers(state, include_retired=include_retired) if c.app == app]
    return sorted(mine, key=_app_order)


def _app_order(container: Container) -> tuple:
    return (
        container.container_type != "deploy",
        container.retired,
        container.process_type,
        container.dyno_number,
        container.seq,
    )


def current_containers(state: SimState, app: str) -> list[Container]:
    """Containers of the app's current deploy (what Dokku's ``ps:report`` shows)."""
    return [c for c in app_containers(state, app) if c.container_type == "deploy"]


def find(state: SimState, ref: str, *, include_retired: bool = False) -> Container | None:
    """Look a container up like docker does: full id, unique id prefix, or name."""
    if not ref:
        return None
    candidates = all_containers(state, include_retired=include_retired)
    for container in candidates:
        if container.name == ref or container.name == ref.lstrip("/") or container.id == ref:
            return container
    matches = [c for c in candidates if c.id.startswith(ref.lower())]
    return matches[0] if len(matches) == 1 else None


def _deployed_marker(state: SimState, app: str) -> Path:
    # Kept in the app dir, not in plugin properties: apps:clone copies every
    # property, and a clone is not deployed until its own rebuild finishes.
    return state.app_dir(app) / ".sim-deployed"


def is_deployed(state: SimState, app: str) -> bool:
    """Dokku's "deployed": the app has been released at least once."""
    return state.app_exists(app) and _deployed_marker(state, app).exists()


def mark_deployed(state: SimState, app: str) -> None:
    if state.app_exists(app):
        write_atomic(_deployed_marker(state, app), "true\n")


def next_seq(state: SimState) -> int:
    """Monotonic creation counter shared by all processes (call under the lock)."""
    counter = state.containers_dir / ".seq"
    try:
        value = int(counter.read_text()) + 1
    except (FileNotFoundError, ValueError):
        value = 1
    write_atomic(counter, str(value))
    return value


def free_ip(state: SimState) -> str:
    """The lowest free address on docker's default bridge (172.17.0.2 upwards)."""
    used = {c.ip for c in all_containers(state) if c.running}
    for host in range(2, 255):
        candidate = f"172.17.0.{host}"
        if candidate not in used:
            return candidate
    return "172.17.1.2"


def free_host_port(state: SimState) -> int:
    """An unused ephemeral port as dockerd would publish (32768 upwards)."""
    used = {c.host_port for c in all_containers(state) if c.host_port}
    port = 32768
    while port in used:
        port += 1
    return port


def create(
    state: SimState,
    *,
    app: str,
    process_type: str,
    dyno: str,
    container_type: str,
    image: str,
    name: str,
    command: Iterable[str] = (),
    env: dict[str, str] | None = None,
    port: int | None = None,
    image_id: str = "",
    image_labels: dict[str, str] | None = None,
    pid: int | None = None,
    restart_policy: str = "no",
) -> Container:
    """Create and start a container record (call under ``state.lock()``)."""
    moment = now(state)
    labels = dict(image_labels or {})
    labels.update(
        {
            LABEL_APP: app,
            LABEL_PROCESS: process_type,
            LABEL_DYNO: dyno,
            LABEL_TYPE: container_type,
        }
    )
    container = Container(
        id=new_id(),
        name=name,
        app=app,
        process_type=process_type,
        dyno=dyno,
        container_type=container_type,
        image=image,
        status="running",
        created_at=docker_time(moment),
        started_at=docker_time(moment + timedelta(milliseconds=500)),
        ip=free_ip(state),
        port=port,
        host_port=free_host_port(state) if port else None,
        command=list(command),
        env=dict(env or {}),
        labels=labels,
        image_id=image_id,
        restart_policy=restart_policy,
        pid=pid,
        pid_start=pid_start_time(pid) if pid else None,
        seq=next_seq(state),
    )
    save(state, container)
    return container


def set_status(state: SimState, container: Container, status: str, exit_code: int = 0) -> None:
    """Start or stop a container (call under ``state.lock()``)."""
    moment = docker_time(now(state))
    if status == "running" and not container.running:
        container.started_at = moment
        container.finished_at = "0001-01-01T00:00:00Z"
        container.exit_code = 0
    elif status == "exited" and container.running:
        container.finished_at = moment
        container.exit_code = exit_code
    container.status = status
    save(state, container)


def retire(state: SimState, container: Container) -> None:
    """Put a deploy container on the retire list: stopped, hidden from ``docker ps``."""
    container.retired = True
    container.retired_seq = next_seq(state)
    if container.running:
        container.status = "exited"
        container.finished_at = docker_time(now(state))
        container.exit_code = 137
    save(state, container)


def retire_app_containers(ctx: Ctx, app: str) -> None:
    """What ``apps:destroy`` does with the app's containers.

    Prints Dokku's ``       Attempting to retire APP container <full id>`` line for
    every container on the retire list that carries the app's label (oldest
    retirement first), then removes all of the app's containers, current ones
    silently - as real Dokku does.  The ``-----> Retiring old containers and
    images`` header is the caller's.  A container inherited through
    ``apps:rename`` keeps its old label, so it is removed without a line
    (``apps-destroy-force`` after ``apps-rename``).
    """
    state = ctx.state
    with locked(state):
        records = app_containers(state, app, include_retired=True)
        listed = [c for c in records if c.retired and c.labels.get(LABEL_APP) == app]
        for container in sorted(listed, key=lambda c: c.retired_seq):
            ctx.verbose(f"Attempting to retire {app} container {container.id}")
        for container in records:
            remove(state, container)
        for path in _run_records(state, app):
            path.unlink(missing_ok=True)


def _run_records(state: SimState, app: str) -> Iterator[Path]:
    """Records of finished ``run`` containers of ``app`` (hidden, still on disk)."""
    directory = state.containers_dir
    if not directory.is_dir():
        return
    for path in directory.glob("*.json"):
        container = _load_file(path)
        if container is not None and container.app == app and container.container_type == "run":
            yield path


def rename_app(ctx: Ctx, old: str, new: str) -> None:
    """``apps:rename``: the old app's deploy containers now belong to ``new``.

    Dokku moves the app (and its container list) but docker labels cannot
    change: the containers keep their old names and ``com.dokku.app-name``.  The
    new app's redeploy then schedules them for shutdown - which is why the
    captured rename prints "Scheduling old container shutdown" but no "Found
    previous container(s)".
    """
    state = ctx.state
    with locked(state):
        for container in app_containers(state, old, include_retired=True):
            container.app = new
            save(state, container)


def collect_garbage(state: SimState) -> None:
    """Delete records of finished ``run`` containers (``docker run --rm``)."""
    directory = state.containers_dir
    if not directory.is_dir():
        return
    for path in directory.glob("*.json"):
        container = _load_file(path)
        if (
            container is not None
            and container.container_type == "run"
            and not _pid_alive(container.pid, container.pid_start)
        ):
            path.unlink(missing_ok=True)
            log_path(state, container.id).unlink(missing_ok=True)


# -- logs ------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    time: str
    stream: str
    text: str


def append_log(
    state: SimState,
    container_id: str,
    text: str,
    *,
    stream: str = "stdout",
    time: str | None = None,
) -> None:
    """Append one line to a container's log, as the app inside it would write it.

    Tests and the demo use this to replay traffic (e.g. HTTP requests the app
    logged); ``time`` is docker's RFC 3339 nanosecond timestamp.
    """
    record = {"log": text + "\n", "stream": stream, "time": time or docker_time(now(state))}
    path = log_path(state, container_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def read_log(state: SimState, container_id: str, offset: int = 0) -> tuple[list[LogLine], int]:
    """Lines of a container's log from byte ``offset``; returns them and the new offset."""
    path = log_path(state, container_id)
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    complete, _, _ = data.rpartition(b"\n")
    if not complete and not data.endswith(b"\n"):
        return [], offset
    lines: list[LogLine] = []
    chunk = complete + b"\n" if complete else b""
    for raw in chunk.splitlines():
        with suppress(ValueError):
            item = json.loads(raw)
            lines.append(LogLine(item["time"], item.get("stream", "stdout"), item["log"].rstrip("\n")))
    return lines, offset + len(chunk)


def env_for_container(
    app_env: dict[str, str], dyno: str, port: int | None
) -> dict[str, str]:
    """The environment Dokku's scheduler gives a container: app ENV, DYNO, PORT, PATH."""
    env = dict(app_env)
    env["DYNO"] = dyno
    if port:
        env["PORT"] = str(port)
    env.setdefault("PATH", DEFAULT_PATH)
    return env


__all__ = [
    "Container",
    "LogLine",
    "all_containers",
    "app_containers",
    "append_log",
    "create",
    "current_containers",
    "find",
    "is_deployed",
    "read_log",
    "retire",
    "retire_app_containers",
    "set_status",
]
