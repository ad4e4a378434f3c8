"""How Pruvon runs ``dokku``: locally, through sudo, over ssh, or the simulator.

All transports share one interface - :meth:`Transport.run` (capture, with a
timeout), :meth:`Transport.stream` (a cancellable line/chunk iterator) and
:meth:`Transport.pty` (an interactive, resizable terminal) - and differ only
in the argv they build around Dokku's arguments.

Every process is started in its own session (so its own process group).  A
timeout or a cancellation kills the whole group, and so does the end of a
captured call, so a command can never leave an orphan behind: a hung
``docker`` child of a hung ``dokku`` dies with it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pwd
import re
import shlex
import signal
import struct
import subprocess
import termios
import threading
import time
import tty
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from pruvon_core import processes
from pruvon_core.dokku import sshopts
from pruvon_core.dokku.errors import (
    ANSI_RE,
    MISSING_HINT,
    SSH_HINT,
    DokkuError,
    DokkuTimeout,
    DokkuUnavailable,
    InvalidValue,
)
from pruvon_core.dokku.errors import PREFIX as MESSAGE_PREFIX
from pruvon_core.dokku.models import Result

CHUNK = 64 * 1024
FEED_CHUNK = 1024 * 1024  # stdin fed from a file or upload (imports): read and written 1 MiB at once
STDERR_LIMIT = 256 * 1024
STDOUT_TAIL_LINES = 50  # kept from a line stream, to explain a failure
KILL_GRACE = 1.0
StdinSource = bytes | IO[bytes] | None
Finished = Callable[[tuple[str, ...], float, int | None], None]


# --------------------------------------------------------------------------- processes
def kill_group(pid: int, grace: float = KILL_GRACE) -> None:
    """SIGTERM the process group ``pid`` leads, then SIGKILL whatever is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        if sig == signal.SIGTERM:
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _group_alive(pid):
                time.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # the leader may be a zombie we have not reaped yet: that is not "alive"
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _pgid_of(int(entry)) == pgid and not _is_zombie(int(entry)):
            return True
    return False


def _stat_fields(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _pgid_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[2]) if len(fields) > 2 else None


def _is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] == "Z"


def _spawn(argv: list[str], env: dict[str, str] | None, **kwargs: Any) -> subprocess.Popen:
    try:
        proc = subprocess.Popen(argv, env=env, start_new_session=True, close_fds=True, **kwargs)
    except (FileNotFoundError, PermissionError) as exc:
        raise DokkuUnavailable(
            f"cannot run {argv[0]}: {exc.strerror}", MISSING_HINT, argv=argv
        ) from exc
    processes.spawned(proc.pid)  # an operation runner records the group (crash recovery)
    return proc


def _widen(pipe: IO[bytes], size: int = FEED_CHUNK) -> None:
    """Ask for a ``size`` pipe buffer (Linux F_SETPIPE_SZ): a dump fed or read at disk
    speed then costs a sixteenth of the wake-ups; the default 64 KiB stays when refused."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)


def _feed(pipe: IO[bytes], source: bytes | IO[bytes]) -> None:
    """Write ``source`` to the child's stdin in chunks (a file is never read whole)."""
    try:
        if isinstance(source, bytes):
            pipe.write(source)
        else:
            _widen(pipe)
            while chunk := source.read(FEED_CHUNK):
                pipe.write(chunk)
    except (BrokenPipeError, OSError, ValueError):
        pass  # the child stopped reading: its exit status tells why
    finally:
        with contextlib.suppress(OSError, ValueError):
            pipe.close()


def _drain(pipe: IO[bytes], sink: bytearray, limit: int | None = None) -> None:
    while chunk := pipe.read1(CHUNK) if hasattr(pipe, "read1") else pipe.read(CHUNK):
        sink.extend(chunk)
        if limit is not None and len(sink) > limit:
            del sink[: len(sink) - limit]


def _start_feeder(proc: subprocess.Popen, stdin: StdinSource) -> threading.Thread | None:
    if stdin is None or proc.stdin is None:
        return None
    thread = threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True)
    thread.start()
    return thread


