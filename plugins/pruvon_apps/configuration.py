"""The ``apps:`` section of ``/etc/pruvon.yml``, validated by the apps plugin.

The only key read today is ``apps.storage_dir``: the directory that confines a
scoped user's storage mounts (``<storage_dir>/<app>``).  Because it is a
security boundary it must be an absolute, normalised path of safe characters
other than ``/`` — ``/`` or ``/var/../`` would put the whole host "inside"
storage.  A misspelt key is refused too: ``storage-dir`` silently ignored would
leave mounts confined to a directory the operator did not mean.
"""

from __future__ import annotations

from typing import Any

from pruvon_core.dokku import validate as dokku_validate
from pruvon_core.dokku.errors import InvalidValue

KNOWN_KEYS = ("storage_dir",)


def validate(raw: Any) -> list[str]:
    """Every problem in the ``apps:`` section, each naming its key path."""
    if not isinstance(raw, dict):
        return ["apps: must be a mapping"]
    errors = [
        f"apps.{key}: unknown key (known: {', '.join(KNOWN_KEYS)})"
        for key in raw
        if key not in KNOWN_KEYS
    ]
    storage_dir = raw.get("storage_dir")
    if storage_dir is not None:
        try:
            dokku_validate.container_path(storage_dir, "storage directory")
        except InvalidValue as exc:
            errors.append(f"apps.storage_dir: {exc.message}")
    return errors
