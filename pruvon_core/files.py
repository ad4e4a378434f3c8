"""Small file primitives shared by the config, the audit log and every state store.

``locked`` serialises read-modify-write cycles across processes with an
exclusive ``flock`` on a sibling ``.lock`` file; ``atomic_write`` replaces a
file so that a crash at any point leaves the old or the new content, never a
torn file, and removes its temporary file on every failure path.

Modes are set explicitly (``fchmod``/``chmod``), never left to the umask:
every file Pruvon creates in its state directory is 0600 and every directory
0700, as docs/security.md promises.

A write that fails because the filesystem (or the quota) is full raises
:class:`DiskFull`, whose message names the path; the CLI prints it without a
traceback and the web answers 507 with it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class DiskFull(OSError):
    """A write failed for lack of space; ``path`` is what could not be written."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.ENOSPC, f"disk full: cannot write {path}")
        self.path = str(path)

    def __str__(self) -> str:
        return f"disk full: cannot write {self.path}"


def as_disk_full(exc: BaseException, path: str | os.PathLike[str] | None = None) -> DiskFull | None:
    """``exc`` as a :class:`DiskFull` when it means "no space left", else None.

    Recognises ``ENOSPC``/``EDQUOT`` and SQLite's "database or disk is full".
    """
    if isinstance(exc, DiskFull):
        return exc
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return DiskFull(path or exc.filename or "a file")
    if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
        return DiskFull(path or "an SQLite database")
    return None


@contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a disk-full failure inside the body into :class:`DiskFull` naming ``path``."""
    try:
        yield
    except (OSError, sqlite3.OperationalError) as exc:
        full = as_disk_full(exc, path)
        if full is None or full is exc:
            raise
        raise full from exc


def private_dir(path: Path) -> Path:
    """``mkdir -p`` where every directory created is 0700 (parents too), umask aside."""
    missing = []
    current = Path(path)
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with writing(directory), suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)
    return path


def open_private(path: Path, flags: int = os.O_RDWR) -> int:
    """``os.open`` creating ``path`` mode 0600 (set explicitly, whatever the umask)."""
    with writing(path):
        fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o7777 != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive advisory lock on ``<path>.lock`` (created 0600) for the ``with`` body."""
    fd = open_private(path.with_name(path.name + ".lock"))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _owner_to_keep(path: Path) -> tuple[int, int] | None:
    """The replaced file's owner when root writes it (else the new file is ours anyway).

    ``sudo pruvon user passwd admin`` must leave /etc/pruvon.yml owned by the
    ``pruvon`` service user: a root-owned 0600 replacement would lock the
    service out of its own config.
    """
    if os.geteuid() != 0:
        return None
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_uid, info.st_gid


def atomic_write(
    path: Path, data: str | bytes, mode: int = FILE_MODE, durable: bool = True
) -> None:
    """Replace ``path`` with ``data``: temp file, fsync, rename, fsync directory.

    The temp file (``.<name>.*.tmp`` beside ``path``) is removed whatever
    fails; ``durable=False`` skips the fsyncs for records rewritten many times
    a second (operation progress), where losing the last update is harmless.
    """
    directory = path.parent
    payload = data.encode("utf-8") if isinstance(data, str) else data
    owner = _owner_to_keep(path)
    with writing(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        try:
            try:
                os.fchmod(fd, mode)
                if owner is not None:
                    os.fchown(fd, *owner)
                _write_all(fd, payload)
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        if durable:
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written: a short write is not an error."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def append_private(path: Path, data: bytes, sync: bool = False) -> None:
    """Append ``data`` to ``path`` (created 0600); a short write is retried to the end."""
    with writing(path):
        fd = open_private(path, os.O_WRONLY | os.O_APPEND)
        try:
            _write_all(fd, data)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temp_files(path: Path) -> None:
    """Temp files left by a writer killed mid-write; only safe while holding ``locked``."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with suppress(OSError):
            leftover.unlink()
