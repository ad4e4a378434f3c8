"""Terminal targets: what a terminal can open, and the argv that opens it.

A target (from the ``pruvon_terminal_targets`` hook) names the permission
action it needs and turns a validated :class:`TerminalRequest` into a
:class:`Launch` - a function that starts the process on a PTY.  Built in:

* ``app`` - ``dokku enter APP DYNO SHELL`` in a running container.  Dokku
  0.38.27 mis-parses ``--container-id ID CMD`` (the command becomes the process
  type, see the ``enter-multi-container-id-echo`` capture), so a container
  picked by id is entered through its dyno name (``web.2``), which Dokku
  handles correctly.  The shell comes from ``terminals.shells``; ``auto`` means
  bash, and a shell missing from the image falls back to ``/bin/sh`` after a
  cheap ``test -x`` probe (no output games, no retry on failure).
* ``run`` - ``dokku run APP CMD...``: a one-off container.
* ``host`` - a login shell on the host as ``terminals.host_user`` (``nobody``
  unless configured), only when ``terminals.host_shell: true``; admins only.

Other plugins add their own (the services plugin's console, in
``pruvon_services/console.py``) from the classes in :mod:`pruvon_terminals.public`.

Nothing here builds a shell string: every argv word is validated on its own.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pruvon_core.dokku import validate
from pruvon_core.dokku.errors import DokkuError
from pruvon_core.dokku.transports import PtyHandle
from pruvon_core.permissions import Resource
from pruvon_core.plugins import flatten
from pruvon_terminals.settings import FALLBACK_SHELL, TerminalSettings

CONTAINER_ID_RE = re.compile(r"^[0-9a-f]{12,64}$")
MAX_COMMAND_CHARS = 4096
PROBE_TIMEOUT = 20.0
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class TargetError(ValueError):
    """The request cannot be opened; the message is shown to the operator."""


@dataclass(frozen=True)
class TerminalRequest:
    """What the operator asked for, from the page's query string."""

    target: str
    app: str | None = None
    process: str | None = None  # process type (web) or dyno (web.2)
    container: str | None = None  # a container id, entered through its dyno
    shell: str = "auto"
    command: tuple[str, ...] = ()
    service_type: str | None = None  # for service consoles (``/ws/services/<type>/<name>/…``)
    service: str | None = None

    @classmethod
    def from_query(cls, target: str, app: str | None, args: Mapping[str, str],
                   service_type: str | None = None,
                   service: str | None = None) -> TerminalRequest:
        """Parse ``?process=&container=&shell=``; a ``cmd`` there is refused.

        A URL is kept in proxy access logs and browser history, and a one-off
        command may carry a password: it comes in the socket's first message
        instead (:meth:`with_command`).
        """
        if "cmd" in args:
            raise TargetError('the command belongs in the first message, not in the URL '
                              '(URLs are kept in access logs and browser history): send '
                              '{"type":"start","cmd":...}')
        return cls(
            target=target,
            app=app,
            process=args.get("process") or None,
            container=args.get("container") or None,
            shell=args.get("shell") or "auto",
            service_type=service_type,
            service=service,
        )

    def with_command(self, cmd: Any) -> TerminalRequest:
        """This request running ``cmd``: a string split into argv words like a shell
        would (never given to a shell), a list of strings taken as argv, or None."""
        if cmd is None:
            return replace(self, command=())
        if isinstance(cmd, list):
            if not all(isinstance(word, str) for word in cmd):
                raise TargetError("command must be a string or a list of strings")
            words, size = tuple(cmd), sum(len(word) + 1 for word in cmd)
        elif isinstance(cmd, str):
            words, size = (), len(cmd)
        else:
            raise TargetError("command must be a string or a list of strings")
        if size > MAX_COMMAND_CHARS:
            raise TargetError(f"command is longer than {MAX_COMMAND_CHARS} characters")
        if isinstance(cmd, str):
            try:
                words = tuple(shlex.split(cmd))
            except ValueError as exc:
                raise TargetError(f"command cannot be split into words: {exc}") from exc
        return replace(self, command=words)


