"""The dashboard card: last good backup age per service, the stale (red) ones counted."""

from __future__ import annotations

from typing import Any

from pruvon_backups import overview

MAX_ROWS = 8


def backups_card(actor: Any, pruvon: Any) -> list[dict[str, Any]]:
    """The ``Backups`` card for ``actor`` (only services they may see), or none."""
    view = overview.overview(pruvon, actor)
    if not view.rows and not view.errors:
        return []
    rows = sorted(view.rows, key=lambda r: (not r.stale, r.type, r.service))[:MAX_ROWS]
    return [{"title": "Backups", "order": 25, "action": "backups.read",
             "template": "backups/_card.html",
             "context": {"rows": rows, "stale": len(view.stale), "total": len(view.rows),
                         "errors": view.errors, "age": overview.human_age}}]
