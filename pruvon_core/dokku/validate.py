"""Validation of every argument before it reaches a Dokku argv (DESIGN §4).

Dokku itself is lax: ``domains:add`` accepts ``-x.com``, ``ps:scale web=-1``
removes containers, ``postgres:create -x`` creates a service called ``-x``, and a
config value ending in ``"`` corrupts the app's ENV file.  So Pruvon checks
names and values itself, first, and raises :class:`InvalidName` /
:class:`InvalidValue` with a message that says exactly what is wrong.  Nothing
that starts with ``-`` is ever passed where a name is expected, so no name can
be mistaken for an option.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from pruvon_core.dokku.errors import InvalidName, InvalidValue

NEW_APP_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
EXISTING_APP_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SERVICE_RE = re.compile(r"^[A-Za-z0-9_-]+$")
SERVICE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PROCESS_TYPE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
DYNO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.[0-9]+$")
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
VOLUME_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]+$")
PATH_CHARS_RE = re.compile(r"^[A-Za-z0-9._/@+-]+$")
MAX_PATH = 1024
IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")
PORT_SCHEMES = ("http", "https", "tcp", "udp", "grpc", "grpcs")
MAX_NAME = 200
MAX_DOMAIN = 253
DOMAIN_CHARS_RE = re.compile(r"^[A-Za-z0-9*][A-Za-z0-9.-]*$")
MAX_SCALE = 1000
MAX_VALUE = 64 * 1024
# docker's own rule for container names (daemon/names.go), or a (partial) hex id
CONTAINER_REF_RE = re.compile(r"^(?:[a-zA-Z0-9][a-zA-Z0-9_.-]+|[0-9a-f]{12,64})$")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"{what} must be a string, not {type(value).__name__}")
    return value


def _name(
    value: object, what: str, pattern: re.Pattern[str], rule: str, limit: int = MAX_NAME
) -> str:
    text = _text(value, what)
    if not text:
        raise InvalidName(f"{what} is empty")
    if text.startswith("-"):
        raise InvalidName(f"{what} {text!r} starts with '-', which Dokku would read as an option")
    if len(text) > limit:
        raise InvalidName(f"{what} is longer than {limit} characters")
    if not pattern.fullmatch(text):  # fullmatch: ``$`` alone lets a final newline through
        raise InvalidName(f"{what} {text!r} is invalid: {rule}")
    return text


def app_name(name: object, *, existing: bool = True) -> str:
    """An app name; ``existing=False`` applies Dokku ≥0.38's stricter rule for new apps."""
    if existing:
        rule = "lowercase letters, digits, '.', '-' and '_', starting with a letter or digit"
        return _name(name, "app name", EXISTING_APP_RE, rule)
    rule = "lowercase letters, digits, '.' and '-', starting with a letter or digit"
    return _name(name, "app name", NEW_APP_RE, rule)


def service_name(name: object) -> str:
    """A service name (``postgres:create NAME``)."""
    return _name(name, "service name", SERVICE_RE, "letters, digits, '_' and '-' only")


def service_type(kind: object) -> str:
    """A service plugin name such as ``postgres`` or ``redis``."""
    return _name(kind, "service type", SERVICE_TYPE_RE, "lowercase letters, digits and '-'")


def env_key(key: object) -> str:
    """An environment variable name."""
    rule = "letters, digits and '_', not starting with a digit"
    return _name(key, "config key", ENV_KEY_RE, rule)


def env_value(key: str, value: object) -> str:
    """A config value.  Any text is fine except what Dokku would store corrupted."""
    text = _text(value, f"value of {key}")
    if "\x00" in text:
        raise InvalidValue(f"value of {key} contains a NUL byte")
    if len(text.encode()) > MAX_VALUE:
        raise InvalidValue(f"value of {key} is larger than {MAX_VALUE // 1024} KiB")
    if text.endswith('"'):
        raise InvalidValue(
            f"value of {key} ends with '\"': Dokku stores such a value corrupted and then "
            "cannot read the app's config at all; add a trailing space or quote differently"
        )
    return text


def process_type(name: object) -> str:
    """A Procfile process type (``web``, ``worker``)."""
    return _name(name, "process type", PROCESS_TYPE_RE, "letters, digits, '_' and '-'")


def dyno(name: object) -> str:
    """A container of a process type, ``web.1``."""
    return _name(name, "dyno", DYNO_RE, "a process type, a dot and a number, e.g. web.1")