@dataclass
class Launch:
    """A ready-to-start terminal: ``start(cols, rows)`` spawns it on a PTY.

    ``label`` goes to the audit log and the session list (never the full
    command line of a one-off run, which may carry a password); ``notice`` is
    shown in the terminal before the process output (e.g. a shell fallback).
    """

    label: str
    start: Callable[[int, int], PtyHandle]
    notice: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TargetContext:
    """What a target may use to build its launch."""

    client: Any  # pruvon_core.dokku.DokkuClient
    settings: TerminalSettings


class TerminalTarget:
    """Base class of terminal targets; plugins subclass it for their own."""

    name = "base"
    label = "Terminal"
    action = ""
    # the client names the command in its first message ({"type":"start","cmd":…})
    takes_command = False

    def resource(self, request: TerminalRequest) -> Resource | None:
        """The object the permission check applies to."""
        return None

    def available(self, settings: TerminalSettings) -> bool:
        """False when configuration switches this target off."""
        return True

    def prepare(self, request: TerminalRequest, ctx: TargetContext) -> Launch:
        raise NotImplementedError


def _app(request: TerminalRequest) -> str:
    try:
        return validate.app_name(request.app)
    except ValueError as exc:
        raise TargetError(str(exc)) from exc


class AppResource:
    """Mixin: the resource of an app target is the app."""

    def resource(self, request: TerminalRequest) -> Resource | None:
        return Resource("app", _app(request))


def running_dynos(client: Any, app: str) -> dict[str, str]:
    """``{container id: dyno}`` of the app's running deploy containers.

    One ``docker ps`` where the transport can run docker, else ``ps:report``
    (which shows 11-character container ids).
    """
    try:
        containers = client.containers(app)
    except DokkuError:
        report = client.ps_report(app)
        return {
            s.container_id: f"{s.process_type}.{s.index}"
            for s in report.statuses
            if s.state == "running" and s.container_id
        }
    return {
        c.id: c.dyno
        for c in containers
        if c.state == "running" and c.container_type in ("deploy", "")
    }


class AppShellTarget(AppResource, TerminalTarget):
    """A shell in a running container of an app (``dokku enter``)."""

    name = "app"
    label = "App container shell"
    action = "apps.terminal"

    def prepare(self, request: TerminalRequest, ctx: TargetContext) -> Launch:
        app = _app(request)
        shell = self._shell(request, ctx.settings)
        where = self._where(app, request, ctx.client)
        shell, notice = self._resolve_shell(ctx.client, app, where, shell)
        client = ctx.client
        args = client.enter_args(app, where, [shell])
        return Launch(
            label=f"enter {app} {where} {shell}",
            start=lambda cols, rows: client.pty(args, cols, rows),
            notice=notice,
            details={"process": where, "shell": shell},
        )

    @staticmethod
    def _shell(request: TerminalRequest, settings: TerminalSettings) -> str:
        if request.shell == "auto":
            return settings.shells[0]
        if request.shell not in settings.shells:
            raise TargetError(
                f"shell {request.shell!r} is not allowed; choose one of "
                f"{', '.join(settings.shells)} (terminals.shells)"
            )
        return request.shell

    @staticmethod
    def _where(app: str, request: TerminalRequest, client: Any) -> str:
        """The process type or dyno to enter."""
        try:
            if request.container:
                if not CONTAINER_ID_RE.match(request.container):
                    raise TargetError("container must be a hexadecimal docker container id")
                dynos = running_dynos(client, app)
                for cid, dyno in dynos.items():
                    if cid.startswith(request.container) or request.container.startswith(cid):
                        return dyno
                raise TargetError(f"no running container {request.container[:12]} in app {app}")
            if request.process:
                if "." in request.process:
                    return validate.dyno(request.process)
                return validate.process_type(request.process)
            dynos = sorted(running_dynos(client, app).values())
        except DokkuError as exc:
            raise TargetError(exc.message) from exc
        except ValueError as exc:
            raise TargetError(str(exc)) from exc
        if not dynos:
            if not client.app_exists(app):
                raise TargetError(f"app {app} does not exist")
            raise TargetError(f"app {app} has no running container to enter")
        return "web" if any(d.startswith("web.") for d in dynos) else dynos[0]

    @staticmethod
    def _resolve_shell(client: Any, app: str, where: str, shell: str) -> tuple[str, str]:
        """``shell`` when the container has it, else ``/bin/sh`` with a notice."""
        if shell == FALLBACK_SHELL:
            return shell, ""
        if probe(client, client.enter_args(app, where, ["test", "-x", shell])) == 0:
            return shell, ""
        return FALLBACK_SHELL, f"{shell} is not available in this container; using {FALLBACK_SHELL}"