def raw_terminal(cols: int = 1000, rows: int = 50) -> tuple[int, int]:
    """A local pseudo-terminal in raw mode, ``(master, slave)``.

    Given to ``ssh -tt`` as its stdin: ssh (or its ControlMaster) sends the
    slave's modes with the pty request, so the remote terminal is raw too -
    no ``\r`` added to output, nothing echoed, no signal characters - and the
    bytes the remote command writes arrive unchanged.  Wide, so that nothing
    formats its output for 80 columns.
    """
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    return master, slave


def run_process(
    argv: list[str], env: dict[str, str] | None, stdin: StdinSource, timeout: float,
    *, terminal: bool = False,
) -> tuple[int, bytes, bytes, float]:
    """Run ``argv`` to completion in its own process group; kill the group on timeout.

    ``terminal``: stdin is a raw local terminal (:func:`raw_terminal`), held
    open and silent until the command ends (``ssh -tt`` reads).
    """
    start = time.monotonic()
    held = raw_terminal() if terminal and stdin is None else None
    try:
        proc = _spawn(
            argv,
            env,
            stdin=held[1] if held else subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    finally:
        if held:
            os.close(held[1])  # the child has it; ours would keep the terminal open
    try:
        return _complete(proc, argv, stdin, timeout, start)
    finally:
        if held:
            os.close(held[0])


def _complete(proc: subprocess.Popen, argv: list[str], stdin: StdinSource, timeout: float,
              start: float) -> tuple[int, bytes, bytes, float]:
    """Collect a started command's output; kill its group on timeout (see :func:`run_process`)."""
    out, err = bytearray(), bytearray()
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, err, STDERR_LIMIT), daemon=True),
    ]
    for reader in readers:
        reader.start()
    _start_feeder(proc, stdin)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.wait()
        processes.reaped(proc.pid)
        _join(readers, KILLED_DRAIN)
        raise DokkuTimeout(
            f"{shlex.join(argv)} did not finish within {timeout:g} s and was killed",
            argv=argv,
            stdout=out.decode(errors="replace"),
            stderr=err.decode(errors="replace"),
        ) from None
    kill_group(proc.pid, grace=0)  # leftovers of the finished command: no orphans
    processes.reaped(proc.pid)
    _join(readers, EXITED_DRAIN if code >= 0 else KILLED_DRAIN)
    return code, bytes(out), bytes(err), time.monotonic() - start


# How long to wait for a command's pipes to reach end-of-file after it ended.
# An ssh multiplexing client hands its pipes to the ControlMaster, which holds
# them until the remote command ends: after a kill (our timeout, or a host cut
# at its all-hosts timeout) that can be never, so only what is there is taken.
EXITED_DRAIN = 5.0
KILLED_DRAIN = 0.5


