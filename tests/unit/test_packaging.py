"""A production install carries no simulator: ``pip install .`` builds a wheel
without ``pruvon_testing``, the sim scripts or the pytest plugin, and the
``testing/`` distribution carries them instead (issue 11).

The wheels are built by pip from a copy of the source tree (setuptools writes
``build/`` and ``*.egg-info`` next to the sources), with build isolation as
``pip install .`` does.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import pruvon_core
import pruvon_testing

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "pruvon_core", "plugins", "testing")

pytestmark = pytest.mark.slow


def build_wheel(source: Path, out: Path) -> zipfile.ZipFile:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode and "satisfies the requirement setuptools" in proc.stderr:
        pytest.skip("no package index to fetch the build backend from")
    assert proc.returncode == 0, proc.stderr
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)
    return copy


def entry_points(wheel: zipfile.ZipFile) -> str:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    return wheel.read(name).decode()


def test_pruvon_wheel_has_no_simulator(tree: Path, tmp_path: Path) -> None:
    wheel = build_wheel(tree, tmp_path)
    names = wheel.namelist()
    assert any(n.startswith("pruvon_core/") for n in names)
    assert any(n.startswith("pruvon_web/") for n in names)
    assert [n for n in names if "testing" in n or "/sim/" in n] == []
    points = entry_points(wheel)
    assert "pruvon-dokku-sim" not in points and "pruvon-docker-sim" not in points
    assert "pytest11" not in points


def test_testing_wheel_carries_simulator_scripts_and_pytest_plugin(
    tree: Path, tmp_path: Path
) -> None:
    wheel = build_wheel(tree / "testing", tmp_path)
    names = wheel.namelist()
    assert "pruvon_testing/sim/main.py" in names and "pruvon_testing/pytest_plugin.py" in names
    assert not any(n.startswith(("pruvon_core/", "pruvon_web/")) for n in names)
    points = entry_points(wheel)
    assert "pruvon-dokku-sim = pruvon_testing.sim.main:main" in points
    assert "pruvon-docker-sim = pruvon_testing.sim.docker_main:main" in points
    assert "pruvon = pruvon_testing.pytest_plugin" in points


def test_versions_move_together() -> None:
    assert pruvon_testing.__version__ == pruvon_core.__version__


@pytest.mark.parametrize("where", [".", "testing"])
def test_license_is_an_spdx_expression_with_its_file(tree: Path, tmp_path: Path, where: str) -> None:
    """Issue 16: ``project.license`` as a table is deprecated (an error from 2027-02-18)."""
    wheel = build_wheel(tree / where, tmp_path)
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    text = wheel.read(metadata).decode()
    assert "License-Expression: MIT" in text and "License-File: LICENSE" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel.namelist())
