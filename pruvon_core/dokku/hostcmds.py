"""Host-wide Dokku commands: SSH keys, global domains and cron mail, plugins, Let's Encrypt.

A mixin of :class:`~pruvon_core.dokku.client.DokkuClient` (it uses the
client's ``_run``/``_read``/``stream``), kept apart from the per-app
commands.  As everywhere in the Dokku layer, every argument is validated
before the argv is built and Dokku's own refusals come back as typed errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pruvon_core.dokku import parsers, validate
from pruvon_core.dokku.errors import InvalidValue
from pruvon_core.dokku.models import Result
from pruvon_core.dokku.sshkeys import PublicKey, key_name
from pruvon_core.dokku.transports import Stream

T = TypeVar("T")

PLUGIN_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
GLOBAL_DOMAIN_ACTIONS = ("add", "remove", "set", "clear")
CRON_GLOBAL_KEYS = ("mailto", "mailfrom")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
LETSENCRYPT_GLOBAL_KEYS = ("email", "graceperiod", "server")
EMPTY_KEYS = "authorized_keys is empty"


@dataclass(frozen=True)
class SshKey:
    """One ``ssh-keys:list`` entry."""

    name: str
    fingerprint: str
    public_key: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "fingerprint": self.fingerprint,
                "public_key": self.public_key}


@dataclass(frozen=True)
class Certificate:
    """One ``letsencrypt:list`` row: the app and its certificate's expiry."""

    app: str
    expires: str
    time_left: str
    renew_in: str

    def as_dict(self) -> dict[str, str]:
        return {"app": self.app, "expires": self.expires, "time_left": self.time_left,
                "renew_in": self.renew_in}


def plugin_name(name: object) -> str:
    """A Dokku plugin name (``postgres``, ``letsencrypt``): lower-case, no path."""
    if not isinstance(name, str) or not PLUGIN_NAME_RE.match(name):
        raise validate.InvalidName(f"invalid plugin name {str(name)[:80]!r}: use lower-case "
                                   "letters, digits, '.', '_' or '-'")
    return name


def email(value: object) -> str:
    """An e-mail address for cron mail or Let's Encrypt (empty clears it)."""
    if not isinstance(value, str):
        raise InvalidValue("e-mail address must be text")
    if value and not EMAIL_RE.match(value):
        raise InvalidValue(f"{value[:100]!r} is not an e-mail address")
    return value


def _ssh_keys(out: str) -> list[SshKey]:
    data = parsers.parse_json(out, "ssh-keys")
    if not isinstance(data, list):
        raise parsers.ParseError("ssh-keys", out, "expected a JSON list")
    return [SshKey(str(item["name"]), str(item["fingerprint"]), str(item["public-key"]))
            for item in data]


def _certificates(out: str) -> list[Certificate]:
    """``letsencrypt:list``: a header, then ``app  YYYY-MM-DD HH:MM:SS  left  renew``.

    The columns are padded with spaces (``dokku_col_log_msg``); the date has
    one inner space, the two durations (``29d, 23h, 59m, 59s``) have several.
    """
    rows = []
    pattern = re.compile(r"^(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s{2,}(.+?)\s{2,}(.+?)\s*$")
    for line in out.splitlines():
        text = line.removeprefix("=====> ").strip()
        if not text or text.startswith("App name"):
            continue
        match = pattern.match(text)
        if not match:
            raise parsers.ParseError("letsencrypt:list", out, f"unexpected line {text[:80]!r}")
        rows.append(Certificate(*match.groups()))
    return rows


