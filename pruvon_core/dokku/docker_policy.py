"""Which ``docker-options`` a scoped (non-admin) user may set: an allowlist.

Docker options are the widest door from an app to its host: ``--privileged``,
``-v /:/host``, a local volume with ``volume-opt=device=/``, ``--pid=host`` …
each gives root on the host to whoever deploys the app.  A deny-list cannot
keep up with Docker's grammar (quoting, ``--mount`` CSV, driver options), so:

* **everyone** (admins too) gets :func:`docker_option`: the option must be
  shell-safe (:mod:`shellwords`, because Dokku ``eval``\\ s it) and be one flag
  with at most one value;
* a **scoped user** additionally gets :func:`scoped_refusal`: the option is
  parsed the way Docker will parse it after that ``eval`` (pflag long/short
  forms, ``--mount`` as CSV) and must be on :data:`ALLOWED`, each value
  checked.  Anything else is for admins only, and is audited as host access.

Bind mounts for a scoped user are confined to the app's *own* storage directory
``<storage>/<app>`` itself (see :func:`bind_source_refusal` for why not its
subdirectories); named volumes to names owned by the app (``<app>`` or
``<app>_…``) with the local driver and no driver options.  docs/apps.md lists
the allowlist and why each flag cannot reach past the container.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from pruvon_core.dokku import shellwords, validate
from pruvon_core.dokku.errors import DokkuError, InvalidValue

STORAGE_DIR = "/var/lib/dokku/data/storage"
MAX_OPTION = 4096
SIZE_RE = re.compile(r"^[0-9]{1,12}[bkmgBKMG]?$")
DURATION_RE = re.compile(r"^[0-9]{1,6}(ms|s|m|h)$")
RESTART_RE = re.compile(r"^(no|always|unless-stopped|on-failure(:[0-9]{1,4})?)$")
CPUS_RE = re.compile(r"^[0-9]{1,4}(\.[0-9]{1,3})?$")
ULIMIT_RE = re.compile(r"^(nofile|nproc|core)=([0-9]{1,7})(:([0-9]{1,7}))?$")
ULIMIT_MAX = 1048576
LABEL_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")
# labels Dokku and the proxies read: a scoped user could claim another app's
# containers (com.dokku.app-name) or route another app's domains (traefik/caddy)
RESERVED_LABELS = ("com.dokku", "dokku", "traefik", "caddy", "openresty", "haproxy",
                   "com.docker")
SIGNAL_RE = re.compile(r"^((SIG)?[A-Z0-9+-]{2,12}|[0-9]{1,2})$")
CAP_RE = re.compile(r"^[A-Za-z_]{2,32}$")
HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")
TMPFS_FLAGS = ("rw", "ro", "noexec", "exec", "nosuid", "nodev")
TMPFS_VALUE_RE = re.compile(r"^(size=[0-9]{1,12}[kmgKMG%]?|mode=[0-7]{3,4}|[ug]id=[0-9]{1,10})$")
LOG_OPTS = {
    "max-size": SIZE_RE, "max-file": re.compile(r"^[0-9]{1,3}$"),
    "compress": re.compile(r"^(true|false)$"), "mode": re.compile(r"^(blocking|non-blocking)$"),
    "max-buffer-size": SIZE_RE,
}
VOLUME_MODES = ("ro", "rw")


@dataclass(frozen=True)
class Scope:
    """What a scoped user's option may reach: their app and its storage directory."""

    app: str
    storage_dir: str = STORAGE_DIR
    other_apps: tuple[str, ...] = ()  # to refuse ``<app>_x`` volumes of a legacy app "<app>_x"


@dataclass(frozen=True)
class Rule:
    """One allowlisted flag: how its value is checked and why it stays inside the container."""

    why: str
    check: Callable[[str, Scope], None] | None  # None: a boolean flag


# --------------------------------------------------------------------------- everyone
def docker_option(option: object) -> str:
    """One docker option, shell-safe and in one piece, as Dokku should store it.

    Applies to every actor: :class:`InvalidValue` when bash would run or expand
    anything in it, or when it is not one flag with at most one value.
    """
    return shellwords.join(option_words(option))


