"""One backup run at a time on a host, and cleanup after a run that was killed.

The lock is an ``flock`` on ``<state_dir>/backups.run.lock``, taken without
waiting: a second ``pruvon backup auto`` (a timer catching up while an
operator runs one by hand) exits at once with :class:`BackupBusy`.  The
kernel drops the lock when its holder dies, even on ``kill -9``; whoever takes
it next finds the rows the dead run left ``running``, marks them failed and
removes their temp files, so a half file is never mistaken for a backup.
Re-entrant within a process (``auto`` holds it while each service's run
takes it again).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from pruvon_backups.catalogue import Catalogue
from pruvon_backups.errors import BackupBusy
from pruvon_core.files import open_private

LOCK_NAME = "backups.run.lock"
INTERRUPTED = "interrupted: the process running this backup ended before it finished"

_held: dict[tuple[str, int], int] = {}  # (lock path, thread) -> depth


@contextmanager
def run_lock(state_dir: Path, catalogue: Catalogue) -> Iterator[None]:
    """Hold the run lock for the body; BackupBusy when another process holds it."""
    path = str(Path(state_dir) / LOCK_NAME)
    key = (path, threading.get_ident())
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    fd = open_private(Path(path))
    try:
        # per open file: another thread of this process is refused like another process
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise BackupBusy(f"another backup run is in progress ({_holder(path)}); "
                         "wait for it to finish and try again") from exc
    _held[key] = 1
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        recover(catalogue)
        yield
    finally:
        del _held[key]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _holder(path: str) -> str:
    with suppress(OSError, ValueError):
        pid = int(Path(path).read_text().strip())
        return f"process {pid}"
    return "another process"


def recover(catalogue: Catalogue) -> list[int]:
    """Mark rows left ``running`` by a dead run failed and delete their temp files.

    Only safe while holding the run lock: then nobody else is writing.
    """
    fixed = []
    for record in catalogue.running():
        if record.temp:
            with suppress(OSError):
                os.unlink(record.temp)
        catalogue.update(record.id, status="failed", error=INTERRUPTED, temp=None)
        fixed.append(record.id)
    catalogue.fail_stale_runs(INTERRUPTED)
    return fixed
