"""Actors, actions and resources: the one place access is decided.

Every operation any plugin offers is an :class:`Action` declared through the
``pruvon_register_actions`` hook.  ``check(actor, action, resource)`` is the
single decision point; plugins vote through ``pruvon_permission_allowed``
(Datasette style: a False veto wins, no True vote means deny).

The built-in role policy is the first voter.  Some rules are *hard gates* that
no plugin vote can override, because they are what the rest of the security
model leans on:

* unknown actions, unknown roles, and disabled or removed users are denied;
* a viewer never passes an action that is not read-only, nor a sensitive read
  (an app's environment variables): the UI shows those masked;
* an API key never passes an action outside its scopes, and never more than its
  owner could do at that moment.

Grants follow Pruvon's semantics so existing ``/etc/pruvon.yml`` files keep
their meaning: ``apps`` lists app names (``*`` = all, trailing ``*`` = prefix),
``services`` maps a service type to names, and ``routes`` grant page paths
(``*`` or ``/*`` = every page; ``/apps/*`` = every app; ``/apps/blog`` or
``/apps/blog/*`` = app ``blog``), with the API and WebSocket paths of a
resource covered by the grant of its page.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from pruvon_core import hosts, route_grants
from pruvon_core.config import ROLES
from pruvon_core.route_grants import RouteTable, route_table

log = logging.getLogger("pruvon.permissions")


@dataclass(frozen=True)
class Action:
    """Something an actor can do, e.g. ``apps.config.write``."""

    name: str
    description: str
    read_only: bool = False
    resource_kind: str | None = None  # "app", "service", or None for global actions
    sensitive: bool = False  # a read that reveals secret values: never for viewers


@dataclass(frozen=True)
class Resource:
    """The object an action applies to: ``Resource("app", "blog")``.

    For services ``kind`` is ``"service"`` and ``service_type`` names the
    plugin (postgres, redis …).
    """

    kind: str
    name: str
    service_type: str | None = None
    host: str | None = None  # the Dokku host it lives on (None: the host acted on now)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a session user, an API key, or the ``system`` (root CLI).

    ``record`` is the user record the actor was built from (for an API key: its
    owner's).  ``check(..., config=...)`` replaces it with the record as it is
    in the config *now*, which is what makes revocation immediate.
    """

    id: str
    kind: str = "user"  # "user" | "apikey" | "system"
    role: str = "viewer"
    username: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    record: Any = field(default=None, compare=False, hash=False, repr=False)


class PermissionDenied(Exception):
    """Raised by :func:`require`; carries what was refused, for a 403 and the audit log."""

    def __init__(self, actor: Actor, action: str, resource: Resource | None) -> None:
        self.actor = actor
        self.action = action
        self.resource = resource
        target = f" on {resource.kind} {resource.name}" if resource else ""
        super().__init__(f"{actor.id} may not {action}{target}")


SYSTEM = Actor(id="system", kind="system", role="admin", username=None)

# Global actions every ``user`` may perform on their own behalf: an API key can
# never carry more than its owner holds, so minting one escalates nothing.  The
# caller restricts the target to the actor's own keys.
SELF_SERVICE_ACTIONS = frozenset({"apikeys.write"})

# Path segments below a resource kind's page that name no resource: the list
# page itself and the creation page.
_RESERVED_SEGMENTS = frozenset({"", "create"})


# --------------------------------------------------------------------------- registry
_registry: dict[str, Action] | None = None
_registry_owner: object | None = None
_registry_lock = threading.Lock()


def actions() -> dict[str, Action]:
    """Every declared action by name, collected from ``pruvon_register_actions``.

    Cached per plugin manager.  A name declared twice keeps the stricter flags
    (see :func:`_merge`), so a plugin cannot loosen a built-in action.
    """
    global _registry, _registry_owner
    from pruvon_core.plugins import flatten, get_plugin_manager

    manager = get_plugin_manager()
    with _registry_lock:
        if _registry is not None and _registry_owner is manager:
            return _registry
        registry: dict[str, Action] = {}
        for declared in flatten(manager.hook.pruvon_register_actions(pruvon=manager.pruvon)):
            if not isinstance(declared, Action):
                log.warning("ignoring non-Action %r from pruvon_register_actions", declared)
                continue
            known = registry.get(declared.name)
            registry[declared.name] = declared if known is None else _merge(known, declared)
        _registry, _registry_owner = registry, manager
        return registry