def option_words(option: object) -> list[str]:
    """The words of one option after Dokku's ``eval``: ``[flag]`` or ``[flag, value]``."""
    if not isinstance(option, str) or not option.strip():
        raise InvalidValue("docker option is empty")
    if len(option) > MAX_OPTION:
        raise InvalidValue(f"docker option is longer than {MAX_OPTION} characters")
    if any(c in "\r\n" for c in option):
        raise InvalidValue("docker option must be one line")
    found = shellwords.words(option.strip())
    if not found or not found[0].startswith("-") or found[0] in ("-", "--") or len(found) > 2 \
            or (len(found) == 2 and found[1].startswith("-")):
        raise InvalidValue("give one docker option: a flag starting with '-' and at most one "
                           "value, e.g. --restart=always or -v name:/data")
    return found


# --------------------------------------------------------------------------- scoped users
def scoped_refusal(option: object, scope: Scope) -> str | None:
    """Why a scoped user may not set ``option`` on ``scope.app``; None when it is allowed.

    The option must already pass :func:`docker_option` (else :class:`InvalidValue`).
    """
    words = option_words(option)
    if len(words) == 2 and _has_inline_value(words[0]):
        return (f"docker option {shellwords.join(words)} gives a value twice; Docker would "
                "read the second word as the image to run")
    flag, value = flag_value(words)
    rule = ALLOWED.get(flag)
    if rule is None:
        return (f"docker option {flag} is not on the allowlist for scoped users "
                "(docs/apps.md); only an admin may set it, as it can reach past the container")
    if rule.check is None and len(words) == 2:
        return f"docker option {flag} takes no separate value (Docker would read it as the image)"
    try:
        _check_value(flag, value, rule, scope)
    except DokkuError as exc:  # InvalidValue, or InvalidName from validate.env_key
        return exc.message
    return None


def _has_inline_value(first: str) -> bool:
    """``--flag=value`` or ``-fvalue``: a second word would be a positional argument."""
    return "=" in first if first.startswith("--") else len(first) > 2


def flag_value(words: list[str]) -> tuple[str, str | None]:
    """(long flag name, value) as pflag reads ``--f=v``, ``--f v``, ``-fv``, ``-f=v``, ``-f v``.

    A short word names its first letter only (pflag reads ``-tv/:/h`` as ``-t``
    then ``-v``): an unknown or boolean first letter is returned as is and is
    therefore never on the allowlist.  ``None`` means no value was given.
    """
    first = words[0]
    second = words[1] if len(words) == 2 else None
    if first.startswith("--"):
        name, sep, inline = first.partition("=")
        return name, inline if sep else second
    long_name = SHORT.get(first[1], first[:2])
    rest = first[2:]
    if rest:
        return long_name, rest.removeprefix("=")
    return long_name, second


def _check_value(flag: str, value: str | None, rule: Rule, scope: Scope) -> None:
    if rule.check is None:
        if value not in (None, "true", "false"):
            raise InvalidValue(f"docker option {flag} takes no value (or =true/=false)")
        return
    if value is None or value == "":
        raise InvalidValue(f"docker option {flag} needs a value")
    rule.check(value, scope)


def _match(pattern: re.Pattern[str], what: str) -> Callable[[str, Scope], None]:
    def check(value: str, scope: Scope) -> None:
        if not pattern.fullmatch(value):
            raise InvalidValue(f"docker option {what} must be {_describe(pattern)}, "
                               f"not {value!r}")
    return check


def _describe(pattern: re.Pattern[str]) -> str:
    return {SIZE_RE: "a size such as 256m", DURATION_RE: "a duration such as 30s",
            RESTART_RE: "no, always, unless-stopped or on-failure[:N]",
            CPUS_RE: "a number of CPUs such as 1.5", SIGNAL_RE: "a signal such as SIGTERM",
            CAP_RE: "a capability name such as NET_RAW or ALL"}.get(pattern, "valid")


def _number(low: int, high: int, what: str) -> Callable[[str, Scope], None]:
    def check(value: str, scope: Scope) -> None:
        if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
            raise InvalidValue(f"docker option {what} must be a whole number from {low} "
                               f"to {high}, not {value!r}")
    return check


def _ulimit(value: str, scope: Scope) -> None:
    match = ULIMIT_RE.fullmatch(value)
    soft = int(match.group(2)) if match else 0
    hard = int(match.group(4)) if match and match.group(4) else soft
    if not match or soft > hard or hard > ULIMIT_MAX:
        raise InvalidValue(f"docker option --ulimit must be nofile, nproc or core "
                           f"=SOFT[:HARD] with SOFT <= HARD <= {ULIMIT_MAX}, not {value!r}")


