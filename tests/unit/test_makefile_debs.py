"""`make demo` installs only what the demo runs; `make test` adds the test-only packages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_ONLY = ("chromium", "shellcheck")


def dry_run(target: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", "-C", str(ROOT), target], capture_output=True,
                          text=True, check=True)
    return done.stdout


def test_demo_installs_nothing_test_only() -> None:
    plan = dry_run("demo-debs")
    assert "bubblewrap" in plan
    assert not [name for name in TEST_ONLY if name in plan], plan


def test_tests_install_the_demo_packages_and_the_browser() -> None:
    plan = dry_run("test-debs")
    for name in ("bubblewrap", *TEST_ONLY):
        assert name in plan
