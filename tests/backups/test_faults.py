"""Faults: a target that fills up mid-write, a run killed with SIGKILL, two runs at once.

Each must give a clear error, never record a half-written file as good, and
never touch older backups.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pruvon_backups import public as backups
from pruvon_backups.targets import LocalTarget, LocalWriter

from pruvon_core.files import writing
from pruvon_core.hookspecs import hookimpl
from pruvon_core.registry import BackupTarget
from tests.backups.conftest import BIN

PRUVON = str(BIN / "pruvon")


class _FillingWriter(LocalWriter):
    """A local writer on a disk with ``room`` bytes left: ENOSPC past that, as write(2) does."""

    def __init__(self, path: Path, room: int) -> None:
        super().__init__(path)
        self.room = room

    def write(self, data: bytes) -> None:
        if len(data) > self.room:
            super().write(data[:self.room])
            self.room = 0
            with writing(self.path):
                raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        super().write(data)


class _SmallDisk(LocalTarget):
    room = 100

    def open_writer(self, key: str) -> LocalWriter:
        return _FillingWriter(self._path(key), self.room)


class SmallDiskKind(BackupTarget):
    def configure(self, options: Any) -> _SmallDisk:
        return _SmallDisk(options["path"], name=options["name"])


@pytest.fixture
def small_disk(pruvon: Any, pruvon_config: Any, tmp_path: Path) -> Iterator[Path]:
    """Targets: ``local`` (backup_dir) and ``small`` (a disk with 100 bytes free)."""
    root = tmp_path / "small"
    plugin = SimpleNamespace(pruvon_backup_targets=hookimpl(
        lambda: [SmallDiskKind("small-disk", "a nearly full disk")]))
    pruvon.plugins.register(plugin, "small-disk-test")
    pruvon_config.write(pruvon_config.path.read_text()
                        + f"  targets:\n    - name: local\n      type: local\n"
                          f"    - name: small\n      type: small-disk\n      path: {root}\n")
    yield root
    pruvon.plugins.unregister("small-disk-test")


def test_a_target_that_fills_up_fails_alone_and_leaves_no_file(pruvon: Any, small_disk: Path) -> None:
    with pytest.raises(backups.TargetWriteFailed, match=r"stored on local; failed on: small: "
                                                        r"disk full"):
        backups.run_backup(pruvon, "postgres", "blog-db")
    rows = {r.target: r for r in backups.catalogue(pruvon).list()}
    assert rows["local"].status == "good" and Path(rows["local"].path).is_file()
    assert rows["small"].status == "failed" and "disk full" in rows["small"].error
    assert [p for p in small_disk.rglob("*") if p.is_file()] == []  # no half file, no temp file


def test_when_every_target_fails_nothing_is_good_and_older_backups_stay(
        pruvon: Any, pruvon_config: Any, small_disk: Path) -> None:
    text = pruvon_config.path.read_text()
    pruvon_config.write(text.replace("    - name: local\n      type: local\n", ""))
    _SmallDisk.room = 10_000_000
    try:
        older = backups.run_backup(pruvon, "postgres", "blog-db")
    finally:
        _SmallDisk.room = 100
    with pytest.raises(backups.TargetWriteFailed, match="no target could store"):
        backups.run_backup(pruvon, "postgres", "blog-db")
    rows = backups.catalogue(pruvon).list()
    assert [r.status for r in rows] == ["failed", "good"] and rows[1].id == older.id
    assert backups.verify(pruvon, older.id).ok
    files = sorted(p.name for p in small_disk.rglob("*") if p.is_file())
    assert files == sorted([Path(older.key).name, Path(older.key).name + ".json"])


def _slow_dokku(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``<type>:export`` writes its dump, then hangs: a run caught mid-stream."""
    wrapper = tmp_path / "slow-dokku"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'case "$1" in *:export) "{BIN / "pruvon-dokku-sim"}" "$@"; exec sleep 30;; esac\n'
        f'exec "{BIN / "pruvon-dokku-sim"}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(wrapper))


def _wait_for_temp(directory: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(directory.rglob(".*.tmp"))
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError("the run never opened its temp file")


def _wait_for_running_row(pruvon: Any, temp: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(r.status == "running" and r.temp == str(temp)
               for r in backups.catalogue(pruvon).list()):
            return
        time.sleep(0.05)
    raise AssertionError("the run never recorded its temp file in the catalogue")


def test_kill_9_mid_run_then_auto_again(pruvon: Any, backup_dir: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    older = backups.run_backup(pruvon, "postgres", "blog-db")
    _slow_dokku(tmp_path, monkeypatch)
    proc = subprocess.Popen([PRUVON, "backup", "run", "redis", "cache"], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    temp = _wait_for_temp(backup_dir)
    _wait_for_running_row(pruvon, temp)  # the row is written just after the file is opened
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its export: as the OOM killer would
    proc.wait(timeout=10)
    [stale] = [r for r in backups.catalogue(pruvon).list() if r.status == "running"]
    assert stale.temp == str(temp) and temp.exists()

    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(BIN / "pruvon-dokku-sim"))
    again = subprocess.run([PRUVON, "backup", "auto", "--format", "json"], capture_output=True,
                           text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    interrupted = backups.catalogue(pruvon).get(stale.id)
    assert interrupted.status == "failed" and "interrupted" in interrupted.error
    assert not temp.exists() and not list(backup_dir.rglob(".*.tmp"))
    good = backups.catalogue(pruvon).list(status="good")
    assert {(r.type, r.service) for r in good} == {("postgres", "blog-db"), ("redis", "cache")}
    assert backups.verify(pruvon, older.id).ok
    assert json.loads(again.stdout)["failed"] == []


def test_one_failing_service_does_not_stop_the_others(pruvon: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper = tmp_path / "broken-redis-dokku"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$1" in redis:export) echo " !     redis export exploded" >&2; exit 1;; esac\n'
        f'exec "{BIN / "pruvon-dokku-sim"}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PRUVON_DOKKU_COMMAND", str(wrapper))
    events: list[Any] = []
    plugin = SimpleNamespace(pruvon_event=hookimpl(lambda event: events.append(event)))
    pruvon.plugins.register(plugin, "event-recorder")
    try:
        summary = backups.run_due(pruvon)
    finally:
        pruvon.plugins.unregister("event-recorder")
    assert len(summary["ok"]) == 1
    assert summary["failed"] == [{"host": "local", "type": "redis", "service": "cache",
                                  "error": "redis export exploded"}]  # + host (issue 17)
    [failed] = [r for r in backups.catalogue(pruvon).list() if r.type == "redis"]
    assert failed.status == "failed" and not list(Path(failed.path).parent.glob("*"))
    outcomes = {(e.action, e.target, e.result) for e in events}
    assert ("backups.run", "redis:cache", "failed") in outcomes
    assert ("backups.run", "postgres:blog-db", "ok") in outcomes
    assert backups.catalogue(pruvon).runs()[0]["status"] == "failed"


def test_two_threads_one_process_second_is_busy(pruvon: Any) -> None:
    import threading

    from pruvon_backups.locking import run_lock

    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with run_lock(pruvon.state_dir, backups.catalogue(pruvon)):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    try:
        with pytest.raises(backups.BackupBusy, match="another backup run is in progress"):
            backups.run_backup(pruvon, "redis", "cache")
    finally:
        release.set()
        holder.join()
    assert backups.run_backup(pruvon, "redis", "cache").status == "good"


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("flock and process groups as on the Dokku host")
