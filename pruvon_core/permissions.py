"""Actors, actions and resources: the one place access is decided.

Every operation any plugin offers is an :class:`Action` declared through the
``pruvon_register_actions`` hook.  ``check(actor, action, resource)`` is the
single decision point; plugins vote through ``pruvon_permission_allowed``
(Datasette style: a False veto wins, no True vote means deny).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Action:
    """Something an actor can do, e.g. ``apps.config.write``."""

    name: str
    description: str
    read_only: bool = False
    resource_kind: str | None = None  # "app", "service", or None for global actions


@dataclass(frozen=True)
class Resource:
    """The object an action applies to: ``Resource("app", "blog")``.

    For services ``kind`` is ``"service"`` and ``service_type`` names the
    plugin (postgres, redis …).
    """

    kind: str
    name: str
    service_type: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who is acting: a session user, an API key, or the ``system`` (root CLI)."""

    id: str
    kind: str = "user"  # "user" | "apikey" | "system"
    role: str = "viewer"
    username: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
