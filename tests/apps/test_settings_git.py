"""Settings-tab writes and deploys from git, through the web UI and API (real simulator)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pruvon_core import audit
from pruvon_testing.gitrepo import git, make_repo
from pruvon_testing.sim.main import run
from tests.apps.conftest import wait_operation


def report(root: Path, plugin: str, app: str = "blog") -> dict:
    code, out, err = run([f"{plugin}:report", app, "--format", "json"], root=root)
    assert code == 0, err
    return json.loads(out)


def op_id(response: Any) -> str:
    assert "/operations/" in response.headers["Location"], response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def audited(pruvon_config: Any, action: str) -> list[Any]:
    return [e for e in audit.read(state_dir=pruvon_config.state_dir) if e.action == action]


def install_plugin(root: Path, name: str, commands: list[str]) -> Path:
    """A script plugin in the simulator that records its argv (like a community plugin)."""
    base = root / "plugins" / "enabled" / name
    (base / "subcommands").mkdir(parents=True)
    (base / "plugin.toml").write_text(f'[plugin]\ndescription = "{name}"\nversion = "1.0.0"\n')
    record = root / f"{name}.calls"
    for command in commands:
        script = base / "subcommands" / command
        script.write_text(f'#!/bin/sh\necho "$@" >> "{record}"\necho "-----> {name} done"\n')
        script.chmod(0o755)
    return record


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "src")


# --------------------------------------------------------------------------- settings
def test_nginx_setting_is_written_audited_and_shown(
    http: Any, login_as: Any, pruvon_config: Any, sim_root: Path
) -> None:
    token = login_as("admin")
    done = http.post("/apps/blog/settings", data={
        "csrf_token": token, "kind": "nginx", "key": "client-max-body-size", "value": "50m"})
    assert done.status_code == 303
    assert report(sim_root, "nginx")["client-max-body-size"] == "50m"
    page = http.get("/apps/blog?tab=settings").get_data(as_text=True)
    assert 'id="nginx-form"' in page and "50m" in page
    event = audited(pruvon_config, "apps.settings.write")[-1]
    assert (event.target, event.result) == ("app:blog", "ok")
    bad = http.post("/apps/blog/settings", data={
        "csrf_token": token, "kind": "nginx", "key": "nginx-service-command", "value": "x"})
    assert bad.status_code == 400 and "cannot be changed here" in bad.get_data(as_text=True)
    bad = http.post("/apps/blog/settings", data={
        "csrf_token": token, "kind": "nginx", "key": "proxy-read-timeout", "value": "1 h"})
    assert bad.status_code == 400 and "proxy-read-timeout must be a time" in bad.get_data(
        as_text=True)


def test_resources_through_the_api(http: Any, login_as: Any, sim_root: Path) -> None:
    h = {"X-CSRF-Token": login_as("admin")}
    url = "/api/v1/apps/blog/settings"
    done = http.post(url, headers=h, json={"kind": "resource", "resource_kind": "limit", "memory": "256m",
                                "process_type": "web"})
    assert done.status_code == 200, done.get_json()
    assert report(sim_root, "resource")["web.limit.memory"] == "256m"
    assert http.get(url).get_json()["resources"]["web.limit.memory"] == "256m"
    assert http.post(url, headers=h, json={"kind": "resource-clear", "resource_kind": "limit"}
                     ).status_code == 200
    assert report(sim_root, "resource") == {}
    bad = http.post(url, headers=h, json={"kind": "resource", "memory": "a lot"})
    assert bad.status_code == 400 and "memory must be a size" in bad.get_json()["error"]
    assert http.post(url, headers=h, json={"kind": "resource", "pids": "3"}).status_code == 400
    assert http.post(url, headers=h, json={"kind": "bogus"}).get_json()["error"].startswith("kind must")


def test_docker_options_refuse_host_isolation_breakers(
    http: Any, login_as: Any, pruvon_config: Any, sim_root: Path
) -> None:
    # scoped users get an allowlist (issue 14; attacks in tests/security/test_host_reach.py)
    token = login_as("alice")
    for option, words in (("--privileged", "--privileged is not on the allowlist"),
                          ("-v /:/host", "storage directory"),
                          ("--pid=host", "--pid is not on the allowlist"),
                          ("--cap-add ALL", "--cap-add is not on the allowlist")):
        bad = http.post("/apps/blog/settings", data={
            "csrf_token": token, "kind": "docker-options", "action": "add", "phases": "deploy",
            "option": option})
        assert bad.status_code == 403 and words in bad.get_data(as_text=True), option
    assert report(sim_root, "docker-options")["deploy-list"] == []
    assert audited(pruvon_config, "apps.settings.write")[-1].result == "denied"
    http.post("/logout", data={"csrf_token": token})
    token = login_as("admin")
    added = http.post("/apps/blog/settings", data={
        "csrf_token": token, "kind": "docker-options", "action": "add",
        "phases": ["deploy", "run"], "option": "--restart=always"})
    assert added.status_code == 303
    assert report(sim_root, "docker-options")["run-list"] == ["--restart=always"]
    assert "<code>--restart=always</code>" in http.get("/apps/blog?tab=settings").get_data(
        as_text=True)
    http.post("/apps/blog/settings", data={
        "csrf_token": token, "kind": "docker-options", "action": "remove", "phases": "run",
        "option": "--restart=always"})
    data = report(sim_root, "docker-options")
    assert (data["run-list"], data["deploy-list"]) == ([], ["--restart=always"])


def test_settings_writes_need_the_permission(http: Any, login_as: Any) -> None:
    token = login_as("victor")
    page = http.get("/apps/blog?tab=settings").get_data(as_text=True)
    assert 'id="nginx-form"' not in page and 'id="docker-options-form"' not in page
    denied = http.post("/apps/blog/settings", data={
        "csrf_token": token, "kind": "nginx", "key": "hsts", "value": "false"})
    assert denied.status_code == 403


def test_settings_of_an_app_not_granted_are_refused(http: Any, login_as: Any) -> None:
    token = login_as("alice")
    hidden = http.post("/apps/secret/settings", data={
        "csrf_token": token, "kind": "nginx", "key": "hsts", "value": "false"})
    assert hidden.status_code in (403, 404)  # pages refuse like the other tabs do
    assert http.post("/api/v1/apps/secret/settings", json={"kind": "nginx"},
                     headers={"X-CSRF-Token": token}).status_code in (403, 404)


def test_cron_tasks_are_listed(http: Any, login_as: Any) -> None:
    login_as("admin")
    assert http.get("/api/v1/apps/blog/settings").get_json()["cron"] == []
    assert "No cron tasks" in http.get("/apps/blog?tab=settings").get_data(as_text=True)


def test_letsencrypt_and_redirects_absent_say_how_to_install(http: Any, login_as: Any) -> None:
    token = login_as("admin")
    page = http.get("/apps/blog?tab=settings").get_data(as_text=True)
    assert "Let's Encrypt plugin is not installed" in page and "dokku-letsencrypt.git" in page
    assert "redirect plugin is not installed" in page and "dokku-redirect.git" in page
    assert 'id="letsencrypt-form"' not in page and 'id="redirect-form"' not in page
    refused = http.post("/apps/blog/settings", data={
        "csrf_token": token, "kind": "letsencrypt", "action": "enable"})
    assert refused.status_code == 400
    assert "plugin:install https://github.com/dokku/dokku-letsencrypt.git" in refused.get_data(
        as_text=True)
    assert http.get("/api/v1/apps/blog/settings").get_json()["install"]["redirect"]


def test_installed_plugins_get_working_controls(
    http: Any, login_as: Any, pruvon_config: Any, sim_root: Path
) -> None:
    calls = install_plugin(sim_root, "letsencrypt", ["enable", "disable"])
    redirects = install_plugin(sim_root, "redirect", ["set", "unset", "default"])
    token = login_as("admin")
    page = http.get("/apps/blog?tab=settings").get_data(as_text=True)
    assert 'id="letsencrypt-form"' in page and 'id="redirect-form"' in page
    done = http.post("/apps/blog/settings", data={
        "csrf_token": token, "kind": "letsencrypt", "action": "enable"})
    op = wait_operation(pruvon_config.state_dir, op_id(done))
    assert op.status == "succeeded", op.error
    assert calls.read_text() == "letsencrypt:enable blog\n"
    h = {"X-CSRF-Token": token}
    api = http.post("/api/v1/apps/blog/settings", headers=h, json={
        "kind": "redirect", "action": "set", "source": "old.example.com",
        "target": "blog.example.com", "code": 302})
    assert api.status_code == 202, api.get_json()
    op = wait_operation(pruvon_config.state_dir, api.get_json()["id"])
    assert op.status == "succeeded", op.error
    assert "redirect:set blog old.example.com blog.example.com 302" in redirects.read_text()
    bad = http.post("/api/v1/apps/blog/settings", headers=h, json={
        "kind": "redirect", "action": "set", "source": "-x", "target": "y.example.com"})
    assert bad.status_code == 400


# --------------------------------------------------------------------------- git
def test_deploy_from_git_action(
    http: Any, login_as: Any, pruvon_config: Any, sim_root: Path, repo: Path
) -> None:
    token = login_as("admin")
    page = http.get("/apps/empty?tab=processes").get_data(as_text=True)
    assert 'id="deploy-git-form"' in page
    for bad_repo, words in (("http://example.com/x.git", "https://"),
                            ("ext::sh -c id", "without spaces"), ("-u", "starts with")):
        bad = http.post("/apps/empty/deploy-git", data={"csrf_token": token,
                                                        "git_repo": bad_repo})
        assert bad.status_code == 400 and words in bad.get_data(as_text=True), bad_repo
    bad = http.post("/apps/empty/deploy-git", data={"csrf_token": token,
                                                    "git_repo": f"file://{repo}",
                                                    "git_ref": "a..b"})
    assert bad.status_code == 400 and "git ref" in bad.get_data(as_text=True)
    done = http.post("/apps/empty/deploy-git", data={"csrf_token": token,
                                                     "git_repo": f"file://{repo}",
                                                     "git_ref": "main"})
    op = wait_operation(pruvon_config.state_dir, op_id(done))
    assert op.status == "succeeded", op.error
    assert report(sim_root, "apps", "empty")["deploy-source"] == "git-sync"
    assert report(sim_root, "git", "empty")["sha"] == git(repo, "rev-parse", "HEAD")
    assert report(sim_root, "ps", "empty")["running"] == "true"
    assert any("Application deployed" in line for line in op_output(pruvon_config, op.id))
    assert audited(pruvon_config, "apps.deploy")[-1].result == "ok"


def op_output(pruvon_config: Any, op_id_: str) -> list[str]:
    from pruvon_core.operations import OperationStore

    return OperationStore(pruvon_config.state_dir).output(op_id_)


def test_deploy_from_git_failure_is_explained(
    http: Any, login_as: Any, pruvon_config: Any, tmp_path: Path
) -> None:
    h = {"X-CSRF-Token": login_as("admin")}
    started = http.post("/api/v1/apps/empty/deploy-git", headers=h,
                        json={"git_repo": f"file://{tmp_path}/absent"})
    assert started.status_code == 202
    op = wait_operation(pruvon_config.state_dir, started.get_json()["id"])
    assert op.status == "failed" and "could not clone or fetch" in op.error
    assert "git:auth" in op.error


def test_create_wizard_from_git_and_rollback_on_failure(
    http: Any, login_as: Any, pruvon_config: Any, sim_root: Path, repo: Path, tmp_path: Path
) -> None:
    token = login_as("admin")
    bad = http.post("/apps/create", data={"csrf_token": token, "name": "gitapp",
                                          "git_repo": "ftp://x/y", "git_ref": "-x"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "git repository" in text and "git ref" in text
    done = http.post("/apps/create", data={"csrf_token": token, "name": "gitapp",
                                           "git_repo": str(f"file://{repo}"), "git_ref": "main",
                                           "domains": "gitapp.example.com"})
    op = wait_operation(pruvon_config.state_dir, op_id(done))
    assert op.status == "succeeded", op.error
    assert [s.name for s in op.steps][-1] == "deploy from git"
    assert report(sim_root, "apps", "gitapp")["deploy-source-metadata"] == f"file://{repo}#main"
    h = {"X-CSRF-Token": token}
    failed = http.post("/api/v1/apps", headers=h, json={"name": "gitbad",
                                             "git_repo": f"file://{tmp_path}/absent"})
    assert failed.status_code == 202, failed.get_json()
    op = wait_operation(pruvon_config.state_dir, failed.get_json()["id"])
    assert op.status == "failed" and "could not clone" in op.error
    back = http.post(f"/api/v1/apps/gitbad/operations/{op.id}/rollback", headers=h)
    assert back.status_code == 202
    assert wait_operation(pruvon_config.state_dir, back.get_json()["id"]).status == "succeeded"
    assert run(["apps:exists", "gitbad"], root=sim_root)[0] != 0
    assert os.path.isdir(repo)
