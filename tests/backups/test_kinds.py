"""mysql, mariadb and mongo services (plugins installed on the simulated host) back up too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pruvon_backups import public as backups

from tests.backups.conftest import export, sim

KINDS = ("mysql", "mariadb", "mongo")


@pytest.fixture
def more_kinds(host: Path) -> Path:
    for kind in KINDS:
        sim(host, "plugin:install", f"https://github.com/dokku/dokku-{kind}.git")
        sim(host, f"{kind}:create", f"{kind}-db")
    return host


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_verify_and_restore_into_new_service(pruvon: Any, more_kinds: Path,
                                                        imported: Path, kind: str) -> None:
    record = backups.run_backup(pruvon, kind, f"{kind}-db")
    assert record.key.endswith({"mongo": ".archive.zst"}.get(kind, ".sql.zst"))
    result = backups.verify(pruvon, record.id)
    assert result.ok, result.problem
    backups.restore(pruvon, record.id, into=f"{kind}-copy")
    assert imported.read_bytes() == export(more_kinds, kind, f"{kind}-db")


def test_auto_covers_pruvons_default_kinds_that_are_installed(pruvon: Any, more_kinds: Path) -> None:
    summary = backups.run_due(pruvon)
    done = {(r.type, r.service) for r in backups.catalogue(pruvon).list(status="good")}
    # db_types default: postgres, mariadb, mongo, redis (mysql is not among them)
    assert done == {("postgres", "blog-db"), ("redis", "cache"), ("mariadb", "mariadb-db"),
                    ("mongo", "mongo-db")}
    assert summary["failed"] == []


def test_a_dump_of_the_wrong_kind_fails_verify_by_its_header(pruvon: Any, more_kinds: Path) -> None:
    record = backups.run_backup(pruvon, "redis", "cache")
    backups.catalogue(pruvon).update(record.id, type="mongo")  # a row that lies about its kind
    result = backups.verify(pruvon, record.id)
    assert not result.ok and "not a MongoDB export" in result.problem
