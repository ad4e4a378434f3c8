"""The registry of open terminals, shared by every process through the state dir.

``<state_dir>/terminals/<id>.json`` (0600, directory 0700) describes one open
terminal: who, which target, since when, the server process that bridges it and
the PTY's session leader.  It exists so that

* the per-user and global caps hold across gunicorn workers (checked and
  written under one ``flock``),
* ``pruvon terminals list|kill`` (another process, usually root) can see and
  end sessions: ``kill`` drops a ``<id>.kill`` note that the bridging server
  notices within a second and closes the terminal with the reason, and if that
  server is gone the CLI kills the process session itself,
* a server that died without cleaning up (SIGKILL) leaves no orphan for long:
  the next registry access finds the entry stale, kills the leftover process
  session and removes the entry.

Nothing typed or printed in a terminal is ever written here.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from pruvon_core.files import atomic_write, open_private, private_dir
from pruvon_terminals.procs import kill_session, process_start, session_alive

REGISTRY_DIR = "terminals"
KILL_SUFFIX = ".kill"


class LimitReached(Exception):
    """A per-user or global terminal cap is reached; the message says which."""


@dataclass(frozen=True)
class Entry:
    """One open terminal."""

    id: str
    username: str
    actor: str
    target: str
    label: str
    source_ip: str | None
    started: float
    server_pid: int
    server_start: int | None
    leader_pid: int = 0

    @property
    def duration(self) -> float:
        return max(0.0, time.time() - self.started)

    def server_alive(self) -> bool:
        """Whether the process that bridges this terminal still runs (pid reuse checked)."""
        start = process_start(self.server_pid)
        return start is not None and (self.server_start is None or start == self.server_start)


def new_id() -> str:
    return secrets.token_hex(6)


class Registry:
    """Open terminals of this host, one JSON file each, under a directory lock."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(state_dir) / REGISTRY_DIR

    def _ensure(self) -> None:
        private_dir(self.dir)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure()
        fd = open_private(self.dir / ".lock")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _path(self, entry_id: str) -> Path:
        if not entry_id.isalnum():
            raise ValueError(f"invalid terminal id {entry_id!r}")
        return self.dir / f"{entry_id}.json"

    def _read_all(self) -> list[Entry]:
        entries = []
        for path in sorted(self.dir.glob("*.json")):
            try:
                entries.append(Entry(**json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                path.unlink(missing_ok=True)  # a torn or foreign file is not a session
        return entries

    def _prune(self, entries: list[Entry]) -> list[Entry]:
        """Drop entries whose server died; kill what such a server left running."""
        alive = []
        for entry in entries:
            if entry.server_alive():
                alive.append(entry)
                continue
            if entry.leader_pid and session_alive(entry.leader_pid):
                kill_session(entry.leader_pid)
            self._discard(entry.id)
        return alive

    def _discard(self, entry_id: str) -> None:
        self._path(entry_id).unlink(missing_ok=True)
        (self.dir / f"{entry_id}{KILL_SUFFIX}").unlink(missing_ok=True)

    def _write(self, entry: Entry) -> None:
        atomic_write(self._path(entry.id), json.dumps(asdict(entry)), durable=False)

    def entries(self) -> list[Entry]:
        """Open terminals, stale ones removed."""
        self._ensure()
        with self._locked():
            return self._prune(self._read_all())

    def add(self, entry: Entry, max_per_user: int, max_sessions: int) -> None:
        """Register ``entry`` unless a cap is reached (raises :class:`LimitReached`)."""
        with self._locked():
            entries = self._prune(self._read_all())
            if len(entries) >= max_sessions:
                raise LimitReached(
                    f"the server already has {len(entries)} open terminals "
                    f"(terminals.max_sessions: {max_sessions}); close one first"
                )
            mine = sum(1 for e in entries if e.username == entry.username)
            if mine >= max_per_user:
                raise LimitReached(
                    f"you already have {mine} open terminals "
                    f"(terminals.max_per_user: {max_per_user}); close one first"
                )
            self._write(entry)

    def update(self, entry: Entry) -> None:
        with self._locked():
            if self._path(entry.id).exists():
                self._write(entry)

    def remove(self, entry_id: str) -> None:
        with self._locked():
            self._discard(entry_id)

    def request_kill(self, entry_id: str, reason: str) -> None:
        """Ask the bridging server to close the terminal, telling the user ``reason``."""
        self._ensure()
        atomic_write(self.dir / f"{entry_id}{KILL_SUFFIX}", reason[:200], durable=False)

    def kill_requested(self, entry_id: str) -> str | None:
        """The reason of a pending kill request, or None (one ``open`` per poll)."""
        try:
            return (self.dir / f"{entry_id}{KILL_SUFFIX}").read_text(encoding="utf-8") or "killed"
        except OSError:
            return None

    def get(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries() if e.id == entry_id), None)
