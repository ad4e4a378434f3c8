"""``/etc/pruvon.yml``: loading, validation, safe writes and reload on change.

Pruvon's existing config format is read unchanged (``pruvon.listen``, ``users``,
legacy top-level ``admin``); our additions live beside it (``dokku``,
``security``).  Sections a feature owns (``backup:``, ``apps:``, ``terminals:``)
are validated by that feature's plugin through ``pruvon_validate_config``.
Unknown keys are kept.

The file is parsed with ruamel's round-trip loader so that a write made by the
program keeps the operator's comments and key order.  Writes are serialised
with an exclusive ``flock`` on a sibling lock file and replace the file
atomically (temp file, fsync, rename, fsync of the directory), so a crash or a
``kill -9`` mid-write leaves either the old or the new file, never a torn one.
"""

from __future__ import annotations

import copy
import io
import ipaddress
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from pruvon_core.dokku.validate import SERVICE_RE
from pruvon_core.files import atomic_write, locked, private_dir, remove_stale_temp_files
from pruvon_core.hosts import hosts_from_config, validate_hosts, validate_user_hosts

DEFAULT_CONFIG_PATH = Path("/etc/pruvon.yml")
DEFAULT_STATE_DIR = Path("/var/lib/pruvon")
DEFAULT_LISTEN = "127.0.0.1:8080"
ROLES = ("admin", "user", "viewer")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
BCRYPT_RE = re.compile(r"^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$")
HOST_RE = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}))?$")
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:]+\](:\d{1,5})?$")
APP_GRANT_RE = re.compile(r"^(\*|[a-z0-9][a-z0-9._-]*\*?)$")


class ConfigError(Exception):
    """The config file is invalid; ``errors`` lists ``path: reason`` strings."""

    def __init__(self, errors: list[str], path: Path | None = None) -> None:
        self.errors = errors
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(errors))


class ConfigUnreadable(ConfigError):
    """The file is missing, unreadable, or not YAML at all."""


