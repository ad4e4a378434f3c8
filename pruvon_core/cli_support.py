"""What a feature's CLI commands share: the system actor's parts, typed errors, live operations.

A feature plugin's ``cli.py`` builds :class:`CliParts` (config, state
directory, Dokku client, the ``system`` guard with the OS user), wraps its
commands in :func:`typed_errors` and runs background operations with
:func:`run_live`, so every command answers bad input with exit 2 and a
message on stderr, never a traceback, and prints an operation's output as it
comes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from pruvon_core import hosts
from pruvon_core.cli import CliContext, CliError, cli_state_dir, os_user
from pruvon_core.dokku import DokkuClient, client_for, errors
from pruvon_core.errors import InputError
from pruvon_core.guard import Guard
from pruvon_core.operations import Operation, OperationConflict, follow
from pruvon_core.opspecs import OperationSpec, Runner
from pruvon_core.permissions import SYSTEM

EXIT_BUSY = 3
EXIT_TIMEOUT = 4
EXIT_MISSING = 20


@dataclass
class CliParts:
    """The config (None without a file), state directory, client and system guard."""

    config: Any
    state_dir: Path
    client: DokkuClient
    guard: Guard

    @classmethod
    def of(cls, obj: CliContext) -> CliParts:
        obj.single_host()  # --host NAME is the acting host; --host all is for list commands
        config = obj.config() if obj.config_file.exists() else None
        where = cli_state_dir()
        guard = Guard(SYSTEM, config, where, extra={"os_user": os_user(), "via": "cli"})
        return cls(config, where, client_for(config, hosts.current(), where), guard)


def typed_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Typed errors as ``Error: …`` on stderr: 2 bad input, 20 missing, 3 busy, 1 Dokku."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            raise CliError(str(exc), 2) from exc
        except (errors.InvalidName, errors.InvalidValue) as exc:
            raise CliError(exc.message, 2) from exc
        except errors.AppNotFound as exc:
            raise CliError(exc.message, EXIT_MISSING) from exc
        except errors.DokkuError as exc:
            raise CliError(str(exc), 1) from exc
        except OperationConflict as exc:
            raise CliError(str(exc), EXIT_BUSY) from exc

    return wrapper


def run_live(runner: Runner, spec: OperationSpec, target: str, **params: Any) -> Operation:
    """Start ``spec`` as a background operation and print its output live; Ctrl-C cancels."""
    store = runner.manager.store
    for stale in store.recover(kill=True):
        click.echo(f"operation {stale.id} ({stale.title}) was {stale.error}", err=True)
    op = runner.start(spec, target, params)
    try:
        _print_output(store, op.id)
    except KeyboardInterrupt:
        store.request_cancel(op.id)
        click.echo("cancelling…", err=True)
        _print_output(store, op.id)
    final = runner.wait(op)
    if final.status == "timed_out":
        raise CliError(final.error, EXIT_TIMEOUT)
    if final.status != "succeeded":
        raise CliError(f"{final.title} {final.status}: {final.error}", 1)
    return final


def _print_output(store: Any, op_id: str) -> None:
    for _record, lines in follow(store, op_id, interval=0.2):
        for line in lines:
            click.echo(line)
