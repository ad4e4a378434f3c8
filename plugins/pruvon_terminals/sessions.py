"""The PTY ↔ WebSocket bridge of one terminal.

Protocol (DESIGN §8):

* binary frames both ways carry terminal data, untouched;
* client → server text frames are JSON control messages:
  ``{"type": "resize", "cols": N, "rows": N}`` (each clamped to 1..500) and
  ``{"type": "ping"}`` (answered ``{"type": "pong"}``; not user activity);
* server → client text frames are JSON status: ``ready`` (session id, target),
  ``notice``, ``pong``, ``error`` (a bad control message; the session goes
  on), and exactly one final ``exited`` (``code``) or ``closed`` (``reason``,
  ``message``) before the socket closes.

Nothing a client sends can reach the server's environment: data goes to the
PTY, control messages only resize it.

Two threads per terminal.  The *reader* moves PTY output to the socket one
chunk (64 KiB at most) at a time with a blocking send: a slow browser stalls
the reader, the kernel's PTY buffer fills, and the program blocks on write -
memory stays bounded by one chunk, whatever the output rate.  The *main* loop
receives client frames, writes input to the PTY without blocking (a bounded
backlog: a program that stops reading its input while a client keeps pasting
ends the session rather than growing memory), and every tick checks the
process, the idle and absolute timers, revocation and kill requests.

Teardown always ends the PTY's whole process session (:mod:`procs`) and reaps
the leader, so closing the socket leaves no orphan and no zombie.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pruvon_terminals.procs import kill_session

log = logging.getLogger("pruvon.terminals")

CHUNK = 64 * 1024
MAX_SIZE = 500
MAX_CONTROL = 4096
MAX_INPUT_BACKLOG = 1024 * 1024
TICK = 0.1
SEND_TIMEOUT = 2.0
EXIT_WAIT = 2.0
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008

Guard = Callable[[], str | None]

# Set when the serving process starts a graceful stop (see ``web.watch_shutdown``):
# every bridge then closes its terminal at once, so the server's grace period is
# spent reaping PTYs rather than waiting for them and being killed with them.
SHUTDOWN = threading.Event()


@dataclass(frozen=True)
class Limits:
    """Timers of one session, in seconds."""

    idle_timeout: float
    max_lifetime: float
    revalidate_interval: float = 1.0


@dataclass
class Outcome:
    """How a session ended: ``exited`` with the program's code, or ``closed`` with a reason."""

    status: str
    code: int | None = None
    reason: str = ""
    message: str = ""
    duration: float = 0.0


class ClientGone(Exception):
    """The browser closed the socket or the network dropped it."""


