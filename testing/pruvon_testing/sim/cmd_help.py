"""``help``, ``help --all`` and the ``<plugin>:help`` pages.

``help`` is answered by Dokku's main script: it runs every plugin's
``commands help`` and pipes the core plugins' lines through
``sort | sed … | column -c2 -t -s,``, then the community plugins' lines through
``sort | column -c2 -t -s,``.  Without a TTY (or with ``--quiet``) the
"Usage:" and "Community plugin commands:" headers are not printed, so the
community block follows the core one directly.  Core lines are static data
(:mod:`help_data`); community lines come from the simulated service plugins
and from each installed plugin's real ``commands help`` output.
"""

from __future__ import annotations

import re

from pruvon_testing.sim import help_data
from pruvon_testing.sim.core import Ctx, columnize

# Community service plugins simulated in Python: their `commands help` summary line.
BUILTIN_HELP = {
    "mariadb": "    mariadb, Plugin for managing MariaDB services",
    "mongo": "    mongo, Plugin for managing MongoDB services",
    "mysql": "    mysql, Plugin for managing MySQL services",
    "postgres": "    postgres, Plugin for managing Postgres services",
    "redis": "    redis, Plugin for managing Redis services",
}

PLUGIN_PAGES: dict[str, tuple[str, str]] = {
    "apps": ("Manage apps", """
    apps:clone <old-app> <new-app>, Clones an app
    apps:create <app>, Create a new app
    apps:destroy <app>, Permanently destroy an app
    apps:exists <app>, Checks if an app exists
    apps:list [--format stdout|json], List your apps
    apps:lock <app>, Locks an app for deployment
    apps:locked <app>, Checks if an app is locked for deployment
    apps:rename <old-app> <new-app>, Rename an app
    apps:report [<app>] [<flag>], Display report about an app
    apps:set <app>|--global <key> <value>, Set or clear an apps property
    apps:unlock <app>, Unlocks an app for deployment"""),
    "config": ("Manage global and app-specific config vars", """
    config (<app>|--global), Pretty-print an app or global environment
    config:bundle [--merged] (<app>|--global), Bundle environment into tarfile
    config:clear [--no-restart] (<app>|--global), Clears environment variables
    config:export [--format=FORMAT] [--merged] (<app>|--global), Export a global or app environment
    config:get [--quoted] (<app>|--global) KEY, Display a global or app-specific config value
    config:import [--no-restart] [--replace] (<app>|--global) [FILE|-], Import environment from file
    config:keys [--merged] (<app>|--global), Show keys set in environment
    config:show [--merged] (<app>|--global), Show keys set in environment
    config:set [--encoded] [--no-restart] (<app>|--global) KEY1=VALUE1 [KEY2=VALUE2 ...], Set one or more config vars
    config:unset [--no-restart] (<app>|--global) KEY1 [KEY2 ...], Unset one or more config vars"""),
}


def column_t(lines: list[str]) -> list[str]:
    """util-linux ``column -t -s,``: every row padded to all columns, last one bare.

    Empty lines are dropped, cells are not trimmed, columns are separated by two
    spaces; a row with fewer cells still gets the padding of the missing ones
    (which is why ``help --all`` lines end in spaces).
    """
    rows = [line.split(",") for line in lines if line.strip()]
    if not rows:
        return []
    count = max(len(row) for row in rows)
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(count)]
    out = []
    for row in rows:
        cells = row + [""] * (count - len(row))
        padded = [cell.ljust(widths[i]) + "  " for i, cell in enumerate(cells[:-1])]
        out.append("".join(padded) + cells[-1])
    return out


_ARGS_RE = re.compile(r"\s[\[<\-(].*,")


def _summarise(lines: list[str]) -> list[str]:
    """The ``sed -e '/^.*:/d' -e 's/\\s[\\[\\<\\-\\(].*,/,/'`` step of plain ``help``."""
    return [_ARGS_RE.sub(",", line, count=1) for line in lines if ":" not in line]


def _sorted_c(lines: list[str]) -> list[str]:
    """``LC_ALL=C sort``: byte order."""
    return sorted(lines, key=lambda line: line.encode("utf-8", "surrogateescape"))


def _community_lines(ctx: Ctx, all_commands: bool) -> tuple[bool, list[str]]:
    """(are there community plugins, their ``commands help`` lines)."""
    from pruvon_testing.sim.cmd_plugin import builtin_installed
    from pruvon_testing.sim.dispatch import help_output

    lines = []
    builtins = [name for name in BUILTIN_HELP if builtin_installed(ctx.state, name)]
    for name in builtins:
        lines.extend(_builtin_help(name, all_commands))
    outputs = help_output(ctx, all_commands)
    for output in outputs:
        lines.extend(output.decode("utf-8", "surrogateescape").split("\n"))
    return bool(builtins or outputs), lines


def _builtin_help(name: str, all_commands: bool) -> list[str]:
    """A simulated service plugin's ``commands help``: one line, or with ``--all``
    every subcommand as ``    <name>:<cmd> <args>, <grey description>``."""
    if not all_commands:
        return [BUILTIN_HELP[name]]
    from pruvon_testing.sim.services_help import (
        LIGHT_GRAY,
        NORMAL,
        expand,
        subcommand_args,
    )
    from pruvon_testing.sim.services_helpdata import subcommands_for
    from pruvon_testing.sim.services_types import TYPES

    stype = TYPES[name]
    lines = []
    for sub, meta in subcommands_for(name).items():
        usage = f"{name}:{sub} {subcommand_args(meta['args'], False)}".rstrip()
        lines.append(f"    {usage}, {LIGHT_GRAY}{expand(meta['desc'], stype)}{NORMAL}")
    return lines


def main_help(ctx: Ctx, all_commands: bool, show_headers: bool) -> None:
    """The ``help | ''`` branch of Dokku's main script."""

    def quiet(text: str) -> None:
        if show_headers:
            ctx.out(text)

    quiet("Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]")
    quiet("")
    quiet('Primary help options, type "dokku COMMAND:help" for more details, '
          "or dokku help --all to see all commands.")
    quiet("")
    quiet("Commands:")
    quiet("")
    core = list(help_data.ALL) if all_commands else _summarise(list(help_data.SUMMARY))
    for line in column_t(_sorted_c(core)):
        ctx.out(line)
    present, community = _community_lines(ctx, all_commands)
    if all_commands or present:
        quiet("")
        quiet("Community plugin commands:")
        quiet("")
        for line in column_t(_sorted_c(community)):
            ctx.out(line)


def plugin_usage(ctx: Ctx, plugin: str) -> None:
    """``common.CommandUsage``: header, then the plugin's lines columnized."""
    description, content = PLUGIN_PAGES[plugin]
    ctx.out(f"Usage: dokku {plugin}[:COMMAND]\n\n{description}\n\nAdditional commands:")
    ctx.out(columnize(content.split("\n")[1:], ",", prefix="    "))



def bash_plugin_usage(ctx: Ctx, plugin: str) -> None:
    """``cmd-<plugin>-help``: a shell core plugin's page (``sort | column -c2 -t -s,``).

    The lines are the plugin's ``help --all`` content; the description is its
    ``help`` summary.
    """
    summary = next(line for line in help_data.SUMMARY if line.split(",")[0].strip() == plugin)
    description = summary.split(",", 1)[1].strip()
    lines = [line for line in help_data.ALL
             if line.split(",")[0].strip().split(" ")[0].split(":")[0] == plugin]
    ctx.out(f"Usage: dokku {plugin}[:COMMAND]\n\n{description}\n\nAdditional commands:")
    for line in column_t(_sorted_c(lines)):
        ctx.out(line)
