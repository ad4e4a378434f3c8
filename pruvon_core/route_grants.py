"""Which page paths each plugin serves, as ``routes:`` grants see them.

Pruvon grants pages, not actions (DESIGN §8): a user's ``routes:`` pattern is
matched against a page path, and the API and WebSocket paths of the same
resource are covered by the grant of that page.  Core cannot know which pages
exist, so each plugin declares its own through ``pruvon_route_grants`` as
:class:`RouteGrant` objects, and :mod:`pruvon_core.permissions` decides from
those.  This module only collects and indexes them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

log = logging.getLogger("pruvon.permissions")

# Resource kinds whose grants the config's user records carry (``apps:`` and
# ``services:``), and how many path segments after the page name one resource:
# ``/apps/<app>``, ``/services/<type>/<name>``.
RESOURCE_SEGMENTS = {"app": 1, "service": 2}


@dataclass(frozen=True)
class RouteGrant:
    """One page (and everything below it) as a plugin serves it.

    ``page`` is the page path (``/apps``, ``/backups``).  With
    ``resource_kind`` (``"app"``/``"service"``) the paths below it name one
    resource each, opened by that resource's grant, and ``page`` itself is the
    list, open to whoever holds one grant of the kind.  ``actions`` are global
    actions a ``routes:`` entry for ``page`` grants (``backups.run`` by
    ``/backups``).  ``create_action`` is opened by ``<page>/create`` and needs
    the user record's boolean ``create_flag`` (``can_create_apps``).
    ``api_aliases`` are API resources served as this page (``/audit`` for
    ``/logs``: ``GET /api/v1/audit`` is covered by the ``/logs`` grant).
    ``open_to_all`` pages (own account, sign-out, static files) open to every
    signed-in user whatever their grants, with the paths below them (except
    below ``/``, which would be everything).  ``task_segments`` are segments
    below ``page`` that name a task, not a resource (``/ws/services/import/<task>``):
    open to whoever holds one grant of the kind, the handler then checks the
    permission on the task's own resource.
    """

    page: str
    resource_kind: str | None = None
    actions: tuple[str, ...] = ()
    create_action: str | None = None
    create_flag: str | None = None
    api_aliases: tuple[str, ...] = ()
    open_to_all: bool = False
    task_segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteTable:
    """The declared grants, indexed the ways the permission check asks."""

    pages: dict[str, RouteGrant]
    action_pages: dict[str, str]
    create_flags: dict[str, str]
    api_aliases: dict[str, str]

    def open_to_all(self, page: str) -> bool:
        """Whether every signed-in user may open ``page``."""
        for grant in self.pages.values():
            if grant.open_to_all and (
                page == grant.page or (grant.page != "/" and page.startswith(grant.page + "/"))
            ):
                return True
        return False

    def task_kind(self, page: str) -> str | None:
        """The resource kind of a task path (``/services/import/<task>``), else None."""
        for grant in self.pages.values():
            head, sep, rest = page.removeprefix(grant.page + "/").partition("/")
            if (grant.resource_kind and page.startswith(grant.page + "/") and sep and rest
                    and head in grant.task_segments):
                return grant.resource_kind
        return None

    def owning_page(self, page: str) -> str | None:
        """The page of a grant without resource kind that ``page`` lies below, if any.

        ``/backups/7/restore`` belongs to ``/backups``: a ``routes:`` entry for
        a page opens its forms, API and sockets below it, as the docstring of
        :class:`RouteGrant` promises.  Pages of a resource kind are not owners
        (``/apps/other`` is app ``other``'s page, opened by its own grant).
        """
        owners = [grant for grant in self.pages.values() if page.startswith(grant.page + "/")
                  and grant.page != "/"]
        if not owners or page in self.pages:  # a declared page is opened by its own grant
            return None
        # the most specific declared page owns it: /docker/stop/<id> is /docker/stop's
        # (its own grant), never opened by a routes: entry for /docker
        owner = max(owners, key=lambda grant: len(grant.page))
        return owner.page if owner.resource_kind is None else None

    def kind_page(self, kind: str) -> str | None:
        """The page that lists resources of ``kind`` (``/apps`` for ``app``)."""
        return next((g.page for g in self.pages.values() if g.resource_kind == kind), None)


def _valid(grant: object) -> bool:
    if not isinstance(grant, RouteGrant):
        log.warning("ignoring non-RouteGrant %r from pruvon_route_grants", grant)
        return False
    if not grant.page.startswith("/") or (grant.page != "/" and grant.page.endswith("/")):
        log.warning("ignoring route grant with page %r: must be /name", grant.page)
        return False
    if grant.resource_kind is not None and grant.resource_kind not in RESOURCE_SEGMENTS:
        log.warning("ignoring route grant %s: unknown resource kind %r", grant.page,
                    grant.resource_kind)
        return False
    return True


def build(declared: list[object]) -> RouteTable:
    """Index ``declared``; the first plugin to claim a page, action or alias keeps it."""
    table = RouteTable({}, {}, {}, {})
    for grant in declared:
        if not _valid(grant) or grant.page in table.pages:  # type: ignore[union-attr]
            continue
        assert isinstance(grant, RouteGrant)
        table.pages[grant.page] = grant
        for action in grant.actions:
            table.action_pages.setdefault(action, grant.page)
        if grant.create_action and grant.create_flag:
            table.create_flags.setdefault(grant.create_action, grant.create_flag)
        for alias in grant.api_aliases:
            table.api_aliases.setdefault(alias, grant.page)
    return table


_table: RouteTable | None = None
_table_owner: object | None = None
_lock = threading.Lock()


def route_table() -> RouteTable:
    """Every plugin's route grants, cached per plugin manager."""
    global _table, _table_owner
    from pruvon_core.plugins import flatten, get_plugin_manager

    manager = get_plugin_manager()
    with _lock:
        if _table is None or _table_owner is not manager:
            declared = flatten(manager.hook.pruvon_route_grants(pruvon=manager.pruvon))
            _table, _table_owner = build(list(declared)), manager
        return _table


def reset() -> None:
    """Forget the cached table (tests that register plugins at run time)."""
    global _table, _table_owner
    with _lock:
        _table = _table_owner = None
