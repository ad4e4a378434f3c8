"""Safety backups before a destroy: the ``pruvon_before_destroy`` implementation.

A service about to be destroyed is backed up first with rotation ``safety``
(kept apart from the scheduled rotations, never pruned); an app gets an app
configuration snapshot.  If the backup cannot be written, the destroy is
refused with the reason: losing data silently is worse than a refused click.
A service kind whose plugin has no ``:export`` (the services plugin's
``kind_facts``; memcached …) holds nothing to save, so the destroy goes on
with a note.
"""

from __future__ import annotations

from typing import Any

from pruvon_services.public import kind_facts

from pruvon_backups import engine, snapshots
from pruvon_core.dokku.errors import ServiceNotFound, UnknownCommand


def before_destroy(pruvon: Any, target: dict[str, str]) -> dict[str, Any] | None:
    """``{"ok": True, "message": …}`` once saved, ``{"ok": False, …}`` to stop the destroy."""
    kind, name = target.get("kind"), target.get("name", "")
    if kind == "service" and not kind_facts(target.get("type", ""), pruvon).exportable:
        return {"ok": True, "message": f"{target.get('type')} services have no export: "
                                       f"nothing of {name} could be saved"}
    try:
        if kind == "service":
            record = engine.run_backup(pruvon, target.get("type", ""), name, "safety")
            what = f"{record.type} {name}"
        elif kind == "app":
            record = snapshots.capture(pruvon, name, "safety")
            what = f"the configuration of app {name}"
        else:
            return None
    except UnknownCommand:
        return {"ok": True, "message": f"{target.get('type')} services have no export: "
                                       f"nothing of {name} could be saved"}
    except ServiceNotFound:
        return None  # nothing to protect; the destroy reports the missing service itself
    except Exception as exc:  # any failure to save stops the destroy, with its reason
        return {"ok": False, "message": f"the safety backup of {name} failed, so it was not "
                                        f"destroyed: {exc}"}
    return {"ok": True, "message": f"safety backup {record.id} of {what}: "
                                   f"{record.path or record.target + ':' + record.key}"}
