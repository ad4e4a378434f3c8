"""Edits of the ``users:`` list in the YAML config, shared by the admin pages and API.

Every change goes through ``ConfigStore.update`` (lock, re-read, validate,
atomic write; comments survive), so the web UI can never write a config the
server would refuse to load.  Form input is parsed here into the config's own
shapes, with a specific message for each kind of bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pruvon_core.config import ROLES, USERNAME_RE, Config, ConfigError, ConfigStore


class UserEditError(ValueError):
    """Bad input for a user change; the message says which field and why."""


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


def _apply(store: ConfigStore, mutate: Any) -> Config:
    """``store.update`` with the last-admin guard; every refusal as UserEditError."""
    from pruvon_auth.public import LastAdminError, enabled_admins

    def guarded(data: Any) -> None:
        had_admin = bool(enabled_admins(data))
        mutate(data)
        if had_admin and not enabled_admins(data):
            raise LastAdminError("this would leave no enabled admin: add another admin first")

    return _translate(store.update, guarded)


def _translate(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an edit, turning the auth plugin's and the config's errors into ours."""
    from pruvon_auth.public import UserError

    try:
        return function(*args, **kwargs)
    except ConfigError as exc:
        raise UserEditError("; ".join(exc.errors)) from exc
    except UserError as exc:
        raise UserEditError(str(exc)) from exc


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


def _find(data: Any, username: str) -> Any:
    for entry in data.get("users") or []:
        if isinstance(entry, dict) and entry.get("username") == username:
            return entry
    if isinstance(data.get("admin"), dict) and data["admin"].get("username") == username:
        raise UserEditError(
            f"{username!r} is the legacy top-level admin: "
            "edit it in the config file, or move it into users: to manage it here"
        )
    raise UserEditError(f"no user named {username!r}")


def update_user(
    store: ConfigStore, username: str, role: str, disabled: bool, grants: Grants,
    password: str = "",
) -> Config:
    """Replace role, disabled flag and grants of ``username`` (and its password if given).

    One locked write, so the user never exists half-edited.
    """
    check_role(role)
    if store.current().user(username) is None:
        raise UserEditError(f"no user named {username!r}")
    password_hash = check_password(password, username) if password else None
    fields = _grant_fields(role, grants)

    def mutate(data: Any) -> None:
        entry = _find(data, username)
        entry["role"] = role
        if disabled:
            entry["disabled"] = True
        elif "disabled" in entry:
            del entry["disabled"]
        for key in ("apps", "services", "routes", "can_create_apps", "can_create_services"):
            if fields.get(key):
                entry[key] = fields[key]
            elif key in entry:
                del entry[key]
        if password_hash:
            entry["password"] = password_hash

    return _apply(store, mutate)


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
        "legacy_admin": record.source == "admin",
    }