def _log_driver(value: str, scope: Scope) -> None:
    if value not in ("json-file", "local", "none"):
        raise InvalidValue("docker option --log-driver may be json-file, local or none for "
                           "scoped users (other drivers write to host sockets or the network)")


def _log_opt(value: str, scope: Scope) -> None:
    key, _, setting = value.partition("=")
    pattern = LOG_OPTS.get(key)
    if pattern is None or not pattern.fullmatch(setting):
        raise InvalidValue(f"docker option --log-opt must be one of {', '.join(LOG_OPTS)} "
                           f"with a valid value, not {value!r}")


def _label(value: str, scope: Scope) -> None:
    key = value.partition("=")[0]
    if not LABEL_KEY_RE.fullmatch(key):
        raise InvalidValue(f"docker option --label needs KEY[=VALUE] with a key of letters, "
                           f"digits and . _ / -, not {value!r}")
    if key.lower().startswith(RESERVED_LABELS):
        raise InvalidValue(f"docker option --label {key}: labels under "
                           f"{', '.join(RESERVED_LABELS)} are read by Dokku or the proxy "
                           "(they could claim another app's containers or domains); "
                           "only an admin may set them")


def _env(value: str, scope: Scope) -> None:
    key, sep, _ = value.partition("=")
    if not sep:
        raise InvalidValue("docker option --env needs KEY=VALUE: a bare KEY copies the "
                           "variable from Dokku's own environment")
    validate.env_key(key)


def _add_host(value: str, scope: Scope) -> None:
    name, sep, address = value.partition("=")
    if not sep:
        name, _, address = value.partition(":")
    try:
        if address != "host-gateway":
            ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        address = ""
    if not HOST_RE.fullmatch(name) or not address:
        raise InvalidValue(f"docker option --add-host needs HOST:IP, not {value!r}")


def _security_opt(value: str, scope: Scope) -> None:
    if value not in ("no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"):
        raise InvalidValue("docker option --security-opt may only be no-new-privileges for "
                           "scoped users (the others can switch confinement off)")


def _tmpfs(value: str, scope: Scope) -> None:
    path, _, options = value.partition(":")
    validate.container_path(path)
    for item in options.split(",") if options else []:
        if item not in TMPFS_FLAGS and not TMPFS_VALUE_RE.fullmatch(item):
            raise InvalidValue(f"docker option --tmpfs option {item!r} is not allowed; use "
                               f"{', '.join(TMPFS_FLAGS)}, size=, mode=, uid= or gid=")


# --------------------------------------------------------------------------- mounts
def _volume(value: str, scope: Scope) -> None:
    """``-v [SOURCE:]TARGET[:MODE]`` (Docker's Linux volume-spec grammar)."""
    parts = value.split(":")
    if len(parts) > 3:
        raise InvalidValue(f"docker option --volume {value!r} has too many ':' parts")
    if len(parts) == 1:
        validate.container_path(parts[0])  # an anonymous volume
        return
    source, target = parts[0], parts[1]
    validate.container_path(target)
    for mode in parts[2].split(",") if len(parts) == 3 else []:
        if mode not in VOLUME_MODES:
            raise InvalidValue(f"docker option --volume mode {mode!r} is not allowed for "
                               "scoped users; use ro or rw")
    _source(source, scope, bind=source.startswith("/"))


def _mount(value: str, scope: Scope) -> None:
    """``--mount`` key=value CSV; only type, source, target and read-only settings pass."""
    fields = csv_fields(value)
    seen: dict[str, str] = {}
    for field in fields:
        key, sep, setting = field.partition("=")
        name = MOUNT_KEYS.get(key)
        if name is None:
            raise InvalidValue(f"docker option --mount key {key!r} is not allowed for scoped "
                               "users (volume and bind options can reach the host); allowed: "
                               "type, source/src, target/dst/destination, readonly/ro, "
                               "tmpfs-size, tmpfs-mode")
        if name in seen:
            raise InvalidValue(f"docker option --mount gives {name} twice")
        if not sep and name != "readonly":
            raise InvalidValue(f"docker option --mount field {field!r} must be key=value")
        seen[name] = setting if sep else "true"
    _mount_values(seen, scope)


