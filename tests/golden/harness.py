"""Shared helpers for the golden tests: simulator vs real Dokku captures.

Each area's test module builds the host state a capture was taken in (using
the simulator's own commands, never by writing files behind its back), runs
the captured command, and compares exit code and exact bytes.  Where real
output holds run-specific values (timestamps, container ids, random ports,
git SHAs) the module applies a narrow, documented normalisation to BOTH sides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from pruvon_core.testing.reference import ReferenceCase, load_cases
from pruvon_core.testing.sim.main import run

CASES: dict[str, ReferenceCase] = {c.name: c for c in load_cases()}


def cases(names: Iterable[str]) -> list[ReferenceCase]:
    return [CASES[n] for n in names]


def sim(root: Path, *argv: str, stdin: bytes = b"") -> tuple[int, bytes, bytes]:
    """Run a simulator command; fail loudly when a setup step fails."""
    return run(list(argv), root=root, stdin=stdin)


def setup(root: Path, *commands: list[str] | tuple[str, ...]) -> None:
    """Run setup commands, asserting each succeeds, so a broken scenario is obvious."""
    for argv in commands:
        code, out, err = run(list(argv), root=root)
        assert code == 0, f"setup {argv} failed ({code}): {out!r} {err!r}"


Normaliser = Callable[[bytes], bytes]


def sub(pattern: bytes, replacement: bytes) -> Normaliser:
    compiled = re.compile(pattern)
    return lambda data: compiled.sub(replacement, data)


def assert_matches(
    case: ReferenceCase,
    result: tuple[int, bytes, bytes],
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
