"""Helpers shared by the simulator behaviour tests."""

from __future__ import annotations

from pathlib import Path

from pruvon_testing.sim.main import run


def ok(root: Path, *argv: str, stdin: bytes = b"") -> bytes:
    """Run ``dokku ARGV`` in-process; it must succeed.  Returns stdout."""
    code, out, err = run(list(argv), root=root, stdin=stdin)
    assert code == 0, (argv, out, err)
    return out
