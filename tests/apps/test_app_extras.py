"""App extras of issue 18: restart policy, Procfile and app.json paths, kill one container,
linked services, templates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PRUVON = str(Path(sys.executable).with_name("pruvon"))


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRUVON, *argv], capture_output=True, text=True, timeout=120,
                          check=False)


def log_lines(log: Path) -> list[str]:
    return log.read_text().splitlines()


def test_restart_policy_and_paths_on_the_settings_tab(http: Any, login_as: Any,
                                                      dokku_calls: Path):
    token = login_as("admin")
    for key, value in (("restart-policy", "on-failure:5"), ("procfile-path", "deploy/Procfile"),
                       ("appjson-path", "deploy/app.json")):
        response = http.post("/apps/blog/settings", data={"csrf_token": token, "kind": "process",
                                                          "key": key, "value": value})
        assert response.status_code == 303, response.get_data(as_text=True)
    page = http.get("/apps/blog?tab=settings").get_data(as_text=True)
    assert "on-failure:5" in page and "deploy/Procfile" in page and "deploy/app.json" in page
    calls = log_lines(dokku_calls)
    assert "ps:set blog restart-policy on-failure:5" in calls
    assert "ps:set blog procfile-path deploy/Procfile" in calls
    assert "app-json:set blog appjson-path deploy/app.json" in calls
    data = http.get("/api/v1/apps/blog/settings").get_json()
    assert data["process"]["computed-restart-policy"] == "on-failure:5"
    reset = http.post("/api/v1/apps/blog/settings", json={"kind": "process",
                                                          "key": "restart-policy", "value": ""},
                      headers={"X-CSRF-Token": token})
    assert reset.status_code == 200 and "reset to default" in reset.get_json()["done"]
    assert "ps:set blog restart-policy" in log_lines(dokku_calls)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("restart-policy", "sometimes", "restart policy must be"),
    ("restart-policy", "on-failure:x", "restart policy must be"),
    ("procfile-path", "/etc/passwd", "relative path"),
    ("appjson-path", "../../app.json", "relative path"),
    ("appjson-path", "a b.json", "relative path"),
    ("stop-timeout", "5", "key: must be one of"),
])
def test_bad_process_settings_are_400_and_reach_no_dokku(http: Any, login_as: Any,
                                                         dokku_calls: Path, key, value, message):
    token = login_as("admin")
    response = http.post("/api/v1/apps/blog/settings", json={"kind": "process", "key": key,
                                                             "value": value},
                         headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and message in response.get_json()["error"]
    assert not [c for c in log_lines(dokku_calls) if c.startswith(("ps:set", "app-json:set"))]


def test_scoped_user_cannot_change_another_apps_restart_policy(http: Any, login_as: Any,
                                                               dokku_calls: Path):
    token = login_as("alice")
    response = http.post("/api/v1/apps/secret/settings", json={
        "kind": "process", "key": "restart-policy", "value": "no"},
        headers={"X-CSRF-Token": token})
    assert response.status_code in (403, 404)  # refused by the route grant before the view
    assert not [c for c in log_lines(dokku_calls) if c.startswith("ps:set")]


def test_cli_process_settings(pruvon_config: Any, sim_root: Path):
    result = cli("apps", "settings", "blog", "process", "restart-policy", "unless-stopped")
    assert result.returncode == 0, result.stderr
    shown = cli("apps", "settings", "blog")
    assert "restart-policy: unless-stopped" in shown.stdout
    assert "appjson-path: app.json (default)" in shown.stdout
    bad = cli("apps", "settings", "blog", "process", "restart-policy", "maybe")
    assert bad.returncode == 2 and "restart policy must be" in bad.stderr
    data = json.loads(cli("apps", "settings", "blog", "--format", "json").stdout)
    assert data["process"]["restart-policy"] == "unless-stopped"


# --------------------------------------------------------------------------- kill, linked services
def docker_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every ``docker`` argv Pruvon runs (the docker simulator behind a recorder)."""
    import stat

    log = tmp_path / "docker-calls.log"
    log.touch()
    real = Path(sys.executable).parent / "pruvon-docker-sim"
    wrapper = tmp_path / "recording-docker"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PRUVON_DOCKER_COMMAND", str(wrapper))
    return log


