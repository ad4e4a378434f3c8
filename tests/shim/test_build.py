"""plugin.toml version sync and scripts/build-dokku-plugin (git tree + tarball)."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest

from pruvon_core import __version__
from tests.shim.conftest import PLUGIN_DIR, REPO

BUILD = REPO / "scripts" / "build-dokku-plugin"


def _toml(path: Path) -> dict:
    return tomllib.loads(path.read_text())


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def _build(repo: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(repo / "scripts" / "build-dokku-plugin"), str(out)],
                          capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "1700000000"})


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    """A minimal copy of the repository layout the build script reads."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "pruvon_core").mkdir()
    shutil.copy2(BUILD, repo / "scripts" / "build-dokku-plugin")
    shutil.copytree(PLUGIN_DIR, repo / "dokku-plugin")
    (repo / "pruvon_core" / "__init__.py").write_text('__version__ = "9.8.7"\n')
    return repo


def test_plugin_toml_matches_package_version():
    data = _toml(PLUGIN_DIR / "plugin.toml")
    assert data["plugin"]["version"] == __version__
    assert data["plugin"]["description"]
    assert data["plugin"]["config"] == {}


def test_build_stamps_version_and_makes_an_installable_git_tree(scratch_repo, tmp_path):
    out = tmp_path / "out"
    proc = _build(scratch_repo, out)
    tree = out / "dokku-plugin"
    assert _toml(tree / "plugin.toml")["plugin"]["version"] == "9.8.7"
    assert _git(tree, "status", "--porcelain") == ""
    assert _git(tree, "tag") == "v9.8.7"
    assert f"file://{tree}" in proc.stdout
    # Dokku's plugin:install clones the URL; the clone's root is the plugin.
    clone = tmp_path / "available" / "pruvon"
    subprocess.run(["git", "clone", "-q", f"file://{tree}", str(clone)], check=True)
    for name in ("commands", "functions", "install", "post-create", "subcommands/help"):
        assert (clone / name).stat().st_mode & 0o111, name
    help_line = subprocess.run([str(clone / "commands"), "help"], capture_output=True,
                               text=True, check=True).stdout
    assert help_line.startswith("    pruvon, ")


def test_rebuild_adds_a_commit_that_plugin_update_can_pull(scratch_repo, tmp_path):
    out = tmp_path / "out"
    _build(scratch_repo, out)
    clone = tmp_path / "installed"
    subprocess.run(["git", "clone", "-q", f"file://{out / 'dokku-plugin'}", str(clone)], check=True)
    _build(scratch_repo, out)  # unchanged: no new commit
    assert len(_git(out / "dokku-plugin", "log", "--format=%H").splitlines()) == 1
    (scratch_repo / "pruvon_core" / "__init__.py").write_text('__version__ = "9.8.8"\n')
    _build(scratch_repo, out)
    assert _git(out / "dokku-plugin", "tag").splitlines() == ["v9.8.7", "v9.8.8"]
    _git(clone, "pull", "-q")  # what `dokku plugin:update pruvon` runs
    assert _toml(clone / "plugin.toml")["plugin"]["version"] == "9.8.8"


def test_tarball_is_reproducible_and_installs_like_plugn_does(scratch_repo, tmp_path):
    out = tmp_path / "out"
    _build(scratch_repo, out)
    tarball = out / "pruvon-dokku-plugin-9.8.7.tar.gz"
    first = tarball.read_bytes()
    _build(scratch_repo, out)
    assert tarball.read_bytes() == first
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        assert all(n.split("/")[0] == "pruvon-dokku-plugin-9.8.7" for n in names)
        assert all(m.uid == 0 and m.gid == 0 for m in archive.getmembers())
    # plugn: `tar xz -C <name>`, then a single top-level folder is flattened
    target = tmp_path / "available" / "pruvon"
    target.mkdir(parents=True)
    subprocess.run(["tar", "xzf", str(tarball), "-C", str(target)], check=True)
    inner = target / "pruvon-dokku-plugin-9.8.7"
    for item in inner.iterdir():
        item.rename(target / item.name)
    inner.rmdir()
    assert _toml(target / "plugin.toml")["plugin"]["version"] == "9.8.7"
    proc = subprocess.run([str(target / "commands"), "apps:list"], check=False)
    assert proc.returncode == 10


def test_build_refuses_an_unreadable_version(scratch_repo, tmp_path):
    (scratch_repo / "pruvon_core" / "__init__.py").write_text("__version__ = get()\n")
    proc = subprocess.run([str(scratch_repo / "scripts" / "build-dokku-plugin"), str(tmp_path / "o")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "cannot read a version from pruvon_core/__init__.py" in proc.stderr
