"""Typed errors for everything that can go wrong while talking to Dokku.

Dokku reports failures as `` !     message`` lines (usually on stderr, but
``ps:restart``/``ps:rebuild`` print them on stdout) plus an exit code; exit 20
always means "app does not exist".  :func:`classify` maps a finished command to
the most specific exception, keeping Dokku's own message so that operators see
exactly what Dokku said, and callers can branch on the type instead of on text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

PREFIX = " !     "


class DokkuError(Exception):
    """A Dokku command failed.  ``message`` is Dokku's own text (prefix removed)."""

    def __init__(
        self,
        message: str,
        exit_code: int | None = None,
        argv: Sequence[str] = (),
        stdout: str = "",
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.argv = list(argv)
        self.stdout = stdout
        self.stderr = stderr

    def __str__(self) -> str:
        return self.message


class AppNotFound(DokkuError):
    """The app does not exist (Dokku exit code 20)."""


class ServiceNotFound(DokkuError):
    """The service (postgres, redis, ...) does not exist."""


class NameTaken(DokkuError):
    """An app or service with that name already exists."""


class InvalidName(DokkuError, ValueError):
    """A name was rejected, by our validation (before any call) or by Dokku."""


class InvalidValue(DokkuError, ValueError):
    """An argument that is not a name was rejected before any call."""


class NotDeployed(DokkuError):
    """The app exists but has never been deployed, so it has no containers."""


class AlreadyLinked(DokkuError):
    """The service is already linked to the app (or not linked, for unlink)."""


class ServiceLinked(DokkuError):
    """A linked service cannot be destroyed: unlink it from every app first."""


class UnknownCommand(DokkuError):
    """Dokku does not know the command, e.g. a service plugin is not installed."""


class ContainerNotFound(DokkuError):
    """docker knows no container by that id or name (``No such container``)."""


class DockerRefused(DokkuError):
    """The docker daemon refused the change in the container's state (it is running,
    not running ...): a conflict with the container's state, not an outage."""


class DokkuTimeout(DokkuError):
    """The command did not finish in time; its whole process group was killed."""


class DokkuBadOutput(DokkuError):
    """A command succeeded but printed something that is not what it prints.

    Never turned into data (garbage listed as apps, a report read as "not
    deployed"): the message names the command and the first bad line, e.g.
    ``dokku apps:list printed output Pruvon cannot read: line 2 '<<garbage>>'``.
    """


def bad_output(
    tool: str, argv: Sequence[str], detail: str, exit_code: int = 0, stdout: str = ""
) -> DokkuBadOutput:
    """The :class:`DokkuBadOutput` for ``tool argv`` (``dokku``/``docker``) and its problem."""
    command = " ".join([tool, *argv[:1]])
    return DokkuBadOutput(
        f"{command} printed output Pruvon cannot read: {detail}",
        exit_code=exit_code,
        argv=argv,
        stdout=stdout,
    )


class DokkuUnavailable(DokkuError):
    """Dokku cannot be run at all (not installed, sudo refused, ssh failed)."""

    def __init__(self, message: str, hint: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


SUDO_HINT = (
    "let the Pruvon user run Dokku without a password: install etc/sudoers.d/pruvon "
    "(e.g. 'pruvon ALL=(dokku) NOPASSWD: /usr/bin/dokku'), or run Pruvon as the dokku user"
)
MISSING_HINT = (
    "install Dokku (https://dokku.com/docs/getting-started/installation/) or set "
    "dokku.command / PRUVON_DOKKU_COMMAND to the dokku executable"
)
SSH_HINT = (
    "check dokku.ssh, dokku.ssh_key and dokku.ssh_port, and that the key is in Dokku's "
    "authorized keys (dokku ssh-keys:add)"
)

_SUDO_REFUSED = re.compile(
    r"sudo: (a password is required|a terminal is required|.*not allowed to execute|"
    r".*is not in the sudoers file|unknown user)"
)
_SUDO_NOT_FOUND = re.compile(r"^sudo: \S+: command not found$", re.MULTILINE)
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
APP_NOT_FOUND_RE = re.compile(r"^App \S+ does not exist$")
NOT_DEPLOYED_RE = re.compile(r"^App \S+ has not been deployed$")
_RULES: list[tuple[re.Pattern[str], type[DokkuError]]] = [
    (APP_NOT_FOUND_RE, AppNotFound),
    (re.compile(r"^\w[\w ]* service \S+ does not exist$"), ServiceNotFound),
    (re.compile(r"^Name is already taken$"), NameTaken),
    (re.compile(r"^\w[\w ]* service \S+ already exists$"), NameTaken),
    (re.compile(r"^App name must begin with"), InvalidName),
    (re.compile(r"^Please specify a valid name for the service"), InvalidName),
    (NOT_DEPLOYED_RE, NotDeployed),
    (re.compile(r"^Already linked as "), AlreadyLinked),
    (re.compile(r"^Not linked to app "), AlreadyLinked),
    (re.compile(r"^Cannot delete linked service$"), ServiceLinked),
    (re.compile(r"^`[^`]+` is not a dokku command\.$"), UnknownCommand),
]


def dokku_messages(text: str) -> list[str]:
    """The `` !     `` lines of ``text``, prefix removed (ANSI colour codes ignored)."""
    plain = ANSI_RE.sub("", text)
    return [line[len(PREFIX) :].rstrip() for line in plain.splitlines() if line.startswith(PREFIX)]


def error_message(stdout: str, stderr: str) -> str:
    """Dokku's message for a failed command: its `` !`` lines, else the raw stderr."""
    lines = dokku_messages(stderr) or dokku_messages(stdout)
    if lines:
        return "\n".join(lines)
    raw = stderr.strip() or stdout.strip()
    return raw.splitlines()[-1] if raw else ""


def classify(argv: Sequence[str], exit_code: int, stdout: str, stderr: str) -> DokkuError:
    """The most specific :class:`DokkuError` for a command that exited ``exit_code``."""
    fields: dict[str, Any] = {
        "exit_code": exit_code,
        "argv": argv,
        "stdout": stdout,
        "stderr": stderr,
    }
    if _SUDO_REFUSED.search(stderr):
        return DokkuUnavailable(stderr.strip(), SUDO_HINT, **fields)
    message = error_message(stdout, stderr)
    if exit_code == 127 or _SUDO_NOT_FOUND.search(stderr):
        return DokkuUnavailable(message or "dokku: command not found", MISSING_HINT, **fields)
    if exit_code == 20:
        return AppNotFound(message or "App does not exist", **fields)
    for line in dokku_messages(stderr) + dokku_messages(stdout):
        for pattern, kind in _RULES:
            if pattern.search(line):
                return kind(message, **fields)
    if exit_code == 2 and "Usage of " in stderr:
        return InvalidValue(message, **fields)
    command = argv[0] if argv else "dokku"
    return DokkuError(message or f"{command} failed with exit code {exit_code}", **fields)