def _join(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def split_messages(text: str) -> tuple[str, str]:
    """``(other lines, Dokku's `` !     `` lines)`` of a terminal's merged output.

    Dokku writes those lines (``dokku_log_warn``/``dokku_log_fail``) to stderr
    only, and no report or list prints a data line starting with them, so a
    read run on a terminal gets its stderr messages back where they belong
    (e.g. "You haven't deployed any applications yet" with exit 0).
    """
    kept: list[str] = []
    moved: list[str] = []
    for line in text.splitlines(keepends=True):
        (moved if ANSI_RE.sub("", line).startswith(MESSAGE_PREFIX) else kept).append(line)
    return "".join(kept), "".join(moved)


# --------------------------------------------------------------------------- stream
class Stream:
    """A running command read as lines (``for line in stream``) or raw ``chunks()``.

    ``cancel()`` (from any thread) kills the process group and ends the
    iteration.  When the command exits non-zero on its own, the iteration ends
    by raising the error ``check`` builds (e.g. :class:`AppNotFound`).
    """

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str] | None,
        stdin: StdinSource = None,
        timeout: float | None = None,
        check: Callable[[int, str, str], DokkuError | None] | None = None,
        finished: Finished | None = None,
        merge_stderr: bool = False,
    ) -> None:
        """``merge_stderr``: stderr lines come in the same iteration, in order (``docker
        logs`` replays a container's stderr on its own stderr)."""
        self.argv = tuple(argv)
        self._check = check
        self._finished = finished
        self._start = time.monotonic()
        self._stderr = bytearray()
        self._tail: deque[str] = deque(maxlen=STDOUT_TAIL_LINES)
        self.cancelled = False
        self.timed_out = False
        self.exit_code: int | None = None
        self._proc = _spawn(
            argv,
            env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        )
        self._err_reader = threading.Thread(
            target=_drain, args=(self._proc.stderr, self._stderr, STDERR_LIMIT), daemon=True
        ) if not merge_stderr else threading.Thread(target=lambda: None, daemon=True)
        self._err_reader.start()
        _start_feeder(self._proc, stdin)
        self._timer = threading.Timer(timeout, self._expire) if timeout else None
        if self._timer:
            self._timer.daemon = True
            self._timer.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def stderr(self) -> str:
        return self._stderr.decode(errors="replace")

    def _expire(self) -> None:
        self.timed_out = True
        self.cancel()

    def cancel(self) -> None:
        """Stop the command now: kill its whole process group."""
        if self._proc.poll() is None:
            self.cancelled = True
        kill_group(self._proc.pid)

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """Raw stdout bytes as they come (for binary exports).

        A ``size`` above the pipe's 64 KiB asks the kernel for a pipe that
        large (Linux ``F_SETPIPE_SZ``, best effort): a 1 GiB dump then crosses
        in 1 MiB steps instead of 16 times as many wake-ups of both processes.
        """
        assert self._proc.stdout is not None
        stdout = self._proc.stdout
        if size > CHUNK:
            _widen(stdout, size)
        while chunk := stdout.read1(size):
            yield chunk
        self._finish()

    def __iter__(self) -> Iterator[str]:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            self._tail.append(line)
            yield line
        self._finish()

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the exit status (``None`` if the command was killed)."""
        self._proc.wait(timeout=timeout)
        return self._finish(check=False)

    def _finish(self, check: bool = True) -> int | None:
        code = self._proc.wait()
        if self._timer:
            self._timer.cancel()
        self._err_reader.join(timeout=5)
        if self.exit_code is None and not (self.cancelled or self.timed_out):
            self.exit_code = code
        kill_group(self._proc.pid, grace=0)
        processes.reaped(self._proc.pid)
        if self._finished:
            self._finished(self.argv, time.monotonic() - self._start, self.exit_code)
            self._finished = None
        if self.timed_out and check:
            raise DokkuTimeout(f"{shlex.join(self.argv)} timed out and was killed", argv=self.argv)
        if check and self._check and self.exit_code:
            # Dokku prints some failures on stdout (ps:rebuild, git:from-image)
            error = self._check(self.exit_code, "\n".join(self._tail), self.stderr)
            if error:
                raise error
        return self.exit_code

    def close(self) -> None:
        if self._proc.poll() is None:
            self.cancel()
        for pipe in (self._proc.stdout, self._proc.stdin):
            if pipe:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._finish(check=False)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- pty
def _set_controlling_tty() -> None:  # runs in the child, after setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyHandle:
    """An interactive process on a pseudo-terminal: read/write ``fd``, resize, wait, kill."""

    MAX_SIZE = 1000

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str] | None,
        cols: int = 80,
        rows: int = 24,
        finished: Finished | None = None,
    ) -> None:
        self.argv = tuple(argv)
        self._finished = finished
        self._start = time.monotonic()
        self.fd, slave = os.openpty()
        try:
            self._winsize(slave, cols, rows)
            self._proc = _spawn(
                argv,
                env,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                preexec_fn=_set_controlling_tty,
            )
        except BaseException:
            os.close(self.fd)
            raise
        finally:
            os.close(slave)
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _winsize(self, fd: int, cols: int, rows: int) -> None:
        for value, what in ((cols, "cols"), (rows, "rows")):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidValue(f"terminal {what} must be a whole number")
            if not 1 <= value <= self.MAX_SIZE:
                raise InvalidValue(f"terminal {what} must be between 1 and {self.MAX_SIZE}")
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def resize(self, cols: int, rows: int) -> None:
        """Set the terminal size; the process gets SIGWINCH."""
        self._winsize(self.fd, cols, rows)

    def read(self, size: int = CHUNK) -> bytes:
        """Output bytes; ``b""`` once the process has closed the terminal.

        On a non-blocking ``fd`` with nothing to read, :class:`BlockingIOError`
        propagates (it does not mean the session ended).
        """
        try:
            return os.read(self.fd, size)
        except BlockingIOError:
            raise
        except OSError as exc:
            if exc.errno == errno.EIO:  # Linux: every slave fd is closed
                return b""
            raise

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float | None = None) -> int:
        code = self._proc.wait(timeout=timeout)
        self._done(code)
        return code

    def poll(self) -> int | None:
        code = self._proc.poll()
        if code is not None:
            self._done(code)
        return code

    def kill(self) -> None:
        """End the session: kill the process group and reap it."""
        kill_group(self._proc.pid)
        self._done(self._proc.wait())

    def _done(self, code: int) -> None:
        if self._finished:
            self.exit_code = code
            self._finished(self.argv, time.monotonic() - self._start, code)
            self._finished = None

    def close(self) -> None:
        if self._proc.poll() is None:
            self.kill()
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def __enter__(self) -> PtyHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- transports
class Transport:
    """Runs Dokku commands given as argv lists (without the leading ``dokku``)."""

    name = "base"
    can_run_docker = False

    def __init__(self, prefix: Sequence[str], env: dict[str, str] | None = None) -> None:
        if not prefix:
            raise ValueError("a transport needs a command to run")
        self.prefix = list(prefix)
        self.extra_env = dict(env or {})

    def command(self, args: Sequence[str], *, tty: bool = False) -> list[str]:
        """The full argv for Dokku arguments ``args``."""
        return [*self.prefix, *args]

    def environment(self) -> dict[str, str] | None:
        if not self.extra_env:
            return None
        return {**os.environ, **self.extra_env}

    def unavailable(self, code: int, stderr: str, argv: Sequence[str]) -> DokkuError | None:
        """A transport-level failure (ssh could not connect ...), else ``None``."""
        return None

    def run(self, args: Sequence[str], stdin: StdinSource = None, timeout: float = 60,
            *, read: bool = False) -> Result:
        """Run Dokku ``args`` to completion.

        ``read``: a read without stdin (the client's parsed reads); a transport
        may run it so that giving up on it ends it where it runs.  Locally,
        killing the process group does that already.
        """
        argv = self.command(args)
        code, out, err, duration = run_process(argv, self.environment(), stdin, timeout)
        return Result(
            tuple(argv), code, out.decode(errors="replace"), err.decode(errors="replace"), duration
        )

    def stream(self, args: Sequence[str], stdin: StdinSource = None, **kwargs: Any) -> Stream:
        return Stream(self.command(args), self.environment(), stdin, **kwargs)

    def pty(self, args: Sequence[str], cols: int = 80, rows: int = 24, **kwargs: Any) -> PtyHandle:
        return PtyHandle(self.command(args, tty=True), self.environment(), cols, rows, **kwargs)

    def describe(self) -> str:
        return f"{self.name}: {shlex.join(self.prefix)}"


class LocalTransport(Transport):
    """Dokku on this host: directly as ``dokku``/root, else ``sudo -n -u dokku dokku``."""

    name = "local"
    can_run_docker = True

    def __init__(self, executable: str = "dokku", env: dict[str, str] | None = None) -> None:
        user = pwd.getpwuid(os.geteuid()).pw_name
        direct = user in ("dokku", "root")
        super().__init__([executable] if direct else ["sudo", "-n", "-u", "dokku", executable], env)


class CommandTransport(Transport):
    """An explicit command prefix (``dokku.command``): the simulator, or a wrapper."""

    name = "command"
    can_run_docker = True


class SshTransport(Transport):
    """``ssh dokku@HOST`` in Dokku's forced-command mode.

    ssh sends one command *string*, the one place a string is built - from an
    argv validated first.  Dokku 0.38 re-splits it in its ``dokku`` entry
    script: when the command word matches ``git-*``/``git:*`` (as bash
    regexes, i.e. it contains ``git``) it runs ``dokku $SSH_ORIGINAL_COMMAND``
    with globbing off - plain word splitting, no quote removal - so the words
    are joined with spaces and any word splitting would change is refused;
    every other command is split by ``xargs -n 1`` (which honours quotes) and
    each word echoed back, so the argv is quoted with :func:`shlex.join` and
    the words ``echo`` would swallow as its own options are refused.
    Newlines are refused everywhere, and the whole string is kept well under
    xargs' command-line limit so that xargs never splits one call in two.

    ``known_hosts`` (Pruvon's own file) turns strict host-key checking against
    it on; ``control`` (a private directory) turns on connection reuse; see
    :mod:`pruvon_core.dokku.sshopts`.
    """

    name = "ssh"
    MAX_COMMAND = 96 * 1024
    ECHO_OPTIONS = re.compile(r"^-[neE]+$|^--help$|^--version$")

    def __init__(
        self,
        target: str,
        key: str | None = None,
        port: int | None = None,
        executable: str = "ssh",
        *,
        known_hosts: Path | None = None,
        control: Path | None = None,
        accept_new: bool = False,
        connect_timeout: int = sshopts.CONNECT_TIMEOUT,
    ) -> None:
        user, _, host = target.partition("@")
        if not user or not host or target.startswith("-") or host.startswith("-") or any(
            c.isspace() for c in target
        ):
            raise InvalidValue(f"dokku.ssh must look like dokku@HOST, not {target!r}")
        options = sshopts.options(known_hosts, control, accept_new, connect_timeout)
        if port is not None:
            options += ["-p", str(int(port))]
        if key:
            if str(key).startswith("-"):
                raise InvalidValue(f"ssh key {key!r} must be a path")
            options += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
        super().__init__([executable, *options])
        self.target = target
        self.control = control

    def command(self, args: Sequence[str], *, tty: bool = False) -> list[str]:
        text = self.remote_command(args)
        return [self.prefix[0], "-tt" if tty else "-T", *self.prefix[1:], self.target, "--", text]

    @staticmethod
    def quote_aware(command: str) -> bool:
        """Whether Dokku re-splits this command with ``xargs`` (not its git branch)."""
        return not (re.search(r"git-*", command) or re.search(r"git:*", command))

    def remote_command(self, args: Sequence[str]) -> str:
        """The string Dokku will split back into exactly ``args``."""
        if not args:
            raise InvalidValue("no Dokku command given")
        if any("\n" in word or "\r" in word or "\x00" in word for word in args):
            raise InvalidValue("a newline or NUL cannot be sent to Dokku over ssh")
        if self.quote_aware(args[0]):
            for word in args:
                if self.ECHO_OPTIONS.fullmatch(word):
                    raise InvalidValue(f"{word!r}: over ssh Dokku's xargs would read it as an "
                                       "option of echo")
            text = shlex.join(args)
        else:
            for word in args:
                if not word or any(c.isspace() for c in word):
                    raise InvalidValue(
                        f"{word!r}: over ssh Dokku splits {args[0]} arguments on whitespace"
                    )
            text = " ".join(args)
        if len(text.encode()) > self.MAX_COMMAND:
            raise InvalidValue(f"the command is longer than {self.MAX_COMMAND // 1024} KiB")
        return text

    @staticmethod
    def follows(args: Sequence[str]) -> bool:
        """A live stream (``logs APP -t``): it runs under ``ssh -tt`` so that closing
        the connection hangs the remote ``docker logs -f`` up instead of leaving it."""
        return bool(args) and args[0] in ("logs", "nginx:access-logs", "nginx:error-logs") and (
            "-t" in args or "--tail" in args)

    def stream(self, args: Sequence[str], stdin: StdinSource = None, **kwargs: Any) -> Stream:
        tty = stdin is None and self.follows(args)
        return Stream(self.command(args, tty=tty), self.environment(), stdin, **kwargs)

    def run(self, args: Sequence[str], stdin: StdinSource = None, timeout: float = 60,
            *, read: bool = False) -> Result:
        """Run a call; a ``read`` runs on a remote terminal, so that a cut ends it there.

        sshd never signals a forced command without a terminal when its
        channel closes (OpenSSH bug 396: with or without a ControlMaster,
        even when the connection drops), so a hung ``dokku`` whose ``ssh`` we
        killed at its timeout would run on.  With a terminal, the channel's
        close makes sshd close the pty and the kernel hangs the remote
        command's process group up (SIGHUP).  The local terminal is raw, so
        the remote one is too and stdout arrives byte for byte; the price is
        that the remote stderr comes on the same stream: Dokku's own `` !``
        lines (its warnings and errors, always on stderr) are moved back to
        stderr, any other stderr text stays in stdout (ssh's own errors stay
        on stderr), and
        that sshd records each such session as a login (utmp/wtmp).  Writes,
        streams and anything fed on stdin keep ``-T`` and separate stderr.
        """
        if not read or stdin is not None:
            return super().run(args, stdin, timeout)
        argv = self.hangup_command(args)
        try:
            code, out, err, duration = run_process(argv, self.environment(), None, timeout,
                                                   terminal=True)
        except OSError:  # no pseudo-terminal to be had (all in use): the call still runs
            return super().run(args, stdin, timeout)
        stdout, messages = split_messages(out.decode(errors="replace"))
        return Result(tuple(argv), code, stdout, messages + err.decode(errors="replace"),
                      duration)

    def hangup_command(self, args: Sequence[str]) -> list[str]:
        """``ssh -tt`` quiet about its own "Shared connection closed" (errors still shown)."""
        argv = self.command(args, tty=True)
        return [argv[0], "-o", "LogLevel=ERROR", *argv[1:]]

    def unavailable(self, code: int, stderr: str, argv: Sequence[str]) -> DokkuError | None:
        if code == 255:
            return sshopts.failure(self.target, stderr, SSH_HINT, exit_code=code, argv=argv)
        return None

    def close_master(self, timeout: float = 10) -> None:
        """Ask the master connection (if any) to exit: removing a host, ending tests."""
        if self.control is None:
            return
        argv = [self.prefix[0], *self.prefix[1:], "-O", "exit", self.target]
        with contextlib.suppress(DokkuError):
            run_process(argv, None, None, timeout)

    def describe(self) -> str:
        return f"ssh: {self.target}"


class DockerCli:
    """``docker`` (or ``pruvon-docker-sim``): the bulk container read, and the docker plugin's
    reads, changes, log streams and exec terminals (through :class:`DokkuClient`)."""

    def __init__(self, prefix: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.prefix = list(prefix)
        self.extra_env = dict(env or {})

    def run(self, args: Sequence[str], timeout: float = 30) -> Result:
        argv = [*self.prefix, *args]
        env = {**os.environ, **self.extra_env} if self.extra_env else None
        code, out, err, duration = run_process(argv, env, None, timeout)
        return Result(
            tuple(argv), code, out.decode(errors="replace"), err.decode(errors="replace"), duration
        )

    def environment(self) -> dict[str, str] | None:
        return {**os.environ, **self.extra_env} if self.extra_env else None

    def stream(self, args: Sequence[str], **kwargs: Any) -> Stream:
        """``docker logs -f`` and co. as a cancellable line stream."""
        return Stream([*self.prefix, *args], self.environment(), None, **kwargs)

    def pty(self, args: Sequence[str], cols: int = 80, rows: int = 24, **kwargs: Any) -> PtyHandle:
        """``docker exec -it`` on a resizable terminal."""
        return PtyHandle([*self.prefix, *args], self.environment(), cols, rows, **kwargs)
