"""A test run writes nothing outside its sandbox: the real default paths stay untouched.

Pruvon defaults to ``/var/lib/pruvon`` (state) and ``/etc/pruvon.yml`` (config).
A test that forgets to point ``PRUVON_STATE_DIR`` somewhere would write the
machine's real state directory (it did: the domain cache of CLI tests in
tests/apps/test_live_state.py).  So every test starts with a private
``PRUVON_STATE_DIR`` (fixtures such as ``pruvon_config`` set theirs after), and the session
fails if either default path was created or changed while it ran.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_PATHS = (Path("/var/lib/pruvon"), Path("/etc/pruvon.yml"),
                 Path("/var/lib/dokku/data/pruvon-backup"))  # backup.backup_dir's default


def snapshot(paths: tuple[Path, ...] = DEFAULT_PATHS) -> dict[str, tuple[int, int]]:
    """Every file and directory under ``paths`` with its (mtime_ns, size)."""
    seen: dict[str, tuple[int, int]] = {}
    for top in paths:
        if not top.exists():
            continue
        entries = [top, *top.rglob("*")] if top.is_dir() else [top]
        for entry in entries:
            try:
                info = entry.lstat()
            except OSError:
                continue
            seen[str(entry)] = (info.st_mtime_ns, info.st_size)
    return seen


def changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """Paths created, changed or removed between two snapshots."""
    return sorted(path for path in before.keys() | after.keys()
                  if before.get(path) != after.get(path))


def private_state_dir(tmp_path: Path) -> str:
    """A per-test state directory (fixtures that need a known one set their own after)."""
    path = tmp_path / "default-state"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)
