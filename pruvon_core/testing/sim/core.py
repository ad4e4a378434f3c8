"""Simulator core: state directory, command registry and Dokku's log helpers.

Every command module imports from here; ``main.py`` dispatches argv to the
registered command.  Output helpers reproduce Dokku's ``dokku_log_*`` shell
functions byte for byte, because the reference captures are the spec.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

DOKKU_VERSION = "0.38.27"


class SimExit(Exception):
    """Raised by helpers to stop a command with an exit code (like ``exit N``)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class SimState:
    """The simulated host's state directory.

    Layout (mirrors a Dokku host where that helps reading it):
      home/dokku/<app>/          app dir (ENV file, DOKKU_* files)
      config/<plugin>/<app>/<key> property files (Dokku's common properties)
      services/<type>/<name>/    service plugin data
      containers/<id>.json       simulated docker containers
      plugins/enabled/<name>/    installed Dokku plugins (real dispatch)
      sim.json                   knobs: latency, faults, emulated version
    """

    root: Path

    @classmethod
    def from_env(cls) -> SimState:
        root = os.environ.get("PRUVON_SIM_ROOT")
        if not root:
            sys.stderr.write(" !     PRUVON_SIM_ROOT is not set\n")
            raise SimExit(1)
        state = cls(Path(root))
        state.root.mkdir(parents=True, exist_ok=True)
        return state

    # -- paths ---------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.root / "home" / "dokku"

    def app_dir(self, app: str) -> Path:
        return self.home / app

    def prop_dir(self, plugin: str, app: str) -> Path:
        return self.root / "config" / plugin / app

    @property
    def containers_dir(self) -> Path:
        return self.root / "containers"

    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins" / "enabled"

    def service_dir(self, kind: str, name: str | None = None) -> Path:
        base = self.root / "services" / kind
        return base / name if name else base

    # -- apps ----------------------------------------------------------------
    def app_exists(self, app: str) -> bool:
        return bool(app) and "/" not in app and self.app_dir(app).is_dir()

    def apps(self) -> list[str]:
        if not self.home.is_dir():
            return []
        return sorted(p.name for p in self.home.iterdir() if p.is_dir() and not p.name.startswith("."))

    # -- properties (Dokku's fn-plugin-property-*) --------------------------
    def prop_get(self, plugin: str, app: str, key: str, default: str = "") -> str:
        path = self.prop_dir(plugin, app) / key
        try:
            return path.read_text()
        except FileNotFoundError:
            return default

    def prop_set(self, plugin: str, app: str, key: str, value: str) -> None:
        directory = self.prop_dir(plugin, app)
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / key, value)

    def prop_delete(self, plugin: str, app: str, key: str) -> None:
        with suppress(FileNotFoundError):
            (self.prop_dir(plugin, app) / key).unlink()

    def props_destroy(self, app: str) -> None:
        import shutil

        base = self.root / "config"
        if base.is_dir():
            for plugin in base.iterdir():
                shutil.rmtree(plugin / app, ignore_errors=True)

    # -- knobs ---------------------------------------------------------------
    def knobs(self) -> dict:
        try:
            return json.loads((self.root / "sim.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def set_knobs(self, **values: object) -> None:
        knobs = self.knobs()
        knobs.update(values)
        write_atomic(self.root / "sim.json", json.dumps(knobs, indent=2))

    @property
    def version(self) -> str:
        return str(self.knobs().get("version") or DOKKU_VERSION)

    # -- locking -------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Global exclusive lock: mutating commands hold it so processes never interleave."""
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def write_atomic(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = text.encode() if isinstance(text, str) else text
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass
class Ctx:
    """One invocation: argv after the command name, streams, and the state."""

    state: SimState
    args: list[str]
    command: str
    stdout: BinaryIO = field(default_factory=lambda: sys.stdout.buffer)
    stderr: BinaryIO = field(default_factory=lambda: sys.stderr.buffer)
    stdin: BinaryIO = field(default_factory=lambda: sys.stdin.buffer)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    # raw writers ------------------------------------------------------------
    def out(self, text: str = "", end: str = "\n") -> None:
        self.stdout.write((text + end).encode())
        self.stdout.flush()

    def err(self, text: str = "", end: str = "\n") -> None:
        self.stderr.write((text + end).encode())
        self.stderr.flush()

    # Dokku's dokku_log_* helpers (plugins/common/functions) ------------------
    def info1(self, text: str) -> None:
        """``dokku_log_info1``: ``-----> text`` on stdout."""
        self.out(f"-----> {text}")

    def info2(self, text: str) -> None:
        """``dokku_log_info2``: ``=====> text`` on stdout."""
        self.out(f"=====> {text}")

    def verbose(self, text: str) -> None:
        """``dokku_log_verbose``: seven spaces of indent on stdout."""
        self.out(f"       {text}")

    def warn(self, text: str) -> None:
        """``dokku_log_warn``: `` !     text`` on stderr."""
        self.err(f" !     {text}")

    def fail(self, text: str, code: int = 1) -> None:
        """``dokku_log_fail``: `` !     text`` on stderr, then exit ``code``."""
        self.err(f" !     {text}")
        raise SimExit(code)

    def require_app(self, app: str | None) -> str:
        """Exit like Dokku does for a missing or nonexistent app argument."""
        if not app:
            self.fail("Please specify an app to run the command on")
        if not self.state.app_exists(app):
            self.fail(f"App {app} does not exist", 20)
        return app


CommandFn = Callable[[Ctx], int | None]
COMMANDS: dict[str, CommandFn] = {}


def command(*names: str) -> Callable[[CommandFn], CommandFn]:
    """Register a simulated Dokku command under one or more names (aliases)."""

    def register(fn: CommandFn) -> CommandFn:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return register


def call(ctx: Ctx, name: str, args: list[str]) -> int:
    """Run another simulated command with the same streams, as Dokku's plugins do
    when they shell out to ``dokku …`` (e.g. a service link calling ``config:set``)."""
    handler = COMMANDS[name]
    sub = Ctx(
        state=ctx.state,
        args=list(args),
        command=name,
        stdout=ctx.stdout,
        stderr=ctx.stderr,
        stdin=ctx.stdin,
        env=ctx.env,
    )
    try:
        return int(handler(sub) or 0)
    except SimExit as exc:
        return exc.code
