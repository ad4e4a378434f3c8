"""Issue 16: no reST markup in any help an operator reads.

Docstrings are written for Sphinx-minded readers (````pruvon audit````,
``:func:`x```); click prints them as they are.  Every command's ``--help``
(root, each group, each subcommand, plugins' included) and ``dokku pruvon:help``
through the shim must read as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
from click.testing import CliRunner

from pruvon_core.cli import cli

MARKUP = re.compile(r"``|:(?:func|class|meth|mod|attr|data|exc|obj|ref|doc):`")


def helps(command: click.Command, ctx: click.Context) -> Iterator[tuple[str, str]]:
    """(command path, the help click prints for it) for ``command`` and all below it.

    ``get_help`` is what ``--help`` prints; it is called directly because some
    commands (``dokku-exec``) pass every argument, ``--help`` included, through.
    """
    yield ctx.command_path, command.get_help(ctx)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from helps(sub, click.Context(sub, info_name=name, parent=ctx))


def test_every_help_is_free_of_rest_markup() -> None:
    found = dict(helps(cli, click.Context(cli, info_name="pruvon")))
    assert len(found) > 20 and "pruvon apps list" in found  # plugins' groups reached
    marked = {path: [line.strip() for line in text.splitlines() if MARKUP.search(line)]
              for path, text in found.items()}
    assert {path: lines for path, lines in marked.items() if lines} == {}


def test_the_printed_root_help_is_free_of_rest_markup() -> None:
    result = CliRunner().invoke(cli, ["--help"], catch_exceptions=False)
    assert result.exit_code == 0 and "apps" in result.output
    assert not MARKUP.search(result.output)


def test_dokku_pruvon_help_is_free_of_rest_markup(shim) -> None:
    shim.use_real_cli()
    proc = shim.run("commands", "pruvon:help")
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stdout.splitlines() if MARKUP.search(line)] == []
