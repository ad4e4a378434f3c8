"""Form and JSON input for user edits, shared by the admin pages and the API.

This module parses and checks input only; every write is made by the auth
plugin's :mod:`pruvon_auth.users` (the same functions the CLI uses), which
applies the change as a mutation on the config as it is on disk under the
lock, validates, and writes atomically - so the web can neither write a config
the server would refuse nor overwrite a concurrent edit with stale data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pruvon_auth.public import GRANT_KEYS

from pruvon_core.config import ROLES, USERNAME_RE, Config, ConfigError, ConfigStore
from pruvon_core.files import DiskFull


class UserEditError(ValueError):
    """Bad input for a user change; the message says which field and why."""

    status = 400


class StorageFull(UserEditError):
    """The change could not be written: the disk holding the config is full."""

    status = 507


@dataclass
class Grants:
    """What a non-admin user may reach, as edited in the grants form."""

    apps: list[str]
    services: dict[str, list[str]]
    routes: list[str]
    can_create_apps: bool = False
    can_create_services: bool = False


def split_list(text: str) -> list[str]:
    """``"a, b  c"`` → ``["a", "b", "c"]`` (commas or whitespace, duplicates dropped)."""
    items: list[str] = []
    for item in re.split(r"[\s,]+", text.strip()):
        if item and item not in items:
            items.append(item)
    return items


def parse_services(text: str) -> dict[str, list[str]]:
    """One line per type: ``postgres: db1, db2`` (``*`` = all of that type)."""
    services: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        kind, sep, names = line.partition(":")
        kind = kind.strip()
        if not sep or not re.match(r"^[a-z][a-z0-9_-]*$", kind):
            raise UserEditError(
                f"services line {number}: write 'type: name1, name2' (e.g. 'postgres: blog-db')"
            )
        services[kind] = split_list(names)
    return services


def format_services(services: dict[str, tuple[str, ...]]) -> str:
    return "\n".join(f"{kind}: {', '.join(names)}" for kind, names in services.items())


def check_username(username: str, config: Config) -> None:
    if not USERNAME_RE.match(username):
        raise UserEditError("username: 1-64 characters of letters, digits, _ . @ - "
                            "(starting with a letter or digit)")
    if config.user(username) is not None:
        raise UserEditError(f"username: a user named {username!r} already exists")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise UserEditError(f"role: must be one of {', '.join(ROLES)}")


def check_password(password: str, username: str) -> str:
    """The bcrypt hash of an acceptable password."""
    from pruvon_auth.public import check_policy, hash_password

    try:
        check_policy(password, username)
    except ValueError as exc:
        raise UserEditError(f"password: {exc}") from exc
    return hash_password(password)


def _translate(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an edit, turning the auth plugin's and the config's errors into ours."""
    from pruvon_auth.public import UserError

    try:
        return function(*args, **kwargs)
    except ConfigError as exc:
        raise UserEditError("; ".join(exc.errors)) from exc
    except UserError as exc:
        raise UserEditError(str(exc)) from exc
    except DiskFull as exc:
        raise StorageFull(f"{exc}; free some space and try again") from exc


def create_user(
    store: ConfigStore, username: str, password: str, role: str, grants: Grants
) -> Config:
    """Add a user (the auth plugin's ``add_user``) after checking every field."""
    from pruvon_auth.public import add_user

    config = store.current()
    check_username(username, config)
    check_role(role)
    password_hash = check_password(password, username)
    fields = _grant_fields(role, grants)
    _translate(add_user, store, username, password_hash, role, **fields)
    return store.current()


def _grant_fields(role: str, grants: Grants) -> dict[str, Any]:
    """Grants as stored: none for admins, no creation flags for viewers."""
    if role == "admin":
        return {}
    fields: dict[str, Any] = {"apps": grants.apps, "services": grants.services,
                              "routes": grants.routes}
    if role == "user":
        fields["can_create_apps"] = grants.can_create_apps
        fields["can_create_services"] = grants.can_create_services
    return fields


def update_user(
    store: ConfigStore, username: str, role: str, disabled: bool, grants: Grants,
    password: str = "", original: dict[str, Any] | None = None,
) -> Config:
    """The edit form: role, disabled flag, grants (and the password if given).

    With ``original`` (the user as the form showed it) only what the admin
    changed is applied, as a difference, to the user as it is on disk now: a
    grant made with the CLI while the form was open survives the save.
    Without it every field is set to the form's value.
    """
    check_role(role)
    wanted: dict[str, Any] = {"role": role, "disabled": disabled,
                              **{key: getattr(grants, key) for key in GRANT_KEYS}}
    if original is None:
        return patch_user(store, username, password=password, **wanted)
    changes, add, remove = form_difference(original, wanted)
    return patch_user(store, username, password=password, add=add, remove=remove, **changes)


def form_difference(
    original: dict[str, Any], wanted: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(fields to set, grants to add, grants to remove)`` between two form states."""
    changes = {k: wanted[k] for k in ("role", "disabled", "can_create_apps",
                                      "can_create_services") if wanted[k] != original.get(k)}
    add: dict[str, Any] = {}
    remove: dict[str, Any] = {}
    for key in ("apps", "routes"):
        before, after = list(original.get(key) or []), list(wanted[key])
        add[key] = [v for v in after if v not in before]
        remove[key] = [v for v in before if v not in after]
    before_services = original.get("services") or {}
    add["services"], remove["services"] = {}, {}
    for kind in set(before_services) | set(wanted["services"]):
        before, after = before_services.get(kind, []), wanted["services"].get(kind, [])
        add["services"][kind] = [n for n in after if n not in before]
        remove["services"][kind] = [n for n in before if n not in after]
    return changes, add, remove


def patch_user(store: ConfigStore, username: str, **changes: Any) -> Config:
    """Apply only the given fields, on the user as it is on disk now (one locked write).

    ``changes`` holds any of role, disabled, password (plain, checked and
    hashed here) and :data:`GRANT_KEYS`; what is absent keeps its value, so
    a concurrent edit of another field (a CLI grant) is never overwritten.
    """
    from pruvon_auth.public import update_user

    if "role" in changes:
        check_role(changes["role"])
    password = changes.pop("password", "")
    if password:
        changes["password_hash"] = check_password(password, username)
    return _translate(update_user, store, username, legacy=False, **changes)


def set_disabled(store: ConfigStore, username: str, disabled: bool) -> Config:
    from pruvon_auth.public import set_user_disabled

    if store.current().user(username) is None:
        raise UserEditError(f"no user named {username!r}")
    _translate(set_user_disabled, store, username, disabled)
    return store.current()


def delete_user(store: ConfigStore, username: str) -> Config:
    from pruvon_auth.public import remove_user

    if store.current().user(username) is None:
        raise UserEditError(f"no user named {username!r}")
    _translate(remove_user, store, username)
    return store.current()


def user_summary(record: Any) -> dict[str, Any]:
    """A user record as the API shows it (never the password hash)."""
    return {
        "username": record.username,
        "role": record.role,
        "disabled": record.disabled,
        "apps": list(record.apps),
        "services": {k: list(v) for k, v in record.services.items()},
        "routes": list(record.routes),
        "can_create_apps": record.can_create_apps,
        "can_create_services": record.can_create_services,
        "hosts": None if getattr(record, "hosts", None) is None else list(record.hosts),
        "legacy_admin": record.source == "admin",
    }