def _merge(known: Action, again: Action) -> Action:
    """Two plugins declared one name: keep the stricter reading of both.

    Read-only only if both say so, sensitive if either does; the description
    and resource kind of the first declaration seen stay.  A plugin can therefore
    never loosen a built-in action by redeclaring it.
    """
    log.warning("action %s declared more than once; keeping the stricter flags", known.name)
    return Action(
        name=known.name,
        description=known.description,
        read_only=known.read_only and again.read_only,
        resource_kind=known.resource_kind,
        sensitive=known.sensitive or again.sensitive,
    )


def reset_actions() -> None:
    """Forget the cached registries (tests that register plugins at run time)."""
    global _registry, _registry_owner
    with _registry_lock:
        _registry = _registry_owner = None
    route_grants.reset()


def is_sensitive(action: Action) -> bool:
    return action.sensitive


# --------------------------------------------------------------------------- actors
def actor_for_user(record: Any) -> Actor:
    """The actor of a signed-in user (a ``config.UserRecord``)."""
    return Actor(
        id=f"user:{record.username}",
        kind="user",
        role=record.role,
        username=record.username,
        record=record,
    )


def actor_for_apikey(key_id: str, owner: Any, scopes: frozenset[str] | set[str]) -> Actor:
    """The actor of an API key: its owner's rights, narrowed to ``scopes``."""
    return Actor(
        id=f"apikey:{key_id}",
        kind="apikey",
        role=owner.role,
        username=owner.username,
        scopes=frozenset(scopes),
        record=owner,
    )


# --------------------------------------------------------------------------- matching
def name_matches(pattern: str, name: str) -> bool:
    """Pruvon grant matching: ``*`` everything, trailing ``*`` prefix, else exact."""
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return pattern == name


def _app_route(route: str) -> str | None:
    """The part of a ``routes:`` entry after the apps page (``blog*`` of ``/apps/blog*``)."""
    apps_page = route_table().kind_page("app")
    if apps_page is None or not route.startswith(apps_page + "/"):
        return None
    return route[len(apps_page) + 1 :]


def _app_pattern(route: str) -> str | None:
    """What a ``routes:`` entry says about apps: ``*`` all, a pattern, or None (no app)."""
    return "*" if route in ("*", "/*") else _app_route(route)


def _route_grants_any_app(route: str) -> bool:
    pattern = _app_pattern(route)
    if pattern is None or pattern == "*":
        return pattern == "*"
    if pattern.endswith("/*"):
        pattern = pattern[:-2]
    elif pattern.endswith("*"):
        return bool(pattern[:-1]) and "/" not in pattern
    return "/" not in pattern and pattern not in _RESERVED_SEGMENTS


def _route_grants_app(route: str, app: str) -> bool:
    """Whether a ``routes:`` entry opens app ``app`` (Pruvon's RouteGrantsApp)."""
    pattern = _app_pattern(route)
    if pattern is None or pattern == "*":
        return pattern == "*"
    if pattern.endswith("/*"):
        exact = pattern[:-2]
        return exact == app and "/" not in exact and exact not in _RESERVED_SEGMENTS
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return bool(prefix) and "/" not in prefix and app.startswith(prefix)
    return pattern == app and pattern not in _RESERVED_SEGMENTS


def app_granted(record: Any, app: str) -> bool:
    """Whether ``record``'s ``apps`` or ``routes`` grant app ``app``."""
    if any(name_matches(pattern, app) for pattern in record.apps):
        return True
    return any(_route_grants_app(route, app) for route in record.routes)


def any_app_granted(record: Any) -> bool:
    return bool(record.apps) or any(_route_grants_any_app(r) for r in record.routes)


def _wildcard_routes(record: Any) -> bool:
    return any(route in ("*", "/*") for route in record.routes)


def service_granted(record: Any, service_type: str | None, name: str) -> bool:
    """Whether ``record``'s ``services`` (``{type: [names]}``) grant this service."""
    if _wildcard_routes(record):
        return True
    if service_type is None:
        return False
    return any(name_matches(p, name) for p in record.services.get(service_type, ()))


def any_service_granted(record: Any) -> bool:
    return _wildcard_routes(record) or any(bool(names) for names in record.services.values())


