"""Edits of the ``users:`` section (and the legacy ``admin:`` block) of the config.

Every edit goes through ``ConfigStore.update``: under the config lock, on the
round-trip YAML, so the operator's comments and key order survive and a
concurrent edit is never lost; the result is validated before it is written.

Guard: no edit may leave a config that had an enabled admin without one
(remove, disable, demote of the last admin are refused).  The legacy
top-level ``admin: {username, password}`` is a full admin; changing its
password edits it in place, and an edit it cannot express (disable, role,
grants) first moves it into ``users:`` as an ``role: admin`` entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pruvon_core.config import ROLES, USERNAME_RE, ConfigStore
from pruvon_core.permissions import app_granted, name_matches


class UserError(ValueError):
    """A user edit that cannot be made; the message says why."""


class LastAdminError(UserError):
    """The edit would leave no enabled admin."""


# --------------------------------------------------------------------------- helpers
def _users(data: Any, create: bool = False) -> Any:
    users = data.get("users")
    if users is None and create:
        users = CommentedSeq()
        data["users"] = users
    return users if users is not None else []


def _legacy_admin(data: Any, username: str) -> Any:
    admin = data.get("admin")
    if isinstance(admin, dict) and admin.get("username") == username:
        return admin
    return None


def _entry(data: Any, username: str) -> Any:
    for raw in _users(data):
        if isinstance(raw, dict) and raw.get("username") == username:
            return raw
    return None


def _require(data: Any, username: str) -> Any:
    """The mutable entry of ``username`` (legacy admin included); UserError if unknown."""
    entry = _entry(data, username)
    if entry is None:
        entry = _legacy_admin(data, username)
    if entry is None:
        raise UserError(f"no user {username!r}")
    return entry


def _migrate_legacy(data: Any, username: str) -> Any:
    """Move the legacy ``admin:`` block into ``users:`` so it can carry more keys."""
    admin = _legacy_admin(data, username)
    if admin is None:
        return _require(data, username)
    entry = CommentedMap()
    entry["username"] = admin["username"]
    entry["password"] = admin.get("password", "")
    entry["role"] = "admin"
    del data["admin"]
    _users(data, create=True).insert(0, entry)
    return entry


def enabled_admins(data: Any) -> list[str]:
    names = []
    admin = data.get("admin")
    if isinstance(admin, dict) and admin.get("username"):
        names.append(str(admin["username"]))
    for raw in _users(data):
        if isinstance(raw, dict) and raw.get("role") == "admin" and not raw.get("disabled"):
            names.append(str(raw.get("username")))
    return names


def _update(store: ConfigStore, mutate: Callable[[Any], None]) -> None:
    """``store.update`` with the last-admin guard around ``mutate``."""

    def guarded(data: Any) -> None:
        had_admin = bool(enabled_admins(data))
        mutate(data)
        if had_admin and not enabled_admins(data):
            raise LastAdminError(
                "refused: this would leave no enabled admin; add or enable another admin first"
            )

    store.update(guarded)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def _add_unique(seq: Any, values: Iterable[str]) -> None:
    for value in values:
        if value not in seq:
            seq.append(value)


# --------------------------------------------------------------------------- edits
def add_user(
    store: ConfigStore,
    username: str,
    password_hash: str,
    role: str = "user",
    *,
    apps: Iterable[str] = (),
    services: dict[str, Iterable[str]] | None = None,
    routes: Iterable[str] = (),
    can_create_apps: bool = False,
    can_create_services: bool = False,
) -> None:
    """Append a user to ``users:`` (Pruvon's key order)."""
    if not USERNAME_RE.match(username or ""):
        raise UserError(
            f"invalid username {username!r}: 1-64 letters, digits, _ . @ -, starting with a "
            "letter or digit"
        )
    _check_role(role)

    def mutate(data: Any) -> None:
        if _entry(data, username) is not None or _legacy_admin(data, username) is not None:
            raise UserError(f"user {username!r} already exists")
        entry = CommentedMap()
        entry["username"] = username
        entry["password"] = password_hash
        entry["role"] = role
        if routes:
            entry["routes"] = CommentedSeq(list(routes))
        if apps:
            entry["apps"] = CommentedSeq(list(apps))
        if services:
            entry["services"] = CommentedMap(
                {kind: CommentedSeq(list(names)) for kind, names in services.items()}
            )
        if can_create_apps:
            entry["can_create_apps"] = True
        if can_create_services:
            entry["can_create_services"] = True
        _users(data, create=True).append(entry)

    _update(store, mutate)


def remove_user(store: ConfigStore, username: str) -> None:
    def mutate(data: Any) -> None:
        if _legacy_admin(data, username) is not None:
            del data["admin"]
            return
        users = _users(data)
        entry = _entry(data, username)
        if entry is None:
            raise UserError(f"no user {username!r}")
        users.remove(entry)

    _update(store, mutate)


def set_disabled(store: ConfigStore, username: str, disabled: bool) -> None:
    def mutate(data: Any) -> None:
        entry = _migrate_legacy(data, username) if disabled else _require(data, username)
        if disabled:
            entry["disabled"] = True
        elif "disabled" in entry:
            del entry["disabled"]

    _update(store, mutate)


def set_password(store: ConfigStore, username: str, password_hash: str) -> None:
    def mutate(data: Any) -> None:
        _require(data, username)["password"] = password_hash

    _update(store, mutate)


def set_role(store: ConfigStore, username: str, role: str) -> None:
    _check_role(role)

    def mutate(data: Any) -> None:
        entry = _migrate_legacy(data, username) if role != "admin" else _require(data, username)
        if "role" in entry or role != "admin":
            entry["role"] = role

    _update(store, mutate)


def grant(
    store: ConfigStore,
    username: str,
    *,
    apps: Iterable[str] = (),
    services: dict[str, Iterable[str]] | None = None,
    routes: Iterable[str] = (),
    can_create_apps: bool = False,
    can_create_services: bool = False,
) -> None:
    """Add grants (duplicates ignored); flags given as True are switched on."""
    apps, routes = list(apps), list(routes)

    def mutate(data: Any) -> None:
        entry = _migrate_legacy(data, username)
        if apps:
            _add_unique(entry.setdefault("apps", CommentedSeq()), apps)
        if routes:
            _add_unique(entry.setdefault("routes", CommentedSeq()), routes)
        for kind, names in (services or {}).items():
            table = entry.setdefault("services", CommentedMap())
            _add_unique(table.setdefault(kind, CommentedSeq()), names)
        if can_create_apps:
            entry["can_create_apps"] = True
        if can_create_services:
            entry["can_create_services"] = True

    _update(store, mutate)


def _remove_values(entry: Any, key: str, values: list[str], username: str) -> None:
    current = entry.get(key) or []
    missing = [v for v in values if v not in current]
    if missing:
        raise UserError(f"{username} has no {key} grant {', '.join(map(repr, missing))}")
    for value in values:
        current.remove(value)
    if not current and key in entry:
        del entry[key]


def revoke(
    store: ConfigStore,
    username: str,
    *,
    apps: Iterable[str] = (),
    services: dict[str, Iterable[str]] | None = None,
    routes: Iterable[str] = (),
    can_create_apps: bool = False,
    can_create_services: bool = False,
) -> None:
    """Remove exact grant entries (an unknown one is an error); flags given are switched off."""
    apps, routes = list(apps), list(routes)

    def mutate(data: Any) -> None:
        entry = _require(data, username)
        if apps:
            _remove_values(entry, "apps", apps, username)
        if routes:
            _remove_values(entry, "routes", routes, username)
        for kind, names in (services or {}).items():
            table = entry.get("services") or {}
            if kind not in table:
                raise UserError(f"{username} has no {kind} services granted")
            _remove_values(table, kind, list(names), username)
            if not table and "services" in entry:
                del entry["services"]
        for flag, wanted in (
            ("can_create_apps", can_create_apps),
            ("can_create_services", can_create_services),
        ):
            if wanted and flag in entry:
                del entry[flag]

    _update(store, mutate)


def grant_app(store: ConfigStore, username: str, app: str) -> bool:
    """Grant a freshly created ``app`` to its creator; False if already covered.

    Called by the apps plugin after a user with ``can_create_apps`` created an
    app, so the creator can manage what they made.  Admins need no grant.
    """
    record = store.current().user(username)
    if record is None:
        raise UserError(f"no user {username!r}")
    if record.role == "admin" or app_granted(record, app):
        return False
    grant(store, username, apps=[app])
    return True


def grant_service(store: ConfigStore, username: str, service_type: str, name: str) -> bool:
    """Grant a freshly created service to its creator; False if already covered."""
    record = store.current().user(username)
    if record is None:
        raise UserError(f"no user {username!r}")
    patterns = record.services.get(service_type, ())
    if record.role == "admin" or any(name_matches(p, name) for p in patterns):
        return False
    grant(store, username, services={service_type: [name]})
    return True