MOUNT_KEYS = {"type": "type", "source": "source", "src": "source", "target": "target",
              "dst": "target", "destination": "target", "readonly": "readonly",
              "ro": "readonly", "tmpfs-size": "tmpfs-size", "tmpfs-mode": "tmpfs-mode"}


def _mount_values(fields: dict[str, str], scope: Scope) -> None:
    kind = fields.get("type", "volume")
    if kind not in ("bind", "volume", "tmpfs"):
        raise InvalidValue(f"docker option --mount type {kind!r} is not allowed for scoped "
                           "users; use bind, volume or tmpfs")
    validate.container_path(fields.get("target", ""))
    if fields.get("readonly", "true") not in ("true", "false", "1", "0"):
        raise InvalidValue("docker option --mount readonly must be true or false")
    if kind == "tmpfs":
        if "source" in fields:
            raise InvalidValue("docker option --mount type=tmpfs takes no source")
        _match(SIZE_RE, "--mount tmpfs-size")(fields.get("tmpfs-size", "0"), scope)
        _match(re.compile(r"^[0-7]{3,4}$"), "--mount tmpfs-mode")(
            fields.get("tmpfs-mode", "1777"), scope)
        return
    if "tmpfs-size" in fields or "tmpfs-mode" in fields:
        raise InvalidValue("docker option --mount tmpfs-* settings need type=tmpfs")
    source = fields.get("source", "")
    if kind == "volume" and source.startswith("/"):
        raise InvalidValue("docker option --mount type=volume needs a volume name as source")
    if kind == "bind" and not source.startswith("/"):
        raise InvalidValue("docker option --mount type=bind needs an absolute source")
    if kind == "volume" and not source:
        return  # an anonymous volume
    _source(source, scope, bind=kind == "bind")


def csv_fields(value: str) -> list[str]:
    """One record as Go's ``encoding/csv`` reads it (Docker's ``--mount`` parser).

    ``"source=/"`` is the field ``source=/``; ``""`` inside quotes is one quote;
    a quote inside an unquoted field, or text after a closing quote, is an error.
    """
    fields: list[str] = []
    index = 0
    while True:
        if value.startswith('"', index):
            text, index = _quoted_field(value, index + 1)
        else:
            end = value.find(",", index)
            end = len(value) if end < 0 else end
            text = value[index:end]
            if '"' in text:
                raise InvalidValue(f"docker option --mount {value!r}: bare quote in a field")
            index = end
        fields.append(text)
        if index >= len(value):
            return fields
        index += 1  # the comma


def _quoted_field(value: str, index: int) -> tuple[str, int]:
    out: list[str] = []
    while index < len(value):
        char = value[index]
        if char != '"':
            out.append(char)
            index += 1
        elif value.startswith('""', index):
            out.append('"')
            index += 2
        elif index + 1 == len(value) or value[index + 1] == ",":
            return "".join(out), index + 1
        else:
            raise InvalidValue(f"docker option --mount {value!r}: text after a closing quote")
    raise InvalidValue(f"docker option --mount {value!r}: unbalanced quote")


def _source(source: str, scope: Scope, bind: bool) -> None:
    reason = bind_source_refusal(source, scope) if bind else volume_name_refusal(source, scope)
    if reason:
        raise InvalidValue(reason)


def own_storage(scope: Scope) -> str:
    return f"{scope.storage_dir.rstrip('/')}/{validate.app_name(scope.app)}"


def bind_source_refusal(source: str, scope: Scope) -> str | None:
    """Why a scoped user may not bind host path ``source``; None if it is the app's own dir.

    Only ``<storage>/<app>`` itself: the app can write inside it, so it could
    replace any subdirectory with a symlink to ``/`` between this check and the
    next deploy, and Docker follows symlinks in a bind source.  The directory
    itself cannot be swapped from inside (it is the mount point, and its parent
    is not mounted).  ``..``, ``.``, doubled slashes and a source that resolves
    elsewhere through a symlink on this host are refused (the storage directory
    itself may be a symlink, e.g. ``/var/lib/dokku`` on another disk).
    """
    own = own_storage(scope)
    if any(part in (".", "..") for part in source.split("/")):
        return f"host path {source!r} must not contain '.' or '..' components"
    if source != own:
        return (f"host path {source} is not this app's storage directory {own}: scoped users "
                "may mount only that directory itself (mount it once and use subdirectories "
                "inside the container); an admin may mount other paths")
    real = os.path.realpath(source)
    expected = f"{os.path.realpath(scope.storage_dir.rstrip('/'))}/{scope.app}"
    if real != expected:
        return (f"host path {source} resolves to {real} through a symlink; scoped users may "
                "mount only a real directory (an admin may mount it)")
    return None