# --------------------------------------------------------------------------- routes
def _page_path(path: str, table: RouteTable) -> str:
    """Map an API or WebSocket path onto the page path whose grant covers it.

    ``/api/v1/apps/blog`` and ``/ws/apps/blog`` are ``/apps/blog``; an API
    resource a plugin declared as an alias is its page (``/api/v1/audit`` is
    ``/logs``).
    """
    for prefix in ("/api/v1/", "/api/", "/ws/"):
        if path.startswith(prefix):
            page = "/" + path[len(prefix) :]
            if prefix != "/ws/":
                head, sep, rest = page[1:].partition("/")
                alias = table.api_aliases.get("/" + head)
                if alias is not None:
                    page = alias + sep + rest
            return page
    if path in ("/api/v1", "/api", "/ws"):
        return "/"
    return path


def _route_pattern_allows(route: str, path: str) -> bool:
    """Pruvon's hasRouteAccess: prefix routes do not leak into the apps pages by accident."""
    if route.endswith("*"):
        prefix = route[:-1]
        return path.startswith(prefix) and (
            _app_route(path) is None or _app_route(route) is not None
        )
    return route == path


def _path_resource(table: RouteTable, page: str) -> tuple[str, list[str]] | None:
    """``(kind, segments)`` when ``page`` lies below a resource kind's page.

    ``/apps/blog/logs`` is ``("app", ["blog", "logs"])``; None for paths
    that name no resource (the list and creation pages, unknown pages).
    """
    for grant in table.pages.values():
        if grant.resource_kind is None or not page.startswith(grant.page + "/"):
            continue
        segments = page[len(grant.page) + 1 :].split("/")
        if segments[0] in _RESERVED_SEGMENTS:
            return None
        return grant.resource_kind, segments
    return None


def _resource_page_allowed(record: Any, kind: str, segments: list[str]) -> bool:
    """Whether ``record`` opens the page of one resource (``segments`` below its kind's page).

    An app page is ``<app>…``; a service page is ``<type>/<name>…``, and the
    page of a whole service type needs the ``*`` grant of that type.
    """
    if kind == "app":
        return app_granted(record, segments[0])
    service_type = segments[0]
    name = segments[1] if len(segments) > 1 and segments[1] else None
    if name is None:
        return "*" in record.services.get(service_type, ())
    return service_granted(record, service_type, name)


def _any_granted(record: Any, kind: str) -> bool:
    return any_app_granted(record) if kind == "app" else any_service_granted(record)


def _may_create(record: Any, table: RouteTable, action: str) -> bool:
    """Creation needs the ``user`` role and the record's flag (``can_create_apps``)."""
    flag = table.create_flags.get(action)
    return flag is not None and record.role == "user" and getattr(record, flag, False) is True


def route_allowed(record: Any, path: str) -> bool:
    """Whether ``record`` may open ``path`` under Pruvon's ``routes:`` semantics.

    Admins may open everything; disabled users nothing.  For others a path is
    open when a ``routes`` entry matches it (``*``/``/*`` everything, trailing
    ``*`` prefix), or when it is the page of an app or service they are granted
    (``/apps/<app>…``, ``/services/<type>/<name>…``), or the list page of a kind
    they hold at least one grant of.  ``/api/v1/…`` and ``/ws/…`` are matched as
    the page path they serve.  Creation pages need ``can_create_*``.  Which
    pages exist is what the plugins declare through ``pruvon_route_grants``.
    """
    if record is None or record.disabled or record.role not in ROLES:
        return False
    if record.role == "admin":
        return True
    table = route_table()
    page = _page_path(path.split("?", 1)[0], table) or "/"
    if table.open_to_all(page):
        return True
    parent, _, last = page.rpartition("/")
    creator = table.pages.get(parent)
    if last == "create" and creator is not None and creator.create_action:
        return _may_create(record, table, creator.create_action)
    if _wildcard_routes(record) or any(_route_pattern_allows(r, page) for r in record.routes):
        return True
    owner = table.owning_page(page)
    if owner is not None and any(_route_pattern_allows(r, owner) for r in record.routes):
        return True
    listed = table.pages.get(page)
    if listed is not None and listed.resource_kind is not None:
        return _any_granted(record, listed.resource_kind)
    task_kind = table.task_kind(page)
    if task_kind is not None:
        return _any_granted(record, task_kind)
    found = _path_resource(table, page)
    return found is not None and _resource_page_allowed(record, *found)


