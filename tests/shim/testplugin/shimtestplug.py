"""A third-party Pruvon plugin, installed only for the shim tests.

It is found through a real ``pruvon`` entry point (the ``.dist-info`` next to
this file, put on ``PYTHONPATH`` by the tests), exactly like a plugin installed
with pip, so the shim's command mapping and trigger forwarding are exercised
against code the shim has never heard of.
"""

from __future__ import annotations

import json
import os
import sys

import click

from pruvon_core.hookspecs import hookimpl


@click.group("shimtest")
def shimtest_group() -> None:
    """Third-party test group."""


@shimtest_group.command("echo-args", context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
def echo_args(words: tuple[str, ...]) -> None:
    """Print the received arguments as a JSON list."""
    click.echo(json.dumps(list(words)))


@shimtest_group.command("exit-with")
@click.argument("code", type=int)
def exit_with(code: int) -> None:
    """Exit with CODE."""
    sys.exit(code)


@shimtest_group.command("read-stdin")
def read_stdin() -> None:
    """Echo what arrives on stdin."""
    click.echo(f"read: {sys.stdin.read()}", nl=False)


@shimtest_group.command("write-config")
def write_config() -> None:
    """Fail like a command that may not write a root-owned file."""
    raise PermissionError(13, "Permission denied", "/etc/pruvon.yml")


@click.group("my-tools")
def my_tools_group() -> None:
    """A group whose name contains a dash."""


@my_tools_group.command("run")
@click.option("--verbose", is_flag=True, help="Say more.")
@click.argument("target")
def my_tools_run(target: str, verbose: bool) -> None:
    """Print which command ran, with its target."""
    click.echo(f"my-tools run {target} verbose={verbose}")


@hookimpl
def pruvon_register_commands(cli: click.Group) -> None:
    cli.add_command(shimtest_group)
    cli.add_command(my_tools_group)


@hookimpl
def pruvon_dokku_trigger(name: str, args: list[str]) -> bool | None:
    """Record the trigger; SHIMTEST_TRIGGER_MODE=raise|veto changes the outcome."""
    log = os.environ.get("SHIMTEST_TRIGGER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"name": name, "args": args}) + "\n")
    mode = os.environ.get("SHIMTEST_TRIGGER_MODE", "")
    if mode == "raise":
        raise RuntimeError("shimtest exploded")
    if mode == "veto":
        print(f"shimtest: refusing {name}", file=sys.stderr)
        return False
    return None
