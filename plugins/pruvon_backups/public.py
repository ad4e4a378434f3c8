"""What other plugins may use of ``pruvon_backups``: its documented public API.

* :func:`backup_settings` — the ``backup:`` section with Pruvon's defaults
  filled in, for whatever schedules or lists backups (the services plugin, a
  backup target plugin).

Everything here is a re-export; other plugins import from here, never from the
modules behind it.
"""

from __future__ import annotations

from pruvon_backups.settings import backup_settings

__all__ = ["backup_settings"]
