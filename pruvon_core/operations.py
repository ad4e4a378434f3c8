"""Background operations: long Dokku work that no HTTP request waits for.

A real ``ps:restart`` takes 45-75 s, ``apps:create`` 15 s, a domain change
7-18 s (``TIMINGS.md``).  Such work runs as an :class:`Operation` in a
thread of the process that started it, while its record lives in files under
``<state_dir>/operations/`` so that:

* an operator can leave the page and come back (any gunicorn worker reads the
  record and its output log; a CLI can list them);
* a cancel request made in another worker reaches the runner (a marker file
  the runner polls);
* two conflicting operations on one target (``app:blog``) are never
  interleaved: the runner holds an exclusive ``flock`` on the target's lock
  file for the whole run, a second one is refused with
  :class:`OperationConflict` naming the running operation.  The kernel drops
  the lock when the process dies, so a crashed worker never blocks a target,
  and a record still saying ``running`` whose lock is free is reported as
  ``interrupted``.

Crash recovery: a record names its runner (pid, start time, boot id) and
every Dokku process group the runner started (the transports report each
spawn through :mod:`pruvon_core.processes`).  When the runner dies - a
``kill -9`` of gunicorn, a crashed CLI - its Dokku child lives on, orphaned.
:meth:`OperationStore.recover` (run when the server starts and before every
CLI operation) stops such orphans (SIGTERM, then SIGKILL) and marks the
record ``interrupted`` with every unfinished step final and a reason.  Until
an orphan is gone its target stays busy: :meth:`OperationStore.acquire`
refuses a new operation on it (naming the orphan), so two Dokku commands
never run on one app at once.

Files: ``<id>.json`` (the record, rewritten atomically), ``<id>.log``
(output lines, append-only, bounded), ``<id>.cancel`` (marker),
``locks/<target>.lock`` and ``locks/<target>.active`` (the running id).
Feature plugins (apps, services, backups) share this module.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pruvon_core.files import (
    DiskFull,
    append_private,
    atomic_write,
    open_private,
    private_dir,
    remove_stale_temp_files,
)
from pruvon_core.processes import ProcessId, tracking

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled", "timed_out", "interrupted")
MAX_LINE = 4096
MAX_LOG_BYTES = 4 * 1024 * 1024
KEEP_FINISHED = 200
KEEP_SECONDS = 14 * 24 * 3600
_ID_RE = re.compile(r"^[a-f0-9]{16}$")
# ``kind:name``; a service is ``service:<type>/<name>`` (one '/', never a path of its own)
# and on another Dokku host than the default one ``…@<host>`` (pruvon_core.hosts.op_target)
_TARGET_RE = re.compile(r"^([A-Za-z0-9_.:-]{1,200}|service:[a-z][a-z0-9-]{0,63}/[A-Za-z0-9_-]{1,200})"
                        r"(@[a-z0-9-]{1,63})?$")


class OperationError(Exception):
    """A request about operations that cannot be served (unknown id, bad target)."""


class OperationNotFound(OperationError):
    """No operation with that id."""


class OperationConflict(OperationError):
    """The target is busy with another operation; ``running`` is that operation."""

    def __init__(self, message: str, running: Operation | None = None) -> None:
        super().__init__(message)
        self.running = running


class Cancelled(Exception):
    """Raised inside a runner when its operation was asked to stop."""


class StepTimeout(Exception):
    """Raised by a runner when a step did not reach its goal in time."""


@dataclass
class Step:
    """One named step of an operation; ``undo`` is data a rollback needs."""

    name: str
    status: str = "pending"  # pending | running | done | failed | skipped | rolled_back
    detail: str = ""
    undo: dict[str, Any] = field(default_factory=dict)


@dataclass
class Operation:
    """The persisted record of one background operation."""

    id: str
    kind: str
    target: str
    actor: str
    title: str
    steps: list[Step]
    status: str = "queued"
    percent: float = 0.0
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    finished: float | None = None
    lines: int = 0
    runner: dict[str, Any] = field(default_factory=dict)  # ProcessId of the runner
    children: list[dict[str, Any]] = field(default_factory=list)  # Dokku process groups

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("children", None)  # internal: process ids
        data.pop("runner", None)
        for step in data["steps"]:
            step.pop("undo", None)  # internal: may name services, never needed by clients
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Operation:
        steps = [Step(**s) for s in data.get("steps", [])]
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "steps"}
        return cls(steps=steps, **fields)


def _lock_name(target: str) -> str:
    """A file name for ``target``: ':' and the service '/' mapped to characters names lack."""
    return _safe_target(target).replace(":", "__").replace("/", "~")


def _safe_target(target: str) -> str:
    if not _TARGET_RE.match(target):
        raise OperationError(f"invalid operation target {target!r}")
    return target


def _check_id(op_id: str) -> str:
    if not isinstance(op_id, str) or not _ID_RE.match(op_id):
        raise OperationNotFound(f"no operation {op_id!r}")
    return op_id


class OperationStore:
    """Operation records under ``<state_dir>/operations`` (safe across processes)."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.root = Path(state_dir) / "operations"
        self.locks = self.root / "locks"
        private_dir(self.locks)

    # -- files ---------------------------------------------------------------
    def _json(self, op_id: str) -> Path:
        return self.root / f"{_check_id(op_id)}.json"

    def _log(self, op_id: str) -> Path:
        return self.root / f"{_check_id(op_id)}.log"

    def _cancel(self, op_id: str) -> Path:
        return self.root / f"{_check_id(op_id)}.cancel"

    def _lock_file(self, target: str) -> Path:
        return self.locks / f"{_lock_name(target)}.lock"

    def _active_file(self, target: str) -> Path:
        return self.locks / f"{_lock_name(target)}.active"

    def save(self, op: Operation) -> None:
        """Write the record atomically (temp file + rename, removed on failure), mode 0600."""
        op.updated = time.time()
        atomic_write(self._json(op.id), json.dumps(asdict(op)), durable=False)

    def _load(self, op_id: str) -> Operation:
        try:
            data = json.loads(self._json(op_id).read_text())
        except FileNotFoundError:
            raise OperationNotFound(f"no operation {op_id!r}") from None
        except (OSError, ValueError) as exc:
            raise OperationError(f"operation {op_id} is unreadable: {exc}") from exc
        return Operation.from_dict(data)

    def as_json(self, op: Operation, after: int | None = None) -> dict[str, Any]:
        """The record for an API answer; with ``after``, its output lines after that many."""
        data = op.as_dict()
        if after is not None:
            data["output"] = self.output(op.id, after=after)
        return data

    def get(self, op_id: str) -> Operation:
        """The record; a ``running`` one whose runner died is reported ``interrupted``."""
        op = self._load(op_id)
        if op.active and not self._locked_by_other(op.target):
            op = self._load(op_id)  # it may have finished between the two reads
            if op.active:
                op.status = "interrupted"
                op.error = op.error or "the process running it stopped (server restart?)"
                living = _living_children(op)
                if living:
                    op.error += f"; its Dokku process ({_pids(living)}) is still running"
        return op

    def list(self, target: str | None = None, active: bool = False) -> list[Operation]:
        """Records, newest first, optionally for one target or only running ones."""
        found = [op for op in self._each(self.get)
                 if (target is None or op.target == target) and (not active or op.active)]
        return sorted(found, key=lambda o: o.created, reverse=True)

    def _each(self, load: Callable[[str], Operation]) -> Iterator[Operation]:
        """Every readable record, read with ``load`` (unreadable ones are skipped)."""
        for path in self.root.glob("*.json"):
            try:
                yield load(path.stem)
            except OperationError:
                continue

    def running(self, target: str) -> Operation | None:
        """The operation holding ``target`` now, if any."""
        if not self._locked_by_other(target):
            return None
        try:
            op = self._load(self._active_file(target).read_text().strip())
        except (OSError, OperationError):
            return None
        return op if op.active else None  # finished, releasing its lock this instant

    def output(self, op_id: str, after: int = 0, limit: int = 2000) -> list[str]:
        """Output lines ``after`` (0-based count already seen) .. ``after + limit``."""
        try:
            with self._log(op_id).open(encoding="utf-8", errors="replace") as handle:
                lines = [line.rstrip("\n") for i, line in enumerate(handle) if i >= after]
        except FileNotFoundError:
            self._load(op_id)  # raise NotFound for an unknown id
            return []
        return lines[:limit]

    def request_cancel(self, op_id: str) -> Operation:
        """Ask the runner (in whatever process) to stop; it polls the marker."""
        op = self.get(op_id)
        if op.active:
            os.close(open_private(self._cancel(op_id)))
        return op

    def cancel_requested(self, op_id: str) -> bool:
        return self._cancel(op_id).exists()

    # -- locking -------------------------------------------------------------
    def _locked_by_other(self, target: str) -> bool:
        """Whether some open file description holds ``target``'s lock."""
        path = self._lock_file(target)
        if not path.exists():
            return False
        fd = open_private(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops our probe lock too
        return False

    def acquire(self, target: str, settle: float = 2.0) -> int:
        """Take ``target``'s lock (an fd to close later) or raise :class:`OperationConflict`.

        An operation that has just saved its final record releases the lock
        a moment later; ``settle`` seconds are granted for that, never for
        one still running.
        """
        deadline = time.monotonic() + settle
        while True:
            fd = open_private(self._lock_file(target))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
            else:
                return self._clear_stale(target, fd)
            running = None
            with contextlib.suppress(OSError, OperationError):
                running = self._load(self._active_file(target).read_text().strip())
            just_finished = (running is not None and not running.active
                             and time.time() - (running.finished or 0) < settle)
            if just_finished and time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            raise OperationConflict(_busy_message(target, running), running) from None

    # -- crash recovery --------------------------------------------------------
    def _stale(self, target: str) -> Operation | None:
        """The target's last operation if its record still says active (its runner died:
        we hold the target's lock, which a living runner never lets go)."""
        try:
            op = self._load(self._active_file(target).read_text().strip())
        except (OSError, OperationError):
            return None
        return op if op.active else None

    def _clear_stale(self, target: str, fd: int) -> int:
        """With ``target``'s lock held: finish a dead runner's record, or refuse while
        the Dokku process it started still runs (``fd`` is closed then)."""
        stale = self._stale(target)
        living = self.settle(stale, kill=False) if stale is not None else []
        if living:
            os.close(fd)
            assert stale is not None
            raise OperationConflict(
                f"{target.replace(':', ' ', 1)} is busy: {stale.title} (operation {stale.id}) "
                f"was interrupted, but the Dokku process it started ({_pids(living)}) is still "
                "running; wait for it to end (restarting pruvon stops it)", stale)
        return fd

    def settle(self, op: Operation, kill: bool, grace: float = 5.0) -> list[ProcessId]:
        """Finish the record of ``op``, whose runner died; return the groups still alive.

        ``kill`` stops the Dokku process groups it left behind first (SIGTERM,
        ``grace`` seconds, SIGKILL); while any of them lives nothing is marked.
        """
        from pruvon_core.dokku.transports import kill_group

        living = _living_children(op)
        if living and kill:
            for child in living:
                kill_group(child.pid, grace=grace)
            deadline = time.monotonic() + 2.0
            while (living := _living_children(op)) and time.monotonic() < deadline:
                time.sleep(0.05)
        if living:
            return living
        self._mark_interrupted(op, stopped=kill and bool(op.children))
        return []

    def _mark_interrupted(self, op: Operation, stopped: bool) -> None:
        runner = op.runner.get("pid", "?")
        reason = f"interrupted: the process running it (pid {runner}) stopped"
        if stopped:
            reason += "; the Dokku process it had started was stopped"
        for step in op.steps:
            if step.status == "running":
                step.status, step.detail = "failed", reason
            elif step.status == "pending":
                step.status, step.detail = "skipped", "not run: the operation was interrupted"
        op.status, op.error = "interrupted", op.error or reason
        op.children, op.finished = [], time.time()
        self.save(op)
        remove_stale_temp_files(self._json(op.id))  # its runner may have died mid-write

    def recover(self, kill: bool = True, grace: float = 5.0) -> list[Operation]:
        """Finish every operation whose runner died (server start, each CLI operation).

        Returns the records marked ``interrupted``; one whose orphan could not
        be stopped stays active (and keeps its target busy).
        """
        recovered = []
        for op in self._each(self._load):
            if not op.active or self._runner_alive(op):
                continue
            with contextlib.suppress(OSError):
                if not self.settle(op, kill=kill, grace=grace):
                    recovered.append(op)
        return recovered

    def _runner_alive(self, op: Operation) -> bool:
        """Whether a live process is running ``op`` now (holds its target's lock for it)."""
        if not self._locked_by_other(op.target):
            return False
        try:
            return self._active_file(op.target).read_text().strip() == op.id
        except OSError:
            return True

    def prune(self, keep: int = KEEP_FINISHED, max_age: float = KEEP_SECONDS) -> None:
        """Forget finished operations beyond the newest ``keep`` or older than ``max_age``."""
        finished = [op for op in self.list() if not op.active]
        cutoff = time.time() - max_age
        for index, op in enumerate(finished):
            if index >= keep or (op.finished or op.created) < cutoff:
                for path in (self._json(op.id), self._log(op.id), self._cancel(op.id)):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()


def _living_children(op: Operation) -> list[ProcessId]:
    """The Dokku process groups ``op`` started that still run."""
    children = [ProcessId.from_dict(c) for c in op.children if isinstance(c, dict)]
    return [c for c in children if c.group_alive()]


def _pids(children: list[ProcessId]) -> str:
    return ", ".join(f"pid {c.pid}" for c in children)


def _busy_message(target: str, running: Operation | None) -> str:
    what = target.replace(":", " ", 1)
    if running is None:
        return f"{what} is busy with another operation; try again when it has finished"
    started = time.strftime("%H:%M:%S", time.localtime(running.created))
    return (
        f"{what} is busy: {running.title} (operation {running.id}, started by "
        f"{running.actor} at {started}, {running.percent:.0f}% done); wait for it to finish "
        "or cancel it"
    )


class Context:
    """What a runner function uses to report progress; every call persists."""

    def __init__(self, store: OperationStore, op: Operation) -> None:
        self.store = store
        self.op = op
        self._lock = threading.RLock()
        self._log_bytes = 0
        self._truncated = False
        self._current = -1

    # -- processes -------------------------------------------------------------
    def child(self, pid: int, started: bool) -> None:
        """Record (or forget) a Dokku process group this operation started."""
        with self._lock:
            if started:
                self.op.children.append(ProcessId.of(pid).as_dict())
            else:
                self.op.children = [c for c in self.op.children if c.get("pid") != pid]
            with contextlib.suppress(DiskFull):  # the record is best effort here
                self.store.save(self.op)

    # -- progress --------------------------------------------------------------
    def step(self, name: str) -> Step:
        """Mark step ``name`` running (earlier running steps become done)."""
        with self._lock:
            for index, step in enumerate(self.op.steps):
                if step.name == name:
                    self._current = index
                    step.status = "running"
                    break
            else:
                raise OperationError(f"operation {self.op.kind} has no step {name!r}")
            self._set_percent(0.0)
            self.store.save(self.op)
            return step

    def done(self, detail: str = "", **undo: Any) -> None:
        """The current step succeeded; ``undo`` keeps what a rollback needs."""
        with self._lock:
            step = self.op.steps[self._current]
            step.status = "done"
            step.detail = detail or step.detail
            step.undo.update(undo)
            self._set_percent(1.0)
            self.store.save(self.op)

    def skip(self, name: str, detail: str = "") -> None:
        with self._lock:
            for step in self.op.steps:
                if step.name == name:
                    step.status, step.detail = "skipped", detail
            self.store.save(self.op)

    def fraction(self, value: float, detail: str | None = None) -> None:
        """Progress inside the current step, 0..1 (e.g. containers up / wanted)."""
        with self._lock:
            self._set_percent(max(0.0, min(1.0, value)))
            if detail is not None and self._current >= 0:
                self.op.steps[self._current].detail = detail
            self.store.save(self.op)

    def _set_percent(self, within: float) -> None:
        total = len(self.op.steps) or 1
        finished = sum(1 for s in self.op.steps if s.status in ("done", "skipped"))
        current = self.op.steps[self._current] if self._current >= 0 else None
        running = within if current is not None and current.status == "running" else 0.0
        self.op.percent = round(min(100.0, 100.0 * (finished + running) / total), 1)

    # -- output ----------------------------------------------------------------
    def line(self, text: str) -> None:
        """Append one output line (bounded: the log never exceeds ``MAX_LOG_BYTES``)."""
        data = text.rstrip("\r\n")[:MAX_LINE] + "\n"
        with self._lock:
            if self._truncated:
                return
            if self._log_bytes + len(data) > MAX_LOG_BYTES:
                data, self._truncated = "[output truncated]\n", True
            try:
                append_private(self.store._log(self.op.id), data.encode("utf-8", "replace"))
            except DiskFull:
                self._truncated = True  # the command goes on; its output cannot be kept
                return
            self._log_bytes += len(data)
            self.op.lines += 1

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    # -- cancellation ----------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self.store.cancel_requested(self.op.id)

    def check_cancel(self) -> None:
        if self.cancelled:
            raise Cancelled("cancelled by request")

    def watch(self, stop: Callable[[], None], interval: float = 0.3) -> _Watcher:
        """Call ``stop`` (e.g. ``stream.cancel``) as soon as a cancel is requested."""
        return _Watcher(self, stop, interval)


class _Watcher:
    """A thread polling the cancel marker while a blocking call runs."""

    def __init__(self, ctx: Context, stop: Callable[[], None], interval: float) -> None:
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ctx, stop, interval), daemon=True)

    def _run(self, ctx: Context, stop: Callable[[], None], interval: float) -> None:
        while not self._done.wait(interval):
            if ctx.cancelled:
                stop()
                return

    def __enter__(self) -> _Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=2)


