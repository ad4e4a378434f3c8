"""How CLI commands print data: aligned tables for people, JSON for scripts.

Shared by the core CLI, the Dokku shim's commands and every plugin's commands
(re-exported by :mod:`pruvon_core.cli`), so ``--format`` means the same everywhere.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import click

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output for people (table) or scripts (json).",
)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def echo_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned table; empty cells as ``-``; control characters escaped.

    Cells may hold attacker-chosen text (a username typed at a failed login),
    so every cell goes through :func:`printable` before it reaches a terminal.
    """
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    click.echo(
        "  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)).rstrip()
    )
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    value = printable(value)
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def printable(value: Any) -> Any:
    """``value`` with control, format and line-separator characters shown escaped.

    Tables go to an operator's terminal, and some cells hold text an attacker
    chose (the username typed at a failed login, an API key's name): a raw
    ESC would drive the terminal, a newline would forge a row, a bidi override
    would reorder what is read.  Lists are escaped item by item.
    """
    if isinstance(value, list | tuple):
        return [printable(item) for item in value]
    if not isinstance(value, str):
        return value
    return "".join(
        ch if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
        else (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        for ch in value
    )


def human_bytes(value: float | None, missing: str = "—") -> str:
    """``1536`` → ``1.5 KiB``: binary units, as ``free -h`` and ``du -h`` print sizes.

    ``missing`` stands for a size nobody knows yet (a backup still running).
    """
    if value is None:
        return missing
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