def probe(client: Any, args: list[str], timeout: float = PROBE_TIMEOUT) -> int | None:
    """Run a short command on a PTY (what ``enter`` needs) and return its exit status."""
    handle = client.pty(args, 80, 24)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and handle.read(4096):
            pass
        remaining = max(0.1, deadline - time.monotonic())
        return handle.wait(timeout=remaining)
    except Exception:  # a probe that hangs or fails means "not available"
        return None
    finally:
        handle.close()


class RunTarget(AppResource, TerminalTarget):
    """A one-off container running a command (``dokku run APP CMD``)."""

    name = "run"
    label = "One-off command"
    action = "apps.run"
    takes_command = True

    def prepare(self, request: TerminalRequest, ctx: TargetContext) -> Launch:
        app = _app(request)
        try:
            args = ctx.client.run_args(app, list(request.command or (FALLBACK_SHELL,)))
        except ValueError as exc:
            raise TargetError(str(exc)) from exc
        client = ctx.client
        program = os.path.basename(args[2])
        return Launch(
            label=f"run {app} {program}",
            start=lambda cols, rows: client.pty(args, cols, rows),
            details={"command": program},
        )


class HostTarget(TerminalTarget):
    """A login shell on the host, as an unprivileged user; admins only, off by default."""

    name = "host"
    label = "Host shell"
    action = "host.terminal"

    def available(self, settings: TerminalSettings) -> bool:
        return settings.host_shell

    def prepare(self, request: TerminalRequest, ctx: TargetContext) -> Launch:
        settings = ctx.settings
        if not settings.host_shell:
            raise TargetError("the host shell is off (set terminals.host_shell: true)")
        try:
            account = pwd.getpwnam(settings.host_user)
        except KeyError as exc:
            raise TargetError(f"terminals.host_user {settings.host_user!r} does not exist") from exc
        shell = settings.host_login_shell
        if not os.access(shell, os.X_OK):
            raise TargetError(f"terminals.host_login_shell {shell} is not executable")
        argv = host_argv(account.pw_name, shell)
        env = {
            "PATH": HOST_PATH,
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "HOME": account.pw_dir,
            "USER": account.pw_name,
            "LOGNAME": account.pw_name,
            "SHELL": shell,
        }
        return Launch(
            label=f"host shell as {account.pw_name}",
            start=lambda cols, rows: PtyHandle(argv, env, cols, rows),
            details={"user": account.pw_name},
        )


def host_argv(user: str, shell: str) -> list[str]:
    """Start ``shell -l`` as ``user``: directly, via runuser (root) or sudo -n."""
    me = pwd.getpwuid(os.geteuid()).pw_name
    if me == user:
        return [shell, "-l"]
    if os.geteuid() == 0:
        return ["runuser", "-u", user, "--", shell, "-l"]
    return ["sudo", "-n", "-H", "-u", user, "--", shell, "-l"]


BUILTIN_TARGETS: tuple[TerminalTarget, ...] = (AppShellTarget(), RunTarget(), HostTarget())


def collect(pruvon: Any) -> dict[str, TerminalTarget]:
    """Every target from the ``pruvon_terminal_targets`` hook, by name (first wins)."""
    found: dict[str, TerminalTarget] = {}
    for target in flatten(pruvon.plugins.hook.pruvon_terminal_targets(pruvon=pruvon)):
        if isinstance(target, TerminalTarget) and target.name not in found:
            found[target.name] = target
    return found
