"""``git:sync`` in the simulator: clone / fetch a real local repository, build on --build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruvon_testing.gitrepo import commit, git, make_repo
from pruvon_testing.sim.main import run as dokku
from tests.sim.simutil import ok


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "sim"
    ok(path, "apps:create", "demo")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "src")


def report(root: Path, plugin: str) -> dict:
    return json.loads(ok(root, f"{plugin}:report", "demo", "--format", "json"))


def test_sync_without_build_clones_and_records_the_commit(root: Path, repo: Path) -> None:
    out = ok(root, "git:sync", "demo", f"file://{repo}", "main")
    assert out == (f"-----> Cloning demo from file://{repo}#main\n"
                   "       Detected branch, setting deploy-branch to main\n").encode()
    data = report(root, "git")
    assert data["sha"] == git(repo, "rev-parse", "HEAD")
    assert data["deploy-branch"] == "main"
    assert report(root, "apps")["deploy-source"] == ""
    assert report(root, "ps")["deployed"] == "false"


def test_sync_build_deploys_and_records_the_source(root: Path, repo: Path) -> None:
    out = ok(root, "git:sync", "--build", "demo", str(repo), "main").decode()
    assert "Building demo from Dockerfile" in out and "Step 1/8 : FROM example/web:1" in out
    assert "=====> Application deployed:" in out
    apps = report(root, "apps")
    assert (apps["deploy-source"], apps["deploy-source-metadata"]) == ("git-sync", f"{repo}#main")
    assert report(root, "ps")["running"] == "true"
    assert ok(root, "config:get", "demo", "GIT_REV").decode().strip() == git(
        repo, "rev-parse", "HEAD")


def test_second_sync_fetches_the_new_commit(root: Path, repo: Path) -> None:
    ok(root, "git:sync", "--build", "demo", str(repo), "main")
    sha = commit(repo, {"README": "two\n"}, "second")
    out = ok(root, "git:sync", "--build", "demo", str(repo)).decode()
    assert "Cloning" not in out and "Application deployed" in out
    assert report(root, "git")["sha"] == sha


def test_sync_a_tag_or_commit_does_not_change_the_deploy_branch(root: Path, repo: Path) -> None:
    git(repo, "tag", "v1")
    out = ok(root, "git:sync", "demo", str(repo), "v1")
    assert b"Detected branch" not in out
    data = report(root, "git")
    assert (data["deploy-branch"], data["computed-deploy-branch"]) == ("", "master")


def test_missing_remote_and_missing_app(root: Path, repo: Path) -> None:
    assert dokku(["git:sync", "demo"], root=root) == (
        1, b"", b" !     Missing GIT_REMOTE parameter\n")
    code, _, err = dokku(["git:sync", "nope", str(repo)], root=root)
    assert (code, err) == (20, b" !     App nope does not exist\n")


def test_unreachable_repository_exits_with_git_code(root: Path, tmp_path: Path) -> None:
    code, out, _ = dokku(["git:sync", "demo", str(tmp_path / "absent")], root=root)
    assert code == 128
    assert out == f"-----> Cloning demo from {tmp_path / 'absent'}#master\n".encode()


def test_unknown_ref_fails(root: Path, repo: Path) -> None:
    code, _, err = dokku(["git:sync", "demo", str(repo), "nope"], root=root)
    assert code == 1 and b"pathspec 'nope' did not match" in err


def test_build_with_an_unknown_base_image_fails_like_a_pull(root: Path, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other", base="nothere/img:1")
    code, _, err = dokku(["git:sync", "--build", "demo", str(other), "main"], root=root)
    assert code == 1 and b"Failed to pull image: nothere/img:1" in err
    assert report(root, "ps")["deployed"] == "false"


def test_a_synced_deploy_extracts_procfile_and_app_json_like_dokku(root: Path, repo: Path) -> None:
    """Dokku's ps/app-json core-post-deploy: $DOKKU_LIB_ROOT/data/{ps,app-json}/APP/…"""
    commit(repo, {"Procfile": "web: ./serve", "app.json": '{"name": "demo"}\n'}, "files")
    ok(root, "git:sync", "--build", "demo", str(repo), "main")
    procfile = root / "data" / "ps" / "demo" / "Procfile"
    assert procfile.read_text() == "web: ./serve\n"  # Dokku appends the trailing newline
    assert procfile.stat().st_mode & 0o777 == 0o644  # the checkout's mode, not 0600
    assert (root / "data" / "app-json" / "demo" / "app.json").read_text() == '{"name": "demo"}\n'
    ok(root, "apps:clone", "--skip-deploy", "demo", "copy")
    assert (root / "data" / "ps" / "copy" / "Procfile").read_text() == "web: ./serve\n"
    git(repo, "rm", "-q", "Procfile")
    git(repo, "commit", "-q", "-m", "no Procfile")
    ok(root, "git:sync", "--build", "demo", str(repo), "main")
    assert not procfile.exists() and (root / "data" / "app-json" / "demo" / "app.json").exists()
    ok(root, "apps:destroy", "--force", "demo")
    assert not (root / "data" / "app-json" / "demo").exists()
