"""A host moving from Pruvon: its config and its backup tree work unchanged.

Pruvon wrote ``<type>:export`` output to ``<backup_dir>/<type>/<rotation>/<service>/``
and ran ``gzip -f`` over it (older trees hold plain files too); those files
appear in the catalogue and can be verified, downloaded and restored.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pruvon_backups import public as backups

from tests.backups.conftest import BIN, export

PRUVON_BACKUP_SECTION = """
backup:
  backup_dir: "{backup_dir}"
  do_weekly: 0
  do_monthly: 1
  db_types:
    - "postgres"
    - "mariadb"
    - "mongo"
    - "redis"
  keep_daily_days: 7
  keep_weekly_num: 6
  keep_monthly_num: 3
"""


def _pruvon_file(path: Path, data: bytes, gzipped: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if not gzipped:
        return path
    subprocess.run(["gzip", "-f", str(path)], check=True)  # what Pruvon's compressFile runs
    return path.with_name(path.name + ".gz")


@pytest.fixture
def pruvon_tree(pruvon: Any, pruvon_config: Any, host: Path, backup_dir: Path) -> dict[str, Path]:
    """Pruvon's example backup section and a tree it wrote: gzipped daily/weekly, plain monthly."""
    if shutil.which("gzip") is None:
        pytest.skip("gzip is not installed")
    text = pruvon_config.path.read_text()
    text = text[:text.index("\nbackup:\n")] + PRUVON_BACKUP_SECTION.format(backup_dir=backup_dir)
    pruvon_config.write(text)
    pg, rdb = export(host, "postgres", "blog-db"), export(host, "redis", "cache")
    return {
        "daily": _pruvon_file(backup_dir / "postgres/daily/blog-db/"
                              "blog-db_2025-11-20_03h00m.Thursday.dump", pg, True),
        "weekly": _pruvon_file(backup_dir / "redis/weekly/cache/"
                               "cache_weekly.47.2025-11-23_03h00m.rdb", rdb, True),
        "monthly": _pruvon_file(backup_dir / "postgres/monthly/blog-db/"
                                "blog-db_monthly.November.2025-11-01_03h00m.dump", pg, False),
    }


def test_pruvon_files_are_listed_by_the_cli(pruvon_tree: dict[str, Path]) -> None:
    out = subprocess.run([str(BIN / "pruvon"), "backup", "list", "--format", "json"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    rows = {row["rotation"]: row for row in json.loads(out.stdout)["backups"]}
    assert {k: Path(v["path"]) for k, v in rows.items()} == pruvon_tree
    assert rows["weekly"]["type"] == "redis" and rows["weekly"]["service"] == "cache"
    assert rows["daily"]["created"].startswith("2025-11-2")
    assert all(r["status"] == "good" and not r["encrypted"] for r in rows.values())


def test_pruvon_files_verify_download_and_restore(pruvon: Any, pruvon_tree: dict[str, Path],
                                                  host: Path, imported: Path) -> None:
    backups.rescan(pruvon)
    records = {r.rotation: r for r in backups.catalogue(pruvon).list()}
    for record in records.values():
        result = backups.verify(pruvon, record.id)
        assert result.ok, (record.key, result.problem)
    daily = records["daily"]
    assert b"".join(backups.open_download(pruvon, daily.id)) == pruvon_tree["daily"].read_bytes()
    backups.restore(pruvon, daily.id, into="blog-from-pruvon")
    assert imported.read_bytes() == export(host, "postgres", "blog-db")
    backups.restore(pruvon, records["monthly"].id, into="blog-from-plain")
    assert imported.read_bytes() == export(host, "postgres", "blog-db")


def test_a_damaged_pruvon_gzip_fails_verify_naming_why(pruvon: Any,
                                                      pruvon_tree: dict[str, Path]) -> None:
    backups.rescan(pruvon)
    daily = next(r for r in backups.catalogue(pruvon).list() if r.rotation == "daily")
    path = pruvon_tree["daily"]
    path.write_bytes(path.read_bytes()[:-20])
    backups.rescan(pruvon, force=True)
    result = backups.verify(pruvon, daily.id)
    assert not result.ok and "truncated" in result.problem


def test_rescan_is_once_unless_asked_and_marks_vanished_files(pruvon: Any,
                                                              pruvon_tree: dict[str, Path]) -> None:
    assert len(backups.rescan(pruvon)) == 3
    assert backups.rescan(pruvon) == []
    pruvon_tree["weekly"].unlink()
    assert backups.rescan(pruvon, force=True) == []
    statuses = {r.rotation: r.status for r in backups.catalogue(pruvon).list(include_deleted=True)}
    assert statuses == {"daily": "good", "weekly": "deleted", "monthly": "good"}


def test_new_backups_go_beside_pruvons_in_the_same_tree(pruvon: Any, pruvon_tree: dict[str, Path],
                                                        backup_dir: Path) -> None:
    record = backups.run_backup(pruvon, "postgres", "blog-db", rotation="daily")
    assert Path(record.path).parent == pruvon_tree["daily"].parent
    backups.rescan(pruvon)
    assert len(backups.catalogue(pruvon).list()) == 4  # its own file is not catalogued twice
