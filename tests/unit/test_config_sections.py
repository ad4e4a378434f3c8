"""Feature-owned config sections: ``backup:`` (backups plugin) and ``apps:`` (apps plugin).

Each section is validated by the plugin that owns it through
``pruvon_validate_config``; core knows neither.  ``backup:`` has Pruvon's
meaning, so complete Pruvon configs load unchanged.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pruvon_core.config import ConfigError, load_config, validate

# Pruvon's pruvon.yml.example (github.com/pruvon/pruvon), as installed on a host.
PRUVON_EXAMPLE = """\
users:
  - username: admin
    password: "$2a$10$Pm8hoUAYMIgL9PWb..KzOeveml0.48arbqds4Qr.r7B38IjJjPQNa"
    role: admin
pruvon:
  listen: 127.0.0.1:8080
dokku: {}
server: null
backup:
  backup_dir: "/var/lib/dokku/data/pruvon-backup"
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

# Pruvon's documented full example with a scoped user and a Monday schedule.
PRUVON_SCOPED = """\
users:
  - username: admin
    password: "$2a$10$Pm8hoUAYMIgL9PWb..KzOeveml0.48arbqds4Qr.r7B38IjJjPQNa"
    role: admin
  - username: operator
    password: "$2a$10$Pm8hoUAYMIgL9PWb..KzOeveml0.48arbqds4Qr.r7B38IjJjPQNa"
    role: user
    routes:
      - "/apps/*"
    apps:
      - "example-app"
    services:
      postgres:
        - "example-db"
    github:
      username: "octocat"
pruvon:
  listen: 127.0.0.1:8080
backup:
  backup_dir: "/var/lib/dokku/data/pruvon-backup"
  do_weekly: 7
  do_monthly: 31
  db_types: ["postgres", "redis"]
  keep_daily_days: 7
  keep_weekly_num: 8
  keep_monthly_num: 6
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pruvon.yml"
    path.write_text(textwrap.dedent(text))
    return path


def _assert_refused(tmp_path: Path, text: str, expected: str) -> None:
    """Loading ``text`` fails with an error starting with ``expected``."""
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert any(e.startswith(expected) for e in info.value.errors), info.value.errors


@pytest.mark.parametrize("text", [PRUVON_EXAMPLE, PRUVON_SCOPED], ids=["example", "scoped"])
def test_a_complete_pruvon_config_loads(tmp_path: Path, text: str) -> None:
    config = load_config(_write(tmp_path, text))
    assert config.user("admin") is not None and config.user("admin").role == "admin"
    assert isinstance(config.get("backup.do_weekly"), int)
    assert config.get("backup.backup_dir") == "/var/lib/dokku/data/pruvon-backup"


def test_the_pruvon_example_keeps_its_schedule(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, PRUVON_EXAMPLE))
    assert (config.get("backup.do_weekly"), config.get("backup.do_monthly")) == (0, 1)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("{do_weekly: 8}", "backup.do_weekly: must be a weekday from 0 to 7"),
        ("{do_weekly: -1}", "backup.do_weekly: must be a weekday from 0 to 7"),
        ("{do_weekly: true}", "backup.do_weekly: must be a weekday from 0 to 7 (1-6 Monday to Saturday, 0 or 7 Sunday), not True"),
        ("{do_weekly: monday}", "backup.do_weekly: must be a weekday"),
        ("{do_monthly: 0}", "backup.do_monthly: must be a day of the month from 1 to 31, not 0"),
        ("{do_monthly: 32}", "backup.do_monthly: must be a day of the month from 1 to 31, not 32"),
        ("{do_monthly: 1.5}", "backup.do_monthly: must be a day of the month"),
        ("{keep_weekly_num: -2}", "backup.keep_weekly_num: must be a whole number ≥ 0"),
        ("{keep_monthly_num: 'x'}", "backup.keep_monthly_num: must be a whole number ≥ 0"),
        ("{db_types: postgres}", "backup.db_types: must be a list of strings"),
        ("{backup_dir: relative}", "backup.backup_dir: must be an absolute path"),
        ("[1, 2]", "backup: must be a mapping"),
    ],
)
def test_a_bad_backup_value_is_refused_naming_its_key(section: str, expected: str, tmp_path: Path) -> None:
    _assert_refused(tmp_path, f"backup: {section}\n", expected)


@pytest.mark.parametrize("day", [0, 1, 6, 7])
def test_every_weekday_pruvon_accepts_is_accepted(day: int) -> None:
    assert validate({"backup": {"do_weekly": day, "do_monthly": 28}}) == []


def test_the_backup_section_is_validated_by_the_backups_plugin_not_core() -> None:
    from pruvon_core import config

    assert not hasattr(config, "_validate_backup")
    from pruvon_backups import pruvon_validate_config

    assert pruvon_validate_config({"backup": {"do_monthly": 0}}) == [
        "backup.do_monthly: must be a day of the month from 1 to 31, not 0"
    ]


def test_absent_keys_take_pruvons_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from pruvon_backups.public import backup_settings

    monkeypatch.delenv("PRUVON_BACKUP_DIR", raising=False)  # the suite's sandbox default

    settings = backup_settings({"backup": {"keep_daily_days": 3, "db_types": []}})
    assert settings == {
        "backup_dir": "/var/lib/dokku/data/pruvon-backup",
        "do_weekly": 0,
        "do_monthly": 1,
        "db_types": ["postgres", "mariadb", "mongo", "redis"],
        "keep_daily_days": 3,
        "keep_weekly_num": 6,
        "keep_monthly_num": 3,
        "compression_level": 1,  # not Pruvon's (it ran gzip): zstd's fastest level
    }
    assert backup_settings({})["keep_weekly_num"] == 6


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("{storage_dir: relative/dir}", "apps.storage_dir: storage directory 'relative/dir' must be an absolute path"),
        ("{storage_dir: /}", "apps.storage_dir: storage directory '/' must be an absolute path other than '/'"),
        ("{storage_dir: /var/lib/../..}", "apps.storage_dir: storage directory '/var/lib/../..' must not contain"),
        ("{storage_dir: '/var/lib/$(id)'}", "apps.storage_dir: storage directory '/var/lib/$(id)' may contain only"),
        ("{storage_dir: 5}", "apps.storage_dir: storage directory must be"),
        ("{storage-dir: /srv/storage}", "apps.storage-dir: unknown key (known: storage_dir)"),
        ("[storage]", "apps: must be a mapping"),
    ],
)
def test_a_bad_apps_value_is_refused_naming_its_key(section: str, expected: str, tmp_path: Path) -> None:
    _assert_refused(tmp_path, f"apps: {section}\n", expected)


def test_a_good_apps_section_loads(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "apps: {storage_dir: /srv/dokku-storage}\n"))
    assert config.get("apps.storage_dir") == "/srv/dokku-storage"
