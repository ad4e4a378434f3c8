"""Simulated ``urls`` and ``url`` (Dokku's ``00_dokku-standard`` + ``domains-urls`` trigger).

URLs come from the app's domains (when vhost support is on), else the global domains, else
the host name (``vm`` in the captures, knob ``hostname``), combined with the port mappings.
"""

from __future__ import annotations

from pruvon_testing.sim import routing
from pruvon_testing.sim.core import Ctx, command


@command("urls")
def urls(ctx: Ctx) -> int:
    """Every URL of the app, sorted and unique."""
    app = routing.verify_app_bash(ctx, ctx.args[0] if ctx.args else "")
    for url in routing.app_urls(ctx.state, app):
        ctx.out(url)
    return 0


@command("url")
def url(ctx: Ctx) -> int:
    """The first URL of the default scheme (``http`` without certificates)."""
    app = routing.verify_app_bash(ctx, ctx.args[0] if ctx.args else "")
    first = routing.app_url(ctx.state, app)
    if not first:
        return 1  # Dokku's `grep "$SCHEME://" | head -n1` fails under pipefail
    ctx.out(first)
    return 0
