"""Host settings: global domains, cron mail, SSH keys and the GitHub key sync.

Pure Python over the Dokku layer (``client.ssh_keys()``, ``domains_global_change``,
``cron_set_global`` …), shared by the CLI, the API and the page.  Every input
is checked here, before a Dokku call; the typed error says what is wrong.

GitHub sync keeps the Go original's contract: a user's ``github.username`` in
the config names whose public keys (``<keys_url>/<github user>.keys``) may
push to Dokku; the keys it adds are named ``pruvon-gh-<user>-<12 hex of the
key's SHA-256>``, so a later sync removes exactly the keys it added that the
GitHub account no longer has, and never touches a key added by hand.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pruvon_core.dokku import DokkuClient, validate
from pruvon_core.dokku.errors import InvalidValue
from pruvon_core.dokku.hostcmds import CRON_GLOBAL_KEYS, GLOBAL_DOMAIN_ACTIONS, SshKey, email
from pruvon_core.dokku.sshkeys import PublicKey, key_name, parse_public_key
from pruvon_core.errors import InputError

GITHUB_KEYS_URL = "https://github.com"
GITHUB_USER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
MANAGED_PREFIX = "pruvon-gh-"
MAX_KEYS_BODY = 256 * 1024
FETCH_TIMEOUT = 10.0


class SettingsError(InputError):
    """Bad input to a settings change (400 in the web, exit 2 in the CLI)."""


class GitHubUnavailable(Exception):
    """The keys endpoint failed (unreachable, 404, 5xx): the sync changed nothing for that user."""


# --------------------------------------------------------------------------- reads
def overview(client: DokkuClient) -> dict[str, Any]:
    """Everything the settings page shows: 3 Dokku calls whatever the number of keys.

    They are independent, so they run side by side: the page costs about the
    slowest of them, not their sum.
    """
    with ThreadPoolExecutor(max_workers=3) as pool:
        domains = pool.submit(client.domains, None)
        cron = pool.submit(client.cron_global)
        keys = pool.submit(client.ssh_keys)
        report = domains.result()
        return {"domains": {"enabled": report.global_enabled, "global": report.global_vhosts},
                "cron": cron.result(), "ssh_keys": [key.as_dict() for key in keys.result()]}


# --------------------------------------------------------------------------- domains, cron
def check_domains(action: object, domains: object) -> tuple[str, list[str]]:
    """An ``add|remove|set|clear`` of global domains, normalised; SettingsError otherwise."""
    if action not in GLOBAL_DOMAIN_ACTIONS:
        raise SettingsError(f"action must be one of {', '.join(GLOBAL_DOMAIN_ACTIONS)}")
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise SettingsError("domains must be a list of names")
    if action == "clear":
        return action, []
    checked = validate.domains(domains)
    if not checked:
        raise SettingsError(f"give at least one domain to {action}")
    return str(action), checked


def check_cron(values: object) -> dict[str, str]:
    """``{"mailto": …, "mailfrom": …}`` (either or both; empty clears), checked."""
    if not isinstance(values, dict) or not values:
        raise SettingsError("give mailto and/or mailfrom")
    unknown = sorted(set(values) - set(CRON_GLOBAL_KEYS))
    if unknown:
        raise SettingsError(f"unknown cron setting {unknown[0]!r}: use mailto or mailfrom")
    return {key: email(str(value).strip()) for key, value in values.items()}


def set_cron(client: DokkuClient, values: dict[str, str]) -> dict[str, str]:
    """Only the keys that change are written (each ``cron:set`` is a Dokku call)."""
    current = client.cron_global()
    for key, value in values.items():
        if current.get(key, "") != value:
            client.cron_set_global(key, value)
    return {**current, **values}


# --------------------------------------------------------------------------- ssh keys
def check_key(name: object, key: object) -> tuple[str, PublicKey]:
    """The key name and the parsed key; refuses the managed prefix (the sync's own)."""
    checked = key_name(name)
    if checked.startswith(MANAGED_PREFIX):
        raise SettingsError(f"key names starting with {MANAGED_PREFIX!r} are kept by the "
                            "GitHub sync; choose another name")
    return checked, parse_public_key(key)


def add_key(client: DokkuClient, name: str, key: PublicKey) -> dict[str, str]:
    """Add a key unless its name or the key itself is already there (Dokku's checks, said clearly)."""
    for existing in client.ssh_keys():
        if existing.name == name:
            raise SettingsError(f"a key named {name!r} exists already; remove it first or "
                                "choose another name")
        if existing.fingerprint == key.fingerprint:
            raise SettingsError(f"this key is already added as {existing.name!r}")
    fingerprint = client.ssh_key_add(name, key)
    return {"name": name, "fingerprint": fingerprint, "public_key": key.line}


def remove_key(client: DokkuClient, name: str) -> None:
    """Remove a key by name; an unknown name is an error (Dokku itself is silent)."""
    key_name(name)
    if not any(k.name == name for k in client.ssh_keys()):
        raise SettingsError(f"no SSH key named {name!r}")
    client.ssh_key_remove(name)


# --------------------------------------------------------------------------- github sync
def keys_url(config: Any) -> str:
    """``github.keys_url`` (tests point it at a local server), default https://github.com."""
    section = config.section("github") if config is not None else {}
    return str(section.get("keys_url") or GITHUB_KEYS_URL).rstrip("/")


def check_keys_url(value: object) -> str | None:
    """Why ``github.keys_url`` is unusable, or None: https, or http only on loopback."""
    if not isinstance(value, str):
        return "must be a URL"
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        return "must be an https:// URL"
    if parsed.scheme == "http":
        try:
            loopback = ipaddress.ip_address(parsed.hostname).is_loopback
        except ValueError:
            loopback = parsed.hostname == "localhost"
        if not loopback:
            return "must be https:// (plain http only to a loopback address)"
    if parsed.query or parsed.fragment or parsed.username:
        return "must be a plain base URL (no query, fragment or credentials)"
    return None


def github_users(config: Any) -> dict[str, str]:
    """``{local user: GitHub user}`` for enabled users with a ``github.username``."""
    found: dict[str, str] = {}
    users = config.data.get("users") if config is not None else None
    for entry in users if isinstance(users, list) else []:
        if not isinstance(entry, dict) or entry.get("disabled"):
            continue
        github = entry.get("github")
        name = github.get("username") if isinstance(github, dict) else None
        if isinstance(name, str) and name.strip() and entry.get("username"):
            found[str(entry["username"])] = name.strip()
    return found


def fetch_keys(base: str, github_user: str) -> list[str]:
    """The public key lines GitHub lists for ``github_user`` (``GET <base>/<user>.keys``)."""
    if not GITHUB_USER_RE.match(github_user):
        raise SettingsError(f"invalid GitHub username {github_user[:60]!r}")
    url = f"{base}/{github_user}.keys"
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            body = response.read(MAX_KEYS_BODY + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise GitHubUnavailable(f"GitHub user {github_user!r} not found (404)") from exc
        raise GitHubUnavailable(f"{url} answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GitHubUnavailable(f"cannot fetch {url}: {reason}") from exc
    if len(body) > MAX_KEYS_BODY:
        raise GitHubUnavailable(f"{url} sent more than {MAX_KEYS_BODY} bytes")
    return [line.strip() for line in body.decode("utf-8", "replace").splitlines() if line.strip()]


def managed_name(user: str, key: PublicKey) -> str:
    digest = hashlib.sha256(key.body.encode()).hexdigest()[:12]
    return f"{MANAGED_PREFIX}{user}-{digest}"


def managed_owner(name: str) -> str | None:
    """The local user a sync-managed key belongs to (``pruvon-gh-<user>-<hash>``)."""
    if not name.startswith(MANAGED_PREFIX):
        return None
    owner, sep, digest = name[len(MANAGED_PREFIX):].rpartition("-")
    return owner if sep and owner and len(digest) == 12 else None


@dataclass
class SyncResult:
    """What one user's sync did: keys added and removed, keys GitHub listed that were refused."""

    user: str
    github: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user, "github": self.github, "added": self.added,
                "removed": self.removed, "refused": self.refused, "error": self.error}


def _wanted(lines: list[str], result: SyncResult) -> list[PublicKey]:
    """GitHub's lines as checked keys; weak or malformed ones are listed, not added."""
    keys = []
    for line in lines:
        try:
            keys.append(parse_public_key(line))
        except InvalidValue as exc:
            result.refused.append(f"{line[:40]}…: {exc.message}")
    return keys


def sync_user(client: DokkuClient, base: str, user: str, github_user: str,
              existing: list[SshKey]) -> SyncResult:
    """Make ``user``'s managed keys equal GitHub's list; a fetch failure changes nothing."""
    result = SyncResult(user, github_user)
    try:
        wanted = _wanted(fetch_keys(base, github_user), result)
    except GitHubUnavailable as exc:
        result.error = str(exc)
        return result
    present = {k.fingerprint for k in existing}
    for key in wanted:
        if key.fingerprint not in present:
            name = managed_name(user, key)
            client.ssh_key_add(name, key)
            present.add(key.fingerprint)
            result.added.append(name)
    keep = {k.fingerprint for k in wanted}
    for key in existing:
        if managed_owner(key.name) == user and key.fingerprint not in keep:
            client.ssh_key_remove(key.name)
            result.removed.append(key.name)
    return result


def sync_github(client: DokkuClient, config: Any, only: str | None = None) -> list[SyncResult]:
    """Sync every configured user (or ``only``); keys of users no longer configured go too."""
    users = github_users(config)
    if only is not None:
        if only not in users:
            raise SettingsError(f"user {only!r} has no github.username in the config "
                                "(or is disabled)")
        users = {only: users[only]}
    base = keys_url(config)
    existing = client.ssh_keys()
    results = [sync_user(client, base, user, github, existing)
               for user, github in sorted(users.items())]
    if only is None:
        results += _drop_unconfigured(client, existing, set(users))
    return results


def _drop_unconfigured(client: DokkuClient, existing: list[SshKey],
                       configured: set[str]) -> list[SyncResult]:
    """Managed keys of users removed, disabled or without ``github.username`` now."""
    gone: dict[str, SyncResult] = {}
    for key in existing:
        owner = managed_owner(key.name)
        if owner is not None and owner not in configured:
            client.ssh_key_remove(key.name)
            gone.setdefault(owner, SyncResult(owner, "")).removed.append(key.name)
    return list(gone.values())
