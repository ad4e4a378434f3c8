"""Edits of the ``users:`` section (and the legacy ``admin:`` block) of the config.

Every edit goes through ``ConfigStore.update``: under the config lock, on the
round-trip YAML, so the operator's comments and key order survive and a
concurrent edit is never lost; the result is validated before it is written.

This is the one module that edits users: the CLI, the admin pages and the
JSON API all call it (``pruvon_web.usersedit`` only parses form and JSON
input into its arguments).  Each edit is a *mutation* applied to the entry as
it is on disk at the moment of the write - never a whole user copied from an
earlier read - so a ``PATCH`` of the role cannot undo a grant the CLI made a
millisecond before.

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

from pruvon_core.config import ROLES, USERNAME_RE, Config, ConfigStore
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


def _update(store: ConfigStore, mutate: Callable[[Any], None]) -> Config:
    """``store.update`` with the last-admin guard around ``mutate``; the fresh config."""

    def guarded(data: Any) -> None:
        had_admin = bool(enabled_admins(data))
        mutate(data)
        if had_admin and not enabled_admins(data):
            raise LastAdminError(
                "refused: this would leave no enabled admin; add or enable another admin first"
            )

    return store.update(guarded)


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


GRANT_KEYS = ("apps", "services", "routes", "can_create_apps", "can_create_services")
UNSET: Any = object()


def _set_or_drop(entry: Any, key: str, value: Any) -> None:
    """Store ``value`` under ``key``, or remove the key when it is empty/false."""
    if isinstance(value, dict):
        value = CommentedMap({k: CommentedSeq(list(v)) for k, v in value.items()})
    elif isinstance(value, list | tuple):
        value = CommentedSeq(list(value))
    if value:
        entry[key] = value
    elif key in entry:
        del entry[key]


def _normalise_for_role(entry: Any) -> None:
    """Admins hold every right (no grants kept); viewers never create anything."""
    role = entry.get("role", "user")
    dropped = GRANT_KEYS if role == "admin" else (
        ("can_create_apps", "can_create_services") if role == "viewer" else ())
    for key in dropped:
        if key in entry:
            del entry[key]


def _apply_difference(entry: Any, add: dict[str, Any], remove: dict[str, Any]) -> None:
    """Add and remove list grants (``apps``, ``routes``, ``services.<type>``) in place."""
    for key in ("apps", "routes"):
        if add.get(key) or remove.get(key):  # untouched lists keep their YAML comments
            current = [v for v in entry.get(key) or [] if v not in remove.get(key, ())]
            _add_unique(current, add.get(key, ()))
            _set_or_drop(entry, key, current)
    added, removed = add.get("services") or {}, remove.get("services") or {}
    if any(added.values()) or any(removed.values()):
        services = {k: list(v) for k, v in (entry.get("services") or {}).items()}
        for kind, names in removed.items():
            services[kind] = [n for n in services.get(kind, []) if n not in names]
        for kind, names in added.items():
            _add_unique(services.setdefault(kind, []), names)
        _set_or_drop(entry, "services", {k: v for k, v in services.items() if v})


def update_user(
    store: ConfigStore,
    username: str,
    *,
    role: str = UNSET,
    disabled: bool = UNSET,
    password_hash: str = UNSET,
    legacy: bool = True,
    add: dict[str, Any] | None = None,
    remove: dict[str, Any] | None = None,
    **grants: Any,
) -> Config:
    """Set only the fields given (``UNSET`` ones keep the value on disk); one locked write.

    ``grants`` are any of :data:`GRANT_KEYS`, each *replacing* that grant
    (``apps=[]`` removes every app grant).  When ``role`` is given, grants the
    new role cannot use are dropped (all for an admin, the creation flags for
    a viewer), as the pages and the API always did.  ``legacy=False`` refuses
    to touch the legacy top-level ``admin:`` block (the web leaves it to the file).

    ``add``/``remove`` change list grants by difference instead (``{"apps":
    [...], "routes": [...], "services": {"postgres": [...]}}``): what the edit
    form changed is applied to the grants on disk, keeping any granted meanwhile.
    """
    unknown = sorted(set(grants) - set(GRANT_KEYS))
    if unknown:
        raise UserError(f"unknown user field(s): {', '.join(unknown)}")
    if role is not UNSET:
        _check_role(role)

    def mutate(data: Any) -> None:
        if not legacy and _legacy_admin(data, username) is not None:
            raise UserError(
                f"{username!r} is the legacy top-level admin: "
                "edit it in the config file, or move it into users: to manage it here"
            )
        if role is UNSET and disabled is UNSET and not (grants or add or remove):
            entry = _require(data, username)  # a password change keeps a legacy admin
        else:
            entry = _migrate_legacy(data, username)
        if role is not UNSET:
            entry["role"] = role
        if disabled is not UNSET:
            _set_or_drop(entry, "disabled", bool(disabled))
        for key, value in grants.items():
            _set_or_drop(entry, key, value)
        _apply_difference(entry, add or {}, remove or {})
        if role is not UNSET:
            _normalise_for_role(entry)
        if password_hash is not UNSET:
            entry["password"] = password_hash

    return _update(store, mutate)


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


def set_hosts(store: ConfigStore, username: str, names: list[str] | None) -> None:
    """Limit ``username``'s grants to the hosts ``names``; ``None`` lifts the limit.

    ``hosts:`` is a limit on every other grant (absent: every host), so it is
    set whole rather than granted piece by piece: adding one host to a user
    who had every host would take the others away.  Unknown host names are
    refused by the config's own validation, naming the key.
    """
    def mutate(data: Any) -> None:
        entry = _migrate_legacy(data, username)
        if names is None:
            entry.pop("hosts", None)
        else:
            entry["hosts"] = CommentedSeq(list(dict.fromkeys(names)))

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
