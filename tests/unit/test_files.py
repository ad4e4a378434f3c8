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


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_root_replacing_a_file_keeps_its_owner(tmp_path):
    """``sudo pruvon user passwd admin`` on the installed /etc/pruvon.yml (owner pruvon):
    a root-owned 0600 replacement would lock the service out of its config."""
    from pruvon_core.files import atomic_write

    path = tmp_path / "pruvon.yml"
    path.write_text("old\n")
    os.chown(path, 65534, 65534)
    atomic_write(path, "new\n", mode=0o600)
    info = path.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (65534, 65534, 0o600)
    assert path.read_text() == "new\n"
    fresh = tmp_path / "fresh.yml"
    atomic_write(fresh, "x\n")
    assert fresh.stat().st_uid == 0
