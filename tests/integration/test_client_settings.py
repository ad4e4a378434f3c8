"""git:sync and the settings writes of the Dokku client, against the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruvon_core.dokku import DokkuClient, errors
from pruvon_testing.fixtures_client import sim_root
from pruvon_testing.gitrepo import git, make_repo
from pruvon_testing.sim.main import run


@pytest.fixture
def root(dokku_sim) -> Path:
    path = sim_root(dokku_sim)
    assert run(["apps:create", "shop"], root=path)[0] == 0
    return path


def report(root: Path, plugin: str) -> dict:
    code, out, _ = run([f"{plugin}:report", "shop", "--format", "json"], root=root)
    assert code == 0
    return json.loads(out)


def test_git_sync_builds_and_records_the_source(root: Path, dokku_client: DokkuClient,
                                                tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "src")
    dokku_client.git_sync("shop", f"file://{repo}", "main")
    apps = report(root, "apps")
    assert (apps["deploy-source"], apps["deploy-source-metadata"]) == (
        "git-sync", f"file://{repo}#main")
    assert report(root, "git")["sha"] == git(repo, "rev-parse", "HEAD")
    assert dokku_client.calls[-1].argv == ("git:sync", "--build", "shop", f"file://{repo}", "main")


def test_git_sync_failure_is_explained(root: Path, dokku_client: DokkuClient,
                                       tmp_path: Path) -> None:
    with pytest.raises(errors.DokkuError, match=r"could not clone or fetch .* git:auth") as caught:
        dokku_client.git_sync("shop", f"file://{tmp_path}/absent", build=False)
    assert caught.value.exit_code == 128
    with pytest.raises(errors.AppNotFound):
        dokku_client.git_sync("nope", f"file://{tmp_path}")


def test_git_sync_refuses_bad_input_before_any_call(dokku_client: DokkuClient) -> None:
    for repo, ref in (("ext::sh -c id", None), ("--upload-pack=id", None),
                      ("https://x/y.git", "--output=/tmp/x")):
        with pytest.raises(errors.InvalidValue):
            dokku_client.git_sync("shop", repo, ref)
    assert dokku_client.calls == []


def test_nginx_resource_and_docker_options(root: Path, dokku_client: DokkuClient) -> None:
    dokku_client.nginx_set("shop", "client-max-body-size", "50m")
    assert report(root, "nginx")["client-max-body-size"] == "50m"
    dokku_client.nginx_set("shop", "client-max-body-size", "")
    assert report(root, "nginx")["client-max-body-size"] == ""
    dokku_client.resource_set("limit", "shop", {"memory": "512m"}, process_type="web")
    dokku_client.resource_set("reserve", "shop", {"cpu": "0.5"})
    data = report(root, "resource")
    assert (data["web.limit.memory"], data["_default_.reserve.cpu"]) == ("512m", "0.5")
    dokku_client.resource_clear("limit", "shop", process_type="web")
    assert "web.limit.memory" not in report(root, "resource")
    dokku_client.docker_options_change("add", "shop", ["deploy", "run"], "--restart=always")
    assert report(root, "docker-options")["deploy-list"] == ["--restart=always"]
    dokku_client.docker_options_change("remove", "shop", ["deploy", "run"], "--restart=always")
    assert report(root, "docker-options")["run-list"] == []
    with pytest.raises(errors.InvalidValue, match="must not contain"):  # shell code, for anyone
        dokku_client.docker_options_change("add", "shop", ["deploy"], "--label=$(id)")
    assert report(root, "docker-options")["deploy-list"] == []


def test_cron_list_and_plugin_detection(root: Path, dokku_client: DokkuClient) -> None:
    assert dokku_client.cron_list("shop") == []
    with pytest.raises(errors.AppNotFound):
        dokku_client.cron_list("nope")
    assert dokku_client.plugin_installed("nginx-vhosts")
    assert not dokku_client.plugin_installed("letsencrypt")
