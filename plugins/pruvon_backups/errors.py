"""The backups feature's typed errors, mapped by every front end like core's.

``BackupError`` is bad input or a refused request (an unknown id, a target
that cannot be written): the CLI exits 2, the web answers 400.
``BackupBusy`` is another run holding the lock (CLI exit 3, web 409), and
``VerifyFailed`` names why a stored file cannot be trusted.
"""

from __future__ import annotations

from pruvon_core.errors import InputError
from pruvon_core.operations import OperationConflict


class BackupError(InputError):
    """A backup request that cannot be served; the message says why."""


class BackupNotFound(BackupError):
    """No backup with that id in the catalogue."""


class BackupBusy(OperationConflict):
    """Another backup run holds the lock (one run at a time on a host)."""


class VerifyFailed(BackupError):
    """A stored backup failed verification; the message names the check that failed."""


class TargetWriteFailed(BackupError):
    """A target could not store a file (full, unreachable); nothing was recorded as good."""
