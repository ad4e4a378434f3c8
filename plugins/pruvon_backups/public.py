"""What other plugins may use of ``pruvon_backups``: its documented public API.

Settings and configuration:

* :func:`backup_settings` — the ``backup:`` section with Pruvon's defaults.
* :func:`configured_targets`, :func:`retention` — the targets of ``backup.targets``
  (or the local ``backup_dir``) and their ``keep_*``.

Targets (``targets.py``): :class:`Target`, :class:`Writer` (protocols),
:class:`LocalTarget`, :data:`KEEP_KEYS`; a target *kind* is a
``pruvon_core.registry.BackupTarget`` declared through ``pruvon_backup_targets``
whose ``configure(options)`` returns a ``Target`` and ``problems(options)``
lists what is wrong with a ``backup.targets`` entry.

Catalogue: :class:`Catalogue`, :class:`BackupRecord` (``as_dict()`` = the keys
of ``pruvon backup list --format json``).

Engine: :func:`run_backup`, :func:`verify` (→ :class:`VerifyResult`),
:func:`restore` (→ :class:`RestoreResult`), :func:`open_download`,
:func:`download_name`, :func:`delete`, :func:`prune`, :func:`run_due`,
:func:`due_services`, :func:`rescan`, :func:`catalogue`, :func:`targets`.

Errors: :class:`BackupError` (an ``InputError``: 400 / exit 2),
:class:`BackupNotFound`, :class:`BackupBusy` (an ``OperationConflict``: 409 /
exit 3), :class:`VerifyFailed`, :class:`TargetWriteFailed`.

Everything here is a re-export; other plugins import from here, never from the
modules behind it.
"""

from __future__ import annotations

from pruvon_backups.catalogue import BackupRecord, Catalogue
from pruvon_backups.config import configured_targets, retention
from pruvon_backups.engine import (
    RestoreResult,
    VerifyResult,
    catalogue,
    delete,
    download_name,
    open_download,
    prune,
    restore,
    run_backup,
    targets,
    verify,
)
from pruvon_backups.errors import (
    BackupBusy,
    BackupError,
    BackupNotFound,
    TargetWriteFailed,
    VerifyFailed,
)
from pruvon_backups.layout import ROTATIONS, SCHEDULED, rotation_of_day
from pruvon_backups.scan import rescan
from pruvon_backups.schedule import due_services, run_due
from pruvon_backups.settings import backup_settings
from pruvon_backups.targets import KEEP_KEYS, LocalTarget, Target, Writer

__all__ = [
    "KEEP_KEYS",
    "ROTATIONS",
    "SCHEDULED",
    "BackupBusy",
    "BackupError",
    "BackupNotFound",
    "BackupRecord",
    "Catalogue",
    "LocalTarget",
    "RestoreResult",
    "Target",
    "TargetWriteFailed",
    "VerifyFailed",
    "VerifyResult",
    "Writer",
    "backup_settings",
    "catalogue",
    "configured_targets",
    "delete",
    "download_name",
    "due_services",
    "open_download",
    "prune",
    "rescan",
    "restore",
    "retention",
    "rotation_of_day",
    "run_backup",
    "run_due",
    "targets",
    "verify",
]
