"""``pruvon terminals list|kill``: see and end open terminals (run as root or pruvon).

``kill`` asks the server that bridges the terminal to close it (the user sees
the reason), waits up to ``--wait`` seconds, and if that server is gone or
does not react, kills the terminal's process session itself.  Each kill is
audited as the ``system`` actor with the operating-system user.
"""

from __future__ import annotations

import getpass
import os
import time
from datetime import UTC, datetime

import click

from pruvon_core import audit
from pruvon_core.cli import CliError, echo_json, echo_table, format_option
from pruvon_core.config import state_dir
from pruvon_core.permissions import SYSTEM
from pruvon_terminals.procs import kill_session
from pruvon_terminals.registry import Entry, Registry


def _registry() -> Registry:
    try:
        return Registry(state_dir())
    except OSError as exc:
        raise CliError(f"cannot use the state directory: {exc} (run as root or the pruvon "
                       "user, or set PRUVON_STATE_DIR)") from exc


def _row(entry: Entry) -> dict[str, object]:
    started = datetime.fromtimestamp(entry.started, UTC).isoformat(timespec="seconds")
    return {
        "id": entry.id,
        "user": entry.username,
        "target": entry.label,
        "started": started,
        "seconds": int(entry.duration),
        "source_ip": entry.source_ip,
        "pid": entry.leader_pid or None,
    }


@click.group("terminals")
def terminals_group() -> None:
    """List and close open web terminals."""


@terminals_group.command("list")
@format_option
def list_command(fmt: str) -> None:
    """Open terminals: id, user, target, start, duration, client address."""
    rows = [_row(e) for e in _registry().entries()]
    if fmt == "json":
        echo_json({"terminals": rows})
    else:
        echo_table(rows, ["id", "user", "target", "started", "seconds", "source_ip", "pid"])


def _end(registry: Registry, entry: Entry, reason: str, wait: float) -> str:
    """Close one terminal; returns how (``closed`` by its server, or ``killed`` here)."""
    registry.request_kill(entry.id, reason)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if all(e.id != entry.id for e in registry.entries()):
            return "closed"
        time.sleep(0.1)
    if entry.leader_pid:
        kill_session(entry.leader_pid)
    registry.remove(entry.id)
    return "killed"


@terminals_group.command("kill")
@click.argument("ids", nargs=-1)
@click.option("--user", "username", help="Close every terminal of this user.")
@click.option("--all", "everything", is_flag=True, help="Close every open terminal.")
@click.option("--reason", default="closed by an administrator", show_default=True,
              help="Shown to the user in the terminal.")
@click.option("--wait", default=5.0, show_default=True, type=click.FloatRange(0, 60),
              help="Seconds to let the server close it before killing the processes here.")
def kill_command(ids: tuple[str, ...], username: str | None, everything: bool, reason: str,
                 wait: float) -> None:
    """Close terminals by ID, by --user, or --all. Exit 1 if an ID is not open."""
    if not (ids or username or everything):
        raise CliError("name terminal IDs, --user USER or --all", 2)
    registry = _registry()
    entries = registry.entries()
    chosen = [e for e in entries
              if everything or e.id in ids or (username is not None and e.username == username)]
    missing = sorted(set(ids) - {e.id for e in entries})
    for entry in chosen:
        how = _end(registry, entry, reason, wait)
        _audit(entry, how, reason)
        click.echo(f"{entry.id}  {entry.username}  {entry.label}: {how}")
    if missing:
        raise CliError(f"no open terminal with id {', '.join(missing)}")
    if not chosen:
        click.echo("no matching terminals")


def _audit(entry: Entry, how: str, reason: str) -> None:
    os_user = os.environ.get("SUDO_USER") or getpass.getuser()
    try:
        audit.record(SYSTEM, "terminals.admin", f"terminal:{entry.id}", "ok", via="cli",
                     os_user=os_user, user=entry.username, terminal=entry.label,
                     outcome=how, reason=reason)
    except OSError as exc:
        click.echo(f"warning: could not write the audit log: {exc}", err=True)
