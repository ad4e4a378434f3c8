"""Backups carry their host (issue 17): catalogue migration, layout, scan and retention.

What is checked without ssh: a catalogue written by the schema before issue 17
migrates in place, another host's files live under ``hosts/<host>/`` (which
Pruvon's scanner and ours never take for a service type), a scan assigns rows
to hosts by their place in the tree, and retention counts per host.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pruvon_backups import layout
from pruvon_backups import public as backups
from pruvon_backups.catalogue import Catalogue

from pruvon_core import hosts

# A catalogue written by the schema shipped before issue 17 (no host columns), one backup
# and one run in it: what an existing host has on disk.
OLD_CATALOGUE = Path(__file__).with_name("data") / "catalogue-v1.sqlite3"


def test_a_catalogue_of_the_old_schema_migrates_in_place(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    shutil.copyfile(OLD_CATALOGUE, state / "backups.sqlite3")

    cat = Catalogue(state)
    [old] = cat.list()
    assert (old.host, old.service, old.key) == ("", "db", "postgres/daily/db/x.dump.zst")
    assert cat.last_good("postgres", "db") == old  # the default host's rows keep working
    assert cat.last_good("postgres", "db", "prod") is None
    assert cat.runs()[0]["host"] == ""
    new = cat.add(type="postgres", service="db", rotation="manual", target="local",
                  key="hosts/prod/postgres/manual/db/y.dump.zst", host="prod", status="good")
    assert [r.id for r in cat.list(host="prod")] == [new.id]
    assert [r.id for r in cat.list(host="")] == [old.id]
    assert {r.id for r in cat.list()} == {old.id, new.id}
    Catalogue(state)  # opening a migrated catalogue again changes nothing
    with sqlite3.connect(state / "backups.sqlite3") as check:
        columns = [row[1] for row in check.execute("PRAGMA table_info(backups)")]
    assert columns.count("host") == 1


def test_another_host_gets_a_subtree_the_default_host_keeps_pruvons() -> None:
    assert layout.key_for("postgres", "daily", "db", "f.dump") == "postgres/daily/db/f.dump"
    assert layout.key_for("postgres", "daily", "db", "f.dump", "prod") == \
        "hosts/prod/postgres/daily/db/f.dump"
    name = "db_2026-01-02_03h04m.Friday.dump.zst"
    assert layout.parse_key(f"postgres/daily/db/{name}").host == ""
    assert layout.parse_key(f"hosts/prod/postgres/daily/db/{name}").host == "prod"
    # never a service type, nor a host name ssh or a path could misread
    assert layout.parse_key(f"hosts/daily/db/{name}") is None
    assert layout.parse_key(f"hosts/-x/postgres/daily/db/{name}") is None
    assert layout.parse_key(f"hosts/prod/hosts/daily/db/{name}") is None


def test_a_service_type_named_like_the_hosts_directory_is_refused(pruvon: Any) -> None:
    with pytest.raises(backups.BackupError, match="per-host directory"):
        backups.run_backup(pruvon, "hosts", "db")


def _place(root: Path, key: str, data: bytes = b"PGDMP old dump") -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_a_scan_assigns_rows_to_hosts_by_their_place_in_the_tree(pruvon: Any,
                                                                  backup_dir: Path) -> None:
    name = "db_2026-01-02_03h04m.Friday.dump.gz"
    _place(backup_dir, f"postgres/daily/db/{name}")
    _place(backup_dir, f"hosts/prod/postgres/daily/db/{name}", b"PGDMP prod dump")
    _place(backup_dir, "hosts/staging/redis/weekly/cache/cache_weekly.1.2026-01-02_03h04m.rdb",
           b"REDIS0011")
    added = backups.rescan(pruvon)
    by_host = sorted((r.host, r.type, r.service) for r in added)
    assert by_host == [("", "postgres", "db"), ("prod", "postgres", "db"),
                       ("staging", "redis", "cache")]
    cat = backups.catalogue(pruvon)
    [mine] = cat.list(host="")
    assert mine.key == f"postgres/daily/db/{name}"
    assert mine.as_dict("local")["host"] == "local"
    [prod] = cat.list(host="prod")
    assert prod.key.startswith("hosts/prod/") and prod.as_dict("local")["host"] == "prod"


def _weekly(cat: Catalogue, host: str, weeks_ago: int, now: datetime) -> Any:
    when = now - timedelta(weeks=weeks_ago)
    where = f"hosts/{host}/" if host else ""
    return cat.add(type="postgres", service="db", rotation="weekly", target="local",
                   key=f"{where}postgres/weekly/db/db_weekly.{weeks_ago}.x.dump.zst",
                   created=when.isoformat(timespec="seconds"), status="good", host=host)


def test_retention_counts_each_hosts_db_apart(pruvon: Any, pruvon_config: Any,
                                              backup_dir: Path) -> None:
    text = pruvon_config.path.read_text().replace(
        f"backup_dir: {backup_dir}\n", f"backup_dir: {backup_dir}\n  keep_weekly_num: 2\n")
    pruvon_config.write(text + "hosts:\n  - {name: prod, ssh: dokku@prod.example.com}\n")
    now = datetime.now(UTC)
    cat = backups.catalogue(pruvon)
    mine = [_weekly(cat, "", weeks, now) for weeks in range(3)]
    prods = [_weekly(cat, "prod", weeks, now) for weeks in range(3)]
    # one service counted over both hosts would keep 2 of 6 and prune 4
    everywhere = backups.prune(pruvon, dry_run=True, now=now, every_host=True)
    assert sorted(r.id for r in everywhere) == sorted([mine[2].id, prods[2].id])
    with hosts.using(None):
        assert [r.id for r in backups.prune(pruvon, dry_run=True, now=now)] == [mine[2].id]
    with hosts.using("prod"):
        removed = backups.prune(pruvon, dry_run=False, now=now)
    assert [r.id for r in removed] == [prods[2].id]
    assert cat.get(prods[2].id).status == "deleted" and cat.get(mine[2].id).status == "good"
