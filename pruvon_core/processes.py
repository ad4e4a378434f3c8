"""Who runs what: process identity that survives pid reuse, and a spawn tracker.

A pid alone does not name a process for long: after it exits the number is
reused.  ``(pid, start time since boot, boot id)`` does, so a record written
by one process can be checked by another, later ("is the runner of this
operation still alive? is the Dokku child it started still running?").

The spawn tracker lets the code that starts Dokku processes (the transports)
tell whoever is interested - an operation runner in the same thread - which
process group it just started and when it ended, without the Dokku layer
knowing about operations.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any


def stat_fields(pid: int) -> list[str]:
    """``/proc/PID/stat`` fields after the command name (state is index 0)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def process_start(pid: int) -> int | None:
    """The start time (clock ticks since boot) of ``pid``; None if it does not exist."""
    fields = stat_fields(pid)
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def boot_id() -> str:
    """This boot's id: a record from before a reboot names no living process."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                members.append(int(entry))
    return members


@dataclass(frozen=True)
class ProcessId:
    """A process (or the group it leads) as recorded in a file."""

    pid: int
    start: int | None
    boot: str

    @classmethod
    def of(cls, pid: int) -> ProcessId:
        return cls(pid=pid, start=process_start(pid), boot=boot_id())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessId:
        return cls(pid=int(data["pid"]), start=data.get("start"), boot=str(data.get("boot", "")))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def alive(self) -> bool:
        """This very process still runs (not a later one with the same pid)."""
        return self.boot == boot_id() and process_start(self.pid) == self.start is not None

    def group_alive(self) -> bool:
        """Some process of the group this one led still runs.

        The leader may be gone while its children live on (the group id stays
        reserved while any member exists); a leader with the same pid but
        another start time means the number was reused: not our group.
        """
        if self.boot != boot_id():
            return False
        start = process_start(self.pid)
        if start is not None and start != self.start:
            return False
        return bool(group_members(self.pid))


# --------------------------------------------------------------------------- spawn tracker
_local = threading.local()
_owners: dict[int, Callable[[int, bool], None]] = {}
_owners_lock = threading.Lock()


@contextmanager
def tracking(callback: Callable[[int, bool], None]) -> Iterator[None]:
    """Within the body, ``callback(pid, True)`` when this thread spawns a process group
    and ``callback(pid, False)`` when it has ended (from whatever thread ends it)."""
    previous = getattr(_local, "callback", None)
    _local.callback = callback
    try:
        yield
    finally:
        _local.callback = previous


def spawned(pid: int) -> None:
    """Called by the transports right after starting ``pid`` (a new session/group)."""
    callback = getattr(_local, "callback", None)
    if callback is not None:
        with _owners_lock:
            _owners[pid] = callback
        callback(pid, True)


def reaped(pid: int) -> None:
    """Called by the transports once ``pid`` and its group are gone."""
    with _owners_lock:
        callback = _owners.pop(pid, None)
    if callback is not None:
        callback(pid, False)
