"""What other plugins may use of ``pruvon_apps``: its documented public API.

* :func:`snapshot_data` — an app's configuration (env, domains, ports, storage
  mounts, scale, deploy source) as a JSON-ready dict; the backups plugin stores
  it as an app configuration snapshot.

Everything here is a re-export; other plugins import from here, never from the
modules behind it.
"""

from __future__ import annotations

from pruvon_apps.service import snapshot_data

__all__ = ["snapshot_data"]
