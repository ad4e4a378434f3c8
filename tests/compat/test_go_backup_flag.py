"""``pruvon -backup MODE -config FILE`` as a Pruvon 0.2 cron line runs it, end to end.

On the simulated host of the backups tests (postgres ``blog-db``, redis
``cache``): the compatibility form runs ``backup auto`` / ``backup run
--rotation MODE`` and the backups land in the config's ``backup_dir``.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.backups.conftest import BIN, backup_dir, host, write_backup_section  # noqa: F401

PRUVON = str(BIN / "pruvon")


def cron(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRUVON, *argv], capture_output=True, text=True, timeout=180,
                          check=False)


@pytest.fixture
def config(pruvon_config: Any, host: Any, backup_dir: Any) -> str:  # noqa: F811
    write_backup_section(pruvon_config, backup_dir)
    return str(pruvon_config.path)


def listed(config: str) -> list[dict[str, Any]]:
    out = cron("--config", config, "backup", "list", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    return data["backups"] if isinstance(data, dict) else data


@pytest.mark.parametrize("mode", ["daily", "weekly", "monthly"])
def test_backup_rotation_flag_backs_up_every_service_in_that_rotation(config: str, mode: str):
    result = cron("-backup", mode, "-config", config)
    assert result.returncode == 0, result.stderr
    rows = listed(config)
    assert {(r["service"], r["rotation"]) for r in rows} == {("blog-db", mode), ("cache", mode)}


def test_backup_auto_flag_is_the_scheduled_run(config: str):
    result = cron("-backup", "auto", "-config", config)
    assert result.returncode == 0, result.stderr
    assert len(listed(config)) == 2
    again = cron("-backup=auto", "-config=" + config)  # Go's -name=value form
    assert again.returncode == 0, again.stderr
    assert len(listed(config)) == 2  # today's rotation is done already


def test_a_bad_mode_changes_nothing(config: str):
    result = cron("-backup", "hourly", "-config", config)
    assert result.returncode == 2 and "invalid backup command: hourly" in result.stderr
    assert listed(config) == []