# --------------------------------------------------------------------------- decision

def _resource_allowed(record: Any, action: Action, resource: Resource | None) -> bool:
    """The grant part of the role policy for ``user`` and ``viewer``."""
    table = route_table()
    if action.name in table.create_flags:
        return _may_create(record, table, action.name)
    if action.resource_kind == "app":
        if resource is None:
            return any_app_granted(record)
        return resource.kind == "app" and app_granted(record, resource.name)
    if action.resource_kind == "service":
        if resource is None:
            return any_service_granted(record)
        return resource.kind == "service" and service_granted(
            record, resource.service_type, resource.name
        )
    if action.name in SELF_SERVICE_ACTIONS:
        return record.role == "user" and resource is None
    page = table.action_pages.get(action.name)
    if page is None or not route_allowed(record, page):
        return False
    if resource is None:
        return True
    if resource.kind == "app":
        return app_granted(record, resource.name)
    if resource.kind == "service":
        return service_granted(record, resource.service_type, resource.name)
    return False


def _role_vote(record: Any, action: Action, resource: Resource | None) -> bool:
    if record.role == "admin":
        return True
    if record.role == "viewer" and (not action.read_only or is_sensitive(action)):
        return False
    return _resource_allowed(record, action, resource)


def _current_record(actor: Actor, config: Any) -> Any:
    """The actor's user record as the config says now (None = removed)."""
    if config is None:
        return actor.record
    if actor.username is None:
        return None
    return config.user(actor.username)


def host_granted(record: Any, host: str | None, config: Any = None) -> bool:
    """Whether ``record``'s ``hosts:`` grant (default: every host) covers host ``host``.

    ``None`` is the default host, under its name (``local`` or the one
    ``dokku.ssh`` names), so a grant on one host never reaches another.
    """
    granted = getattr(record, "hosts", None)
    if granted is None or "*" in granted:
        return True
    return (host or hosts.default_name(config)) in granted


def _hard_gates(actor: Actor, action: Action, record: Any, host: str | None = None,
                config: Any = None) -> bool:
    """Rules no plugin vote can override; False means deny."""
    if actor.kind == "system":
        return True
    if actor.kind not in ("user", "apikey") or record is None:
        return False
    if record.disabled or record.role not in ROLES:
        return False
    if not host_granted(record, host, config):
        return False
    if actor.kind == "apikey" and action.name not in actor.scopes:
        return False
    return not (record.role == "viewer" and (not action.read_only or is_sensitive(action)))


def check(
    actor: Actor | None, action: str, resource: Resource | None = None, config: Any = None
) -> bool:
    """May ``actor`` perform ``action`` on ``resource``?  The one decision point.

    With ``config`` (a ``pruvon_core.config.Config``), a user or API-key actor
    is re-resolved against the config as it is now: a removed, disabled or
    demoted user loses access on the very next check.  Plugins vote through
    ``pruvon_permission_allowed``: one False vetoes, and without any True vote
    (the role policy's included) the answer is deny.
    """
    if actor is None:
        return False
    declared = actions().get(action)
    if declared is None:
        log.warning("permission check for undeclared action %r denied", action)
        return False
    record = None if actor.kind == "system" else _current_record(actor, config)
    host = resource.host if resource is not None and resource.host else hosts.current()
    if not _hard_gates(actor, declared, record, host, config):
        return False
    allowed = actor.kind == "system" or _role_vote(record, declared, resource)
    from pruvon_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    votes = manager.hook.pruvon_permission_allowed(
        actor=actor, action=action, resource=resource, pruvon=manager.pruvon
    )
    if any(vote is False for vote in votes):
        return False
    return allowed or any(vote is True for vote in votes)


def require(
    actor: Actor | None, action: str, resource: Resource | None = None, config: Any = None
) -> None:
    """Like :func:`check` but raises :class:`PermissionDenied` on refusal."""
    if not check(actor, action, resource, config):
        raise PermissionDenied(actor or Actor(id="anonymous", kind="anonymous"), action, resource)


def grantable_actions(record: Any) -> set[str]:
    """Actions ``record`` could perform on at least one resource now.

    API-key scopes must be a subset of this: a key never outgrows its owner.
    """
    if record is None or record.disabled:
        return set()
    actor = actor_for_user(record)
    return {name for name in actions() if check(actor, name, None)}
