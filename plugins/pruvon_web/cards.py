"""The web plugin's own dashboard card: the host at a glance.

Dokku's version, apps by state (``apps_overview``: a constant number of calls
whatever the number of apps), and the host's CPU, load, memory and disk with
their short history (from :mod:`pruvon_web.metrics`' ring, drawn by
:mod:`pruvon_web.charts`).  Services are
counted on the services plugin's own card.  Each part fails on its own: an unreachable Dokku
shows its message on the card while disk and memory still render.
"""

from __future__ import annotations

import socket
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pruvon_core import hosts
from pruvon_core.output import human_bytes
from pruvon_web.metrics import df_percent, disk_usage, memory_usage, ring

__all__ = ["df_percent", "disk_usage", "dokku_summary", "host_card", "human_bytes", "memory_usage"]


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


def metric_charts(history: list[Any]) -> dict[str, Any]:
    """CPU %, load (scaled to the CPU count), memory % and disk % over the ring's history."""
    from pruvon_web.charts import sparkline

    cpus = max((s.cpus for s in history), default=1)
    load_top = max([float(cpus), *(s.load[0] for s in history)])
    return {
        "cpu": sparkline([s.cpu_percent for s in history], 100, "CPU %", "cpu-chart"),
        "load": sparkline([s.load[0] for s in history], load_top, "load (1 min)", "load-chart"),
        "memory": sparkline([s.mem_percent for s in history], 100, "memory %", "memory-chart"),
        "disk": sparkline([float(s.disk_percent) for s in history], 100, "disk %",
                          "disk-chart"),
    }


def metrics_elsewhere(client: Any, config: Any) -> dict[str, str] | None:
    """Whose figures the charts are, when Dokku is reached over ssh; ``None`` when local.

    The sampler reads this machine's ``/proc``: over ssh that is the machine
    running Pruvon, not the Dokku host the page is about, and the card says so.
    """
    if not client.over_ssh:
        return None
    return {"machine": socket.gethostname(),
            "host": hosts.current() or hosts.default_name(config)}


def host_card(actor: Any, pruvon: Any) -> dict[str, Any]:
    """The ``Host`` dashboard card for ``actor`` (apps counted are those it may see).

    ``pruvon`` is the hook context: the running app's config and Dokku client.
    """
    from pruvon_core.permissions import Resource

    def visible(app: str) -> bool:
        return pruvon.allowed(actor, "apps.read", Resource("app", app))

    samples = ring()
    latest = samples.latest()  # the sampler's newest reading: no /proc read per view
    client = pruvon.client()
    context = {
        "dokku": dokku_summary(client, visible),
        "metrics_elsewhere": metrics_elsewhere(client, pruvon.config),
        "disk": {"total": latest.disk_total, "used": latest.disk_used,
                 "free": latest.disk_free, "percent": latest.disk_percent},
        "memory": ({"total": latest.mem_total, "used": latest.mem_used,
                    "free": latest.mem_total - (latest.mem_used or 0)}
                   if latest.mem_total else None),
        "sample": latest,
        "charts": metric_charts(samples.history()),
        "interval": samples.interval,
        "window": samples.interval * samples.size / 60,
        "human": human_bytes,
        "is_admin": getattr(actor, "role", None) == "admin",
    }
    return {"title": "Host", "template": "cards/host.html", "context": context, "order": 10,
            "action": "dashboard.read", "wide": True}
