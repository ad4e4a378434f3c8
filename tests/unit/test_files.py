"""File primitives: ENOSPC becomes DiskFull naming the path, temp files never stay.

This is the write-hook fallback of tests/reliability/test_full_disk.py (which
needs a tmpfs mount): ``os.write`` raises ENOSPC as a full disk would.
"""

from __future__ import annotations

import errno
import os
import stat

import pytest

from pruvon_core import files
from pruvon_core.operations import Operation, OperationStore, Step


def _no_space(fd: int, data: bytes) -> int:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def full_disk(monkeypatch):
    monkeypatch.setattr(os, "write", _no_space)


def test_atomic_write_on_a_full_disk_names_the_path_keeps_the_file_and_no_temp(tmp_path,
                                                                                 monkeypatch):
    target = tmp_path / "data.json"
    files.atomic_write(target, "old\n")
    monkeypatch.setattr(os, "write", _no_space)
    with pytest.raises(files.DiskFull) as caught:
        files.atomic_write(target, "new\n")
    assert str(caught.value) == f"disk full: cannot write {target}"
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.json"]


def test_operation_record_on_a_full_disk_leaves_no_temp_file(tmp_path, full_disk):
    store = OperationStore(tmp_path)
    op = Operation(id="0123456789abcdef", kind="restart", target="app:blog", actor="system",
                   title="Restart", steps=[Step("run")])
    with pytest.raises(files.DiskFull, match=r"0123456789abcdef\.json"):
        store.save(op)
    assert [p.name for p in store.root.iterdir() if p.is_file()] == []


def test_append_on_a_full_disk_is_disk_full(tmp_path, full_disk):
    with pytest.raises(files.DiskFull, match=r"audit\.log"):
        files.append_private(tmp_path / "audit.log", b"line\n")


def test_modes_are_set_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        deep = files.private_dir(tmp_path / "a" / "b" / "c")
        fd = files.open_private(deep / "x.lock")
        os.close(fd)
        files.atomic_write(deep / "y.json", "{}")
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b", deep):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (deep / "x.lock", deep / "y.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
