"""Help pages of the service plugins, rendered like their ``help-functions``.

The plugins colour their help even without a TTY (``tput``/escape codes are
only suppressed for ``DOKKU_NO_COLOR`` or a dumb terminal), pipe the command
list through ``sort | column -t -s,`` and truncate long argument lists with
``...``.  All of that is reproduced here from the per-subcommand metadata.
"""

from __future__ import annotations

import re

from pruvon_testing.sim.services_helpdata import EXTRA_SUBCOMMANDS, subcommands_for
from pruvon_testing.sim.services_types import ServiceType

BOLD = "\x1b[1m"
NORMAL = "\x1b[m"
BLUE = "\x1b[0;34m"
CYAN = "\x1b[1;36m"
LIGHT_GRAY = "\x1b[2;37m"
OTHER_GRAY = "\x1b[7;37m"
LIGHT_RED = "\x1b[1;31m"

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_]+(?:\[0\])?)\}|\$([A-Za-z_]+)")


def expand(text: str, stype: ServiceType) -> str:
    """Shell-style expansion of ``$VAR``/``${VAR}`` with the plugin's config values."""
    values = stype.help_vars()
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1) or m.group(2), ""), text)


def column(rows: list[list[str]]) -> list[str]:
    """``column -t``: pad every field but the last to its column's width + 2."""
    widths: dict[int, int] = {}
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths.get(index, 0), len(cell))
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i] + 2) for i, cell in enumerate(row[:-1])]
        lines.append("".join(cells) + row[-1])
    return lines


def subcommand_args(args: list[str], full: bool) -> str:
    """``fn-help-subcommand-args``: turn ``declare`` names into the usage string."""
    blue, normal = (BLUE, NORMAL) if full else ("", "")
    out = ""
    for position, arg in enumerate(args, start=1):
        if not full and position == 4:
            out += "..."
            break
        if arg.endswith("_FLAG"):
            arg = arg.replace("_FLAG", "", 1)
            if arg == "INFO":
                out += f" {blue}[--single-info-flag]{normal}"
            else:
                out += f" {blue}[-{arg[0]}|--{arg.replace('_', '-')}]{normal}"
        elif arg.endswith("_FLAGS_LIST"):
            out += f" [--{arg.rsplit('_', 1)[0].replace('_', '-')}...]"
        elif arg.endswith("_LIST"):
            out += f" <{arg.rsplit('_', 1)[0].replace('_', '-')}...>"
        elif arg.endswith("_OPTIONAL"):
            out += f" [<{arg.replace('_OPTIONAL', '', 1).replace('_', '-')}>]"
        else:
            out += f" <{arg.replace('_', '-')}>"
    return out.lower().lstrip()


def _cmd_line(meta: dict, name: str, full: bool) -> str:
    args = subcommand_args(meta["args"], full)
    return f":{name} {args}".rstrip()


def help_all(stype: ServiceType) -> str:
    """``dokku postgres``, ``postgres:help``: usage, example and the command list."""
    prefix = stype.kind
    rows = []
    for name, meta in subcommands_for(prefix).items():
        desc = expand(meta["desc"], stype)
        rows.append(f"    {prefix}{_cmd_line(meta, name, False)}, {LIGHT_GRAY}{desc}{NORMAL}")
    listing = column([row.split(",") for row in sorted(rows)])
    lines = [
        f"{BOLD}usage{NORMAL}: dokku {prefix}[:COMMAND]",
        "",
        f"{BOLD}List your {prefix} services.{NORMAL}",
        "",
        f"{BLUE}Example:{NORMAL}",
        "",
        f"    $ dokku {prefix}:list",
        "",
        f"      {stype.label} services",
        "      service-name",
        "",
        f"dokku {BOLD}{prefix}{NORMAL} commands: (get help with "
        f"{CYAN}dokku {prefix}:help SUBCOMMAND{NORMAL})",
        "",
        *listing,
        "",
    ]
    return "\n".join(lines) + "\n"


def _described(lines: list[str], stype: ServiceType) -> list[str]:
    """``fn-help-subcommand-list-args``/``-flags``: ``name, text`` => two grey columns."""
    rows = []
    for line in lines:
        head, _, rest = expand(line, stype).partition(",")
        rows.append([head, f"{LIGHT_GRAY}{rest}{NORMAL}"])
    return column(rows)


def _examples(lines: list[str], stype: ServiceType) -> list[str]:
    """``fn-help-subcommand-example``: commands indented grey, sentences separated."""
    out: list[str] = []
    last, newline = "", ""
    for raw in lines:
        line = expand(raw, stype)
        if line.startswith(("export", "dokku")):
            newline = {"command": "", "sentence": "\n"}.get(last, newline)
            text = f"{newline}    {LIGHT_GRAY}{line}{NORMAL}"
            last = "command"
        else:
            newline = {"command": "\n", "sentence": ""}.get(last, newline)
            if line.startswith(">"):
                line = f"\n    {BOLD}{line}{NORMAL}"
            if line.startswith("    "):
                line = f"    {OTHER_GRAY}{line.lstrip()}{NORMAL}"
            text = f"{newline}{line}"
            last, newline = "sentence", "\n"
        out.extend(text.split("\n"))
    while out and out[-1] == "":
        out.pop()
    return out


def help_subcommand(stype: ServiceType, name: str) -> str | None:
    """``postgres:help create``: the full page of one subcommand (None if unknown)."""
    meta = subcommands_for(stype.kind).get(name)
    if meta is None:
        return None
    desc = expand(meta["desc"], stype)
    lines = [f"{BOLD}usage:{NORMAL} dokku {stype.kind}{_cmd_line(meta, name, True)}", ""]
    lines += [f"{BOLD}{desc}{NORMAL}", ""]
    if meta["A"]:
        lines += [f"{CYAN}arguments:{NORMAL}", "", *_described(meta["A"], stype), ""]
    if meta["F"]:
        lines += [f"{BLUE}flags:{NORMAL}", "", *_described(meta["F"], stype), ""]
    examples = _examples(meta["E"], stype)
    if examples:
        lines += [f"{LIGHT_RED}examples:{NORMAL}", "", *examples, ""]
    return "\n".join(lines) + "\n"


def summary(stype: ServiceType) -> str:
    """The one line the plugin contributes to ``dokku help``."""
    return f"    {stype.kind}, Plugin for managing {stype.label} services\n"


def extra_subcommands(stype: ServiceType) -> list[str]:
    """Subcommands this plugin has beyond the shared template (mongo's connect-admin)."""
    return sorted(EXTRA_SUBCOMMANDS.get(stype.kind, {}))