def clamp(value: Any, what: str) -> int:
    """A terminal dimension from a control message, clamped to 1..500."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{what} must be a finite number")
    return max(1, min(MAX_SIZE, int(value)))


def parse_control(text: str) -> dict[str, Any]:
    """Decode a control frame; raises ValueError with the reason for the client."""
    if len(text) > MAX_CONTROL:
        raise ValueError(f"control message longer than {MAX_CONTROL} characters")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as exc:  # "[" * 4000 fits in MAX_CONTROL
        raise ValueError("control message is not JSON") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ValueError('control message must be an object with a "type"')
    return message


class TerminalBridge:
    """Runs one terminal until the program exits or the session is closed."""

    def __init__(
        self,
        ws: Any,
        handle: Any,
        limits: Limits,
        guard: Guard,
        kill_requested: Callable[[], str | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ws = ws
        self.handle = handle
        self.limits = limits
        self.guard = guard
        self.kill_requested = kill_requested
        self.clock = clock
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._eof = threading.Event()
        self._client_gone = threading.Event()
        self._backlog = bytearray()
        self._started = clock()
        self._last_input = self._started
        self._next_check = self._started
        self._reader = threading.Thread(target=self._pump_output, name="terminal-reader",
                                        daemon=True)

    # ------------------------------------------------------------------ sending
    def send(self, data: bytes | str, timeout: float = -1) -> bool:
        """Send one frame (serialised across threads); False if the client is gone/stuck."""
        if not self._send_lock.acquire(timeout=timeout):
            return False
        try:
            self.ws.send(data)
            return True
        except Exception:  # ConnectionClosed, OSError: the peer is gone
            self._client_gone.set()
            return False
        finally:
            self._send_lock.release()

    def send_json(self, message: dict[str, Any], timeout: float = SEND_TIMEOUT) -> bool:
        return self.send(json.dumps(message), timeout=timeout)

    # ------------------------------------------------------------------ output
    def _pump_output(self) -> None:
        fd = self.handle.fd
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], 0.2)
            except (OSError, ValueError):
                break
            if not ready:
                continue
            try:
                data = os.read(fd, CHUNK)
            except BlockingIOError:
                continue
            except OSError:  # EIO: every process holding the terminal has gone
                data = b""
            if not data:
                self._eof.set()
                return
            if not self.send(data):
                return

    # ------------------------------------------------------------------ input
    def _write_input(self, data: bytes) -> None:
        self._backlog.extend(data)
        self._flush_input()

    def _flush_input(self) -> None:
        while self._backlog:
            try:
                written = os.write(self.handle.fd, self._backlog[:CHUNK])
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EIO:  # the program has gone; its exit is noticed next
                    self._backlog.clear()
                    return
                raise
            del self._backlog[:written]

    def _control(self, text: str) -> None:
        try:
            message = parse_control(text)
            kind = message["type"]
            if kind == "resize":
                self.handle.resize(clamp(message.get("cols"), "cols"),
                                   clamp(message.get("rows"), "rows"))
                self._last_input = self.clock()
            elif kind == "ping":
                self.send_json({"type": "pong"})
            else:
                raise ValueError(f"unknown control message type {kind!r}")
        except ValueError as exc:
            self.send_json({"type": "error", "error": str(exc)})

    def _receive(self) -> None:
        """One client frame (or a tick without one)."""
        try:
            message = self.ws.receive(timeout=TICK)
        except Exception as exc:  # simple_websocket.ConnectionClosed
            raise ClientGone() from exc
        if message is None:
            if not getattr(self.ws, "connected", True) or self._client_gone.is_set():
                raise ClientGone()
            return
        if isinstance(message, bytes | bytearray):
            self._last_input = self.clock()
            if len(message) > MAX_INPUT_BACKLOG:
                self.send_json({"type": "error", "error": "input larger than 1 MiB refused; "
                                "paste it in smaller parts"})
                return
            self._write_input(bytes(message))
        else:
            self._control(message)

    # ------------------------------------------------------------------ checks
    def _closing_reason(self) -> tuple[str, str] | None:
        now = self.clock()
        if SHUTDOWN.is_set() or not threading.main_thread().is_alive():
            # the interpreter is shutting down (a worker stopping) and waits for this
            # thread: close now rather than be killed with the process and orphan the PTY
            return "shutdown", "the server is shutting down"
        if now - self._last_input >= self.limits.idle_timeout:
            return "idle", f"closed after {self.limits.idle_timeout:g} s without input"
        if now - self._started >= self.limits.max_lifetime:
            return "lifetime", f"closed at the maximum session length of " \
                               f"{self.limits.max_lifetime:g} s"
        if len(self._backlog) > MAX_INPUT_BACKLOG:
            return "input-overflow", "the program stopped reading its input"
        if now >= self._next_check:
            self._next_check = now + self.limits.revalidate_interval
            killed = self.kill_requested()
            if killed is not None:
                return "killed", killed
            revoked = self.guard()
            if revoked is not None:
                return "revoked", revoked
        return None

    # ------------------------------------------------------------------ run
    def run(self) -> Outcome:
        """Bridge until the end; always kills and reaps the process session."""
        flags = fcntl.fcntl(self.handle.fd, fcntl.F_GETFL)
        fcntl.fcntl(self.handle.fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self._reader.start()
        try:
            outcome = self._loop()
        except Exception:
            log.exception("terminal bridge failed")
            outcome = Outcome("closed", reason="error", message="internal error; see the log")
        finally:
            self._teardown()
        outcome.duration = self.clock() - self._started
        self._finish(outcome)
        return outcome

    def _loop(self) -> Outcome:
        while True:
            try:
                self._receive()
                self._flush_input()
            except ClientGone:
                return Outcome("closed", reason="client", message="the browser closed the terminal")
            code = self.handle.poll()
            if code is not None or self._eof.is_set():
                return Outcome("exited", code=self._exit_code(code))
            if self._client_gone.is_set():
                return Outcome("closed", reason="client", message="the browser closed the terminal")
            closing = self._closing_reason()
            if closing is not None:
                return Outcome("closed", reason=closing[0], message=closing[1])

    def _exit_code(self, code: int | None) -> int | None:
        """The leader's status as a shell reports it (128+N when killed by signal N)."""
        if code is None:  # the terminal closed first; the leader is about to exit
            try:
                code = self.handle.wait(timeout=EXIT_WAIT)
            except Exception:  # subprocess.TimeoutExpired: the leader lingers
                return None
        return 128 - code if code < 0 else code

    def _teardown(self) -> None:
        """Kill the session, let the reader drain what is left, reap the leader."""
        kill_session(self.handle.pid)
        self._reader.join(timeout=SEND_TIMEOUT)
        if self._reader.is_alive():  # stuck in a send to a client that stopped reading
            self._shutdown_socket()
            self._reader.join(timeout=SEND_TIMEOUT)
        self._stop.set()
        self._reader.join(timeout=1.0)
        self.handle.close()

    def _shutdown_socket(self) -> None:
        sock = getattr(self.ws, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._client_gone.set()

    def _finish(self, outcome: Outcome) -> None:
        """Tell the client how it ended (if it is still there), then close the socket."""
        if self._client_gone.is_set() or outcome.reason == "client":
            return
        if outcome.status == "exited":
            self.send_json({"type": "exited", "code": outcome.code})
            code = CLOSE_NORMAL
        else:
            self.send_json({"type": "closed", "reason": outcome.reason,
                            "message": outcome.message})
            code = CLOSE_POLICY if outcome.reason in ("revoked", "killed") else CLOSE_NORMAL
        if not self._send_lock.acquire(timeout=SEND_TIMEOUT):
            self._shutdown_socket()
            return
        try:
            self.ws.close(reason=code, message=outcome.reason)
        except Exception:  # noqa: S110 - the peer may have gone meanwhile
            pass
        finally:
            self._send_lock.release()
