"""Simulated ``ssh-keys:*`` (Dokku's ssh-keys plugin on top of ``sshcommand``).

Keys live in ``home/dokku/.ssh/authorized_keys`` in sshcommand's own line format, so the
listing is parsed back exactly as sshcommand's ``sed`` does.  Quirks kept on purpose:
an empty key list is an error (exit 1, ``authorized_keys is empty for dokku`` without the
`` !     `` prefix, even with ``--format json``) and the JSON is hand-built with odd spacing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from pathlib import Path

from pruvon_testing.sim import routing
from pruvon_testing.sim.core import Ctx, SimExit, command, write_atomic

ALLOWED_KEYS = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding"
_LINE_RE = re.compile(r'^command="FINGERPRINT=(\S+) NAME=(\\"|)(.*)\2 `.*",(\S+) (.*)$')


def _keys_file(ctx: Ctx) -> Path:
    return ctx.state.home / ".ssh" / "authorized_keys"


def _read_lines(ctx: Ctx) -> list[str]:
    try:
        return _keys_file(ctx).read_text().splitlines()
    except FileNotFoundError:
        return []


def fingerprint(public_key: str) -> str | None:
    """``ssh-keygen -lf``'s SHA256 fingerprint, or None when it is no valid public key."""
    parts = public_key.split()
    if len(parts) < 2:
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    kind = parts[0].encode()
    if len(blob) < 4 + len(kind) or blob[4 : 4 + len(kind)] != kind:
        return None
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def _entries(ctx: Ctx) -> list[dict[str, str]]:
    """Parse authorized_keys like ``sshcommand list`` (lines it cannot parse are skipped)."""
    entries = []
    for line in _read_lines(ctx):
        match = _LINE_RE.match(line)
        if match:
            entries.append(
                {
                    "fingerprint": match.group(1),
                    "name": match.group(3),
                    "SSHCOMMAND_ALLOWED_KEYS": match.group(4),
                    "public-key": match.group(5),
                }
            )
    return entries


def _fail_plain(ctx: Ctx, message: str) -> None:
    """sshcommand's ``log-fail``: the message without Dokku's prefix, exit 1."""
    ctx.err(message)
    raise SimExit(1)


@command("ssh-keys:list")
def ssh_keys_list(ctx: Ctx) -> int:
    """``ssh-keys:list [--format text|json] [<name>]``."""
    args = list(ctx.args)
    fmt, name = "text", args[0] if args else ""
    if name == "--format":
        fmt, name = (args[1] if len(args) > 1 else ""), (args[2] if len(args) > 2 else "")
    if fmt not in ("text", "json"):
        ctx.fail("Invalid output format specified, supported formats: json, text")
    # Dokku's installer creates an empty authorized_keys, so a fresh host says "empty"
    if not any(_read_lines(ctx)):
        _fail_plain(ctx, "authorized_keys is empty for dokku")
    entries = _entries(ctx)
    if fmt == "json":
        if name:
            ctx.out(
                json.dumps(
                    [e for e in entries if e["name"] == name],
                    separators=(",", ":"),
                    ensure_ascii=False,
                )
            )
            return 0
        objects = [
            "{ " + ", ".join(f'"{key}": "{value}"' for key, value in entry.items()) + " }"
            for entry in entries
        ]
        ctx.out("[" + ",".join(objects) + "]")
        return 0
    lines = [
        f'{e["fingerprint"]} NAME="{e["name"]}" SSHCOMMAND_ALLOWED_KEYS="{e["SSHCOMMAND_ALLOWED_KEYS"]}"'
        for e in entries
    ]
    if name:
        lines = [line for line in lines if f'NAME="{name}"' in line]
        if not lines:
            raise SimExit(1)
    ctx.out("\n".join(lines))
    return 0


def _read_key(ctx: Ctx, key_file: str) -> str:
    """The key text from the file argument, else the first line piped on stdin."""
    if key_file:
        try:
            return Path(key_file).read_text()
        except (OSError, UnicodeDecodeError):
            return ""
    piped = ctx.stdin.readline().decode("utf-8", "replace")
    if not piped:
        ctx.fail("No key specified via file or pipe")
    return piped.rstrip("\n") + "\n"


@command("ssh-keys:add")
def ssh_keys_add(ctx: Ctx) -> int:
    """``ssh-keys:add <name> [<key-file>]``: prints the new key's fingerprint."""
    name = ctx.args[0] if ctx.args else ""
    text = _read_key(ctx, ctx.args[1] if len(ctx.args) > 1 else "")
    if not text:
        ctx.fail("Empty key was specified")
    if text.count("\n") >= 2:
        ctx.fail(
            "Too many keys provided, set one per invocation of dokku ssh-keys:add <NAME> <KEY_FILE>"
        )
    key = text.strip()
    found = fingerprint(key)
    if not found:
        ctx.fail("Key specified in is not a valid ssh public key")
    with routing.locked(ctx.state):
        return _acl_add(ctx, name, key, found)


def _acl_add(ctx: Ctx, name: str, key: str, found: str) -> int:
    """``sshcommand acl-add dokku NAME FILE`` with Dokku's duplicate checks enabled."""
    if not name:
        ctx.err("Usage: sshcommand acl-add USER NAME [KEY_FILE]")
        ctx.fail("sshcommand returned an error: 1")
    lines = _read_lines(ctx)
    if any(f' NAME=\\"{name}\\" ' in line for line in lines):
        ctx.err("Duplicate ssh key name")
        ctx.fail("sshcommand returned an error: 1")
    if any(found in line for line in lines):
        ctx.err("Duplicate ssh public key specified")
        ctx.fail("sshcommand returned an error: 1")
    prefix = (
        f'command="FINGERPRINT={found} NAME=\\"{name}\\" `cat /home/dokku/.sshcommand` '
        f'$SSH_ORIGINAL_COMMAND",{ALLOWED_KEYS}'
    )
    write_atomic(_keys_file(ctx), "".join(f"{line}\n" for line in [*lines, f"{prefix} {key}"]))
    ctx.out(found)
    return 0


@command("ssh-keys:remove")
def ssh_keys_remove(ctx: Ctx) -> int:
    """``ssh-keys:remove <name>`` or ``--fingerprint FP``: silent, even for unknown names."""
    name = ctx.args[0] if ctx.args else ""
    fp = ctx.args[1] if len(ctx.args) > 1 else ""
    lines = _read_lines(ctx)
    if not any(line.strip() for line in lines):
        ctx.fail("No public keys found.")
    if name == "--fingerprint" and not fp:
        ctx.fail(
            "A fingerprint is required to remove a key, ie: dokku ssh-keys:remove --fingerprint FINGERPRINT"
        )
    if not name:
        ctx.fail("A name is required to remove a key, ie: dokku ssh-keys:remove <name>")
    marker = f'"FINGERPRINT={fp} ' if name == "--fingerprint" else f' NAME=\\"{name}\\" '
    with routing.locked(ctx.state):
        keep = [line for line in lines if marker not in line]
        write_atomic(_keys_file(ctx), "".join(f"{line}\n" for line in keep))
    return 0


HELP = [
    ("ssh-keys:list [--format text|json] [<name>]", "List of all authorized dokku public ssh keys"),
    ("ssh-keys:add <name> [/path/to/key]", "Add a new public key by pipe or path"),
    ("ssh-keys:remove [--fingerprint fingerprint|<name>]", "Remove SSH public key by name"),
]


routing.help_commands(
    "ssh-keys", "Manage public ssh keys used for deployment", HELP, shell_plugin=True
)