def domain(name: object) -> str:
    """An RFC 1123 host name (optionally ``*.`` wildcard), returned lowercased."""
    text = _name(name, "domain", DOMAIN_CHARS_RE, "RFC 1123 host name", limit=MAX_DOMAIN)
    host = text.lower()
    labels = host[2:].split(".") if host.startswith("*.") else host.split(".")
    if len(host) > MAX_DOMAIN or not all(LABEL_RE.fullmatch(label) for label in labels):
        raise InvalidName(
            f"domain {text!r} is invalid: dot-separated labels of 1-63 letters, digits and '-', "
            "not starting or ending with '-', 253 characters at most"
        )
    return host


def domains(names: Iterable[object]) -> list[str]:
    """Several domains; at least one."""
    result = [domain(name) for name in names]
    if not result:
        raise InvalidValue("no domain given")
    return result


def scale_count(process: str, count: object) -> int:
    """A process count; Dokku accepts ``-1`` and deletes the containers, we do not."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidValue(f"count for {process} must be a whole number")
    if not 0 <= count <= MAX_SCALE:
        raise InvalidValue(f"count for {process} must be between 0 and {MAX_SCALE}")
    return count


def port(value: object, what: str) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidValue(f"{what} must be a port number from 1 to 65535")
    return value


def port_mapping(scheme: object, host_port: object, container_port: object) -> str:
    """``scheme:host:container`` for ports:add/set/remove, each part checked."""
    if scheme not in PORT_SCHEMES:
        raise InvalidValue(f"port scheme must be one of {', '.join(PORT_SCHEMES)}")
    return f"{scheme}:{port(host_port, 'host port')}:{port(container_port, 'container port')}"


def container_path(value: object, what: str = "container path") -> str:
    """An absolute, normalised path of safe characters (a mount's host or container side).

    Dokku passes mounts to Docker through ``eval "ARG_ARRAY=($DOCKER_ARGS)"``, so
    a path is shell code there: ``/$(touch /tmp/x)`` or ``/x;id`` would run as
    the dokku user.  Only :data:`PATH_CHARS_RE` characters pass, and ``.``,
    ``..``, ``//`` and a trailing ``/`` are refused rather than normalised, so
    what is shown is what is mounted.
    """
    text = _text(value, what)
    if not text.startswith("/") or text == "/" or len(text) > MAX_PATH:
        raise InvalidValue(f"{what} {text!r} must be an absolute path other than '/' "
                           f"(at most {MAX_PATH} characters)")
    if not PATH_CHARS_RE.fullmatch(text):
        raise InvalidValue(f"{what} {text!r} may contain only letters, digits and . _ / @ + - "
                           "(no spaces, quotes or shell characters)")
    if any(part in ("", ".", "..") for part in text.split("/")[1:]):
        raise InvalidValue(f"{what} {text!r} must not contain '.', '..', '//' or a "
                           "trailing '/' (it must be normalised)")
    return text


def container_ref(ref: object) -> str:
    """A docker container id (12-64 hex digits) or name, before any ``docker`` argv."""
    return _name(ref, "container", CONTAINER_REF_RE,
                 "use the container's id (hex) or its name (letters, digits, _ . -)", 128)


def volume_name(name: object) -> str:
    """A docker named volume (Dokku's VerifyPaths rule for the non-path form)."""
    return _name(name, "volume name", VOLUME_NAME_RE,
                 "two or more letters, digits, '_', '.' or '-', starting with a letter or digit")


def mount(host: object, container: object) -> str:
    """``host:container`` for storage:mount; host is an absolute path or a volume name."""
    host_text = _text(host, "host path")
    if not VOLUME_NAME_RE.fullmatch(host_text):
        container_path(host_text, "host path")
    return f"{host_text}:{container_path(container)}"


def image(ref: object) -> str:
    """A docker image reference for ``git:from-image``."""
    text = _name(ref, "image", IMAGE_RE, "a docker image reference such as nginx:1.27")
    if ".." in text or "//" in text:
        raise InvalidName(
            f"image {text!r} is invalid: a docker image reference has no '..' or '//'"
        )
    return text


def command(args: Iterable[object]) -> list[str]:
    """A command for ``run``/``enter``: argv words, the first not an option."""
    words = [_text(word, "command word") for word in args]
    if not words or not words[0]:
        raise InvalidValue("no command given")
    if words[0].startswith("-"):
        raise InvalidValue(f"command {words[0]!r} starts with '-'")
    if any("\x00" in word for word in words):
        raise InvalidValue("command contains a NUL byte")
    return words


def count(value: object, what: str, maximum: int) -> int:
    """A small positive number such as a log line count."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidValue(f"{what} must be a whole number from 1 to {maximum}")
    return value


# --------------------------------------------------------------------------- git:sync
GIT_URL_SCHEMES = ("https", "ssh", "git", "file")
SCP_LIKE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9.-]*:[^:]")
URL_RE = re.compile(r"^([a-z][a-z0-9+.-]*)://(.*)$")
# stricter than git: the characters real branch and tag names use, so no shell
# metacharacter or quote ever reaches Dokku (or the ssh command string) as a ref
REF_CHARS_RE = re.compile(r"^[A-Za-z0-9._/+@-]+$")


def git_repo(url: object) -> str:
    """A repository for ``git:sync``: https://, ssh://, git://, file:// or ``user@host:path``.

    Other transports are refused: git's ``ext::`` runs a command, ``http://`` is
    unauthenticated, a leading ``-`` would be read as an option.  A password in
    the URL would end up in the process table and the audit log, so it is
    refused too (Dokku's ``git:auth`` stores credentials instead).
    """
    text = _text(url, "git repository")
    if not text:
        raise InvalidValue("git repository is empty")
    if text.startswith("-"):
        raise InvalidValue(f"git repository {text!r} starts with '-'")
    if any(ch.isspace() or ord(ch) < 32 for ch in text) or len(text) > 2048:
        raise InvalidValue("git repository must be one URL without spaces or control characters")
    if SCP_LIKE_RE.match(text):
        return text
    match = URL_RE.match(text)
    if not match or match.group(1) not in GIT_URL_SCHEMES or not match.group(2):
        raise InvalidValue(f"git repository {text!r} must be an https://, ssh://, git:// "
                           "or file:// URL, or user@host:path")
    userinfo = match.group(2).split("/", 1)[0].rpartition("@")[0]
    if ":" in userinfo:
        raise InvalidValue("git repository must not contain a password; store it on the host "
                           "with 'dokku git:auth HOST USER PASSWORD'")
    return text


def git_ref(ref: object) -> str:
    """A branch, tag or commit, by ``git check-ref-format`` rules (plus no leading ``-``)."""
    text = _text(ref, "git ref")
    problem = _ref_problem(text)
    if problem:
        raise InvalidValue(f"git ref {text!r} is invalid: {problem}")
    return text


def _ref_problem(text: str) -> str | None:
    if not text:
        return "it is empty"
    if len(text) > 255:
        return "it is longer than 255 characters"
    if text.startswith(("-", "/")) or text.endswith(("/", ".", ".lock")):
        return "it must not start with '-' or '/' nor end with '/', '.' or '.lock'"
    if not REF_CHARS_RE.fullmatch(text):  # not match: "$" allows a final newline
        return "only letters, digits and . _ / + @ - are allowed"
    if ".." in text or "//" in text or "@{" in text or text == "@":
        return "'..', '//', '@{' and a lone '@' are not allowed"
    if any(part.startswith(".") for part in text.split("/")):
        return "no component may start with '.'"
    return None


# --------------------------------------------------------------------------- app settings
SIZE_RE = re.compile(r"^[0-9]{1,9}[kmgKMG]?$")
SECONDS_RE = re.compile(r"^[0-9]{1,6}(ms|s|m|h)?$")
BOOL_VALUES = ("true", "false")
# nginx:set keys Pruvon lets an operator change, and what each value must look like.
# Paths, the nginx service command and the sigil template are left out on purpose:
# they name host files or commands, which is root's business, not the UI's.
NGINX_KEYS: dict[str, tuple[re.Pattern[str] | tuple[str, ...], str]] = {
    "client-max-body-size": (SIZE_RE, "a size such as 10m or 1g (0 = unlimited)"),
    "client-body-timeout": (SECONDS_RE, "a time such as 60s"),
    "client-header-timeout": (SECONDS_RE, "a time such as 60s"),
    "keepalive-timeout": (SECONDS_RE, "a time such as 75s"),
    "lingering-timeout": (SECONDS_RE, "a time such as 5s"),
    "proxy-connect-timeout": (SECONDS_RE, "a time such as 60s"),
    "proxy-read-timeout": (SECONDS_RE, "a time such as 60s"),
    "proxy-send-timeout": (SECONDS_RE, "a time such as 60s"),
    "proxy-buffering": (("on", "off"), "on or off"),
    "proxy-buffer-size": (SIZE_RE, "a size such as 4k"),
    "proxy-busy-buffers-size": (SIZE_RE, "a size such as 8k"),
    "proxy-buffers": (re.compile(r"^[0-9]{1,4} [0-9]{1,6}[kmKM]?$"), "count and size, e.g. 8 4k"),
    "hsts": (BOOL_VALUES, "true or false"),
    "hsts-include-subdomains": (BOOL_VALUES, "true or false"),
    "hsts-preload": (BOOL_VALUES, "true or false"),
    "hsts-max-age": (re.compile(r"^[0-9]{1,10}$"), "seconds, e.g. 15724800"),
    "x-forwarded-ssl": (("on", "off"), "on or off"),
}
RESOURCE_NAMES: dict[str, tuple[re.Pattern[str], str]] = {
    "cpu": (re.compile(r"^[0-9]{1,4}(\.[0-9]{1,3})?$"), "a number of CPUs such as 0.5 or 2"),
    "memory": (re.compile(r"^[0-9]{1,9}[bkmgBKMG]?$"), "a size such as 512m or 1g"),
    "memory-swap": (re.compile(r"^[0-9]{1,9}[bkmgBKMG]?$"), "a size such as 1g"),
    "nvidia-gpu": (re.compile(r"^[0-9]{1,3}$"), "a number of GPUs"),
}
RESOURCE_KINDS = ("limit", "reserve")
DOCKER_PHASES = ("build", "deploy", "run")


def nginx_setting(key: object, value: object) -> tuple[str, str]:
    """A key of :data:`NGINX_KEYS` and a value of its form; ``""`` resets to Dokku's default."""
    key_text = _text(key, "nginx setting")
    if key_text not in NGINX_KEYS:
        raise InvalidValue(f"nginx setting {key_text!r} cannot be changed here; allowed: "
                           f"{', '.join(NGINX_KEYS)}")
    text = _text(value, f"value of {key_text}").strip()
    rule, description = NGINX_KEYS[key_text]
    if text:
        ok = text in rule if isinstance(rule, tuple) else rule.fullmatch(text)
        if not ok:
            raise InvalidValue(f"{key_text} must be {description}, not {text!r}")
    return key_text, text


def resources(kind: object, values: dict[str, object]) -> list[str]:
    """``--cpu 0.5 --memory 512m`` flags for ``resource:limit|reserve``; at least one."""
    if kind not in RESOURCE_KINDS:
        raise InvalidValue(f"resource kind must be one of {', '.join(RESOURCE_KINDS)}")
    flags: list[str] = []
    for name, value in values.items():
        if name not in RESOURCE_NAMES:
            raise InvalidValue(f"unknown resource {name!r}; allowed: {', '.join(RESOURCE_NAMES)}")
        text = _text(value, name).strip()
        pattern, description = RESOURCE_NAMES[name]
        if not pattern.fullmatch(text):
            raise InvalidValue(f"{name} must be {description}, not {text!r}")
        flags += [f"--{name}", text]
    if not flags:
        raise InvalidValue(f"give at least one of {', '.join(RESOURCE_NAMES)}")
    return flags


def docker_phases(phases: Iterable[object]) -> str:
    """A comma list of build/deploy/run, as docker-options expects."""
    chosen = [_text(p, "phase") for p in phases]
    if not chosen or any(p not in DOCKER_PHASES for p in chosen):
        raise InvalidValue(f"phases must be some of {', '.join(DOCKER_PHASES)}")
    return ",".join(dict.fromkeys(chosen))


# --------------------------------------------------------------------------- service plugins
LINK_ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
QUERYSTRING_RE = re.compile(r"^[A-Za-z0-9._~%+-]+=[A-Za-z0-9._~%+,:/-]*"
                            r"(&[A-Za-z0-9._~%+-]+=[A-Za-z0-9._~%+,:/-]*)*$")
EXPOSE_PORT_RE = re.compile(r"^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5})$")
NETWORK_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
IMAGE_VERSION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
SERVICE_PASSWORD_RE = re.compile(r"^[A-Za-z0-9._~+=^-]{1,128}$")
MAX_FLAG_TEXT = 4096


def link_alias(alias: object) -> str:
    """``--alias`` of ``<type>:link``: the app gets ``<ALIAS>_URL``."""
    rule = "letters, digits and '_', starting with a letter (the app gets ALIAS_URL)"
    return _name(alias, "link alias", LINK_ALIAS_RE, rule, limit=63)


def querystring(text: object) -> str:
    """``--querystring`` of ``<type>:link``: ``key=value&key=value`` appended to the URL."""
    return _name(text, "querystring", QUERYSTRING_RE,
                 "key=value pairs joined by '&', e.g. pool=5&sslmode=require", limit=1024)


def expose_port(text: object) -> str:
    """A port of ``<type>:expose``: ``PORT`` or ``IPV4:PORT`` (one per service port)."""
    value = _text(text, "exposed port").strip()
    match = EXPOSE_PORT_RE.fullmatch(value)
    if not match or (match.group(1) and not all(
            int(part) <= 255 for part in match.group(1).split("."))):
        raise InvalidValue(f"exposed port {value!r} must be PORT or IPV4:PORT, e.g. 15432 "
                           "or 127.0.0.1:15432")
    port(match.group(2), "exposed port")
    return value


def _free_text(value: str, what: str) -> str:
    """Text a plugin stores or passes on: one line, no NUL, bounded."""
    if not value or "\n" in value or "\r" in value or "\x00" in value:
        raise InvalidValue(f"{what} must be one non-empty line")
    if len(value) > MAX_FLAG_TEXT:
        raise InvalidValue(f"{what} is longer than {MAX_FLAG_TEXT} characters")
    return value


def _custom_env(value: str, what: str) -> str:
    """``KEY=value;KEY2=value``: the plugin splits on ';' and writes each to the service's ENV."""
    for item in _free_text(value, what).split(";"):
        key, equals, _ = item.partition("=")
        if not equals or not ENV_KEY_RE.fullmatch(key):
            raise InvalidValue(f"{what} must be KEY=value pairs separated by ';', "
                               f"not {item!r}")
    return value


def _networks(value: str, what: str) -> str:
    for network in value.split(","):
        if not NETWORK_RE.fullmatch(network):
            raise InvalidValue(f"{what} must be docker network names separated by ',', "
                               f"not {network!r}")
    return value


def _pattern(pattern: re.Pattern[str], rule: str) -> Callable[[str, str], str]:
    def check(value: str, what: str) -> str:
        if not pattern.fullmatch(value):
            raise InvalidValue(f"{what} must be {rule}, not {value!r}")
        return value
    return check


SERVICE_FLAG_CHECKS: dict[str, Callable[[str, str], str]] = {
    "--config-options": _free_text,
    "--custom-env": _custom_env,
    "--image": lambda value, what: image(value),
    "--image-version": _pattern(IMAGE_VERSION_RE, "an image tag such as 18.4"),
    "--memory": _pattern(re.compile(r"^[1-9][0-9]{0,6}$"), "megabytes, e.g. 512"),
    "--initial-network": _pattern(NETWORK_RE, "a docker network name"),
    "--post-create-network": _networks,
    "--post-start-network": _networks,
    "--password": _pattern(SERVICE_PASSWORD_RE, "letters, digits and ._~+=^- (1-128)"),
    "--root-password": _pattern(SERVICE_PASSWORD_RE, "letters, digits and ._~+=^- (1-128)"),
    "--shm-size": _pattern(re.compile(r"^[1-9][0-9]{0,9}[bkmgBKMG]?$"), "a size such as 256m"),
    "--restart-apps": _pattern(re.compile(r"^(true|false)$"), "true or false"),
}


def service_flags(values: Mapping[str, object], allowed: Iterable[str]) -> list[str]:
    """``--flag value`` argv words for ``<type>:create|clone|upgrade``, each value checked.

    ``values`` maps a long flag (``--image``) or its bare name (``image``) to a
    string; empty values are left out; a flag outside ``allowed`` (the kind's
    create flags) is refused, so nothing Pruvon does not know reaches Dokku.
    """
    allowed_flags = tuple(allowed)
    words: list[str] = []
    for raw, value in values.items():
        flag = raw if str(raw).startswith("--") else f"--{raw}"
        if flag not in allowed_flags:
            raise InvalidValue(f"unknown flag {raw!r}; allowed: {', '.join(allowed_flags)}")
        if value is None or value == "":
            continue
        text = _text(value, flag)
        check = SERVICE_FLAG_CHECKS.get(flag, _free_text)
        words += [flag, check(text, flag)]
    return words
