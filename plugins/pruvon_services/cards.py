"""The services plugin's dashboard card: services per installed datastore plugin.

Counts only the services the viewer may read (``services.read``), as the host
card counts only visible apps: a scoped user learns nothing about services
outside their grant.  One ``<type>:list`` per installed plugin, whatever the
number of services; a failing read is shown on the card, the others still count.
"""

from __future__ import annotations

from typing import Any

from pruvon_core.dokku.errors import DokkuError
from pruvon_core.permissions import Resource
from pruvon_services.service import installed_types


def _message(exc: DokkuError) -> str:
    hint = getattr(exc, "hint", None)
    return exc.message + (f" ({hint})" if hint else "")


def visible_counts(actor: Any, pruvon: Any) -> tuple[dict[str, int], list[str]]:
    """``({type: services actor may read}, [Dokku errors])``; types with none are left out."""
    client = pruvon.client()
    counts: dict[str, int] = {}
    try:
        kinds = installed_types(client)
    except DokkuError as exc:
        return counts, [_message(exc)]
    errors: list[str] = []
    for kind in kinds:
        try:
            services = client.services(kind)
        except DokkuError as exc:
            errors.append(_message(exc))
            continue
        seen = sum(
            1 for s in services
            if pruvon.allowed(actor, "services.read", Resource("service", s.name, kind))
        )
        if seen:
            counts[kind] = seen
    return counts, errors


def _html(counts: dict[str, int], errors: list[str]) -> str:
    from flask import has_request_context, request
    from markupsafe import Markup

    base = request.script_root if has_request_context() else ""  # ``/h/<host>`` elsewhere

    pills = Markup("").join(
        Markup('<span class="pill">{} {}</span>').format(kind, count)
        for kind, count in counts.items()
    )
    problems = Markup("").join(
        Markup('<p class="flash flash-error">Dokku: {}</p>').format(e) for e in errors
    )
    return str(Markup('<p class="services">{}</p>{}<p><a href="{}/services">All services →</a></p>')
               .format(pills, problems, base))


def services_card(actor: Any, pruvon: Any) -> list[dict[str, Any]]:
    """The ``Services`` card, or no card when there is nothing to show."""
    counts, errors = visible_counts(actor, pruvon)
    if not counts and not errors:
        return []
    return [{"title": "Services", "html": _html(counts, errors), "order": 15,
             "action": "services.read"}]