class HostCommands:
    """The host-wide commands of :class:`DokkuClient` (see the module docstring)."""

    long_timeout: float
    _run: Callable[..., Result]
    _read: Callable[..., Any]
    _parse: Callable[..., Any]
    _error: Callable[..., Exception]
    stream: Callable[..., Stream]

    # ----------------------------------------------------------------- ssh keys
    def ssh_keys(self) -> list[SshKey]:
        """Every key allowed to push (``ssh-keys:list --format json``); [] when none."""
        args = ["ssh-keys:list", "--format", "json"]
        result = self._run(args, ok=(0, 1))
        if result.exit == 1:
            if EMPTY_KEYS in result.stderr:  # sshcommand's "error" for an empty file
                return []
            raise self._error(args, 1, result.stdout, result.stderr)
        return self._parse(args, result.stdout, _ssh_keys)

    def ssh_key_add(self, name: str, key: PublicKey) -> str:
        """``ssh-keys:add NAME`` with the checked key on stdin; the fingerprint Dokku printed."""
        result = self._run(["ssh-keys:add", key_name(name)], stdin=(key.line + "\n").encode(),
                           mutating=True)
        return result.stdout.strip() or key.fingerprint

    def ssh_key_remove(self, name: str) -> None:
        self._run(["ssh-keys:remove", key_name(name)], mutating=True)

    # ----------------------------------------------------------------- global domains, cron
    def domains_global_change(self, action: str, names: Iterable[str]) -> None:
        """``domains:add-global|remove-global|set-global|clear-global``."""
        if action not in GLOBAL_DOMAIN_ACTIONS:
            raise InvalidValue(f"domains action must be one of {', '.join(GLOBAL_DOMAIN_ACTIONS)}")
        checked = validate.domains(names) if action != "clear" else []
        if action != "clear" and not checked:
            raise InvalidValue(f"give at least one domain to {action}")
        self._run([f"domains:{action}-global", *checked], mutating=True,
                  timeout=self.long_timeout)

    def cron_global(self) -> dict[str, str]:
        """The global cron mail settings (``cron:report --global --format json``)."""
        data = self._read(["cron:report", "--global", "--format", "json"],
                          lambda out: parsers.parse_json_object(out, "cron"))
        return {key: str(data.get(f"global-{key}", "")) for key in CRON_GLOBAL_KEYS}

    def cron_set_global(self, key: str, value: str) -> None:
        """``cron:set --global mailto|mailfrom VALUE`` (empty clears)."""
        if key not in CRON_GLOBAL_KEYS:
            raise InvalidValue(f"cron key must be one of {', '.join(CRON_GLOBAL_KEYS)}")
        self._run(["cron:set", "--global", key, *([email(value)] if value else [])],
                  mutating=True)

    # ----------------------------------------------------------------- plugins
    @staticmethod
    def plugin_install_args(url: str, name: str | None = None) -> list[str]:
        """``plugin:install URL [--name NAME]``; the URL as :func:`validate.git_repo` allows."""
        args = ["plugin:install", validate.git_repo(url)]
        return [*args, "--name", plugin_name(name)] if name else args

    @staticmethod
    def plugin_update_args(name: str, committish: str | None = None) -> list[str]:
        args = ["plugin:update", plugin_name(name)]
        return [*args, validate.git_ref(committish)] if committish else args

    @staticmethod
    def plugin_args(action: str, name: str) -> list[str]:
        """``plugin:enable|disable|uninstall NAME``."""
        if action not in ("enable", "disable", "uninstall"):
            raise InvalidValue("plugin action must be enable, disable or uninstall")
        return [f"plugin:{action}", plugin_name(name)]

    def plugin_stream(self, args: Sequence[str]) -> Stream:
        """Run a plugin command built above with its output live (installs take minutes)."""
        if not args or not str(args[0]).startswith("plugin:"):
            raise InvalidValue("not a plugin command")
        return self.stream(args, timeout=self.long_timeout, mutating=True)

    # ----------------------------------------------------------------- letsencrypt
    def letsencrypt_global(self) -> dict[str, str]:
        """Global Let's Encrypt properties (``letsencrypt:report --global --format json``)."""
        data = self._read(["letsencrypt:report", "--global", "--format", "json"],
                          lambda out: parsers.parse_json_object(out, "letsencrypt"))
        return {key: str(data.get(f"letsencrypt-global-{key}", data.get(f"global-{key}", "")))
                for key in LETSENCRYPT_GLOBAL_KEYS}

    def letsencrypt_set_global(self, key: str, value: str) -> None:
        """``letsencrypt:set --global KEY [VALUE]`` (email, graceperiod, server)."""
        if key not in LETSENCRYPT_GLOBAL_KEYS:
            raise InvalidValue(f"letsencrypt key must be one of "
                               f"{', '.join(LETSENCRYPT_GLOBAL_KEYS)}")
        if key == "email":
            value = email(value)
        elif key == "graceperiod" and value and not (value.isdigit() and len(value) <= 9):
            raise InvalidValue("graceperiod must be a number of seconds")
        elif key == "server" and value and not re.match(r"^(https://[\x21-\x7e]{1,500}|"
                                                        r"production|staging)$", value):
            raise InvalidValue("server must be production, staging or an https:// URL")
        self._run(["letsencrypt:set", "--global", key, *([value] if value else [])],
                  mutating=True)

    def letsencrypt_cron(self) -> bool:
        """Whether the auto-renew cron job is installed (``letsencrypt:cron-job``)."""
        out = self._read(["letsencrypt:cron-job"], lambda text: text)
        if "is enabled" in out:
            return True
        if "is not enabled" in out:
            return False
        raise parsers.ParseError("letsencrypt:cron-job", out, "no cron job status")

    def letsencrypt_cron_set(self, enabled: bool) -> None:
        self._run(["letsencrypt:cron-job", "--add" if enabled else "--remove"], mutating=True)

    def letsencrypt_list(self) -> list[Certificate]:
        """Apps with a Let's Encrypt certificate and its expiry (``letsencrypt:list``)."""
        return self._read(["letsencrypt:list"], _certificates)

    # ----------------------------------------------------------------- app extras
    def ps_set(self, app: str, key: str, value: str) -> None:
        """``ps:set APP restart-policy|procfile-path [VALUE]`` (empty resets to the default)."""
        if key == "restart-policy":
            value = restart_policy(value)
        elif key == "procfile-path":
            value = repo_path(value, "Procfile path")
        else:
            raise InvalidValue("ps key must be restart-policy or procfile-path")
        self._run(["ps:set", validate.app_name(app), key, *([value] if value else [])],
                  mutating=True)

    def app_json_set(self, app: str, path: str) -> None:
        """``app-json:set APP appjson-path [PATH]`` (empty resets to ``app.json``)."""
        value = repo_path(path, "app.json path")
        self._run(["app-json:set", validate.app_name(app), "appjson-path",
                   *([value] if value else [])], mutating=True)

    def service_app_links(self, kind: str, app: str, *, fresh: bool = False) -> list[str]:
        """Services of ``kind`` linked to ``app`` (``<type>:app-links APP``, one call per type).

        ``fresh`` skips the read cache: a destroy must see links made a second ago.
        """
        out = self._read([f"{validate.service_type(kind)}:app-links", validate.app_name(app)],
                         lambda text: text, cache=not fresh)
        return [line.strip() for line in out.splitlines() if line.strip()]

    def app_json_path(self, app: str) -> str:
        """The computed app.json path (``app-json:report APP --format json``)."""
        data = self._read(["app-json:report", validate.app_name(app), "--format", "json"],
                          lambda out: parsers.parse_json_object(out, "app-json"))
        return str(data.get("computed-appjson-path") or data.get("appjson-path") or "app.json")


RESTART_POLICY_RE = re.compile(r"^(no|always|unless-stopped|on-failure(:[0-9]{1,4})?)$")


def restart_policy(value: object) -> str:
    """Docker's restart policies as Dokku accepts them (``on-failure:10``)."""
    if not isinstance(value, str) or (value and not RESTART_POLICY_RE.match(value)):
        raise InvalidValue("restart policy must be no, always, unless-stopped, on-failure "
                           "or on-failure:N")
    return value


def repo_path(value: object, what: str) -> str:
    """A file path inside the app's repository (relative, no ``..``)."""
    if not isinstance(value, str):
        raise InvalidValue(f"{what} must be text")
    if value and (value.startswith(("/", "-")) or ".." in value.split("/")
                  or not validate.PATH_CHARS_RE.match(value) or len(value) > 255):
        raise InvalidValue(f"{what} must be a relative path inside the repository "
                           "(letters, digits, . _ / @ + -; no '..')")
    return value

