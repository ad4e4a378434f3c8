"""What other plugins may use of ``pruvon_services``: its documented public API.

* :data:`DATASTORES` — Dokku's official datastore plugins, the service types listed.
* :func:`installed_types` — the enabled ones (``plugin:list``, remembered 5 minutes).
* :func:`linked_services` — ``(type, name, linked apps)`` of every service an app uses.

Everything here is a re-export of :mod:`pruvon_services.service`.
"""

from __future__ import annotations

from pruvon_services.service import DATASTORES, installed_types, linked_services

__all__ = ["DATASTORES", "installed_types", "linked_services"]
