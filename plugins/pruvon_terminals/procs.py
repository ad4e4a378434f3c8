"""Process-table helpers: end a terminal's whole process session, leave nothing behind.

A PTY's leader is started with ``setsid``, so every process of the terminal
shares its *session* id even when an interactive shell moves jobs into their
own process groups (``sleep 100 &`` under bash job control is not in the
leader's group).  Killing the leader's process group would miss those, so a
terminal is ended by signalling every process whose session id is the
leader's pid: SIGHUP (what a closed terminal means), SIGTERM, and SIGKILL for
whatever is still there after a grace period.  Processes that deliberately
escaped with their own ``setsid`` (daemons) are out of reach of any
terminal emulator; docs/terminals.md says so.
"""

from __future__ import annotations

import os
import signal
import time

from pruvon_core.processes import process_start
from pruvon_core.processes import stat_fields as _stat

__all__ = ["process_start"]

GRACE = 1.0


def session_members(sid: int) -> list[int]:
    """Live (non-zombie) processes whose session id is ``sid``."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat(int(entry))
        if len(fields) > 3 and fields[3] == str(sid) and fields[0] not in ("Z", "X"):
            members.append(int(entry))
    return members


def session_alive(sid: int) -> bool:
    return bool(session_members(sid))


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            continue


def kill_session(sid: int, grace: float = GRACE) -> bool:
    """SIGHUP + SIGTERM every process of session ``sid``, SIGKILL what remains.

    Returns True when nothing of the session is left alive.  Zombies are not
    "alive": their parent (the bridging server, for the leader) reaps them.
    """
    members = session_members(sid)
    if not members:
        return True
    _signal_all(members, signal.SIGHUP)
    _signal_all(members, signal.SIGCONT)  # a stopped job must run to die of SIGTERM
    _signal_all(members, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        members = session_members(sid)
        if not members:
            return True
        time.sleep(0.02)
    _signal_all(session_members(sid), signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not session_members(sid):
            return True
        time.sleep(0.02)
    return False
