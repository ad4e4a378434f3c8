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
