"""The Go original's command-line flags, mapped onto today's subcommands.

Cron jobs and systemd units written for Pruvon 0.2.x call ``pruvon -backup
daily -config /etc/pruvon.yml`` or ``pruvon -server -config …``.  Those
single-dash long flags are Go's ``flag`` package syntax, which click cannot
parse, so :func:`translate` rewrites such an argv into today's form before
click sees it:

=========================================  ==========================================
compatibility form                         runs
=========================================  ==========================================
``-version``                               ``--version``
``-check-listen [-config F]``              ``[--config F] serve --check-listen``
``-backup auto [-config F]``               ``[--config F] backup auto``
``-backup daily|weekly|monthly [-config F]`` ``[--config F] backup run --rotation X``
``-server [-config F]`` / ``-config F``    ``[--config F] serve``
=========================================  ==========================================

Precedence is the Go binary's: ``-version``, then ``-check-listen``, then
``-backup``, else the server.  Go's flag package also accepts ``--name`` and
``-name=value``; so does this.  An argv in today's syntax is returned
unchanged, so nothing of the current CLI changes meaning.
"""

from __future__ import annotations

from collections.abc import Sequence

BACKUP_MODES = ("auto", "daily", "weekly", "monthly")
VALUE_FLAGS = ("backup", "config")
BOOL_FLAGS = ("server", "check-listen", "version")
GO_ONLY = ("backup", "server", "check-listen")  # not options of today's CLI at all


class CompatError(ValueError):
    """A compatibility form that cannot run (unknown backup mode, missing value)."""


def _split(token: str) -> tuple[str, str | None] | None:
    """``-name``/``--name``/``-name=value`` as (name, value); None for anything else."""
    if not token.startswith("-") or token in ("-", "--"):
        return None
    name, sep, value = token.lstrip("-").partition("=")
    if name not in VALUE_FLAGS + BOOL_FLAGS:
        return None
    return name, (value if sep else None)


def _is_go_style(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is written in the Go binary's flag syntax.

    Only the root-level options count (those before a subcommand): a
    single-dash long flag (``-config``) or a flag today's CLI never had at
    the root (``--backup``) marks it; ``--config F serve --check-listen``
    stays today's syntax.
    """
    tokens = list(argv)
    while tokens and tokens[0].startswith("-"):
        token = tokens.pop(0)
        parsed = _split(token)
        if parsed is None:
            continue
        if not token.startswith("--") or parsed[0] in GO_ONLY:
            return True
        if parsed[0] in VALUE_FLAGS and parsed[1] is None and tokens:
            tokens.pop(0)  # --config FILE: the value is no subcommand
    return False


def _parse(argv: Sequence[str]) -> dict[str, str | bool]:
    """Go's flag parsing: every token a known flag, values after the name or ``=``."""
    flags: dict[str, str | bool] = {}
    tokens = list(argv)
    while tokens:
        token = tokens.pop(0)
        parsed = _split(token)
        if parsed is None:
            raise CompatError(f"flag provided but not defined: {token}")
        name, value = parsed
        if name in VALUE_FLAGS:
            if value is None:
                if not tokens:
                    raise CompatError(f"flag needs an argument: -{name}")
                value = tokens.pop(0)
            flags[name] = value
        else:
            flags[name] = value is None or value.lower() in ("1", "t", "true")
    return flags


def translate(argv: Sequence[str]) -> list[str]:
    """Today's argv for a Go-style one; any other argv unchanged.

    Raises :class:`CompatError` for a Go-style argv that cannot run (the
    message is the one to print; exit status 2, a usage error).
    """
    if not _is_go_style(argv):
        return list(argv)
    flags = _parse(argv)
    if flags.get("version"):
        return ["--version"]
    prefix = ["--config", str(flags["config"])] if flags.get("config") else []
    if flags.get("check-listen"):
        return [*prefix, "serve", "--check-listen"]
    mode = flags.get("backup")
    if mode:
        if mode not in BACKUP_MODES:
            raise CompatError(f"invalid backup command: {mode} "
                              f"(valid commands: {', '.join(BACKUP_MODES)})")
        if mode == "auto":
            return [*prefix, "backup", "auto"]
        return [*prefix, "backup", "run", "--rotation", str(mode)]
    return [*prefix, "serve"]
