"""/plugins, /api/v1/plugins and ``pruvon dokku-plugins`` on the simulator.

Installs use a local git repository (``file://``), never the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.settings.conftest import calls, writes

PRUVON = str(Path(sys.executable).with_name("pruvon"))


@pytest.fixture
def plugin_repo(tmp_path: Path) -> str:
    repo = tmp_path / "dokku-hello"
    repo.mkdir()
    (repo / "plugin.toml").write_text('[plugin]\ndescription = "hello plugin"\n'
                                      'version = "0.1.0"\n')
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    return f"file://{repo}"


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRUVON, "dokku-plugins", *argv], capture_output=True, text=True,
                          timeout=120, check=False)


def wait(web: Any, op_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        op = web.get(f"/api/v1/plugins/operations/{op_id}").get_json()
        if op["status"] not in ("queued", "pending", "running"):
            return op
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_install_disable_enable_update_uninstall_on_the_api(web, login_as, dokku_log,
                                                            plugin_repo, pruvon_config):
    token = login_as("admin")
    started = web.post("/api/v1/plugins", json={"url": plugin_repo},
                       headers={"X-CSRF-Token": token})
    assert started.status_code == 202
    op = wait(web, started.get_json()["id"])
    assert op["status"] == "succeeded"
    assert any("Plugin hello enabled" in line for line in op["output"])
    listed = {p["name"]: p for p in web.get("/api/v1/plugins").get_json()["plugins"]}
    assert listed["hello"]["enabled"] and listed["hello"]["version"] == "0.1.0"
    for action, enabled in (("disable", False), ("enable", True), ("update", True)):
        started = web.post("/api/v1/plugins/hello", json={"action": action},
                           headers={"X-CSRF-Token": token})
        assert wait(web, started.get_json()["id"])["status"] == "succeeded", action
        listed = {p["name"]: p for p in web.get("/api/v1/plugins").get_json()["plugins"]}
        assert listed["hello"]["enabled"] is enabled
    started = web.post("/api/v1/plugins/hello", json={"action": "uninstall"},
                       headers={"X-CSRF-Token": token})
    assert wait(web, started.get_json()["id"])["status"] == "succeeded"
    assert "hello" not in {p["name"] for p in web.get("/api/v1/plugins").get_json()["plugins"]}
    assert [c for c in writes(dokku_log) if c.startswith("plugin:")] == [
        f"plugin:install {plugin_repo}", "plugin:disable hello", "plugin:enable hello",
        "plugin:update hello", "plugin:uninstall hello"]
    audit = [json.loads(x) for x in (pruvon_config.state_dir / "audit.log").read_text()
             .splitlines() if '"plugins.write"' in x]
    assert [a["result"] for a in audit].count("ok") == 10  # started + outcome, 5 changes


def test_a_dokku_refusal_fails_the_operation_with_its_message(web, login_as, dokku_log):
    token = login_as("admin")
    started = web.post("/api/v1/plugins/nothere", json={"action": "enable"},
                       headers={"X-CSRF-Token": token})
    op = wait(web, started.get_json()["id"])
    assert op["status"] == "failed" and "Plugin does not exist" in op["error"]


@pytest.mark.parametrize(("body", "message"), [
    ({"url": "ext::sh -c touch%20/tmp/x"}, "git repository"),
    ({"url": "http://example.com/x.git"}, "https://"),
    ({"url": "--core"}, "starts with '-'"),
    ({"url": "https://github.com/dokku/dokku-x.git", "name": "../evil"}, "invalid plugin name"),
    ({"url": ""}, "give a plugin URL"),
])
def test_bad_installs_are_400_and_reach_no_dokku(web, login_as, dokku_log, body, message):
    token = login_as("admin")
    response = web.post("/api/v1/plugins", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and message in response.get_json()["error"]
    assert not [c for c in calls(dokku_log) if c.startswith("plugin:install")]


@pytest.mark.parametrize(("name", "body", "message"), [
    ("git", {"action": "disable"}, "core Dokku plugin"),
    ("Bad", {"action": "update"}, "invalid plugin name"),
    ("hello", {"action": "explode"}, "action must be one of"),
    ("hello", {"action": "enable", "committish": "v1"}, "only update"),
    ("hello", {"action": "update", "committish": "--upload-pack=x"}, "git ref"),
])
def test_bad_actions_are_400_and_reach_no_dokku(web, login_as, dokku_log, name, body, message):
    token = login_as("admin")
    response = web.post(f"/api/v1/plugins/{name}", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and message in response.get_json()["error"], \
        response.get_json()
    assert writes(dokku_log) == []


@pytest.mark.parametrize("user", ["alice", "victor"])
def test_plugins_are_admin_only(web, login_as, dokku_log, plugin_repo, user):
    token = login_as(user)
    assert web.get("/plugins").status_code == 403
    assert web.get("/api/v1/plugins").status_code == 403
    assert web.post("/api/v1/plugins", json={"url": plugin_repo},
                    headers={"X-CSRF-Token": token}).status_code == 403
    assert web.post("/plugins/install", data={"csrf_token": token, "url": plugin_repo}
                    ).status_code == 403
    assert writes(dokku_log) == []


def test_page_install_form_goes_to_the_live_operation_page(web, login_as, plugin_repo):
    token = login_as("admin")
    page = web.get("/plugins").get_data(as_text=True)
    assert "postgres" in page and "letsencrypt" in page  # installed, and offered
    response = web.post("/plugins/install", data={"csrf_token": token, "url": plugin_repo})
    assert response.status_code == 303
    op_id = response.headers["Location"].rsplit("/", 1)[1]
    wait(web, op_id)
    page = web.get(f"/plugins/operations/{op_id}").get_data(as_text=True)
    assert "Plugin hello enabled" in page and "succeeded" in page
    bad = web.post("/plugins/install", data={"csrf_token": token, "url": "ftp://x"})
    assert bad.status_code == 400 and "git repository" in bad.get_data(as_text=True)


def test_cli_install_prints_dokkus_output_live_and_lists(pruvon_config, sim_root, plugin_repo):
    result = cli("install", plugin_repo, "--name", "greeter")
    assert result.returncode == 0, result.stderr
    assert "Plugin greeter enabled" in result.stdout
    listed = json.loads(cli("list", "--format", "json").stdout)
    assert {"greeter", "postgres", "git"} <= {p["name"] for p in listed["plugins"]}
    again = cli("install", plugin_repo, "--name", "greeter")
    assert again.returncode == 1 and "Plugin already enabled" in again.stderr
    bad = cli("uninstall", "git")
    assert bad.returncode == 2 and "core Dokku plugin" in bad.stderr


# --------------------------------------------------------------------------- Let's Encrypt
def test_letsencrypt_section_only_when_installed(web, login_as, dokku_log):
    token = login_as("admin")
    assert web.get("/api/v1/plugins/letsencrypt").get_json() == {"letsencrypt": None}
    assert 'id="letsencrypt"' not in web.get("/plugins").get_data(as_text=True)
    refused = web.put("/api/v1/plugins/letsencrypt", json={"email": "ops@example.com"},
                      headers={"X-CSRF-Token": token})
    assert refused.status_code == 400 and "not installed" in refused.get_json()["error"]
    assert not [c for c in writes(dokku_log) if c.startswith("letsencrypt")]


def test_letsencrypt_email_autorenew_and_expiry_overview(web, login_as, dokku_log, sim_root):
    from pruvon_testing.sim.main import run

    for argv in (["plugin:install", "https://github.com/dokku/dokku-letsencrypt.git"],
                 ["apps:create", "blog"], ["git:from-image", "blog", "example/web:1"]):
        assert run(argv, root=sim_root)[0] == 0
    token = login_as("admin")
    response = web.post("/plugins/letsencrypt", data={"csrf_token": token,
                                                      "email": "ops@example.com",
                                                      "autorenew": "on"})
    assert response.status_code == 303
    assert run(["letsencrypt:enable", "blog"], root=sim_root)[0] == 0
    data = web.get("/api/v1/plugins/letsencrypt").get_json()["letsencrypt"]
    assert data["email"] == "ops@example.com" and data["autorenew"] is True
    [cert] = data["certificates"]
    # a fresh 90-day certificate: "89d, 23h, …" or, read within its first second, "90d, 0h, …"
    assert cert["app"] == "blog" and cert["time_left"].startswith(("89d", "90d"))
    page = web.get("/plugins").get_data(as_text=True)
    assert 'value="ops@example.com"' in page and "blog" in page
    off = web.put("/api/v1/plugins/letsencrypt", json={"autorenew": False},
                  headers={"X-CSRF-Token": token})
    assert off.status_code == 200 and off.get_json()["letsencrypt"]["autorenew"] is False
    changes = [c for c in writes(dokku_log) if c.startswith("letsencrypt")]
    assert changes == ["letsencrypt:set --global email ops@example.com",
                       "letsencrypt:cron-job --add", "letsencrypt:cron-job --remove"]


@pytest.mark.parametrize("body", [{"email": "nope"}, {"autorenew": "yes"}, {"server": "x"}, {}])
def test_bad_letsencrypt_settings_are_400(web, login_as, dokku_log, body):
    token = login_as("admin")
    response = web.put("/api/v1/plugins/letsencrypt", json=body,
                       headers={"X-CSRF-Token": token})
    assert response.status_code == 400
    assert not [c for c in writes(dokku_log) if c.startswith("letsencrypt")]


def test_cli_letsencrypt(pruvon_config, sim_root):
    assert cli("letsencrypt").returncode == 1
    assert cli("install", "letsencrypt").returncode == 0
    result = cli("letsencrypt", "--email", "ops@example.com", "--autorenew", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)["letsencrypt"]
    assert data["email"] == "ops@example.com" and data["autorenew"] is True
    bad = cli("letsencrypt", "--email", "x")
    assert bad.returncode == 2 and "not an e-mail address" in bad.stderr


def test_plugins_page_costs_the_same_calls_for_one_or_many_certificates(web, login_as,
                                                                        dokku_log, sim_root):
    from pruvon_testing.sim.main import run

    def sim(*argv: str) -> None:
        assert run(list(argv), root=sim_root)[0] == 0, argv

    sim("plugin:install", "https://github.com/dokku/dokku-letsencrypt.git")
    sim("letsencrypt:set", "--global", "email", "ops@example.com")
    login_as("admin")

    def page_calls() -> list[str]:
        web.application.extensions["pruvon"].client().invalidate()  # as after any change
        dokku_log.write_text("")
        page = web.get("/plugins")
        assert page.status_code == 200
        return sorted(c for c in calls(dokku_log) if c != "version")  # asked once per client

    for n in range(4):
        sim("apps:create", f"app{n}")
        sim("git:from-image", f"app{n}", "example/web:1")
        sim("letsencrypt:enable", f"app{n}")
        if n == 0:
            one = page_calls()
    many = page_calls()
    assert many == one
    assert [c.split()[0] for c in many] == [
        "letsencrypt:cron-job", "letsencrypt:list", "letsencrypt:report", "plugin:list"]