# --------------------------------------------------------------------------- paths
def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config`` wins, then ``PRUVON_CONFIG``, then ``/etc/pruvon.yml``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("PRUVON_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def state_dir(create: bool = True) -> Path:
    """The directory for secrets and runtime state, created mode 0700 on first use.

    Secrets (session key, TOTP secrets, API-key hashes) never sit in the YAML;
    they live here, so the config can be shared or versioned without them.
    """
    path = Path(os.environ.get("PRUVON_STATE_DIR") or DEFAULT_STATE_DIR)
    if create and not path.is_dir():
        private_dir(path)
    return path


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class UserRecord:
    """One local user, as the config describes it (legacy ``admin`` included)."""

    username: str
    password_hash: str
    role: str = "user"
    routes: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    services: dict[str, tuple[str, ...]] = field(default_factory=dict)
    disabled: bool = False
    can_create_apps: bool = False
    can_create_services: bool = False
    source: str = "users"
    hosts: tuple[str, ...] | None = None  # host names granted (``None``: every host)

    @property
    def enabled(self) -> bool:
        return not self.disabled


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


class Config:
    """A validated, loaded config: typed accessors over the round-trip data."""

    def __init__(self, data: Any, path: Path | None = None, stamp: tuple[int, ...] = ()) -> None:
        self.data = data if data is not None else {}
        self.path = path
        self.stamp = stamp

    def get(self, dotted: str, default: Any = None) -> Any:
        """``get("pruvon.listen")`` — a nested lookup that tolerates missing levels."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def listen(self) -> str:
        return str(self.get("pruvon.listen") or DEFAULT_LISTEN)

    @property
    def users(self) -> list[UserRecord]:
        """Every user; the legacy top-level ``admin`` becomes an admin user."""
        records: list[UserRecord] = []
        admin = self.data.get("admin")
        if isinstance(admin, dict) and admin.get("username"):
            records.append(
                UserRecord(
                    username=str(admin["username"]),
                    password_hash=str(admin.get("password", "")),
                    role="admin",
                    source="admin",
                )
            )
        for index, raw in enumerate(self.data.get("users") or []):
            records.append(
                UserRecord(
                    username=str(raw.get("username")),
                    password_hash=str(raw.get("password", "")),
                    role=str(raw.get("role") or "user"),
                    routes=_as_tuple(raw.get("routes")),
                    apps=_as_tuple(raw.get("apps")),
                    services={
                        str(k): _as_tuple(v) for k, v in (raw.get("services") or {}).items()
                    },
                    disabled=bool(raw.get("disabled", False)),
                    can_create_apps=bool(raw.get("can_create_apps", False)),
                    can_create_services=bool(raw.get("can_create_services", False)),
                    source=f"users[{index}]",
                    hosts=None if raw.get("hosts") is None else _as_tuple(raw.get("hosts")),
                )
            )
        return records

    def user(self, username: str) -> UserRecord | None:
        for record in self.users:
            if record.username == username:
                return record
        return None

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return dict(value) if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- validation
def is_loopback_listen(listen: str) -> bool:
    """Whether a ``HOST:PORT`` listen address binds only to the loopback interface."""
    host = listen.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_listen(value: Any) -> str | None:
    if not isinstance(value, str) or ":" not in value:
        return "must be HOST:PORT, e.g. 127.0.0.1:8080"
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return f"port {port!r} must be a number from 1 to 65535"
    if not host.strip("[]"):
        return "host must not be empty"
    return None


def _check_string_list(errors: list[str], path: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f"{path}: must be a list of strings")


def _check_bool(errors: list[str], path: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        errors.append(f"{path}: must be true or false")


def _check_password(errors: list[str], path: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        errors.append(f"{path}: is required (a bcrypt hash)")
    elif not BCRYPT_RE.fullmatch(value):
        errors.append(f"{path}: must be a bcrypt hash ($2b$12$…), never a plain-text password")


def _validate_user(errors: list[str], path: str, raw: Any, seen: set[str]) -> None:
    if not isinstance(raw, dict):
        errors.append(f"{path}: must be a mapping with username and password")
        return
    name = raw.get("username")
    if not isinstance(name, str) or not USERNAME_RE.fullmatch(name):
        errors.append(f"{path}.username: must be 1-64 characters of letters, digits, _ . @ -")
    elif name.casefold() in seen:
        errors.append(f"{path}.username: duplicate user {name!r} (names must differ by more than case)")
    else:
        seen.add(name.casefold())
    _check_password(errors, f"{path}.password", raw.get("password"))
    role = raw.get("role", "user")
    if role not in ROLES:
        errors.append(f"{path}.role: must be one of {', '.join(ROLES)}")
    for key in ("routes", "apps"):
        _check_string_list(errors, f"{path}.{key}", raw.get(key))
    for index, grant in enumerate(raw.get("apps") or []):
        if isinstance(grant, str) and not APP_GRANT_RE.fullmatch(grant):
            errors.append(f"{path}.apps[{index}]: {grant!r} is not an app name or pattern")
    for index, route in enumerate(raw.get("routes") or []):
        if isinstance(route, str) and not (route == "*" or route.startswith("/")):
            errors.append(f"{path}.routes[{index}]: must start with / (or be *)")
    services = raw.get("services")
    if services is not None:
        if not isinstance(services, dict):
            errors.append(f"{path}.services: must map a service type to a list of names")
        else:
            for kind, names in services.items():
                _check_string_list(errors, f"{path}.services.{kind}", names)
                for index, svc in enumerate(names or []):
                    if isinstance(svc, str) and svc != "*" and not SERVICE_RE.fullmatch(svc):
                        errors.append(f"{path}.services.{kind}[{index}]: invalid service name")
    for key in ("disabled", "can_create_apps", "can_create_services"):
        _check_bool(errors, f"{path}.{key}", raw.get(key))
    errors += validate_user_hosts(f"{path}.hosts", raw.get("hosts"))


def _validate_security(errors: list[str], raw: Any) -> None:
    if not isinstance(raw, dict):
        errors.append("security: must be a mapping")
        return
    proxies = raw.get("trusted_proxies")
    _check_string_list(errors, "security.trusted_proxies", proxies)
    for index, net in enumerate(proxies or []):
        try:
            ipaddress.ip_network(str(net), strict=False)
        except ValueError:
            errors.append(f"security.trusted_proxies[{index}]: {net!r} is not an IP or CIDR")
    origins = raw.get("allowed_origins")
    _check_string_list(errors, "security.allowed_origins", origins)
    for index, origin in enumerate(origins or []):
        if isinstance(origin, str) and not ORIGIN_RE.fullmatch(origin):
            errors.append(
                f"security.allowed_origins[{index}]: {origin!r} must be scheme://host[:port]"
            )
    _validate_hosts(errors, raw.get("allowed_hosts"))
    _check_bool(errors, "security.trust_forwarded_host", raw.get("trust_forwarded_host"))
    for key, minimum in (
        ("session_idle_minutes", 1),
        ("session_max_hours", 1),
        ("audit_keep", 1),
        ("audit_max_bytes", 4096),
    ):
        value = raw.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < minimum
        ):
            errors.append(f"security.{key}: must be a whole number ≥ {minimum}")


def _validate_hosts(errors: list[str], hosts: Any) -> None:
    """``security.allowed_hosts``: names or bracketed IPv6, each with an optional port."""
    _check_string_list(errors, "security.allowed_hosts", hosts)
    if not isinstance(hosts, list):
        return
    for index, host in enumerate(hosts):
        match = HOST_RE.fullmatch(host) if isinstance(host, str) else None
        if isinstance(host, str) and (match is None or int(match.group(1) or 1) > 65535):
            errors.append(f"security.allowed_hosts[{index}]: {host!r} must be host or host:port")


def _validate_dokku(errors: list[str], raw: Any) -> None:
    if not isinstance(raw, dict):
        errors.append("dokku: must be a mapping")
        return
    for key in ("command", "docker_command"):
        value = raw.get(key)
        if value is not None and not (
            isinstance(value, str)
            or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
        ):
            errors.append(f"dokku.{key}: must be a command (string or list of arguments)")
    ssh = raw.get("ssh")
    if ssh is not None and not (isinstance(ssh, str) and re.fullmatch(r"[\w.-]+@[\w.:-]+", ssh)):
        errors.append("dokku.ssh: must look like dokku@HOST")
    key = raw.get("ssh_key")
    if key is not None and not (isinstance(key, str) and key.startswith("/")):
        errors.append("dokku.ssh_key: must be an absolute path to a private key")
    port = raw.get("ssh_port")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
    ):
        errors.append("dokku.ssh_port: must be a port number from 1 to 65535")
    lib_root = raw.get("lib_root")
    if lib_root is not None and not (isinstance(lib_root, str) and lib_root.startswith("/")):
        errors.append("dokku.lib_root: must be an absolute path (Dokku's DOKKU_LIB_ROOT)")
    for name in ("timeout", "hosts_timeout"):
        timeout = raw.get(name)
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
        ):
            errors.append(f"dokku.{name}: must be a number of seconds > 0")


def validate(data: Any) -> list[str]:
    """Every problem in ``data``, each as ``key.path: reason``; empty when valid."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return ["(top level): must be a mapping of keys to values"]
    errors: list[str] = []
    pruvon = data.get("pruvon")
    if pruvon is not None:
        if not isinstance(pruvon, dict):
            errors.append("pruvon: must be a mapping")
        elif "listen" in pruvon:
            problem = _check_listen(pruvon["listen"])
            if problem:
                errors.append(f"pruvon.listen: {problem}")
    admin = data.get("admin")
    seen: set[str] = set()
    if admin is not None:
        if not isinstance(admin, dict):
            errors.append("admin: must be a mapping with username and password")
        else:
            if not isinstance(admin.get("username"), str) or not admin.get("username"):
                errors.append("admin.username: is required")
            else:
                seen.add(admin["username"].casefold())
            _check_password(errors, "admin.password", admin.get("password"))
    users = data.get("users")
    if users is not None:
        if not isinstance(users, list):
            errors.append("users: must be a list")
        else:
            for index, raw in enumerate(users):
                _validate_user(errors, f"users[{index}]", raw, seen)
    for key, check in (
        ("security", _validate_security),
        ("dokku", _validate_dokku),
    ):
        if data.get(key) is not None:
            check(errors, data[key])
    host_errors = validate_hosts(data.get("hosts"))
    errors += host_errors or _unknown_granted_hosts(data)
    return errors + _plugin_errors(data)


def _unknown_granted_hosts(data: dict[str, Any]) -> list[str]:
    """A user's ``hosts:`` naming a host that is not configured (a typo grants nothing)."""
    users = data.get("users")
    if not isinstance(users, list) or not isinstance(data.get("dokku") or {}, dict):
        return []  # reported by the users/dokku checks already
    known = set(hosts_from_config(Config(data)))
    errors = []
    for index, raw in enumerate(users):
        granted = raw.get("hosts") if isinstance(raw, dict) else None
        if not isinstance(granted, list):
            continue
        errors += [f"users[{index}].hosts[{n}]: no host named {name!r} (known: "
                   f"{', '.join(sorted(known))})"
                   for n, name in enumerate(granted)
                   if isinstance(name, str) and name != "*" and name not in known]
    return errors


def _plugin_errors(data: Any) -> list[str]:
    """Sections owned by plugins (``terminals:`` …) are validated by those plugins."""
    from pruvon_core.plugins import flatten, get_plugin_manager

    manager = get_plugin_manager()
    problems = manager.hook.pruvon_validate_config(data=data, pruvon=manager.pruvon)
    return [str(e) for e in flatten(problems)]


# --------------------------------------------------------------------------- yaml io
def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def parse(text: str, path: Path | None = None) -> Any:
    """Parse YAML text round-trip; raise :class:`ConfigUnreadable` when it is not YAML."""
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise ConfigUnreadable([f"not valid YAML: {exc}"], path) from exc


def dump(data: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    return buffer.getvalue()


def _stamp(stat: os.stat_result) -> tuple[int, ...]:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate a config file; raise :class:`ConfigError` on problems."""
    target = config_path(path)
    try:
        with open(target, encoding="utf-8") as handle:
            stamp = _stamp(os.fstat(handle.fileno()))
            text = handle.read()
    except FileNotFoundError as exc:
        raise ConfigUnreadable([f"file not found: {target}"], target) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigUnreadable([f"cannot read {target}: {exc}"], target) from exc
    data = parse(text, target)
    errors = validate(data)
    if errors:
        raise ConfigError(errors, target)
    return Config(data, target, stamp)


# --------------------------------------------------------------------------- store
class ConfigStore:
    """The live config of a long-running process: reloads when the file changes.

    ``current()`` costs one ``stat`` when nothing changed, so it is called on
    every request; that is what makes user revocation take effect without a
    restart.  When the file becomes invalid, the last good config keeps being
    served and ``error`` says why (shown to admins, logged).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = config_path(path)
        self._config: Config | None = None
        self.error: ConfigError | None = None
        self._lock = threading.Lock()

    def current(self) -> Config:
        """The config as on disk now, or the last good one if it became invalid."""
        try:
            stamp = _stamp(os.stat(self.path))
        except OSError:
            stamp = ()
        with self._lock:
            if self._config is not None and stamp == self._config.stamp:
                return self._config
            try:
                self._config = load_config(self.path)
                self.error = None
            except ConfigError as exc:
                if self._config is None:
                    raise
                self.error = exc
                # remember the bad stamp so we do not re-parse it on every request
                self._config = Config(self._config.data, self._config.path, stamp)
            return self._config

    def update(self, mutate: Callable[[Any], None]) -> Config:
        """Read-modify-write under an exclusive lock; validation guards the write.

        ``mutate`` receives the round-trip data (comments attached) and edits it
        in place.  The file is re-read under the lock, so concurrent writers
        never lose each other's changes.
        """
        target = write_target(self.path)
        with locked(target):
            remove_stale_temp_files(target)
            try:
                text = target.read_text(encoding="utf-8")
            except FileNotFoundError:
                text = ""
            data = parse(text, self.path)
            if data is None:
                data = parse("{}\n")
            before = copy.deepcopy(data)
            mutate(data)
            errors = validate(data)
            if errors:
                raise ConfigError(errors, self.path)
            if data != before or not text:
                atomic_write(target, dump(data))
        with self._lock:
            self._config = None
        return self.current()


def write_target(path: Path) -> Path:
    """The file a config write replaces: a symlink's target, one level, not the link.

    The installer keeps the config in ``/etc/pruvon/`` (owned by the service
    user, writable under systemd's ``ProtectSystem=full`` through
    ``ReadWritePaths``) with ``/etc/pruvon.yml`` a symlink to it, so operators'
    paths keep working.  Writing the link's own directory would need ``/etc``
    writable and would replace the link with a file.  Only one level is
    followed: the write is a rename in the target's directory, so a further
    symlink there is replaced, never written through.
    """
    if not path.is_symlink():
        return path
    return path.parent / os.readlink(path)


def redact(data: Any) -> Any:
    """A deep copy safe to print: passwords, hashes, secrets and keys masked."""
    secret_words = ("password", "secret", "token", "key", "hash")
    if isinstance(data, dict):
        out = type(data)() if hasattr(type(data), "copy_attributes") else {}
        for key, value in data.items():
            if isinstance(key, str) and any(w in key.lower() for w in secret_words) and isinstance(
                value, str | int
            ):
                out[key] = "********"
            else:
                out[key] = redact(value)
        return out
    if isinstance(data, list):
        return [redact(v) for v in data]
    return data
