"""The web plugin's own dashboard card: the host at a glance.

Dokku's version, apps by state (``apps_overview``: a constant number of calls
whatever the number of apps), and the host's disk and memory.  Services are
counted on the services plugin's own card.  Each part fails on its own: an unreachable Dokku
shows its message on the card while disk and memory still render.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

MEMINFO = Path("/proc/meminfo")


def disk_usage(path: str = "/") -> dict[str, int]:
    """Used, available and Use% of the filesystem at ``path``, as ``df`` reports them.

    Operators check the card against ``df``: "used" is blocks in use, "free" what
    an unprivileged user may still write (root's reserve excluded), and the
    percentage is used / (used + available) rounded up - df's Use%, not
    used / total, which reads several points low on a disk with a reserve.
    """
    stats = os.statvfs(path)
    used = (stats.f_blocks - stats.f_bfree) * stats.f_frsize
    free = stats.f_bavail * stats.f_frsize
    return {"total": stats.f_blocks * stats.f_frsize, "used": used, "free": free,
            "percent": df_percent(used, free)}


def df_percent(used: int, available: int) -> int:
    """df's Use%: ``used / (used + available)`` in whole percent, rounded up."""
    if used + available <= 0:
        return 0
    return -(-100 * used // (used + available))


def memory_usage(meminfo: Path = MEMINFO) -> dict[str, int] | None:
    """Total and available memory from ``/proc/meminfo`` (None where there is none)."""
    try:
        text = meminfo.read_text(encoding="ascii")
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0]) * 1024
    if "MemTotal" not in values:
        return None
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return {"total": values["MemTotal"], "used": values["MemTotal"] - available,
            "free": available}


def human_bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _attempt(summary: dict[str, Any], read: Any) -> Any:
    """Run one read; a Dokku error is noted on the card and the others still run."""
    from pruvon_core.dokku import errors

    try:
        return read()
    except errors.DokkuError as exc:
        summary["errors"].append(exc.message + (f" ({exc.hint})" if getattr(exc, "hint", None) else ""))
        return None


def dokku_summary(client: Any, visible_app: Any) -> dict[str, Any]:
    """Version and app states, each read failing on its own.

    The two reads are independent, so they run side by side: one after another,
    the first dashboard after a start (nothing cached yet) cost their sum.
    """
    summary: dict[str, Any] = {"version": None, "apps": None, "states": {}, "errors": []}
    with ThreadPoolExecutor(max_workers=2) as pool:
        version = pool.submit(_attempt, summary, client.version)
        overview_read = pool.submit(_attempt, summary, client.apps_overview)
        summary["version"] = version.result()
        overview = overview_read.result()
    if overview is not None:
        apps = [a for a in overview if visible_app(a.name)]
        summary["apps"] = len(apps)
        summary["states"] = dict(Counter(a.state for a in apps))
    summary["errors"].sort()  # filled from two threads: a stable order on the card
    return summary


def host_card(actor: Any, pruvon: Any) -> dict[str, Any]:
    """The ``Host`` dashboard card for ``actor`` (apps counted are those it may see).

    ``pruvon`` is the hook context: the running app's config and Dokku client.
    """
    from pruvon_core.permissions import Resource

    def visible(app: str) -> bool:
        return pruvon.allowed(actor, "apps.read", Resource("app", app))

    disk = disk_usage()
    memory = memory_usage()
    context = {
        "dokku": dokku_summary(pruvon.client(), visible),
        "disk": disk,
        "memory": memory,
        "human": human_bytes,
        "is_admin": getattr(actor, "role", None) == "admin",
    }
    return {"title": "Host", "template": "cards/host.html", "context": context, "order": 10,
            "action": "dashboard.read", "wide": True}
