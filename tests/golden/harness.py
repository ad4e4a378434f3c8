"""Shared helpers for the golden tests: simulator vs real Dokku captures.

Each area's test module builds the host state a capture was taken in (using
the simulator's own commands, never by writing files behind its back), runs
the captured command, and compares exit code and exact bytes.  Where real
output holds run-specific values (timestamps, container ids, random ports,
git SHAs) the module applies a narrow, documented normalisation to BOTH sides.

Two ways to get the state a capture saw, both here so every module does them alike:

* a **builder** (``steps``/``chain`` of simulated commands) per case, then
  :func:`check_capture` / :func:`check_capture_tty`;
* a **replay** of the capture session in order (:class:`Replay`), recording every
  case's result, with snapshots of the state before the cases that must run later
  (streaming or under a pty, :func:`check_snapshot_tty`).
"""

from __future__ import annotations

import re
import shutil
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pruvon_testing.reference import ReferenceCase, load_cases
from pruvon_testing.sim.main import run

CASES: dict[str, ReferenceCase] = {c.name: c for c in load_cases()}

Result = tuple[int, bytes, bytes]
Builder = Callable[[Path], None]
Normaliser = Callable[[bytes], bytes]


def cases(names: Iterable[str]) -> list[ReferenceCase]:
    return [CASES[n] for n in names]


def sim(root: Path, *argv: str, stdin: bytes = b"") -> Result:
    """Run one simulator command in-process: ``(exit, stdout, stderr)``."""
    return run(list(argv), root=root, stdin=stdin)


def setup(root: Path, *commands: list[str] | tuple[str, ...]) -> None:
    """Run setup commands, asserting each succeeds, so a broken scenario is obvious."""
    steps(*commands)(root)


# -- state builders ------------------------------------------------------------------------------
def steps(*commands: Sequence[str], stdin: dict[int, bytes] | None = None) -> Builder:
    """A builder running ``commands`` in order (``stdin`` by index), each must succeed."""

    def build(root: Path) -> None:
        for index, argv in enumerate(commands):
            code, out, err = sim(root, *argv, stdin=(stdin or {}).get(index, b""))
            assert code == 0, f"setup {list(argv)} failed ({code}): {out!r} {err!r}"

    return build


def chain(*builders: Builder) -> Builder:
    """A builder running ``builders`` one after the other."""

    def build(root: Path) -> None:
        for builder in builders:
            builder(root)

    return build


def nothing(root: Path) -> None:
    """A fresh host."""


# -- normalisation -------------------------------------------------------------------------------
def sub(pattern: bytes, replacement: bytes) -> Normaliser:
    compiled = re.compile(pattern)
    return lambda data: compiled.sub(replacement, data)


# docker/git values that are random per run (each module documents which ones it uses)
SHA40 = sub(rb"\b[0-9a-f]{40}\b", b"<sha40>")
ID64 = sub(rb"\b[0-9a-f]{64}\b", b"<id64>")
ID12 = sub(rb"\b[0-9a-f]{12}\b", b"<id12>")
UPCOMING = sub(rb"upcoming-\d+", b"upcoming-<n>")
RANDOM_PORT = sub(rb"Random port \d+", b"Random port <port>")


def assert_matches(
    case: ReferenceCase,
    result: Result,
    normalisers: Iterable[Normaliser] = (),
) -> None:
    """Exit code and both streams must match the capture exactly (after normalisation)."""
    code, out, err = result
    fns = list(normalisers)

    def norm(data: bytes) -> bytes:
        for fn in fns:
            data = fn(data)
        return data

    assert code == case.exit_code, f"{case.name}: exit {code} != {case.exit_code}\n{out!r}\n{err!r}"
    assert norm(out) == norm(case.stdout), f"{case.name}: stdout differs"
    assert norm(err) == norm(case.stderr), f"{case.name}: stderr differs"


# -- one capture on a built host -----------------------------------------------------------------
def check_capture(
    name: str,
    root: Path,
    build: Builder,
    normalisers: Iterable[Normaliser] = (),
    *,
    argv: Sequence[str] | None = None,
    stdin: bytes | None = None,
) -> None:
    """Build the state, run the case's argv (or ``argv``) with its stdin (or ``stdin``)."""
    case = CASES[name]
    build(root)
    feed = case.stdin_bytes if stdin is None else stdin
    assert_matches(case, sim(root, *(case.argv if argv is None else argv), stdin=feed), normalisers)


def check_capture_tty(
    name: str, root: Path, build: Builder, normalisers: Iterable[Normaliser] = ()
) -> None:
    """Build the state and run the case under a real pty (streams merged, CRLF)."""
    from tests.golden.simhost import run_tty  # late: simhost imports this module

    case = CASES[name]
    build(root)
    code, output = run_tty(root, *case.argv)
    assert_matches(case, (code, output, b""), normalisers)


# -- the capture session, replayed in order ------------------------------------------------------
@dataclass
class Replay:
    """One simulated host on which a capture session is replayed case by case.

    ``results`` holds each replayed case's ``(exit, stdout, stderr)``; a command that
    crashes the simulator is recorded in ``crashes`` (and does not hide the others);
    ``snapshots`` are copies of the state taken right before cases that run later.
    """

    root: Path
    results: dict[str, Result] = field(default_factory=dict)
    snapshots: dict[str, Path] = field(default_factory=dict)
    crashes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def setup(self, *commands: Sequence[str]) -> None:
        steps(*commands)(self.root)

    def replay(self, name: str, argv: Sequence[str] | None = None) -> None:
        """Run case ``name`` (its argv unless given) with its stdin and record the result."""
        case = CASES[name]
        try:
            self.results[name] = sim(
                self.root, *(case.argv if argv is None else argv), stdin=case.stdin_bytes)
        except Exception:  # a crash of one command must not hide the other results
            self.crashes[name] = traceback.format_exc()

    def keep_snapshot(self, name: str, into: Path) -> None:
        """Copy the current state (to ``into``) for case ``name`` to run on later."""
        shutil.copytree(self.root, into, symlinks=True)
        self.snapshots[name] = into

    def result(self, name: str) -> Result:
        assert name not in self.crashes, f"{name} crashed in the replay:\n{self.crashes[name]}"
        assert name in self.results, f"{name} was not replayed"
        return self.results[name]

    def snapshot(self, name: str, into: Path) -> Path:
        """A private copy of the state as it was right before case ``name``."""
        target = into / f"state-{name}"
        shutil.copytree(self.snapshots[name], target, symlinks=True)
        return target


def check_snapshot_tty(
    replay: Replay, name: str, tmp_path: Path, normalisers: Iterable[Normaliser] = ()
) -> None:
    """Run a pty case on a copy of the replayed state as it was right before it."""
    check_capture_tty(name, replay.snapshot(name, tmp_path), nothing, normalisers)
