"""``backup.targets`` and ``backup.encryption``: Pruvon configs plus the new keys, checked by key."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest

from pruvon_core.config import ConfigError, load_config
from tests.unit.test_config_sections import PRUVON_EXAMPLE

RECIPIENT = str(pyrage.x25519.Identity.generate().to_public())


def _load(tmp_path: Path, extra: str) -> object:
    path = tmp_path / "pruvon.yml"
    path.write_text(PRUVON_EXAMPLE + extra)
    return load_config(path)


def test_pruvons_example_with_targets_and_encryption_loads(tmp_path: Path) -> None:
    config = _load(tmp_path, "  targets:\n    - name: local\n      type: local\n"
                             "    - name: second-disk\n      type: local\n      path: /mnt/b\n"
                             "      keep_daily_days: 30\n"
                             f"  encryption:\n    recipients:\n      - {RECIPIENT}\n")
    assert config.get("backup.targets")[1]["keep_daily_days"] == 30


@pytest.mark.parametrize(("extra", "expected"), [
    ("  targets: []\n", "backup.targets: must be a non-empty list"),
    ("  targets:\n    - name: a\n      type: nowhere\n",
     "backup.targets[0].type: no target kind 'nowhere' is installed (installed: local"),
    ("  targets:\n    - name: a\n      type: local\n    - name: a\n      type: local\n",
     "backup.targets[1].name: 'a' is used twice"),
    ("  targets:\n    - name: Bad Name\n      type: local\n", "backup.targets[0].name: must be"),
    ("  targets:\n    - name: a\n      type: local\n      path: rel/dir\n",
     "backup.targets[0].path: must be an absolute path"),
    ("  targets:\n    - name: a\n      type: local\n      keep_weekly_num: -1\n",
     "backup.targets[0].keep_weekly_num: must be a whole number"),
    ("  encryption:\n    recipients:\n      - age1notakey\n",
     "backup.encryption.recipients[0]: not a valid age recipient"),
    ("  encryption:\n    recipients:\n      - hunter2\n",
     "backup.encryption.recipients[0]: an age recipient starts with age1 or ssh-"),
    ("  encryption: yes\n", "backup.encryption: must be a mapping"),
    ("  compression_level: 22\n", "backup.compression_level: must be a zstd level from 1"),
])
def test_bad_target_or_encryption_is_refused_naming_its_key(tmp_path: Path, extra: str,
                                                           expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, extra)
    assert any(e.startswith(expected) for e in info.value.errors), info.value.errors
