"""What every feature's CLI does with an operation: run it, show it, map its errors.

``pruvon apps …`` and ``pruvon services …`` run their operation specs the
same way: through the feature's :class:`~pruvon_core.opspecs.Runner`
(validation, permission, lock, audit), printing the operation's output as it
comes, Ctrl-C asking it to stop, and typed errors turned into ``Error: …`` on
stderr with an exit code a script can test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pruvon_core import hosts
from pruvon_core.cli import CliContext, CliError, cli_state_dir, os_user
from pruvon_core.dokku import client_for, errors
from pruvon_core.errors import InputError
from pruvon_core.fanout import HostAnswer, LastGood, every_host
from pruvon_core.guard import Guard
from pruvon_core.operations import Operation, OperationConflict, follow
from pruvon_core.opspecs import OperationSpec, Runner
from pruvon_core.permissions import SYSTEM

T = TypeVar("T")


class CliEnv:
    """What every feature's CLI command needs first: config, state dir, Dokku client, OS user.

    A feature's ``Env`` subclasses it and adds its guard, deps and runner.
    """

    def __init__(self, obj: CliContext, all_hosts_ok: bool = False) -> None:
        if not all_hosts_ok:  # --host all: only list commands fan out
            obj.single_host()
        self.config = obj.config() if obj.config_file.exists() else None
        self.state_dir = cli_state_dir()
        self.client = client_for(self.config, hosts.current(), self.state_dir)  # --host
        self.os_user = os_user()

    def system_guard(self) -> Guard:
        """The ``system`` actor's guard, every record carrying the OS user and ``via: cli``."""
        return Guard(SYSTEM, self.config, self.state_dir,
                     extra={"os_user": self.os_user, "via": "cli"})


EXIT_BUSY = 3
EXIT_TIMEOUT = 4
EXIT_INCOMPLETE = 5  # the answer was printed but is incomplete (a host did not answer …)
EXIT_MISSING = 20


def ask_every_host(env: CliEnv, fetch: Callable[[Any], T], key: str) -> list[HostAnswer[T]]:
    """``--host all``: ``fetch(client)`` with each host's Dokku client, all at once,
    each within its timeout.

    A CLI run is a new process, so each host's last good answer is kept in
    ``<state dir>/hosts-last-good/`` for the next run to show when that host
    fails (``fetch`` must return JSON-serialisable data).
    """
    kept = LastGood(directory=env.state_dir / "hosts-last-good")

    def on_host(host: str | None) -> T:
        return fetch(client_for(env.config, host, env.state_dir))

    return every_host(env.config, None, on_host, key=key, last_good=kept)


def host_rows(answers: list[HostAnswer[Any]], field: str) -> list[dict[str, Any]]:
    """Every host's ``data[field]`` rows, each row carrying its ``host`` first."""
    return [{"host": a.host, **row} for a in answers if a.data for row in a.data[field]]


def fail_if_hosts_failed(answers: list[HostAnswer[Any]]) -> None:
    """One stderr line per host that failed (with the age of the rows shown), exit 5."""
    failed = [a for a in answers if not a.ok]
    for answer in failed:
        shown = f"showing its rows from {answer.age:.0f} s ago" if answer.data else "no rows"
        click.echo(f"host {answer.host}: {answer.error} ({shown})", err=True)
    if failed:
        raise CliError(f"{len(failed)} of {len(answers)} hosts did not answer", EXIT_INCOMPLETE)


def typed_errors(missing: tuple[type[Exception], ...]) -> Callable[[Callable[..., Any]],
                                                                  Callable[..., Any]]:
    """A decorator: bad input exits 2, ``missing`` (the resource is gone) 20 as Dokku,
    another Dokku failure 1, a busy target 3; never a traceback."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except InputError as exc:  # the feature's bad input (AppsError, ServicesError …)
                raise CliError(str(exc), 2) from exc
            except (errors.InvalidName, errors.InvalidValue) as exc:
                raise CliError(exc.message, 2) from exc
            except missing as exc:
                raise CliError(getattr(exc, "message", str(exc)), EXIT_MISSING) from exc
            except errors.DokkuError as exc:
                raise CliError(str(exc), 1) from exc
            except OperationConflict as exc:
                raise CliError(str(exc), EXIT_BUSY) from exc

        return wrapper

    return decorate


def echo_lines(stream: Any) -> None:
    """Print a Dokku stream's lines as they come (logs); Ctrl-C stops it quietly."""
    try:
        for line in stream:
            click.echo(line)
    except KeyboardInterrupt:
        stream.cancel()


def _echo_output(runner: Runner, op: Operation, err: bool = False) -> None:
    for _record, lines in follow(runner.manager.store, op.id, interval=0.2):
        for line in lines:
            click.echo(line, err=err)


def run_spec(runner: Runner, spec: OperationSpec, target: str,
             params: dict[str, Any], err: bool = False) -> Operation:
    """Run ``spec`` through ``runner``, print its output live; Ctrl-C asks it to stop.

    Validation, permission, the per-target lock and the audit (``started`` and
    the outcome) are the runner's, exactly as for the web.  ``err`` sends the
    output to stderr (stdout is kept for ``--format json``).
    """
    for stale in runner.manager.store.recover(kill=True):  # what a killed runner left behind
        click.echo(f"operation {stale.id} ({stale.title}) was {stale.error}", err=True)
    op = runner.start(spec, target, params)
    try:
        _echo_output(runner, op, err)
    except KeyboardInterrupt:
        runner.manager.store.request_cancel(op.id)
        click.echo("cancelling…", err=True)
        _echo_output(runner, op, err)
    final = runner.wait(op)
    if final.status == "timed_out":
        raise CliError(final.error, EXIT_TIMEOUT)
    if final.status != "succeeded":
        raise CliError(f"{final.title} {final.status}: {final.error}", 1)
    return final