def test_kill_one_container_of_the_app(http: Any, login_as: Any, sim_root: Path,
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    docker = docker_log(tmp_path, monkeypatch)
    token = login_as("admin")
    page = http.get("/apps/blog").get_data(as_text=True)
    assert "/containers/" in page and "Kill" in page
    response = http.post("/api/v1/apps/blog/containers/web.1/kill",
                         headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.get_json()
    killed = response.get_json()
    assert killed["dyno"] == "web.1"
    assert any(line.startswith("kill ") and killed["container"] in line
               for line in log_lines(docker))
    detail = http.get("/api/v1/apps/blog").get_json()
    assert [c["state"] for c in detail["containers"] if c["dyno"] == "web.1"] != ["running"]


@pytest.mark.parametrize(("ref", "status", "message"), [
    ("web.9", 400, "no container 'web.9' in app blog"),
    ("-f", 400, "container '-f' starts with '-'"),
    ("a b", 400, "container 'a b' is invalid"),
    ("$(id)", 400, "is invalid"),
])
def test_kill_refuses_what_is_not_the_apps_container(http: Any, login_as: Any, sim_root: Path,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     ref, status, message):
    docker = docker_log(tmp_path, monkeypatch)
    token = login_as("admin")
    response = http.post(f"/api/v1/apps/blog/containers/{ref}/kill",
                         headers={"X-CSRF-Token": token})
    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert not [line for line in log_lines(docker) if line.startswith("kill")]


def test_kill_another_apps_container_by_id_is_refused(http: Any, login_as: Any, sim_root: Path,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    token = login_as("admin")
    other = http.get("/api/v1/apps/secret").get_json()["containers"][0]["id"][:12]
    docker = docker_log(tmp_path, monkeypatch)
    response = http.post(f"/api/v1/apps/blog/containers/{other}/kill",
                         headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and "no container" in response.get_json()["error"]
    assert not [line for line in log_lines(docker) if line.startswith("kill")]


def test_viewer_cannot_kill(http: Any, login_as: Any, sim_root: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch):
    docker = docker_log(tmp_path, monkeypatch)
    token = login_as("victor")
    response = http.post("/api/v1/apps/blog/containers/web.1/kill",
                         headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    assert "Kill" not in http.get("/apps/blog").get_data(as_text=True)
    assert not [line for line in log_lines(docker) if line.startswith("kill")]


def test_overview_lists_linked_services_with_one_call_per_type(http: Any, login_as: Any,
                                                               sim_root: Path,
                                                               dokku_calls: Path):
    from tests.apps.conftest import sim

    sim(sim_root, "postgres:create", "blog-db")
    sim(sim_root, "postgres:link", "blog-db", "blog")
    sim(sim_root, "redis:create", "blog-cache")
    sim(sim_root, "redis:create", "other-cache")
    sim(sim_root, "redis:link", "blog-cache", "blog")
    login_as("admin")
    dokku_calls.write_text("")
    page = http.get("/apps/blog").get_data(as_text=True)
    assert "postgres blog-db" in page and "redis blog-cache" in page
    assert "other-cache" not in page
    links = [c for c in log_lines(dokku_calls) if ":app-links" in c]
    assert sorted(links) == ["postgres:app-links blog", "redis:app-links blog"]
    assert http.get("/api/v1/apps/blog/services").get_json() == {"services": [
        {"type": "postgres", "name": "blog-db"}, {"type": "redis", "name": "blog-cache"}]}


def test_cli_kill(pruvon_config: Any, sim_root: Path):
    result = cli("apps", "kill", "blog", "web.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("killed web.1 ")
    again = cli("apps", "kill", "blog", "web.7")
    assert again.returncode == 2 and "no container 'web.7' in app blog" in again.stderr
    missing = cli("apps", "kill", "nope", "web.1")
    assert missing.returncode == 20
