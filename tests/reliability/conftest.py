"""A small real filesystem that can be filled up (tmpfs; we run as root in CI)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


class SmallDisk:
    """A mounted tmpfs of a few MiB; :meth:`fill` takes every free byte."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        with open(self.filler, "wb", buffering=0) as handle:
            for size in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        handle.write(b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def temp_files(self) -> list[str]:
        """Every temporary file left anywhere on the disk."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*")
                      if ".tmp" in p.name)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 4 MiB tmpfs at ``tmp_path/disk``; skipped where mounting is not allowed."""
    root = tmp_path / "disk"
    root.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs",
                              str(root)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); "
                    "tests/unit/test_files.py covers ENOSPC with a write hook")
    try:
        yield SmallDisk(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)
        os.sync()