Runner = Callable[[Context], dict[str, Any] | None]


class OperationManager:
    """Starts operations (in a thread, or in the foreground for the CLI)."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.store = OperationStore(state_dir)

    def _prepare(
        self, kind: str, target: str, steps: Iterable[str], actor: str, title: str
    ) -> tuple[Operation, int]:
        names = list(steps)
        if not names:
            raise OperationError("an operation needs at least one step")
        fd = self.store.acquire(target)
        op = Operation(
            id=secrets.token_hex(8), kind=kind, target=target, actor=actor,
            title=title or kind, steps=[Step(n) for n in names],
            runner=ProcessId.of(os.getpid()).as_dict(),
        )
        try:
            self.store.save(op)
            atomic_write(self.store._active_file(target), op.id, durable=False)
        except OSError:
            os.close(fd)
            raise
        return op, fd

    def start(
        self, kind: str, target: str, steps: Iterable[str], runner: Runner,
        actor: str = "system", title: str = "", on_finish: Callable[[Operation], None] | None = None,
    ) -> Operation:
        """Run ``runner(ctx)`` in a daemon thread; raise :class:`OperationConflict` if busy."""
        op, fd = self._prepare(kind, target, steps, actor, title)
        with contextlib.suppress(OSError):
            self.store.prune()
        thread = threading.Thread(
            target=self._execute, args=(op, fd, runner, on_finish), daemon=True,
            name=f"operation-{op.id}",
        )
        thread.start()
        return op

    def run(
        self, kind: str, target: str, steps: Iterable[str], runner: Runner,
        actor: str = "system", title: str = "", on_finish: Callable[[Operation], None] | None = None,
    ) -> Operation:
        """Run in the calling thread (the CLI); same locking and record."""
        op, fd = self._prepare(kind, target, steps, actor, title)
        return self._execute(op, fd, runner, on_finish)

    def _execute(
        self, op: Operation, fd: int, runner: Runner,
        on_finish: Callable[[Operation], None] | None,
    ) -> Operation:
        ctx = Context(self.store, op)
        op.status = "running"
        self.store.save(op)
        try:
            with tracking(ctx.child):
                op.result = runner(ctx) or {}
            op.status, op.percent = "succeeded", 100.0
        except Cancelled as exc:
            op.status, op.error = "cancelled", str(exc)
        except StepTimeout as exc:
            op.status, op.error = "timed_out", str(exc)
        except Exception as exc:  # a runner's failure is the operation's result, not a crash
            op.status, op.error = "failed", getattr(exc, "message", None) or str(exc) or repr(exc)
        for step in op.steps:
            if step.status == "running":
                step.status = "failed" if op.status != "cancelled" else "skipped"
        op.finished = time.time()
        try:
            with contextlib.suppress(OSError):
                self.store._cancel(op.id).unlink(missing_ok=True)
            self.store.save(op)
        finally:
            os.close(fd)  # only now may the next operation on this target start
        if on_finish is not None:
            with contextlib.suppress(Exception):
                on_finish(op)
        return op


def follow(
    store: OperationStore, op_id: str, interval: float = 0.25, stop: Callable[[], bool] = bool
) -> Iterator[tuple[Operation, list[str]]]:
    """Yield ``(record, new output lines)`` whenever something changed, until it finishes.

    Used by WebSocket progress streams and the CLI; ``stop()`` returning True
    ends the iteration early (a closed socket).
    """
    seen_lines = 0
    last_update = -1.0
    while True:
        op = store.get(op_id)
        new = store.output(op_id, after=seen_lines)
        seen_lines += len(new)
        if new or op.updated != last_update or not op.active:
            last_update = op.updated
            yield op, new
        if not op.active or stop():
            return
        time.sleep(interval)
