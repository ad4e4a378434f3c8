"""Where backup files go: the ``Target`` protocol and the built-in local directory.

A target stores opaque byte files under slash-separated keys
(``postgres/daily/db/db_2026-01-02_03h04m.Friday.dump.zst``).  A writer
makes nothing visible under its key until ``commit()``: the local target
writes ``.<name>.<random>.tmp`` beside the final file and renames it after an
fsync, so a crash or a full disk never leaves a half file that looks complete.

Target *kinds* are declared through ``pruvon_backup_targets`` as
:class:`pruvon_core.registry.BackupTarget` instances whose ``configure(options)``
returns a ``Target``; ``backup.targets`` in the config names the instances.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from pruvon_backups.errors import BackupError
from pruvon_core.files import writing
from pruvon_core.registry import BackupTarget

KEEP_KEYS = ("keep_daily_days", "keep_weekly_num", "keep_monthly_num")
TEMP_SUFFIX = ".tmp"


@runtime_checkable
class Writer(Protocol):
    """One file being written; invisible under its key until :meth:`commit`."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


@runtime_checkable
class Target(Protocol):
    """A configured place backups go (``name`` as in ``backup.targets``)."""

    name: str
    description: str

    def open_writer(self, key: str) -> Writer: ...

    def open_reader(self, key: str) -> IO[bytes]: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def local_path(self, key: str) -> Path | None: ...


def check_key(key: str) -> str:
    """``key`` if it is a relative slash path without ``..`` or empty parts (never escapes)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise BackupError(f"invalid backup key {key!r}")
    if any("\0" in p or p.startswith(".") for p in parts):
        raise BackupError(f"invalid backup key {key!r}")
    return key


class LocalWriter:
    """Temp file beside the final path; commit = fsync, rename, fsync the directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with writing(path):
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX,
                                       dir=path.parent)
        self.temp = Path(tmp)
        os.fchmod(fd, 0o640)
        self._file: IO[bytes] | None = os.fdopen(fd, "wb", buffering=0)

    def write(self, data: bytes) -> None:
        assert self._file is not None, "write after commit/abort"
        with writing(self.path):
            view = memoryview(data)
            while view:
                view = view[self._file.write(view):]

    def commit(self) -> None:
        assert self._file is not None, "commit after commit/abort"
        try:
            with writing(self.path):
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None
                os.replace(self.temp, self.path)
                _fsync_dir(self.path.parent)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        if self._file is not None:
            with suppress(OSError):
                self._file.close()
            self._file = None
        with suppress(OSError):
            self.temp.unlink()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalTarget:
    """A directory on this host, in Pruvon's layout ``<type>/<rotation>/<service>/<file>``."""

    def __init__(self, root: str | Path, name: str = "local", keep: Mapping[str, int] | None = None,
                 description: str | None = None) -> None:
        self.root = Path(root)
        self.name = name
        self.description = description or f"directory {self.root} on this host"
        self.keep = dict(keep or {})

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def open_writer(self, key: str) -> LocalWriter:
        return LocalWriter(self._path(key))

    def open_reader(self, key: str) -> IO[bytes]:
        try:
            return open(self._path(key), "rb")  # the caller closes it
        except FileNotFoundError as exc:
            raise BackupError(f"{self.name}: {key} is missing from {self.root}") from exc

    def delete(self, key: str) -> None:
        with suppress(FileNotFoundError):
            self._path(key).unlink()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def stored_keys(self) -> list[str]:
        """Every stored file's key (temp and hidden files left out), for a rescan."""
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            rel = path.relative_to(self.root)
            if path.is_file() and not any(p.startswith(".") for p in rel.parts):
                found.append(rel.as_posix())
        return sorted(found)


class LocalKind(BackupTarget):
    """The built-in kind ``local``: options ``path`` (default ``backup.backup_dir``)."""

    def configure(self, options: Mapping[str, Any]) -> LocalTarget:
        keep = {k: options[k] for k in KEEP_KEYS if options.get(k) is not None}
        return LocalTarget(options["path"], name=options.get("name", "local"), keep=keep)

    def problems(self, options: Mapping[str, Any]) -> list[str]:
        path = options.get("path")
        if path is not None and not (isinstance(path, str) and path.startswith("/")):
            return ["path: must be an absolute path"]
        return []


LOCAL_KIND = LocalKind("local", "A directory on this host (backup.backup_dir)")
