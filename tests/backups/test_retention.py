"""Retention and the rotation of the day over a simulated year of daily runs (``now`` injected)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pruvon_backups import engine, layout
from pruvon_backups import public as backups

START = datetime(2025, 1, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("day", "do_weekly", "do_monthly", "expected"), [
    (datetime(2025, 6, 1, 3), 0, 1, "monthly"),   # the 1st, a Sunday: monthly wins
    (datetime(2025, 6, 8, 3), 0, 1, "weekly"),    # Sunday as 0
    (datetime(2025, 6, 8, 3), 7, 1, "weekly"),    # Sunday as 7
    (datetime(2025, 6, 9, 3), 1, 1, "weekly"),    # Monday as 1
    (datetime(2025, 6, 10, 3), 0, 1, "daily"),
    (datetime(2025, 6, 15, 3), 3, 15, "monthly"),
])
def test_pruvons_rotation_rule(day: datetime, do_weekly: int, do_monthly: int, expected: str) -> None:
    assert layout.rotation_of_day(day, do_weekly, do_monthly) == expected


def _store(pruvon: Any, rotation: str, when: datetime) -> None:
    """The real store pipeline for one day's run of ``blog-db`` (a tiny dump, no Dokku call)."""
    engine.store_stream(pruvon, "postgres", "blog-db", rotation, iter([b"PGDMP" + bytes(64)]),
                        {}, now=when)


def test_a_year_of_daily_runs_keeps_what_retention_says(pruvon: Any, backup_dir: Path) -> None:
    section = backups.backup_settings(pruvon.config.data)
    for day in range(365):
        now = START + timedelta(days=day)
        rotation = layout.rotation_of_day(now.astimezone(), section["do_weekly"],
                                          section["do_monthly"])
        _store(pruvon, rotation, now)
        backups.prune(pruvon, dry_run=False, now=now)
    good = backups.catalogue(pruvon).list(status="good")
    kept = Counter(r.rotation for r in good)
    # defaults: keep_daily_days 7, keep_weekly_num 6, keep_monthly_num 3
    assert kept["weekly"] == 6 and kept["monthly"] == 3
    assert 5 <= kept["daily"] <= 8
    end = START + timedelta(days=364)
    assert all(end - r.created_at <= timedelta(days=7) for r in good if r.rotation == "daily")
    monthly = sorted(r.created_at.month for r in good if r.rotation == "monthly")
    assert monthly == [10, 11, 12]
    on_disk = {p.relative_to(backup_dir).as_posix() for p in backup_dir.rglob("*.zst")}
    assert on_disk == {r.key for r in good}
    deleted = backups.catalogue(pruvon).list(status="deleted")
    assert len(deleted) == 365 - len(good)


def test_the_newest_good_backup_is_never_pruned(pruvon: Any, pruvon_config: Any) -> None:
    pruvon_config.write(pruvon_config.path.read_text()
                        + "  keep_daily_days: 0\n  keep_weekly_num: 0\n  keep_monthly_num: 0\n")
    _store(pruvon, "daily", START)
    _store(pruvon, "weekly", START + timedelta(days=1))
    doomed = backups.prune(pruvon, dry_run=True, now=START + timedelta(days=400))
    assert [r.rotation for r in doomed] == ["daily"]
    assert len(backups.catalogue(pruvon).list(status="good")) == 2  # dry run removed nothing
    backups.prune(pruvon, dry_run=False, now=START + timedelta(days=400))
    [kept] = backups.catalogue(pruvon).list(status="good")
    assert kept.rotation == "weekly" and Path(kept.path).is_file()


def test_manual_and_safety_backups_are_never_pruned(pruvon: Any) -> None:
    _store(pruvon, "manual", START)
    _store(pruvon, "safety", START + timedelta(seconds=1))
    _store(pruvon, "daily", START + timedelta(days=2))
    assert backups.prune(pruvon, dry_run=True, now=START + timedelta(days=300)) == []


def test_retention_is_per_target(pruvon: Any, pruvon_config: Any, tmp_path: Path) -> None:
    offsite = tmp_path / "offsite"
    pruvon_config.write(pruvon_config.path.read_text()
                        + "  keep_weekly_num: 1\n  targets:\n    - name: local\n      type: local\n"
                          f"    - name: offsite\n      type: local\n      path: {offsite}\n"
                          "      keep_weekly_num: 3\n")
    for week in range(4):
        _store(pruvon, "weekly", START + timedelta(weeks=week))
    backups.prune(pruvon, dry_run=False, now=START + timedelta(weeks=4))
    kept = Counter(r.target for r in backups.catalogue(pruvon).list(status="good"))
    assert kept == {"local": 1, "offsite": 3}
    assert len(list(offsite.rglob("*.zst"))) == 3


def test_auto_on_three_days_picks_the_rotation_of_each(pruvon: Any) -> None:
    days = [datetime(2025, 6, 1, 3, tzinfo=UTC), datetime(2025, 6, 8, 3, tzinfo=UTC),
            datetime(2025, 6, 10, 3, tzinfo=UTC)]
    rotations = [backups.run_due(pruvon, now=day)["rotation"] for day in days]
    assert rotations == [layout.rotation_of_day(d.astimezone(), 0, 1) for d in days]
    again = backups.run_due(pruvon, now=days[-1] + timedelta(hours=5))
    if (days[-1] + timedelta(hours=5)).astimezone().date() == days[-1].astimezone().date():
        assert again["ok"] == []
    per_service = Counter((r.type, r.service) for r in backups.catalogue(pruvon).list(status="good"))
    assert per_service[("postgres", "blog-db")] >= 3 and per_service[("redis", "cache")] >= 3