def volume_name_refusal(name: str, scope: Scope) -> str | None:
    """Why a scoped user may not use named volume ``name``; None if the app owns the name.

    Named volumes are global to the Docker host, so another app's volume (or one
    an admin created over a host path) must not be reachable by name: a scoped
    user uses ``<app>`` or ``<app>_<suffix>`` (app names created by Dokku ≥0.38
    cannot contain ``_``; older apps named that way are checked by name).
    """
    try:
        validate.volume_name(name)
    except DokkuError as exc:
        return exc.message
    app = scope.app
    if name != app and not name.startswith(f"{app}_"):
        return (f"named volume {name!r} does not belong to app {app}: scoped users may use "
                f"volumes named {app} or {app}_<name>")
    if any(other != app and (name == other or name.startswith(f"{other}_"))
           and len(other) > len(app) for other in scope.other_apps):
        return f"named volume {name!r} belongs to another app"
    return None


# --------------------------------------------------------------------------- the allowlist
SIZE = _match(SIZE_RE, "size")
ALLOWED: dict[str, Rule] = {
    "--restart": Rule("restart policy of the app's own containers", _match(RESTART_RE,
                                                                         "--restart")),
    "--memory": Rule("a limit: only lowers what the container may use", SIZE),
    "--memory-reservation": Rule("a soft limit for the container", SIZE),
    "--memory-swap": Rule("a limit on the container's swap", SIZE),
    "--shm-size": Rule("size of the container's private /dev/shm (counts as its memory)",
                       SIZE),
    "--cpus": Rule("a CPU limit", _match(CPUS_RE, "--cpus")),
    "--cpu-shares": Rule("a relative CPU weight", _number(2, 262144, "--cpu-shares")),
    "--pids-limit": Rule("a limit on the container's processes", _number(1, 1000000,
                                                                        "--pids-limit")),
    "--ulimit": Rule("nofile/nproc/core only, bounded; no realtime or memlock", _ulimit),
    "--log-driver": Rule("json-file/local/none keep logs in Docker's own files", _log_driver),
    "--log-opt": Rule("rotation settings of those drivers", _log_opt),
    "--label": Rule("metadata; Dokku's and proxies' namespaces refused", _label),
    "--env": Rule("a variable inside the container (KEY=VALUE only)", _env),
    "--tmpfs": Rule("a memory file system inside the container", _tmpfs),
    "--init": Rule("runs Docker's init as PID 1 inside the container", None),
    "--read-only": Rule("makes the container's root file system read-only", None),
    "--stop-timeout": Rule("seconds Docker waits before killing", _number(0, 3600,
                                                                          "--stop-timeout")),
    "--stop-signal": Rule("the signal sent to stop the container", _match(SIGNAL_RE,
                                                                          "--stop-signal")),
    "--health-cmd": Rule("a command run inside the container", lambda value, scope: None),
    "--health-interval": Rule("health-check timing", _match(DURATION_RE, "--health-interval")),
    "--health-timeout": Rule("health-check timing", _match(DURATION_RE, "--health-timeout")),
    "--health-start-period": Rule("health-check timing", _match(DURATION_RE,
                                                                "--health-start-period")),
    "--health-start-interval": Rule("health-check timing", _match(DURATION_RE,
                                                                  "--health-start-interval")),
    "--health-retries": Rule("health-check retries", _number(1, 100, "--health-retries")),
    "--no-healthcheck": Rule("switches the image's health check off", None),
    "--add-host": Rule("a line in the container's own /etc/hosts", _add_host),
    "--cap-drop": Rule("removes capabilities: only ever narrows", _match(CAP_RE, "--cap-drop")),
    "--security-opt": Rule("no-new-privileges only: only ever narrows", _security_opt),
    "--volume": Rule("the app's own storage dir, its own named volumes, or anonymous", _volume),
    "--mount": Rule("bind/volume/tmpfs without driver, propagation or volume options", _mount),
}
SHORT = {"m": "--memory", "c": "--cpu-shares", "l": "--label", "e": "--env", "v": "--volume"}
