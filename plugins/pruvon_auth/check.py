"""``pruvon check``: a hardening self-audit of the install, mirroring docs/security.md.

Each check returns :class:`Finding` objects with a severity:

``high``  exploitable as it stands (config readable by others, public listen
          address without a proxy, the bundled example password hash …);
          ``pruvon check`` exits 1.
``warn``  weakens the install (admin without TOTP, bcrypt cost below 12, API
          key without expiry, signing secret older than a year); exit 1 only
          with ``--strict``.
``info``  worth a look (disabled users still configured, ``*`` grants,
          expired keys still stored).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import stat
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pruvon_core.config import Config, ConfigError, is_loopback_listen, load_config

SEVERITIES = ("high", "warn", "info")
MIN_COST = 12
SECRET_MAX_DAYS = 365

# Hashes published with Pruvon (etc/pruvon.yml.example and earlier examples):
# anyone can look their password up, so they must never guard a real install.
EXAMPLE_HASHES = frozenset(
    {
        "$2b$12$BIw8xyR2D8i4tkjiqMy6muLctgffswBM5TV8cEScjRALeK282Q2xi",
    }
)


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _allowed_owners() -> set[int]:
    """root, the ``pruvon`` service user (if it exists) and whoever runs the check."""
    owners = {0, os.getuid()}
    with contextlib.suppress(KeyError):
        owners.add(pwd.getpwnam("pruvon").pw_uid)
    return owners


def _mode_findings(path: Path, kind: str, wanted: int) -> list[Finding]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return []
    found = []
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        found.append(
            Finding(
                f"{kind}.mode",
                "high",
                f"{path} is mode {mode:04o}: group or others can access it",
                f"chmod {wanted:o} {path}",
            )
        )
    if info.st_uid not in _allowed_owners():
        found.append(
            Finding(
                f"{kind}.owner",
                "high",
                f"{path} is owned by uid {info.st_uid}, not root or the pruvon user",
                f"chown pruvon: {path}",
            )
        )
    return found


def check_files(config_file: Path, state_dir: Path) -> list[Finding]:
    """Config 0600 and state directory 0700 (and its files 0600), owned by us or root."""
    found = _mode_findings(config_file, "config", 0o600)
    found += _mode_findings(state_dir, "state_dir", 0o700)
    if state_dir.is_dir():
        for child in sorted(state_dir.iterdir()):
            if child.is_file():
                found += _mode_findings(child, "state_file", 0o600)
    return found


def check_listen(config: Config) -> list[Finding]:
    if is_loopback_listen(config.listen):
        return []
    if config.get("security.trusted_proxies"):
        return [
            Finding(
                "listen.public",
                "info",
                f"pruvon.listen is {config.listen}; make sure only the proxy can reach it",
                "firewall the port, or listen on 127.0.0.1 behind the proxy",
            )
        ]
    return [
        Finding(
            "listen.public",
            "high",
            f"pruvon.listen is {config.listen}, reachable from other machines, and no "
            "security.trusted_proxies is configured",
            "set pruvon.listen: 127.0.0.1:8080 and reach Pruvon through a VPN or a reverse "
            "proxy with an IP allowlist",
        )
    ]


def check_hosts(config: Config) -> list[Finding]:
    """Name the ``security.allowed_hosts`` entry a proxy or a public listener needs.

    The web UI answers only to loopback names, its listen address and
    ``security.allowed_hosts`` (DNS rebinding).  Behind a proxy (``trusted_proxies``
    set) or on a non-loopback listener, operators type another name, which
    would get 400 until it is listed.
    """
    if config.get("security.allowed_hosts"):
        return []
    if config.get("security.trusted_proxies"):
        reason = "security.trusted_proxies is set (a reverse proxy is in front)"
    elif not is_loopback_listen(config.listen):
        reason = f"pruvon.listen is {config.listen}"
    else:
        return []
    return [
        Finding(
            "security.allowed_hosts_missing",
            "warn",
            f"{reason} but security.allowed_hosts is empty: requests under any name other "
            "than localhost and the listen address are refused with 400",
            "list the public name operators use (the proxy's server_name), e.g. "
            "security: {allowed_hosts: [pruvon.example.internal]}",
        )
    ]


def check_host_shell(config: Config) -> list[Finding]:
    """A host shell is a root-equivalent door; running it as root removes the last wall."""
    terminals = config.section("terminals")
    if not terminals.get("host_shell"):
        return []
    user = str(terminals.get("host_user") or "nobody")
    if user == "root":
        return [
            Finding(
                "terminals.host_shell_root",
                "high",
                "terminals.host_shell is on and runs as root: any admin session is a root shell",
                "set terminals.host_user to an unprivileged account, or host_shell: false",
            )
        ]
    return [
        Finding(
            "terminals.host_shell",
            "warn",
            f"terminals.host_shell is on (as {user}): admins can open a shell on the host",
            "turn it off unless you need it: terminals.host_shell: false",
        )
    ]


def check_users(config: Config, totp_users: set[str]) -> list[Finding]:
    from pruvon_auth.passwords import hash_cost

    found: list[Finding] = []
    seen_hashes: dict[str, str] = {}
    for user in config.users:
        name = user.username
        if user.password_hash in EXAMPLE_HASHES:
            found.append(
                Finding(
                    "user.example_hash",
                    "high",
                    f"{name} still has the bundled example password hash",
                    f"pruvon user passwd {name}",
                )
            )
        elif user.password_hash in seen_hashes:
            found.append(
                Finding(
                    "user.shared_hash",
                    "warn",
                    f"{name} and {seen_hashes[user.password_hash]} share one password hash",
                    f"give each person their own password: pruvon user passwd {name}",
                )
            )
        seen_hashes.setdefault(user.password_hash, name)
        cost = hash_cost(user.password_hash)
        if cost is not None and cost < MIN_COST:
            found.append(
                Finding(
                    "user.weak_hash",
                    "warn",
                    f"{name}'s password hash has bcrypt cost {cost} (< {MIN_COST})",
                    f"pruvon user passwd {name}",
                )
            )
        found += _user_state_findings(user, totp_users)
    return found


def _user_state_findings(user: Any, totp_users: set[str]) -> list[Finding]:
    name = user.username
    if user.disabled:
        return [
            Finding(
                "user.disabled",
                "info",
                f"{name} is disabled but still in the config",
                f"pruvon user remove {name} once they no longer need access",
            )
        ]
    found = []
    if user.role == "admin" and name not in totp_users:
        found.append(
            Finding(
                "user.admin_without_totp",
                "warn",
                f"admin {name} has no TOTP second factor",
                "enrol TOTP from the account page of the web UI",
            )
        )
    wildcards = [f"apps {p}" for p in user.apps if p == "*"]
    wildcards += [f"routes {r}" for r in user.routes if r in ("*", "/*")]
    wildcards += [f"services.{k} *" for k, names in user.services.items() if "*" in names]
    if user.role != "admin" and wildcards:
        found.append(
            Finding(
                "user.wildcard_grant",
                "info",
                f"{name} holds wildcard grants ({', '.join(wildcards)})",
                f"grant only what {name} needs: pruvon user revoke / grant",
            )
        )
    return found


def check_apikeys(config: Config, state_dir: Path, now: float) -> list[Finding]:
    from pruvon_auth.apikeys import ApiKeyStore

    found = []
    for key in ApiKeyStore(state_dir).list(include_revoked=False):
        owner = config.user(key.owner)
        if key.expired(now):
            found.append(
                Finding(
                    "apikey.expired",
                    "info",
                    f"API key {key.prefix} of {key.owner} has expired but is still stored",
                    f"pruvon apikey revoke {key.id}",
                )
            )
        elif key.expires_at is None:
            found.append(
                Finding(
                    "apikey.no_expiry",
                    "warn",
                    f"API key {key.prefix} of {key.owner} never expires",
                    f"pruvon apikey revoke {key.id}, then create one with --expires",
                )
            )
        if owner is None or owner.disabled:
            found.append(
                Finding(
                    "apikey.orphan",
                    "info",
                    f"API key {key.prefix} belongs to {key.owner}, who is removed or disabled",
                    f"pruvon apikey revoke {key.id}",
                )
            )
    return found


def check_secret(state_dir: Path, now: float) -> list[Finding]:
    from pruvon_auth.sessions import secret_age_days

    age = secret_age_days(state_dir, now)
    if age is None or age <= SECRET_MAX_DAYS:
        return []
    return [
        Finding(
            "secret.old",
            "warn",
            f"the session signing secret is {int(age)} days old",
            "pruvon secret rotate (this signs everybody out)",
        )
    ]


def run_checks(config_file: Path, state_dir: Path, now: float | None = None) -> list[Finding]:
    """Every finding for the install at ``config_file`` / ``state_dir``."""
    moment = now if now is not None else time.time()
    found = check_files(config_file, state_dir)
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        found.append(
            Finding("config.invalid", "high", str(exc), "pruvon config validate, then fix it")
        )
        return found
    from pruvon_auth.totp import TotpStore

    totp_users = TotpStore(state_dir).enrolled_users() if state_dir.is_dir() else set()
    found += check_listen(config)
    found += check_hosts(config)
    found += check_host_shell(config)
    found += check_users(config, totp_users)
    if state_dir.is_dir():
        found += check_apikeys(config, state_dir, moment)
        found += check_secret(state_dir, moment)
    return found


def exit_code(findings: list[Finding], strict: bool = False) -> int:
    failing = {"high", "warn"} if strict else {"high"}
    return 1 if any(f.severity in failing for f in findings) else 0
